"""What the run view shows beside the candidates: it feeds the dashboard, the leaderboard and
the plot's reference curves (the random search from step 0, the start line, baselines) from
the document's bounded reads, on every step of a live run and whenever a run is read."""

from __future__ import annotations

from typing import Any

from opro_gui.problems import ProblemKind
from opro_gui.services import ProjectError
from opro_gui.services.summary import RunSummary

from .dashboard import Dashboard
from .leaderboard import TOP_N, Leaderboard
from .run_lines import RandomCurve
from .score_plot import ScorePlot

Lines = list[tuple[str, float]]


class RunBoard:
    def __init__(self, dashboard: Dashboard, leaderboard: Leaderboard, plot: ScorePlot) -> None:
        self.dashboard, self.leaderboard, self.plot = dashboard, leaderboard, plot
        self.document: Any = None  # the ProjectDocument (its bounded reads)
        self.run_id: int | None = None
        self.desc: ProblemKind | None = None
        self.start_label = ""  # the kind's line at step 0's best ("" for none)
        self.random = RandomCurve()
        self.start: float | None = None  # best after step 0
        self.kind_lines: Lines = []  # the task's baselines (optimum, heuristics)
        self.eval_lines: Lines = []  # held-out results (test baselines)
        self.leader_stale = False  # something was scored that may enter the top N

    def fmt(self, score: float | None) -> str:
        return (self.desc or ProblemKind()).format_score(score)

    # -- the project and the run ---------------------------------------------------------
    def set_kind(self, desc: ProblemKind | None, start_label: str) -> None:
        self.desc, self.start_label, self.kind_lines = desc, start_label, []
        self.dashboard.set_kind(desc)

    def set_problem(self, lines: Lines, facts: dict[str, Any], reference: float | None) -> None:
        self.kind_lines = lines
        self.dashboard.set_reference(reference, facts)
        self.draw_lines()

    def clear(self, run_id: int | None) -> None:
        """Another run (or none): nothing of the last one stays."""
        self.run_id = run_id
        self.random.clear()
        self.start = None
        self.eval_lines = []
        self.dashboard.clear()
        self.leaderboard.clear()
        self.leader_stale = run_id is not None
        self.plot.set_random_curve([], [])
        self.draw_lines()

    def set_start(self, start: float | None) -> None:
        """Step 0's best: where the random search starts, and the kind's start line."""
        if start is None or start == self.start:
            return
        self.start = start
        self.dashboard.update_figures(start=start)
        if self.desc is not None and self.desc.has_random_search:
            self.random.start = start
            self.plot.set_random_curve(*self.random.points())
        self.draw_lines()

    def draw_lines(self) -> None:
        own = (
            [(self.start_label, self.start)] if self.start_label and self.start is not None else []
        )
        self.plot.set_baselines(self.kind_lines + own + self.eval_lines)

    # -- live steps ----------------------------------------------------------------------
    def step(self, step: int, best: float | None, scores: list[float]) -> None:
        """After a live step: the stored aggregates give the headline figures and the random
        search's value at this step (one bounded read through the document)."""
        self.leader_stale = self.leader_stale or self._may_enter_top(scores)
        self.dashboard.update_figures(best=best, steps=step)
        if self.document is None or self.run_id is None:
            return
        try:
            f = self.document.run_figures(self.run_id, step)
        except ProjectError:
            return  # the next step (or the summary) reads them again
        self.set_start(f.start_score)
        self.dashboard.update_figures(
            best=f.best_score if f.last_step >= step else None,
            steps=max(step, f.last_step),
            max_steps=f.max_steps,
            proposed=f.proposed,
            invalid=f.invalid,
            tokens=f.tokens,
            cost=f.cost_usd,
        )
        if self.desc is not None and self.desc.has_random_search:
            self.random.add(step, f.random_search)
            self.plot.set_random_curve(*self.random.points())
            values = self.random.values
            self.dashboard.update_figures(random=values[-1] if values else self.start)

    def _may_enter_top(self, scores: list[float]) -> bool:
        rows, desc = self.leaderboard.rows, self.desc
        if len(rows) < TOP_N or desc is None:
            return True
        return any(not desc.better(rows[-1].score, s) for s in scores)

    def refresh_leaderboard(self) -> None:
        """Re-read the top N (in SQL) when a step may have changed it."""
        if not self.leader_stale or self.document is None or self.run_id is None:
            return
        self.leader_stale = False
        try:
            rows = self.document.leaderboard(self.run_id, TOP_N)
        except ProjectError:
            return
        self.leaderboard.set_rows(rows, self.fmt)

    # -- what a run's reads bring --------------------------------------------------------
    def summary(self, s: RunSummary, eval_lines: Lines | None) -> None:
        h, p = self.dashboard.headline, s.prompt
        if h.steps is None or s.steps_completed >= h.steps:  # never older than a live step
            self.dashboard.update_figures(
                best=s.best_score,
                steps=s.steps_completed,
                max_steps=s.max_steps,
                proposed=sum(s.status_counts.values()),
                invalid=s.status_counts.get("invalid", 0),
                tokens=s.usage.tokens,
                cost=s.usage.cost_usd,
                random=s.random_search.best if s.random_search is not None else None,
            )
        self.dashboard.update_figures(test=p.best_test_accuracy if p is not None else None)
        if eval_lines is not None:
            self.eval_lines = eval_lines
            self.draw_lines()
        self.leader_stale = True
        self.refresh_leaderboard()

    def curve(self, values: list[float]) -> None:
        """The stored random-search curve (steps 1..n); steps added live after it stay."""
        if values:
            self.random.replace(values)
            self.plot.set_random_curve(*self.random.points())
