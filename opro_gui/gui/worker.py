"""One worker type for every background job: runs a function, or drives a generator, in its own
QThread; reports in the GUI thread through signals and owns its lifetime."""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QMetaMethod, QObject, QThread, Signal, Slot

from opro_gui.core.cancel import CancelToken

__all__ = ["Worker", "run_in_background"]

_YIELDED, _RETURNED, _FAILED = range(3)


class _JobThread(QThread):
    """Calls the job; a generator is iterated until it ends or the worker is told to quit."""

    def __init__(self, job: Worker) -> None:
        super().__init__(job)
        self._job = job

    def run(self) -> None:  # Qt override, runs in the job thread
        job = self._job
        try:
            result = job._fn(*job._args)
            if inspect.isgenerator(result):
                result = self._drive(result)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported
            job._delivered.emit(_FAILED, exc)
        else:
            job._delivered.emit(_RETURNED, result)

    def _drive(self, gen: Any) -> Any:
        job = self._job
        while True:
            if job._quit.is_set():
                gen.close()
                return None
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            job._delivered.emit(_YIELDED, value)


class Worker(QObject):
    """One background job, in the style of superqt's ``GeneratorWorker``.

    ``fn(*args)`` runs in a new thread; if it returns a generator, each yielded value arrives
    as ``value_yielded`` in the GUI thread and ``quit()`` stops it between two values.
    ``job_returned`` or ``job_failed`` follows, then always ``job_ended`` (last). After
    ``quit()`` no value, result or error is delivered any more; ``job_ended`` still is.

    The worker is a child of ``owner`` (or of the application): it lives until its job ended
    and is then deleted by Qt. Owners call ``quit(wait_ms)`` before they go away; a job that
    ignores the request for longer is detached and kept until the process ends (destroying a
    running QThread aborts the process)."""

    job_started = Signal()
    value_yielded = Signal(object)
    job_returned = Signal(object)
    job_failed = Signal(object)  # the exception
    job_ended = Signal()  # always last

    _delivered = Signal(int, object)  # from the job thread; queued to the GUI thread

    _active: ClassVar[weakref.WeakSet[Worker]] = weakref.WeakSet()
    _detached: ClassVar[list[Worker]] = []

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        owner: QObject | None = None,
        token: CancelToken | None = None,
        name: str = "opro-worker",
    ) -> None:
        super().__init__(owner if owner is not None else QCoreApplication.instance())
        self.token = token
        self._fn, self._args = fn, args
        self._quit = threading.Event()
        self._started = False
        self._ended = False
        self._thread = _JobThread(self)
        self._thread.setObjectName(name)
        self._delivered.connect(self._on_job_delivered)
        self._thread.finished.connect(self._on_thread_finished)
        if owner is not None:
            # An owner deleted with the job still running would delete a running QThread.
            ref = weakref.ref(self)
            owner.destroyed.connect(lambda *_: _quit_ref(ref))

    # -- control ---------------------------------------------------------------------------
    def start(self) -> Worker:
        if self._started:
            raise RuntimeError("a worker runs its job once")
        self._started = True
        Worker._active.add(self)
        self._thread.start()
        self.job_started.emit()
        return self

    def is_running(self) -> bool:
        """True from ``start()`` until ``job_ended`` was emitted."""
        return self._started and not self._ended

    @property
    def quit_requested(self) -> bool:
        return self._quit.is_set()

    def quit(self, wait_ms: int = 0) -> bool:
        """Ask the job to stop (a generator stops at its next value; ``token`` is cancelled)
        and drop what it would still deliver. With ``wait_ms``, also join the thread. True
        when the job's thread has stopped."""
        self._quit.set()
        if self.token is not None:
            self.token.cancel()
        if self._ended:
            return True
        if not wait_ms:
            return not self._thread.isRunning()
        done = self.wait(wait_ms)
        if not done:
            self.detach()
        return done

    def detach(self) -> None:
        """Keep a job that is still running alive on its own until it ends, whatever happens
        to its owner (for an owner that must go away now)."""
        if not self._ended and self not in Worker._detached:
            self.setParent(None)
            Worker._detached.append(self)

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Join the job's thread (blocking the caller); True when it has stopped."""
        if self._ended or not self._started:
            return True
        return bool(self._thread.wait(timeout_ms))

    @classmethod
    def active(cls) -> list[Worker]:
        """Workers whose job has not ended (a test checks none is left at teardown)."""
        return [w for w in list(cls._active) if w.is_running() and shiboken6.isValid(w)]

    @classmethod
    def quit_all(cls, wait_ms: int = 5000) -> bool:
        """Quit every job and join the threads (application close). True when all stopped."""
        ok = True
        for worker in cls.active():
            ok = worker.quit(wait_ms) and ok
        return ok

    # -- delivery (GUI thread) -------------------------------------------------------------
    @Slot(int, object)
    def _on_job_delivered(self, what: int, value: Any) -> None:
        if self._quit.is_set():
            return
        if what == _YIELDED:
            self.value_yielded.emit(value)
        elif what == _RETURNED:
            self.job_returned.emit(value)
        elif self.isSignalConnected(QMetaMethod.fromSignal(self.job_failed)):
            self.job_failed.emit(value)
        else:
            raise value  # nobody listens: never let an error vanish

    @Slot()
    def _on_thread_finished(self) -> None:
        # Queued after every delivery of the job (same sender thread, same receiver).
        self._thread.wait()
        self._ended = True
        Worker._active.discard(self)
        if self in Worker._detached:
            Worker._detached.remove(self)
        self.job_ended.emit()
        self.deleteLater()


def _quit_ref(ref: weakref.ref[Worker]) -> None:
    """The owner is being destroyed, and the worker with it: stop the job first."""
    worker = ref()
    if worker is not None and worker.is_running() and worker.quit(5000):
        worker._ended = True  # its finished notice dies with it
        Worker._active.discard(worker)


def run_in_background(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    owner: QObject | None = None,
    token: CancelToken | None = None,
) -> Worker:
    """Start a ``Worker`` for ``fn(*args)``: ``on_done(result)`` or ``on_error(exc)`` then runs
    in the GUI thread, unless the worker was told to quit first. Keyword arguments for ``fn``:
    use ``functools.partial``."""
    worker = Worker(fn, *args, owner=owner, token=token)
    if on_done is not None:
        worker.job_returned.connect(on_done)
    if on_error is not None:
        worker.job_failed.connect(on_error)
    return worker.start()
