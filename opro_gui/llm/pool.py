"""A fixed pool of daemon worker threads: a cancelled HTTP call never delays interpreter exit."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonPool:
    """Like ``ThreadPoolExecutor`` but with daemon threads (the stdlib one joins its workers
    at exit, so a call hanging until its timeout after a cancel would hold the app open)."""

    def __init__(self, max_workers: int, name: str = "opro-llm") -> None:
        self.max_workers = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("pool is shut down")
            if not self._threads:  # all at once on first use: no idle bookkeeping races
                for i in range(self.max_workers):
                    t = threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
                    t.start()
                    self._threads.append(t)
            self._queue.put((fut, fn, args))
        return fut

    def shutdown(self) -> None:
        """Cancel queued calls and let the workers end after their current call."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
            threads = list(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                del item, fut, fn, args
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller through the future
                fut.set_exception(exc)
                del exc
            # Drop the references while idle: ``fn`` is a bound method of the client, and an
            # idle worker must not keep the client (whose collection ends the pool) alive.
            del item, fut, fn, args
