"""Thread-safe stop signals: cancel (stop now) and pause (stop at the next step boundary)."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside the loop when the run was cancelled mid-step."""


class CancelToken:
    """Set from any thread; polled by the engine and the LLM layer."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._pause = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def pause(self) -> None:
        self._pause.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def pause_requested(self) -> bool:
        return self._pause.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early if cancelled (for retry back-off)."""
        return self._cancel.wait(seconds)

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()
