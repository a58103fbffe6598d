"""The project document: the one object in the GUI thread that owns the project's read session,
loads what the views show in the background and tells them with typed signals."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from opro_gui.core.events import StepCompleted
from opro_gui.core.models import RunSettings
from opro_gui.problems import ProblemKind
from opro_gui.problems.kinds import format_number
from opro_gui.services import ProjectError, ProjectSession, inspection, pages
from opro_gui.services.inspection import StepView
from opro_gui.services.pages import CandidateRow, LeaderRow, RunFigures, RunHeader
from opro_gui.services.plan import RunPlan

from .document_payloads import (
    CurveLoaded,
    LoadFailed,
    PagesChecked,
    PreviewLoaded,
    ProjectClosed,
    ProjectLoaded,
    ProjectOpened,
    RunLoaded,
    RunsChanged,
    RunSelected,
    StepAppended,
    SummaryLoaded,
    UpgradeStarted,
)
from .document_reads import (
    read_ended_run,
    read_project,
    read_run_in,
    upgrade_file,
)
from .worker import Worker

__all__ = [
    "ProjectDocument",
    "CurveLoaded",
    "LoadFailed",
    "PagesChecked",
    "PreviewLoaded",
    "ProjectClosed",
    "ProjectLoaded",
    "ProjectOpened",
    "RunLoaded",
    "RunSelected",
    "RunsChanged",
    "StepAppended",
    "SummaryLoaded",
    "UpgradeStarted",
]


class ProjectDocument(QObject):
    """Owns the GUI thread's session of the open project; widgets render from its signals
    and never open the project themselves. Facts are past tense (Spyder's naming)."""

    project_opened = Signal(object)  # ProjectOpened
    project_loaded = Signal(object)  # ProjectLoaded
    run_selected = Signal(object)  # RunSelected
    run_loaded = Signal(object)  # RunLoaded
    preview_loaded = Signal(object)  # PreviewLoaded
    summary_loaded = Signal(object)  # SummaryLoaded
    curve_loaded = Signal(object)  # CurveLoaded
    step_appended = Signal(object)  # StepAppended
    runs_changed = Signal(object)  # RunsChanged
    project_closed = Signal(object)  # ProjectClosed
    load_failed = Signal(object)  # LoadFailed
    upgrade_started = Signal(object)  # UpgradeStarted

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._run_id: int | None = None
        self._runs: tuple[RunHeader, ...] = ()
        self._loader: Worker | None = None
        self._run_pending = False  # a RunLoaded for _run_id is on its way
        self._held: list[StepCompleted] = []  # live steps that arrived before it
        self._project_pending = False  # the background open (with its page check) is running
        self._upgrading: tuple[Path, int | None] | None = None  # (file, run to show) upgrading
        # Values read in the background, handed to the views one per turn of the event loop:
        # each view's drawing is its own short stretch, with paints and input in between.
        self._inbox: deque[tuple[bool, object]] = deque()  # (failed, value or error)
        self._inbox_scheduled = False

    # -- state ---------------------------------------------------------------------------
    @property
    def session(self) -> ProjectSession | None:
        """The GUI thread's session (writes of the task, save as); views never use it."""
        return self._session

    @property
    def path(self) -> Path | None:
        return self._session.path if self._session else None

    @property
    def kind(self) -> str:
        return self._session.kind if self._session else ""

    @property
    def run_id(self) -> int | None:
        return self._run_id

    @property
    def runs(self) -> tuple[RunHeader, ...]:
        return self._runs

    @property
    def is_loading(self) -> bool:
        """A background read runs, or what it read is still being handed to the views."""
        return self._loader is not None or bool(self._inbox)

    @property
    def upgrading(self) -> Path | None:
        """The file being upgraded from an older schema before it opens, if any."""
        return self._upgrading[0] if self._upgrading else None

    @property
    def problem_kind(self) -> ProblemKind | None:
        """The open project's kind descriptor (labels, formatting, comparisons)."""
        return self._session.problem_kind if self._session else None

    def format_score(self, score: float | None) -> str:
        kind = self.problem_kind
        return (
            kind.format_score(score)
            if kind is not None
            else ("" if score is None else format_number(score))
        )

    # -- intents -------------------------------------------------------------------------
    def open(self, path: str | Path, run_id: int | None = None) -> None:
        """Open ``path`` (raises ProjectError, leaving the open project as it was), tell
        every view, then read the rest in the background. A file of an older schema is first
        upgraded in the background (``upgrade_started``; a failure is a fatal ``load_failed``)."""
        path = Path(path)
        if pages.needs_upgrade(path):
            self._upgrade(path, run_id)
            return
        # Every check but the page scan here; the background read runs the full one.
        session = ProjectSession.open(path, check_pages=False)
        try:
            runs = tuple(pages.run_headers(session))
            ids = [r.run_id for r in runs]
            if run_id not in ids:
                run_id = ids[-1] if ids else None
            settings = session.run_settings(run_id) if run_id is not None else RunSettings()
            name = str(session.store.project().name)
            spec = session.store.spec()
        except BaseException:
            session.close()
            raise
        self.close()
        self._session, self._runs, self._run_id = session, runs, run_id
        self.project_opened.emit(
            ProjectOpened(session.path, name, session.kind, spec, runs, run_id, settings)
        )
        self.run_selected.emit(RunSelected(run_id, self._header(run_id)))
        self._run_pending = run_id is not None
        self._project_pending = True
        self._start(read_project, session.path, run_id)

    def _upgrade(self, path: Path, run_id: int | None) -> None:
        self.close()
        self._upgrading = (path, run_id)
        worker = Worker(upgrade_file, path, owner=self, name="opro-upgrade")
        worker.job_returned.connect(self._on_upgrade_job_returned)
        worker.job_failed.connect(self._on_upgrade_job_failed)
        worker.job_ended.connect(self._on_loader_job_ended)
        self._loader = worker
        self.upgrade_started.emit(UpgradeStarted(path))
        worker.start()

    def _on_upgrade_job_returned(self, _result: object) -> None:
        if self.sender() is not self._loader or self._upgrading is None:
            return  # superseded by another open
        (path, run_id), self._upgrading, self._loader = self._upgrading, None, None
        try:
            self.open(path, run_id)
        except ProjectError as exc:
            self.load_failed.emit(LoadFailed(str(exc), fatal=True))

    def _on_upgrade_job_failed(self, exc: BaseException) -> None:
        if self.sender() is not self._loader:
            return
        self._upgrading, self._loader = None, None
        self.load_failed.emit(LoadFailed(str(exc), fatal=True))

    def close(self) -> None:
        self._stop_loader()
        if self._session is None:
            return
        path = self._session.path
        self._session.close()
        self._session, self._runs, self._run_id = None, (), None
        self._held = []
        self.project_closed.emit(ProjectClosed(path))

    def select_run(self, run_id: int | None) -> None:
        """Show another run of the project (a no-op for the run already shown)."""
        if self._session is None or run_id == self._run_id:
            return
        if run_id is not None and run_id not in [r.run_id for r in self._runs]:
            self.refresh_runs()
        self._stop_loader()
        self._run_id, self._held = run_id, []
        self.run_selected.emit(RunSelected(run_id, self._header(run_id)))
        self._run_pending = run_id is not None
        if run_id is not None:
            self._start(read_run_in, self._session.path, run_id)

    def append_step(self, event: StepCompleted, run_id: int) -> None:
        """A live step of ``run_id`` was written (from the run controller)."""
        if run_id != self._run_id:
            return
        if self._run_pending:
            self._held.append(event)
        else:
            self.step_appended.emit(StepAppended(run_id, event))

    def reload_after_run(self) -> None:
        """A run ended (or was evaluated): re-read its summary and the preview's history."""
        if self._session is None or self._run_id is None or self._run_pending:
            return
        self._stop_loader()
        self._start(read_ended_run, self._session.path, self._run_id)

    def refresh_runs(self) -> tuple[RunHeader, ...]:
        """Re-read the list of runs (a bounded read); ``runs_changed`` when it changed."""
        if self._session is None:
            return ()
        runs = tuple(pages.run_headers(self._session))
        if runs != self._runs:
            self._runs = runs
            self.runs_changed.emit(RunsChanged(runs))
        return runs

    def wait_loaded(self, timeout_ms: int = 30_000) -> bool:
        """Join the background read (benchmarks and tests); its signals still arrive queued."""
        return self._loader is None or self._loader.wait(timeout_ms)

    # -- the task and the next run (the window's File and Run actions) --------------------
    def spec(self) -> dict[str, Any]:
        return self._need().store.spec()

    def update_spec(self, spec: dict[str, Any]) -> None:
        """Save an edited task definition (validated by the problem layer)."""
        self._need().update_spec(spec)

    def save_as(self, target: str | Path) -> None:
        self._need().save_as(target)

    def latest_run_settings(self) -> RunSettings:
        session = self._need()
        run_id = session.latest_run_id()
        return session.run_settings(run_id) if run_id is not None else RunSettings()

    def plan_run(self, settings: RunSettings, *, new_run: bool, spec_changed: bool) -> RunPlan:
        """What Run will do (the rule `opro run` follows), said before anything is spent."""
        return self._need().plan_run(settings, new_run=new_run, spec_changed=spec_changed)

    # -- bounded reads for the history table and the step detail (GUI thread) ------------
    def candidates_page(
        self, run_id: int, offset: int, limit: int, upto_step: int | None = None
    ) -> list[CandidateRow]:
        return pages.candidates_page(self._need(), run_id, offset, limit, upto_step)

    def candidate_count(self, run_id: int, upto_step: int | None = None) -> int:
        return pages.candidate_count(self._need(), run_id, upto_step)

    def candidate_position(self, run_id: int, step: int, index: int) -> int | None:
        return pages.candidate_position(self._need(), run_id, step, index)

    def last_step(self, run_id: int) -> int:
        return pages.last_step(self._need(), run_id)

    def run_figures(self, run_id: int, step: int) -> RunFigures:
        """The dashboard's figures as stored after ``step`` (aggregates only)."""
        return pages.run_figures(self._need(), run_id, step)

    def leaderboard(self, run_id: int, limit: int) -> list[LeaderRow]:
        """The run's ``limit`` best candidates (top N in SQL, no solution decoded)."""
        return pages.leaderboard(self._need(), run_id, limit)

    def step_detail(self, run_id: int, step: int) -> StepView | None:
        """A step with each candidate's scorer answers beside their examples' input and gold."""
        return inspection.step_view(self._need(), run_id, step)

    # -- internals -----------------------------------------------------------------------
    def _need(self) -> ProjectSession:
        if self._session is None:
            raise ProjectError("no project is open")
        return self._session

    def _header(self, run_id: int | None) -> RunHeader | None:
        return next((r for r in self._runs if r.run_id == run_id), None)

    def _start(self, fn: Any, *args: Any) -> None:
        worker = Worker(fn, *args, owner=self, name="opro-read")
        worker.value_yielded.connect(self._on_loader_value_yielded)
        worker.job_failed.connect(self._on_loader_job_failed)
        worker.job_ended.connect(self._on_loader_job_ended)
        self._loader = worker
        worker.start()

    def _stop_loader(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None and self._upgrading is not None:
            loader.detach()  # one transaction: it ends on its own, nothing of it is shown
            loader.quit()
        elif loader is not None:
            loader.quit(5000)
        self._upgrading = None
        self._inbox.clear()  # what the stopped read had found is not shown either
        self._run_pending = False
        self._project_pending = False

    def _on_loader_value_yielded(self, value: object) -> None:
        self._inbox.append((False, value))
        self._schedule_inbox()

    def _on_loader_job_failed(self, exc: BaseException) -> None:
        self._inbox.append((True, exc))  # after the values read before it
        self._schedule_inbox()

    def _schedule_inbox(self) -> None:
        if self._inbox and not self._inbox_scheduled:
            self._inbox_scheduled = True
            QTimer.singleShot(0, self, self._on_inbox_turn)

    def _on_inbox_turn(self) -> None:
        self._inbox_scheduled = False
        if not self._inbox:
            return
        failed, value = self._inbox.popleft()
        if failed:
            self._fail(value)  # type: ignore[arg-type]
        else:
            self._deliver(value)
        self._schedule_inbox()

    @property
    def pending_values(self) -> int:
        """Values read but not yet handed to the views (each goes on its own turn)."""
        return len(self._inbox)

    def _deliver(self, value: object) -> None:
        if isinstance(value, ProjectLoaded):
            self.project_loaded.emit(value)
        elif isinstance(value, PagesChecked):
            self._project_pending = False
        elif isinstance(value, RunLoaded):
            if value.run_id != self._run_id:
                return
            self._run_pending = False
            self._runs = tuple(value.header if r.run_id == value.run_id else r for r in self._runs)
            self.run_loaded.emit(value)
            held, self._held = self._held, []
            for event in held:
                if event.record.step > value.points.last_step:
                    self.step_appended.emit(StepAppended(value.run_id, event))
        elif isinstance(value, PreviewLoaded):
            self.preview_loaded.emit(value)
        elif isinstance(value, SummaryLoaded):
            self.summary_loaded.emit(value)
        elif isinstance(value, CurveLoaded):
            self.curve_loaded.emit(value)

    def _fail(self, exc: BaseException) -> None:
        self._run_pending = False
        if self._project_pending:  # the full check found the file unusable: close it
            self._project_pending = False
            self._loader = None
            self.close()
            self.load_failed.emit(LoadFailed(str(exc), fatal=True))
            return
        self.load_failed.emit(LoadFailed(f"Could not read the project: {exc}"))

    def _on_loader_job_ended(self) -> None:
        if self.sender() is self._loader:
            self._loader = None
