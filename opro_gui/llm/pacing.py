"""Adaptive pacing for local servers: learn how many requests they really run at once."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from opro_gui.core.cancel import CancelToken

from .config import EndpointConfig, is_loopback_url

#: Below this typical latency queueing costs nothing worth adapting to (cloud APIs, test
#: servers answering at once); a model on a CPU takes seconds.
MIN_LATENCY_S = 0.25
_WINDOW = 12  # observations kept for the estimate
_EVIDENCE = 2  # observations with two or more requests in flight needed before lowering
_DEADLINE_FACTOR = 3.0  # a request may take this many times its expected duration
_QUEUED = 1.5  # answers of a queueing server typically take this many times one alone


@dataclass(frozen=True)
class _Seen:
    end: float  # when the answer arrived (monotonic seconds)
    busy: int  # requests of ours in flight just before it arrived, itself included
    latency: float
    tokens: int  # completion tokens produced


class Pacer:
    """Shared by every client of one local server (the optimizer and the scorer may be one).

    Learns the server's real parallelism (its slot count where it says so, else from how its
    throughput compares with one request's time alone) and keeps no more than that in flight,
    so requests wait in our queue — where no deadline runs — not in the server's."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.base_url = base_url
        self.configured = concurrency
        self.limit = concurrency
        self._cond = threading.Condition()
        self._in_flight = 0
        self._seen: list[_Seen] = []
        self._base: float | None = None  # the shortest latency seen: one request, unqueued
        self._rate: float | None = None  # completion tokens per second of an unqueued request
        self._notes: list[str] = []
        self._probed = False
        self._budgets: dict[int, Any] = {}  # deadlines of attempts in flight (llm/deadline.py)

    # -- the gate ----------------------------------------------------------------------------
    def acquire(self, cancel: CancelToken) -> int | None:
        """Wait for a free place (our own queue: no deadline runs here). Returns the number of
        requests in flight including this one, or None when cancelled."""
        self._probe_slots()
        with self._cond:
            while self._in_flight >= self.limit:
                if cancel.cancelled:
                    return None
                self._cond.wait(0.05)
            self._in_flight += 1
            return self._in_flight

    def release(
        self,
        in_flight: int,
        latency: float,
        tokens: int,
        *,
        ok: bool,
        timed_out: bool,
        now: float | None = None,
    ) -> None:
        """``in_flight``: what ``acquire`` returned; ``now``: for tests (default: the clock)."""
        end = time.monotonic() if now is None else now
        with self._cond:
            busy = self._in_flight
            self._in_flight -= 1
            if ok:  # the server is working through our requests: those still waiting keep time
                for budget in self._budgets.values():
                    budget.extend(end)
            if timed_out and self.limit > 1:
                old, self.limit = self.limit, max(1, self.limit // 2)
                self._note(old, "a request timed out while others were in flight")
            elif ok:
                # Alone: no other request of ours was in flight when it was sent or answered.
                self._learn(_Seen(end, busy, latency, tokens), alone=in_flight == 1 and busy == 1)
            self._cond.notify_all()

    def track(self, budget: Any) -> int:
        """Watch an attempt's deadline budget: while other requests of ours are answered, a
        request queued behind them at the server is not timed out (its time restarts)."""
        with self._cond:
            handle = id(budget)
            self._budgets[handle] = budget
            return handle

    def untrack(self, handle: int) -> None:
        with self._cond:
            self._budgets.pop(handle, None)

    def deadline(self, timeout: float, max_tokens: int, n: int) -> float:
        """Seconds one attempt may take: the endpoint's timeout, or longer when this server's
        measured speed says ``n`` x ``max_tokens`` tokens need more (a slow CPU model)."""
        with self._cond:
            rate, base = self._rate, self._base or 0.0
        if not rate or base < MIN_LATENCY_S:
            return timeout  # unmeasured, or a fast server: the user's timeout as it is
        return max(timeout, _DEADLINE_FACTOR * (base + n * max_tokens / rate))

    def take_notes(self) -> list[str]:
        """What was changed since the last call (for progress lines)."""
        with self._cond:
            notes, self._notes = self._notes, []
            return notes

    # -- learning ----------------------------------------------------------------------------
    def _learn(self, seen: _Seen, alone: bool) -> None:
        self._seen = [*self._seen[-(_WINDOW - 1) :], seen]
        if alone and (self._base is None or seen.latency < self._base):
            self._base = seen.latency  # the service time of one request, unqueued
        if alone and seen.latency > 0 and seen.tokens > 0:
            self._rate = seen.tokens / seen.latency
        typical = statistics.median(s.latency for s in self._seen)
        # The latest busy period: completions after which more of ours were still waiting.
        period = [self._seen[-1]]
        for earlier in reversed(self._seen[:-1]):
            if earlier.busy < 2:
                break
            period.insert(0, earlier)
        if typical < MIN_LATENCY_S or len(period) <= _EVIDENCE or self.limit == 1:
            return
        # The server's throughput over the period x one request's time alone is how many
        # requests it really serves at once (one slot: k queued requests take k times as long).
        if seen.busy == 1:  # a burst just ended: from its first request sent to its last answer
            elapsed = period[-1].end - min(s.end - s.latency for s in period)
            count = len(period)
        elif len(period) >= _WINDOW:  # a steady backlog: answers per second
            elapsed = period[-1].end - period[0].end
            count = len(period) - 1
        else:
            return  # judge a burst once it is over
        if elapsed <= 0 or self._base is None:
            return  # no request was ever alone: nothing to compare with
        if statistics.median(s.latency for s in period) < _QUEUED * self._base:
            # No queue at the server: its answers take about as long as one alone. The
            # spacing of answers is then our own client's pace (one process, one GIL),
            # not the server's, and lowering would only cost throughput.
            return
        served = count / elapsed * self._base
        parallel = max(1, round(served))
        peak = max(s.busy for s in period)
        if parallel < self.limit and served < 0.75 * min(self.limit, peak):
            old, self.limit = self.limit, parallel
            self._seen = []  # judge the new limit on fresh evidence
            self._note(
                old,
                f"latency grew with requests in flight: the server runs about {parallel} at once",
            )

    def _note(self, old: int, why: str) -> None:
        self._notes.append(f"concurrency {old} → {self.limit} ({why})")

    def _probe_slots(self) -> None:
        """Once: a llama.cpp server says how many parallel slots it has (GET /props)."""
        if self._probed:
            return
        self._probed = True
        slots = read_slots(self.base_url)
        if slots is not None and slots < self.limit:
            with self._cond:
                old, self.limit = self.limit, slots
                self._note(old, f"the server reports {slots} parallel slot(s)")


def read_slots(base_url: str, timeout: float = 0.5) -> int | None:
    """``total_slots`` from llama.cpp's ``/props`` (loopback servers only), else None."""
    if not is_loopback_url(base_url):
        return None
    parts = urlsplit(base_url)
    root = parts.path.rstrip("/").removesuffix("/v1")
    try:
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout
        )
        try:
            conn.request("GET", root + "/props")
            resp = conn.getresponse()
            body = resp.read(200_000) if resp.status == 200 else b""
        finally:
            conn.close()
        data = json.loads(body) if body else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    slots = data.get("total_slots") if isinstance(data, dict) else None
    return slots if isinstance(slots, int) and not isinstance(slots, bool) and slots > 0 else None


_registry: dict[tuple[str, int], Pacer] = {}
_registry_lock = threading.Lock()


def pacer_for(config: EndpointConfig) -> Pacer | None:
    """The shared pacer of a local endpoint with adaptive pacing on; None otherwise."""
    if not config.is_local or not config.adaptive_pacing:
        return None
    key = (config.base_url.rstrip("/"), config.concurrency)
    with _registry_lock:
        pacer = _registry.get(key)
        if pacer is None:
            pacer = _registry[key] = Pacer(config.base_url, config.concurrency)
        return pacer


def take_notes(base_url: str) -> list[str]:
    """Pacing changes on ``base_url`` since the last call, for every configured concurrency."""
    with _registry_lock:
        pacers = [p for (url, _), p in _registry.items() if url == base_url.rstrip("/")]
    return [note for p in pacers for note in p.take_notes()]


def current_limit(base_url: str) -> int | None:
    with _registry_lock:
        limits = [p.limit for (url, _), p in _registry.items() if url == base_url.rstrip("/")]
    return min(limits) if limits else None
