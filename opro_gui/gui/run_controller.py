"""The run controller: owns one QThread + RunWorker per run, re-emits the worker's events in
the GUI thread, and cancels/pauses through the thread-safe CancelToken."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig

from .workers import RunWorker

SHUTDOWN_TIMEOUT_MS = 10_000
_ABANDONED: list[tuple[QThread, RunWorker | None]] = []


class RunController(QObject):
    """Widgets and tests connect to these signals only (never to a worker)."""

    run_started = Signal(int, object)  # run id, RunStarted
    step_started = Signal(object)  # StepStarted
    step_completed = Signal(object)  # StepCompleted
    baseline_step_completed = Signal(object)  # BaselineStepCompleted (equal-budget baseline)
    run_finished = Signal(object)  # RunFinished
    run_failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker_thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._token: CancelToken | None = None
        self._run_id: int | None = None

    # -- state ---------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._worker_thread is not None

    @property
    def run_id(self) -> int | None:
        return self._run_id

    @property
    def pause_requested(self) -> bool:
        return self._token is not None and self._token.pause_requested

    # -- intents -------------------------------------------------------------------------
    def start(
        self,
        path: Path,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
        *,
        new_run: bool = False,
        run_id: int | None = None,
    ) -> None:
        if self.is_running:
            raise RuntimeError("a run is already in progress")
        self._token = CancelToken()
        self._run_id = run_id
        thread = QThread(self)
        thread.setObjectName("opro-run")
        worker = RunWorker(
            path, settings, optimizer, scorer, self._token, new_run=new_run, run_id=run_id
        )
        worker.moveToThread(thread)
        # Queued connections (receiver lives in the GUI thread): handlers run here.
        worker.run_prepared.connect(self._on_worker_run_prepared)
        worker.run_started.connect(self._on_worker_run_started)
        worker.step_started.connect(self.step_started)
        worker.step_completed.connect(self.step_completed)
        worker.baseline_step_completed.connect(self.baseline_step_completed)
        worker.run_finished.connect(self.run_finished)
        worker.run_failed.connect(self.run_failed)
        worker.work_done.connect(thread.quit)
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished)
        self._worker_thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        """Finish the step in flight, then stop (resumable)."""
        if self._token is not None:
            self._token.pause()

    def cancel(self) -> None:
        """Stop now; every completed step is already on disk."""
        if self._token is not None:
            self._token.cancel()

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Cancel, quit and wait (bounded). True when no thread is left running."""
        thread = self._worker_thread
        if thread is None:
            return True
        self.cancel()
        thread.quit()
        done = thread.wait(timeout_ms)
        if done:
            self._cleanup()
        else:
            # Still inside a call that ignores cancellation. Destroying a running QThread
            # aborts the process, so detach it and keep it referenced until the process
            # ends; every completed step is already committed.
            thread.setParent(None)
            _ABANDONED.append((thread, self._worker))
            self._worker_thread, self._worker, self._token = None, None, None
        return done

    # -- handlers ------------------------------------------------------------------------
    def _on_worker_run_prepared(self, run_id: int) -> None:
        self._run_id = run_id

    def _on_worker_run_started(self, event: object) -> None:
        assert self._run_id is not None
        self.run_started.emit(self._run_id, event)

    def _on_thread_finished(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._worker_thread is None:
            return
        thread = self._worker_thread
        # The worker's thread has ended: dropping the last reference frees it here.
        self._worker_thread, self._worker, self._token = None, None, None
        thread.deleteLater()
        self.running_changed.emit(False)
