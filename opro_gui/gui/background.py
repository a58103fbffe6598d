"""Run a plain function in a worker QThread and deliver its result or exception in the GUI thread."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from opro_gui.core.cancel import CancelToken

__all__ = ["BackgroundCall", "active_calls", "call_in_background", "cancel_all"]

# Handles whose answer has not been delivered yet. Holding them here keeps the QThread and
# the relay (with its queued answer) alive until the delivery ran, whatever the caller does:
# a handle collected with a delivery still queued would receive it half torn down.
_PENDING: set[BackgroundCall] = set()
# Delivered handles, freed at the next start or delivery: never inside their own relay's slot
# (freeing the relay there would delete a QObject in the middle of its own event).
_RETIRED: list[BackgroundCall] = []
_HOOKED_APPS: set[int] = set()


class _Runner(QThread):
    """The worker thread: calls ``fn`` once and hands the outcome to the relay."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], relay: _Relay) -> None:
        super().__init__()
        self._fn, self._args, self._relay = fn, args, relay

    def run(self) -> None:  # Qt override, runs in the worker thread
        try:
            value = self._fn(*self._args)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to on_error
            self._relay.delivered.emit(False, exc)
        else:
            self._relay.delivered.emit(True, value)


class _Relay(QObject):
    """Lives in the GUI thread, so its slot (queued from the worker) runs there."""

    delivered = Signal(bool, object)


class BackgroundCall:
    """A handle on one background call: ``cancel()``, ``wait()``, ``is_running()``.

    Cancelling sets ``cancel_token`` (pass the same token to ``fn`` so it can stop early) and
    guarantees neither callback runs afterwards."""

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        cancel_token: CancelToken | None,
    ) -> None:
        self.cancel_token = cancel_token or CancelToken()
        self._on_done, self._on_error = on_done, on_error
        self._cancelled = False
        self._delivered = False
        self._relay = _Relay()
        self._relay.delivered.connect(self._on_relay_delivered)
        self._thread = _Runner(fn, args, self._relay)

    def start(self) -> None:
        _RETIRED.clear()
        _PENDING.add(self)
        self._thread.start()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def is_running(self) -> bool:
        """True until the call ended: its thread stopped and its answer was handled."""
        return self in _PENDING

    def thread_running(self) -> bool:
        return bool(self._thread.isRunning())

    def cancel(self, wait_ms: int = 0) -> bool:
        """Drop the callbacks and set the token; with ``wait_ms``, also join the thread.
        Returns True when the thread has stopped."""
        self._cancelled = True
        self.cancel_token.cancel()
        return self.wait(wait_ms) if wait_ms else not self._thread.isRunning()

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Join the worker thread (blocking the caller); True when it has stopped."""
        return bool(self._thread.wait(timeout_ms))

    @Slot(bool, object)
    def _on_relay_delivered(self, ok: bool, value: Any) -> None:
        # The worker emits as its last act; joining here is immediate.
        self._thread.wait()
        _RETIRED[:] = [h for h in _RETIRED if h is not self]
        _PENDING.discard(self)
        try:
            if self._cancelled or self._delivered:
                return
            self._delivered = True
            callback = self._on_done if ok else self._on_error
            if callback is not None:
                callback(value)
            elif not ok:
                raise value
        finally:
            _RETIRED.append(self)


def call_in_background(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    parent: QObject | None = None,
    cancel_token: CancelToken | None = None,
) -> BackgroundCall:
    """Call ``fn(*args)`` in a new worker thread. ``on_done(result)`` or ``on_error(exc)`` then
    runs in the GUI thread. If ``parent`` is destroyed first the call is cancelled (its
    callbacks never run). Keyword arguments for ``fn``: use ``functools.partial``."""
    handle = BackgroundCall(fn, args, on_done, on_error, cancel_token)
    if parent is not None:
        # A weak reference: a finished call must not live as long as its parent does.
        ref = weakref.ref(handle)
        parent.destroyed.connect(lambda *_: _cancel_ref(ref))
    app = QCoreApplication.instance()
    if app is not None and id(app) not in _HOOKED_APPS:
        app.aboutToQuit.connect(lambda: cancel_all(5000))
        _HOOKED_APPS.add(id(app))
    handle.start()
    return handle


def _cancel_ref(ref: weakref.ref[BackgroundCall]) -> None:
    handle = ref()
    if handle is not None:
        handle.cancel()


def active_calls() -> list[BackgroundCall]:
    """Calls whose worker thread is still running (a test checks none is left at teardown)."""
    return [h for h in _PENDING if h.thread_running()]


def cancel_all(wait_ms: int = 5000) -> bool:
    """Cancel every background call and join the threads (application close). True when all
    stopped within ``wait_ms`` each."""
    ok = True
    for handle in list(_PENDING):
        ok = handle.cancel(wait_ms) and ok
    return ok
