"""A whole-request deadline and a response-size cap, enforced on the socket under httpx."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore2
import httpx2

_local = threading.local()
_SLICE = 0.5  # seconds a read of an extendable budget waits before looking at its deadline


class ResponseTooLarge(httpcore2.ReadError):
    """The server sent more bytes than the cap for one answer."""


class TooSlow(httpcore2.ReadError):
    """The server was answering, but not all of the answer arrived within the deadline."""


class _Budget:
    """What one HTTP attempt may still spend: seconds (a monotonic deadline) and bytes."""

    def __init__(self, seconds: float, max_bytes: int, extendable: bool = False) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.max_bytes = max_bytes
        self.received = 0
        # Adaptive pacing may move the deadline while the request waits in a local server's
        # queue behind ours (``extend``); reads then wait in short slices to see the new one.
        self.extendable = extendable

    def extend(self, now: float) -> None:
        """The server just finished another request of ours: give this one its full time again
        from now (never shorter than it had). Called from other threads."""
        self.deadline = max(self.deadline, now + self.seconds)

    def left(self, timeout: float | None) -> float:
        """The socket timeout for the next operation: never past the deadline."""
        remaining = self.deadline - time.monotonic()
        return max(0.0, remaining if timeout is None else min(timeout, remaining))


@contextlib.contextmanager
def request_budget(seconds: float, max_bytes: int, extendable: bool = False) -> Iterator[_Budget]:
    """Bound every socket operation made by this thread inside the block (one HTTP attempt)."""
    previous = getattr(_local, "budget", None)
    budget = _local.budget = _Budget(seconds, max_bytes, extendable)
    try:
        yield budget
    finally:
        _local.budget = previous


def _budget() -> _Budget | None:
    return getattr(_local, "budget", None)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _budget()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        data = self._read_extendable(budget, max_bytes, timeout) if budget.extendable else None
        if data is None:
            left = budget.left(timeout)
            if left <= 0:
                raise self._out_of_time(budget)
            try:
                data = self._inner.read(max_bytes, left)
            except httpcore2.ReadTimeout:
                if budget.received:
                    raise self._out_of_time(budget) from None
                raise
        budget.received += len(data)
        if budget.received > budget.max_bytes:
            mb = budget.max_bytes / 1e6
            raise ResponseTooLarge(f"the server's answer is larger than {mb:.1f} MB")
        return data

    def _read_extendable(self, budget: _Budget, max_bytes: int, timeout: float | None) -> bytes:
        """Like one read, in slices of at most ``_SLICE`` s, so a deadline moved meanwhile
        counts; the operation's own ``timeout`` still applies."""
        op_end = None if timeout is None else time.monotonic() + timeout
        while True:
            now = time.monotonic()
            end = budget.deadline if op_end is None else min(budget.deadline, op_end)
            if end <= now:
                if budget.deadline <= now:
                    raise self._out_of_time(budget)
                raise httpcore2.ReadTimeout("read timed out")
            try:
                return self._inner.read(max_bytes, min(end - now, _SLICE))
            except httpcore2.ReadTimeout:
                continue  # the loop decides: a slice ended, or the time is really up

    @staticmethod
    def _out_of_time(budget: _Budget) -> Exception:
        if budget.received:
            return TooSlow(
                f"the server sent its answer too slowly: not complete after {budget.seconds:g} s"
            )
        return httpcore2.ReadTimeout("deadline reached")

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _budget()
        if budget is not None:
            timeout = budget.left(timeout)
            if timeout <= 0:
                raise httpcore2.WriteTimeout("deadline reached")
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        budget = _budget()
        if budget is not None:
            timeout = budget.left(timeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        budget = _budget()
        if budget is not None:
            timeout = budget.left(timeout)
            if timeout <= 0:
                raise httpcore2.ConnectTimeout("deadline reached")
        return _Stream(
            self._inner.connect_tcp(
                host,
                port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        budget = _budget()
        if budget is not None:
            timeout = budget.left(timeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx2.Client) -> httpx2.Client:
    """Put the deadline/size checks under every connection pool of ``client`` (proxies too)."""
    transports: list[Any] = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    return client


def failure_reason(exc: BaseException) -> str:
    """The message of a ResponseTooLarge / TooSlow anywhere in ``exc``'s cause chain, or ""."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ResponseTooLarge | TooSlow):
            return str(cur)
        cur = cur.__cause__ or cur.__context__
    return ""
