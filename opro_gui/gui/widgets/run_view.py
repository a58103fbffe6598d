"""The run view: headline figures over the score plot and the kind's own domain view (a tour,
a fit, an instruction) with a leaderboard beside them, rendered from the project document's
signals and updated on every step; warns when the optimizer mostly fails to answer in format
or does no better than an equal-budget random search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from opro_gui.core.events import BaselineStepCompleted, StepCompleted
from opro_gui.core.models import CandidateStatus
from opro_gui.problems import ProblemKind
from opro_gui.services.status import status_text
from opro_gui.services.summary import RunSummary

from ..document import (
    CurveLoaded,
    LoadFailed,
    ProjectDocument,
    ProjectLoaded,
    ProjectOpened,
    RunLoaded,
    RunSelected,
    StepAppended,
    SummaryLoaded,
)
from ..kinds import descriptor, gui_kind, score_axis_label, value_scale, view_kinds
from ..themes import LIGHT, PlotColors
from .dashboard import Dashboard, DashboardArea
from .leaderboard import Leaderboard, PlotAndBoard
from .run_board import RunBoard
from .run_lines import columns, evaluation_lines, live_line, summary_line, warning_lines
from .score_plot import ScorePlot

REDRAW_MS = 100  # coalesce step events arriving faster than this into one redraw (10 fps)
INVALID_RATE_WARNING = 0.5
NO_PROJECT_TEXT = "Open or create a project to start."


class RunView(QWidget):
    candidate_clicked = Signal(int, int)  # step, index
    analysis_done = Signal()  # summary, warnings and random-search curve are up to date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = LIGHT
        self._document: ProjectDocument | None = None
        self.kind = ""
        self._desc: ProblemKind | None = None
        self.run_id: int | None = None
        self.last_step = -1
        self._max_steps = 0
        self._reference: float | None = None  # the score a gap is measured against
        self._problem_key: Any = None  # the task the domain view shows
        self._best_steps: list[int] = []
        self._best_scores: list[float] = []
        self._best_solutions: list[Any] = []
        self.baseline_points: list[tuple[int, float]] = []  # (step, best) of the baseline run
        self._pending = False
        self.summary: RunSummary | None = None
        self.banner_messages: list[str] = []
        self._draw_warnings: list[str] = []  # values of the file a view could not draw
        self._summary_warnings: list[str] = []
        self.banner = QLabel()
        self.banner.setObjectName("run_banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label = QLabel(NO_PROJECT_TEXT)
        self.summary_label.setObjectName("run_summary")
        self.summary_label.setWordWrap(True)
        self.dashboard = Dashboard()
        self.score_plot = ScorePlot()
        self.score_plot.candidate_clicked.connect(self.candidate_clicked)
        self.leaderboard = Leaderboard()
        self.leaderboard.candidate_chosen.connect(self.candidate_clicked)
        self.board = RunBoard(self.dashboard, self.leaderboard, self.score_plot)
        self.domain_views: dict[str, Any] = {}  # kind -> its view, made when first needed
        self.domain_view: Any = None
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setMinimumHeight(90)  # short layouts (Inspect) squeeze the plots, not the docks
        self.tabs.addTab(self.score_plot, "Score")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
        lay.addWidget(self.summary_label)
        lay.addWidget(DashboardArea(self.dashboard))
        self.splitter = PlotAndBoard(self.tabs, self.leaderboard)
        lay.addWidget(self.splitter, 1)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        # Each kind's view (a plot widget: tens of ms) is made while the window is idle, one
        # per turn of the event loop, so opening a project finds it ready.
        QTimer.singleShot(0, self, self._prepare_next_view)

    # -- the document ----------------------------------------------------------------------
    def set_document(self, document: ProjectDocument) -> None:
        self._document = document
        self.board.document = document
        document.project_opened.connect(self._on_document_project_opened)
        document.project_loaded.connect(self._on_document_project_loaded)
        document.run_selected.connect(self._on_document_run_selected)
        document.run_loaded.connect(self._on_document_run_loaded)
        document.step_appended.connect(self._on_document_step_appended)
        document.summary_loaded.connect(self._on_document_summary_loaded)
        document.curve_loaded.connect(self._on_document_curve_loaded)
        document.project_closed.connect(self._on_document_project_closed)
        document.load_failed.connect(self._on_document_load_failed)

    @property
    def analysis_pending(self) -> bool:
        """A run's data or summary is still being read in the background."""
        return self._pending

    def _on_document_project_opened(self, p: ProjectOpened) -> None:
        self.kind, self._desc = p.kind, descriptor(p.kind)
        self._reference, self._problem_key = None, None
        self._show_domain_view(p.kind)
        self.score_plot.configure(
            score_axis_label(p.kind), gui_kind(p.kind).log_scale, value_scale(p.kind)
        )
        self.score_plot.set_formatter(self.fmt)
        self.board.set_kind(self._desc, gui_kind(p.kind).start_label)
        self.leaderboard.set_score_label(self._desc.score_label if self._desc else "score")
        self._clear_run()
        self.summary_label.setText(f"Opening {p.name}…")

    def _on_document_project_loaded(self, p: ProjectLoaded) -> None:
        self._ensure_domain_view()
        self._set_problem(p.problem, p.facts, p.reference)

    def _on_document_run_selected(self, r: RunSelected) -> None:
        self._clear_run()
        self.run_id = r.run_id
        self.board.clear(r.run_id)
        self._pending = r.run_id is not None
        if r.run_id is None:
            self.summary_label.setText("No run yet. Press Run (Ctrl+R) to start.")
        else:
            self.summary_label.setText(f"Run {r.run_id}: reading…")
        self._redraw()

    def _on_document_run_loaded(self, r: RunLoaded) -> None:
        self._ensure_domain_view()
        self._set_problem(r.problem, r.facts, r.reference)
        pts = r.points
        self.score_plot.add_candidates(
            list(pts.point_steps), list(pts.point_indices), list(pts.point_scores)
        )
        self._best_steps = list(pts.best_steps)
        self._best_scores = list(pts.best_scores)
        self._best_solutions = list(pts.best_solutions)
        self.last_step = pts.last_step
        self._max_steps = r.header.max_steps or 0
        best = self._best_scores[-1] if self._best_scores else None
        self.board.set_start(self._start_score())
        self.dashboard.update_figures(
            best=best, steps=r.header.steps_completed, max_steps=r.header.max_steps
        )
        self.board.leader_stale = True
        parts = [f"Run {r.run_id}: {status_text(r.header.status, r.header.status_reason)}"]
        parts.append(f"step {r.header.steps_completed} of {self._max_steps}")
        if best is not None:
            parts.append(f"best {self.fmt(best)}")
        self.summary_label.setText(" · ".join(parts))
        self._redraw()

    def _on_document_step_appended(self, s: StepAppended) -> None:
        self.add_step_event(s.event)

    def _on_document_project_closed(self, _closed: object) -> None:
        self.kind, self._desc, self._problem_key = "", None, None
        self._show_domain_view("")
        self.score_plot.configure("score", False, 1.0)
        self.board.set_kind(None, "")
        self._clear_run()
        self.summary_label.setText(NO_PROJECT_TEXT)

    def _on_document_load_failed(self, failed: LoadFailed) -> None:
        self._pending = False
        self.summary_label.setText(failed.message)
        self.analysis_done.emit()

    # -- pieces ----------------------------------------------------------------------------
    def _show_domain_view(self, kind: str) -> None:
        view: Any = self.domain_views.get(kind)
        for other in self.domain_views.values():
            self.tabs.setTabVisible(self.tabs.indexOf(other), other is view)
        if self.domain_view is not None:
            self.domain_view.reset()  # the only one drawn on: the others were reset when left
        self.domain_view = view
        self.tabs.setCurrentIndex(0)
        if view is None and kind and gui_kind(kind).view is not None:
            # Made on the next turn of the event loop (a plot widget takes tens of ms): the
            # open returns sooner, and the data, read in the background, comes after it.
            QTimer.singleShot(0, self._ensure_domain_view)

    def _ensure_domain_view(self) -> None:
        if self.kind and self.domain_views.get(self.kind) is None:
            self._make_view(self.kind)

    def _make_view(self, kind: str) -> Any:
        factory = gui_kind(kind).view
        if factory is None:
            return None
        view: Any = factory()
        view.apply_colors(self._colors)
        self.domain_views[kind] = view
        index = self.tabs.addTab(view, view.tab_title)
        self.tabs.setTabVisible(index, kind == self.kind)
        if kind == self.kind:
            self.domain_view = view
        return view

    def _prepare_next_view(self) -> None:
        missing = [k for k in view_kinds() if k not in self.domain_views]
        if missing:
            self._make_view(missing[0])
            QTimer.singleShot(0, self, self._prepare_next_view)

    def _set_problem(self, problem: Any, facts: dict[str, Any], reference: float | None) -> None:
        self._reference = reference
        key = (problem.to_spec(), facts)
        if self.domain_view is not None and key != self._problem_key:
            self._draw(self.domain_view.set_problem, problem, facts)  # a fork: its own task
        self._problem_key = key
        self.board.set_problem(gui_kind(self.kind).baselines(facts), facts, reference)
        self._redraw()

    def _clear_run(self) -> None:
        self._redraw_timer.stop()
        self.summary = None
        self.run_id = None
        self._pending = False
        self.score_plot.clear_points()
        self._best_steps, self._best_scores, self._best_solutions = [], [], []
        self.board.clear(None)
        self.baseline_points = []
        self.score_plot.set_baseline_curve([], [])
        self.last_step = -1
        self._draw_warnings = []
        self._show_banner([])
        if self.domain_view is not None:
            self.domain_view.show_best([], [], self.fmt)

    # -- live events -----------------------------------------------------------------------
    def add_step_event(self, event: StepCompleted) -> None:
        r = event.record
        if r.step <= self.last_step:
            return  # already read from disk (the view switched to this run mid-flight)
        scored = [
            c for c in r.candidates if c.status == CandidateStatus.SCORED and c.score is not None
        ]
        self.score_plot.add_candidates(
            [c.step for c in scored],
            [c.index for c in scored],
            [float(c.score or 0.0) for c in scored],
        )
        self.last_step = r.step
        if r.best_score is not None:
            self._best_steps.append(r.step)
            self._best_scores.append(float(r.best_score))
            self._best_solutions.append(r.best_solution)
        gap = self._desc.gap_percent(r.best_score, self._reference) if self._desc else None
        self.summary_label.setText(
            live_line(self.run_id, r.step, self._max_steps, self.fmt(r.best_score), gap)
        )
        self.board.step(r.step, r.best_score, [float(c.score or 0.0) for c in scored])
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def add_baseline_event(self, event: BaselineStepCompleted) -> None:
        """A step of the equal-budget baseline run: its best-so-far curve grows beside ours."""
        best = event.record.best_score
        if best is not None and all(s != event.record.step for s, _ in self.baseline_points):
            self.baseline_points.append((event.record.step, float(best)))
            self.score_plot.set_baseline_curve(*columns(self.baseline_points))

    def fmt(self, score: float | None) -> str:
        """A score written the kind's way (the generic way when no kind is known)."""
        return (self._desc or ProblemKind()).format_score(score)

    @property
    def random_curve(self) -> list[float]:
        """The random search's best after steps 1..n, as drawn."""
        return self.board.random.values

    def begin_run(self, max_steps: int) -> None:
        """A run (re)starts: the warnings wait for its end; the figures and the random
        search's curve grow with every step."""
        self._max_steps = max_steps
        self._show_banner([])
        self.dashboard.update_figures(max_steps=max_steps)

    def _start_score(self) -> float | None:
        return self._best_scores[0] if self._best_steps[:1] == [0] else None

    def finish_run(self) -> None:
        """After a run ends: its summary, warnings and the random-search comparison."""
        self._redraw_timer.stop()
        self._redraw()
        self.update_analysis()

    def update_analysis(self) -> None:
        if self._document is not None and self.run_id is not None:
            self._pending = True
            self._document.reload_after_run()

    def cancel_background(self) -> None:
        """The document owns the background reads; nothing of the view's own runs."""
        self._redraw_timer.stop()

    def _on_redraw_timer_timeout(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self.board.refresh_leaderboard()
        self.score_plot.refresh()
        self.score_plot.set_best_curve(self._best_steps, self._best_scores)
        if self.domain_view is not None:
            self._draw(
                self.domain_view.show_best, self._best_solutions, self._best_scores, self.fmt
            )

    def _draw(self, fn: Any, *args: Any) -> None:
        """Draw a value from the file; one the view cannot draw (a hand-edited or damaged
        file) is said in the banner instead of ending in a traceback."""
        try:
            fn(*args)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            text = (
                f"⚠ Part of this run cannot be drawn; the file was edited or is damaged ({detail})."
            )
            if text not in self._draw_warnings:
                self._draw_warnings.append(text)
            self._show_banner(self._summary_warnings)

    def _show_banner(self, warnings: list[str]) -> None:
        self._summary_warnings = warnings
        self.banner_messages = self._draw_warnings + warnings
        self.banner.setText("\n".join(self.banner_messages))
        self.banner.setVisible(bool(self.banner_messages))

    # -- the summary -----------------------------------------------------------------------
    def _on_document_summary_loaded(self, loaded: SummaryLoaded) -> None:
        if loaded.run_id != self.run_id:
            return
        s = loaded.summary
        self.summary_label.setText(summary_line(s, self.fmt))
        p = s.prompt
        lines = None
        if p is not None and p.test_evaluations:
            lines, steps, scores = evaluation_lines(
                s, self._best_steps, self._best_solutions, self.last_step
            )
            self.score_plot.set_test_markers(steps, scores)
        self.board.summary(s, lines)
        self.summary = s
        self._show_warnings(s)

    def _on_document_curve_loaded(self, loaded: CurveLoaded) -> None:
        if loaded.run_id != self.run_id:
            return
        self._pending = False
        self.board.curve([float(v) for v in loaded.random_curve])
        self.baseline_points = [(int(st), float(v)) for st, v in loaded.baseline_curve]
        self.score_plot.set_baseline_curve(*columns(self.baseline_points))
        if self.summary is not None:
            self._show_warnings(self.summary)
        if self._redraw_timer.isActive():  # steps held during the read: drawn before "done"
            self._redraw_timer.stop()
            self._redraw()
        self.analysis_done.emit()

    def _show_warnings(self, s: RunSummary) -> None:
        self._show_banner(warning_lines(s))

    # -- look and export -------------------------------------------------------------------
    def select_candidate(self, step: int, index: int) -> bool:
        return self.score_plot.select(step, index)

    def apply_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        self.score_plot.apply_colors(colors)
        for view in self.domain_views.values():
            view.apply_colors(colors)

    def export_current(self, path: str | Path) -> Path:
        current = self.tabs.currentWidget()
        export = getattr(current, "export", None)
        return export(path) if callable(export) else self.score_plot.export(path)
