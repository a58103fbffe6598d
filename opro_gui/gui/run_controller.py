"""The run controller: owns one Worker per run that drives the engine in its own thread,
re-emits the engine's events in the GUI thread, and pauses/cancels through the CancelToken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.core.events import (
    BaselineStepCompleted,
    Event,
    RunFinished,
    RunStarted,
    StepCompleted,
    StepStarted,
)
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.services.model_probe import ModelCheck, check_models

from .worker import Worker

SHUTDOWN_TIMEOUT_MS = 10_000


def drive_run(
    path: Path,
    settings: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
    cancel: CancelToken,
    new_run: bool,
    run_id: int | None,
    check: bool = False,
    continues: int | None = None,
) -> Iterator[int | Event | ModelCheck]:
    """Runs in the worker thread with its own session: yields the run id, then every event.
    ``check``: first the model check (``continues``: the run that will continue); it is
    yielded, and a failure ends the job before anything is written."""
    session = ProjectSession.open(path)
    try:
        if check:
            # Stop during the check raises Cancelled: the job fails with it, and the
            # controller says run_stopped (nothing was started or written)
            result = check_models(session, settings, optimizer, scorer, continues, cancel)
            yield result
            if not result.ok and not result.unreachable:
                return
        if run_id is None:
            run_id = session.prepare_run(settings, optimizer, scorer, new_run=new_run)
        yield run_id
        # the run's events, and its equal-budget baseline's steps when that is switched on
        yield from session.run_events(run_id, cancel)
    finally:
        session.close()  # closes the clients its engines made


class RunController(QObject):
    """Widgets and tests connect to these signals only (never to a worker)."""

    run_started = Signal(int, object)  # run id, RunStarted
    step_started = Signal(object)  # StepStarted
    step_completed = Signal(object)  # StepCompleted
    baseline_step_completed = Signal(object)  # BaselineStepCompleted (equal-budget baseline)
    run_finished = Signal(object)  # RunFinished
    run_failed = Signal(str)
    run_stopped = Signal()  # Stop came during the model check: no run started, nothing written
    model_checked = Signal(object)  # ModelCheck, before the run starts (when asked for)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: Worker | None = None
        self._token: CancelToken | None = None
        self._run_id: int | None = None
        self.last_check: ModelCheck | None = None  # the latest model check's result

    # -- state ---------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._worker is not None

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
        check: bool = False,
        continues: int | None = None,
    ) -> None:
        if self.is_running:
            raise RuntimeError("a run is already in progress")
        self._token = CancelToken()
        self._run_id = run_id
        self.last_check = None
        # The worker's own quit is not used to stop a run: the engine must still report its
        # final event after a pause or cancel, so the token (not the worker) stops it.
        worker = Worker(
            drive_run,
            Path(path),
            settings,
            optimizer,
            scorer,
            self._token,
            new_run,
            run_id,
            check,
            continues,
            owner=self,
            name="opro-run",
        )
        worker.value_yielded.connect(self._on_worker_value_yielded)
        worker.job_failed.connect(self._on_worker_job_failed)
        worker.job_ended.connect(self._on_worker_job_ended)
        self._worker = worker
        worker.start()
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
        """Cancel and wait (bounded). True when no thread is left running. A worker still
        inside a call that ignores cancellation is detached by ``Worker.quit``."""
        worker = self._worker
        if worker is None:
            return True
        self.cancel()
        done = worker.quit(timeout_ms)
        if not done:
            worker.detach()
        self._worker, self._token = None, None
        self.running_changed.emit(False)
        return done

    # -- handlers ------------------------------------------------------------------------
    def _on_worker_value_yielded(self, value: object) -> None:
        if isinstance(value, ModelCheck):
            self.last_check = value
            self.model_checked.emit(value)
        elif isinstance(value, int):
            self._run_id = value
        elif isinstance(value, StepCompleted):
            self.step_completed.emit(value)
        elif isinstance(value, BaselineStepCompleted):
            self.baseline_step_completed.emit(value)
        elif isinstance(value, StepStarted):
            self.step_started.emit(value)
        elif isinstance(value, RunStarted):
            assert self._run_id is not None
            self.run_started.emit(self._run_id, value)
        elif isinstance(value, RunFinished):
            self.run_finished.emit(value)

    def _on_worker_job_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):  # the user's Stop, before the engine could report it
            self.run_stopped.emit()
            return
        message = str(exc) if isinstance(exc, ProjectError) else f"{type(exc).__name__}: {exc}"
        self.run_failed.emit(message)

    def _on_worker_job_ended(self) -> None:
        if self.sender() is not self._worker:
            return  # a worker already let go by shutdown()
        self._worker, self._token = None, None
        self.running_changed.emit(False)
