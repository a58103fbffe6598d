"""The run worker: lives in its own QThread, opens its own project session, drives the engine
and emits one Qt signal per engine event."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import (
    BaselineStepCompleted,
    RunFinished,
    RunStarted,
    StepCompleted,
    StepStarted,
)
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectError, ProjectSession


class RunWorker(QObject):
    """Runs one OPRO run from start to finish in the thread it was moved to."""

    run_prepared = Signal(int)  # run id (after prepare_run, before the first event)
    run_started = Signal(object)  # RunStarted
    step_started = Signal(object)  # StepStarted
    step_completed = Signal(object)  # StepCompleted
    baseline_step_completed = Signal(object)  # BaselineStepCompleted
    run_finished = Signal(object)  # RunFinished
    run_failed = Signal(str)  # the run could not start or crashed outside the engine
    work_done = Signal()  # always last: the thread may quit

    def __init__(
        self,
        path: Path,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None,
        cancel: CancelToken,
        *,
        new_run: bool = False,
        run_id: int | None = None,
    ) -> None:
        super().__init__()
        self._path = Path(path)
        self._settings = settings
        self._optimizer = optimizer
        self._scorer = scorer
        self._cancel = cancel
        self._new_run = new_run
        self._run_id = run_id

    @Slot()
    def run(self) -> None:
        try:
            self._drive()
        except ProjectError as exc:
            self.run_failed.emit(str(exc))
        except Exception as exc:  # never let an exception die silently in a thread
            self.run_failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.work_done.emit()

    def _drive(self) -> None:
        session = ProjectSession.open(self._path)
        try:
            run_id = self._run_id
            if run_id is None:
                run_id = session.prepare_run(
                    self._settings, self._optimizer, self._scorer, new_run=self._new_run
                )
            self.run_prepared.emit(run_id)
            for event in session.run_events(run_id, self._cancel):
                if isinstance(event, StepCompleted):
                    self.step_completed.emit(event)
                elif isinstance(event, BaselineStepCompleted):
                    self.baseline_step_completed.emit(event)
                elif isinstance(event, StepStarted):
                    self.step_started.emit(event)
                elif isinstance(event, RunStarted):
                    self.run_started.emit(event)
                elif isinstance(event, RunFinished):
                    self.run_finished.emit(event)
        finally:
            session.close()  # closes the clients its engines made
