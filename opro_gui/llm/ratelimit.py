"""Requests- and tokens-per-minute limits: token buckets that hand out waiting times."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from opro_gui.core.cancel import CancelToken


class TokenBucket:
    """Refills at ``per_minute / 60`` per second up to one second's worth (min 1).

    ``reserve`` takes its amount at once, even into debt, and returns how long the caller
    must wait for the debt to clear: callers are served in the order they reserved.
    """

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._level = self.capacity
        self._clock = clock
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        with self._lock:
            now = self._clock()
            self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
            self._updated = now
            self._level -= amount
            return 0.0 if self._level >= 0 else -self._level / self.rate


@dataclass
class LimiterStats:
    acquired: int = 0
    delayed: int = 0  # acquisitions that had to wait
    waited_s: float = 0.0


class RateLimiter:
    """Optional rpm and tpm buckets for one endpoint; thread-safe."""

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests = TokenBucket(rpm, clock) if rpm else None
        self.tokens = TokenBucket(tpm, clock) if tpm else None
        self.stats = LimiterStats()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.requests is not None or self.tokens is not None

    def delay_for(self, prompt_tokens: int) -> float:
        """Reserve one request of ``prompt_tokens`` and return the seconds to wait first."""
        wait = 0.0
        if self.requests is not None:
            wait = max(wait, self.requests.reserve(1))
        if self.tokens is not None:
            wait = max(wait, self.tokens.reserve(prompt_tokens))
        with self._lock:
            self.stats.acquired += 1
            if wait > 0:
                self.stats.delayed += 1
                self.stats.waited_s += wait
        return wait

    def acquire(self, prompt_tokens: int, cancel: CancelToken) -> bool:
        """Wait for a slot; False if cancelled while waiting."""
        wait = self.delay_for(prompt_tokens)
        return not (wait > 0 and cancel.wait(wait))

    def debit(self, tokens: int) -> None:
        """Charge tokens learned after the fact (the completion) against the tpm bucket."""
        if self.tokens is not None and tokens > 0:
            self.tokens.reserve(tokens)


_SHARED: weakref.WeakValueDictionary[tuple[str, int | None, int | None], RateLimiter] = (
    weakref.WeakValueDictionary()
)
_SHARED_LOCK = threading.Lock()


def shared_limiter(base_url: str, rpm: int | None, tpm: int | None) -> RateLimiter:
    """One limiter per endpoint and limits: the optimizer and scorer clients of a run (or a
    replay beside it) that talk to the same server draw from the same buckets."""
    key = (base_url.rstrip("/"), rpm, tpm)
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = RateLimiter(rpm, tpm)
            _SHARED[key] = limiter
        return limiter
