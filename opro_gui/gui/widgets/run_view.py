"""The run view: score plot plus the problem's own view (TSP tour, LR fit, best instruction),
fed by step events; warns when the optimizer mostly fails to answer in format or does no
better than an equal-budget random search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from opro_gui.core.events import StepCompleted
from opro_gui.core.models import Candidate, CandidateStatus
from opro_gui.services import ProjectSession, RunSummary

from ..background import BackgroundCall, call_in_background
from ..themes import LIGHT, PlotColors
from .confidence_text import confidence_parts, confidence_warnings
from .lr_view import LRView
from .score_plot import ScorePlot
from .tsp_view import TSPView

REDRAW_MS = 100  # coalesce step events arriving faster than this into one redraw (10 fps)
INVALID_RATE_WARNING = 0.5
_SCORE_LABEL = {
    "tsp": "tour length (lower is better)",
    "linreg": "loss (lower is better)",
    "prompt": "training accuracy (%)",
}


class RunView(QWidget):
    candidate_clicked = Signal(int, int)  # step, index
    analysis_done = Signal()  # summary, warnings and random-search curve are up to date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = LIGHT
        self._session: ProjectSession | None = None
        self.kind = ""
        self.run_id: int | None = None
        self.last_step = -1
        self._max_steps = 0
        self._higher_is_better = False
        self._facts: dict[str, Any] = {}
        self._best_steps: list[int] = []
        self._best_scores: list[float] = []
        self._best_solutions: list[Any] = []
        self._step_solutions: dict[str, int] = {}  # prompt: instruction -> first step
        self.random_curve: list[float] = []
        self._analysis_call: BackgroundCall | None = None
        self.summary: RunSummary | None = None
        self.banner_messages: list[str] = []
        self.banner = QLabel()
        self.banner.setObjectName("run_banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label = QLabel("Open or create a project to start.")
        self.summary_label.setObjectName("run_summary")
        self.summary_label.setWordWrap(True)
        self.score_plot = ScorePlot()
        self.score_plot.candidate_clicked.connect(self.candidate_clicked)
        self.tsp_view = TSPView()
        self.lr_view = LRView()
        self.instruction_label = QLabel()
        self.instruction_label.setWordWrap(True)
        self.instruction_label.setContentsMargins(12, 12, 12, 12)
        self.instruction_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.instruction_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.score_plot, "Score")
        self.tabs.addTab(self.tsp_view, "Tour")
        self.tabs.addTab(self.lr_view, "Fit")
        self.tabs.addTab(self.instruction_label, "Best instruction")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
        lay.addWidget(self.summary_label)
        lay.addWidget(self.tabs, 1)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._show_tabs_for("")

    # -- project ---------------------------------------------------------------------------
    def set_project(self, session: ProjectSession | None, run_id: int | None) -> None:
        """Show ``run_id`` of the (GUI-thread) session, loading the steps already on disk."""
        self._session = session
        self.kind = session.kind if session else ""
        self._reset()
        self._show_tabs_for(self.kind)
        if session is None:
            self.summary_label.setText("Open or create a project to start.")
            return
        problem = session.problem(run_id)
        self._higher_is_better = bool(problem.higher_is_better)
        self._facts = problem.summary()
        self.score_plot.set_score_label(_SCORE_LABEL.get(self.kind, "score"))
        self.score_plot.set_log_scale(self.kind == "linreg")
        # Prompt scores are fractions; shown in percent like the history table.
        self.score_plot.set_value_scale(100.0 if self.kind == "prompt" else 1.0)
        if self.kind == "tsp":
            length, tour, exact = problem.optimum()  # type: ignore[attr-defined]
            self.tsp_view.set_instance(problem.points, tour, problem.optimal_length(), exact)  # type: ignore[attr-defined]
        elif self.kind == "linreg":
            self._setup_lr(problem)
        self.set_run(run_id)

    def set_run(self, run_id: int | None) -> None:
        self.run_id = run_id
        self._reset()
        self._set_baselines()
        if self._session is None or run_id is None:
            self.summary_label.setText("No run yet. Press Run (Ctrl+R) to start.")
            self._redraw()
            return
        store = self._session.store
        # Steps first: a run may be writing. A step row and its candidates are committed
        # together, so candidates of steps not yet listed are ignored (their events follow).
        steps = store.steps(run_id)
        by_step: dict[int, list[Candidate]] = {s.step: [] for s in steps}
        for c in store.candidates(run_id):
            if c.step in by_step:
                by_step[c.step].append(c)
        for s in steps:
            self._add_step(s.step, by_step[s.step], s.best_score, s.best_solution)
        self.summary_label.setText(f"Run {run_id}: reading…")
        self.update_analysis()
        self._redraw()

    def _reset(self) -> None:
        self.cancel_background()
        self.summary = None
        self.score_plot.clear_data()
        self._best_steps, self._best_scores, self._best_solutions = [], [], []
        self._step_solutions, self.random_curve = {}, []
        self.last_step = -1
        self.banner.setVisible(False)
        self.tsp_view.set_best_tour([], None)
        self.lr_view.set_trajectory([], None)
        self.instruction_label.setText("")

    def _show_tabs_for(self, kind: str) -> None:
        self.tabs.setTabVisible(1, kind == "tsp")
        self.tabs.setTabVisible(2, kind == "linreg")
        self.tabs.setTabVisible(3, kind == "prompt")

    def _setup_lr(self, problem: Any) -> None:
        x, y = problem.data()
        f = self._facts
        w0, b0 = float(f.get("optimum_w", 0)), float(f.get("optimum_b", 0))
        lo_w, hi_w = min(w0, 10.0) - 8.0, max(w0, 20.0) + 8.0
        lo_b, hi_b = min(b0, 10.0) - 8.0, max(b0, 20.0) + 8.0
        self.lr_view.set_instance(x, y, problem.loss, (w0, b0), (lo_w, hi_w), (lo_b, hi_b))

    def _set_baselines(self) -> None:
        f = self._facts
        lines: list[tuple[str, float]] = []
        if self.kind == "tsp":
            opt = f.get("optimal_length") or f.get("best_known_length")
            label = "optimum" if f.get("optimal_is_exact", True) else "best known"
            for name, key in (
                ("nearest neighbour", "nearest_neighbour"),
                ("farthest insertion", "farthest_insertion"),
            ):
                if f.get(key) is not None:
                    lines.append((name, float(f[key])))
            if opt is not None:
                lines.append((label, float(opt)))
        elif self.kind == "linreg" and f.get("optimum_loss") is not None:
            lines.append(("integer optimum", float(f["optimum_loss"])))
        self.score_plot.set_baselines(lines)

    # -- live events -----------------------------------------------------------------------
    def add_step_event(self, event: StepCompleted) -> None:
        r = event.record
        if r.step <= self.last_step:
            return  # already loaded from disk (the view switched to this run mid-flight)
        self._add_step(r.step, list(r.candidates), r.best_score, r.best_solution)
        self.summary_label.setText(self._live_summary(r.step, r.best_score))
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _add_step(
        self, step: int, cands: list[Candidate], best: float | None, best_solution: Any
    ) -> None:
        scored = [c for c in cands if c.status == CandidateStatus.SCORED and c.score is not None]
        self.score_plot.add_candidates(
            [c.step for c in scored], [c.index for c in scored], [c.score for c in scored]
        )
        if self.kind == "prompt":
            for c in scored:
                self._step_solutions.setdefault(str(c.solution), step)
        self.last_step = max(self.last_step, step)
        if best is not None:
            self._best_steps.append(step)
            self._best_scores.append(float(best))
            self._best_solutions.append(best_solution)

    def fmt(self, score: float | None) -> str:
        if score is None:
            return "–"
        return f"{score * 100:.1f}%" if self.kind == "prompt" else f"{score:g}"

    def begin_run(self, max_steps: int) -> None:
        """A run (re)starts: the comparison curve and warnings wait for its end."""
        self._max_steps = max_steps
        self.banner.setVisible(False)
        self.random_curve = []
        self.score_plot.set_random_curve([], [])

    def _live_summary(self, step: int, best: float | None) -> str:
        parts = [f"Run {self.run_id}: running", f"step {step} of {self._max_steps}"]
        if best is not None:
            parts.append(f"best {self.fmt(best)}")
            opt = self._facts.get("optimal_length") or self._facts.get("best_known_length")
            if self.kind == "tsp" and opt:
                parts.append(f"gap {(best - opt) / opt * 100:.2f}%")
        return " · ".join(parts)

    def finish_run(self) -> None:
        """After a run ends: random-search comparison, summary and warnings."""
        self._redraw_timer.stop()
        self._redraw()
        self.update_analysis()

    def _on_redraw_timer_timeout(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self.score_plot.refresh()
        self.score_plot.set_best_curve(self._best_steps, self._best_scores)
        best = self._best_solutions[-1] if self._best_solutions else None
        score = self._best_scores[-1] if self._best_scores else None
        if self.kind == "tsp":
            if best != self.tsp_view.best_tour:
                self.tsp_view.set_best_tour(best, score)
        elif self.kind == "linreg":
            self.lr_view.set_trajectory([s for s in self._best_solutions if s is not None], score)
        elif self.kind == "prompt":
            self.instruction_label.setText(
                f"Best instruction so far (training accuracy {self.fmt(score)}):\n\n{best!s}"
                if best is not None
                else "No instruction scored yet."
            )

    def update_analysis(self) -> None:
        """Summary, warnings and the equal-budget random-search curve (TSP, LR), computed in a
        background thread with its own read session: both grow with the run."""
        self.cancel_background()
        if self._session is None or self.run_id is None:
            return
        self._analysis_call = call_in_background(
            _analyse,
            self._session.path,
            self.run_id,
            on_done=self._on_analysis_done,
            on_error=self._on_analysis_failed,
        )

    @property
    def analysis_pending(self) -> bool:
        return self._analysis_call is not None

    def cancel_background(self) -> None:
        call, self._analysis_call = self._analysis_call, None
        if call is not None and call.is_running():
            call.cancel(5000)

    def _on_analysis_failed(self, exc: BaseException) -> None:
        self._analysis_call = None
        self.summary_label.setText(f"Could not read the run summary: {exc}")
        self.analysis_done.emit()

    def _on_analysis_done(self, result: tuple[RunSummary, list[float]]) -> None:
        self._analysis_call = None
        s, curve = result
        self.random_curve = [float(v) for v in curve]
        self.score_plot.set_random_curve(list(range(1, len(curve) + 1)), self.random_curve)
        parts = [f"Run {s.id}: {s.status_text}"]  # the one wording (services.status)
        parts.append(f"step {s.steps_completed} of {s.max_steps}")
        if s.best_score is not None:
            parts.append(f"best {self.fmt(s.best_score)}")
        if s.facts.get("gap_percent") is not None:
            parts.append(f"gap {s.facts['gap_percent']:.2f}%")
        if s.prompt is not None and s.prompt.best_test_accuracy is not None:
            parts.append(f"test accuracy {self.fmt(s.prompt.best_test_accuracy)}")
        parts += confidence_parts(s)
        self.summary_label.setText(" · ".join(parts))
        if self.kind == "prompt":
            self._prompt_markers(s)
        self.summary = s
        self._show_warnings(s)
        self.analysis_done.emit()

    def _show_warnings(self, s: RunSummary) -> None:
        self.banner_messages = self._warnings(s)
        self.banner.setText("\n".join(self.banner_messages))
        self.banner.setVisible(bool(self.banner_messages))

    def _warnings(self, s: RunSummary) -> list[str]:
        out: list[str] = []
        rate = s.invalid_rate
        if rate is not None and rate > INVALID_RATE_WARNING:
            out.append(
                f"⚠ {rate:.0%} of the optimizer's proposals could not be parsed. The model, not "
                "the method, is the likely problem: try a stronger optimizer model or check the "
                "raw completions in the history."
            )
        if s.model_mismatch:
            out.append(
                f"⚠ The server answered with another model than requested: "
                f"{', '.join(s.model_mismatch)}."
            )
        if self.random_curve and self._best_scores and s.status not in ("running", "created"):
            ours, rnd = self._best_scores[-1], self.random_curve[-1]
            no_better = ours <= rnd if self._higher_is_better else ours >= rnd
            # Reaching the optimum is never a failure, even when the random search got there too.
            if no_better and s.found_at_step is None:
                out.append(
                    f"⚠ The optimizer did no better than a random search with the same number of "
                    f"evaluations (best {ours:g} vs random search {rnd:g})."
                )
        return out + confidence_warnings(s)

    def _prompt_markers(self, s: RunSummary) -> None:
        lines: list[tuple[str, float]] = []
        start = [sc for st, sc in zip(self._best_steps, self._best_scores, strict=True) if st == 0]
        if start:
            lines.append(("initial instruction (train)", start[0]))
        steps, scores = [], []
        for e in s.prompt.test_evaluations if s.prompt else ():
            if e.test_accuracy is None:
                continue
            if e.label.startswith("baseline"):
                lines.append((f"{e.label} (test)", float(e.test_accuracy)))
            else:
                steps.append(self._step_solutions.get(str(e.instruction), 0))
                scores.append(float(e.test_accuracy))
        self.score_plot.set_baselines(lines)
        self.score_plot.set_test_markers(steps, scores)

    # -- look and export -------------------------------------------------------------------
    def select_candidate(self, step: int, index: int) -> bool:
        return self.score_plot.select(step, index)

    def apply_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        for w in (self.score_plot, self.tsp_view, self.lr_view):
            w.apply_colors(colors)

    def export_current(self, path: str | Path) -> Path:
        current = self.tabs.currentWidget()
        if current in (self.score_plot, self.tsp_view, self.lr_view):
            return current.export(path)
        return self.score_plot.export(path)


def _analyse(path: Path, run_id: int) -> tuple[RunSummary, list[float]]:
    """Runs in a worker thread: its own read-only session, closed before returning."""
    with ProjectSession.open(path, readonly=True) as session:
        return session.run_summary(run_id), session.random_search_curve(run_id)
