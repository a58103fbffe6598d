"""Bounded reads for the views: a page of a run's candidates, the score plot's points, the top
of a run's history for a meta-prompt preview. None of them decodes every candidate."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opro_gui.core.models import RunSettings, Scored
from opro_gui.core.rows import ReplayRow, StepDetail
from opro_gui.llm import EndpointConfig
from opro_gui.storage import ProjectError, pages

from .base import SessionBase, _reads_file, live_status
from .status import status_text as _status_text

#: The score plot draws at most this many candidate points; beyond it every k-th one.
MAX_PLOT_POINTS = 5_000


@dataclass(frozen=True)
class CandidateRow:
    """One candidate as the history table shows it."""

    step: int
    index: int
    status: str
    score: float | None
    solution: Any
    text: str
    reason: str


@dataclass(frozen=True)
class RunPoints:
    """What the score plot and the domain view need of a run, read in one go."""

    run_id: int
    point_steps: tuple[int, ...]
    point_indices: tuple[int, ...]
    point_scores: tuple[float, ...]
    points_total: int  # scored candidates in the run (more than shown when thinned)
    best_steps: tuple[int, ...]
    best_scores: tuple[float, ...]
    best_solutions: tuple[Any, ...]  # the best solution after each step in best_steps
    last_step: int


def _decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@_reads_file
def candidate_count(session: SessionBase, run_id: int, upto_step: int | None = None) -> int:
    return pages.candidate_count(session.store.conn, run_id, upto_step)


@_reads_file
def candidates_page(
    session: SessionBase, run_id: int, offset: int, limit: int, upto_step: int | None = None
) -> list[CandidateRow]:
    """Candidates ``offset`` .. ``offset + limit`` of the run in (step, index) order."""
    return [
        CandidateRow(r[0], r[1], str(r[2]), r[3], _decode(r[4]), r[5] or "", r[6] or "")
        for r in pages.candidate_rows(session.store.conn, run_id, offset, limit, upto_step)
    ]


@_reads_file
def candidate_position(session: SessionBase, run_id: int, step: int, index: int) -> int | None:
    return pages.candidate_position(session.store.conn, run_id, step, index)


@_reads_file
def run_points(session: SessionBase, run_id: int, max_points: int = MAX_PLOT_POINTS) -> RunPoints:
    """The plot's points (thinned to ``max_points``) and the best-so-far curve. Best
    solutions are decoded only where they change."""
    conn = session.store.conn
    bests = pages.step_bests(conn, run_id)
    last = bests[-1][0] if bests else -1
    total = pages.scored_count(conn, run_id, last)
    stride = math.ceil(total / max_points) if total > max_points else 1
    points = pages.scored_points(conn, run_id, last, stride)  # thinned in SQL
    b_steps: list[int] = []
    b_scores: list[float] = []
    b_solutions: list[Any] = []
    prev_text: str | None = None
    prev_solution: Any = None
    for step, score, text in bests:
        if score is None:
            continue
        if text != prev_text:
            prev_text, prev_solution = text, _decode(text)
        b_steps.append(step)
        b_scores.append(float(score))
        b_solutions.append(prev_solution)
    return RunPoints(
        run_id=run_id,
        point_steps=tuple(p[0] for p in points),
        point_indices=tuple(p[1] for p in points),
        point_scores=tuple(float(p[2]) for p in points),
        points_total=total,
        best_steps=tuple(b_steps),
        best_scores=tuple(b_scores),
        best_solutions=tuple(b_solutions),
        last_step=last,
    )


@_reads_file
def history_top(
    session: SessionBase,
    run_id: int,
    with_records: bool,
    limit: int | None = None,
    upto_step: int | None = None,
) -> tuple[list[Scored], int, int]:
    """The best scored candidates of the run (enough for the meta-prompt's history), the
    next step number and the run's history size: a preview without replaying the run."""
    problem = session.problem(run_id)
    size = session.run_settings(run_id).history_size or problem.default_history_size
    conn = session.store.conn
    rows = pages.top_scored(
        conn, run_id, limit or max(200, 10 * size), bool(problem.higher_is_better), upto_step
    )
    history = [
        Scored(
            solution=_decode(sol),
            score=float(score),
            step=int(step),
            records=pages.example_records(conn, cid) if with_records else (),
        )
        for cid, sol, score, step in rows
    ]
    return history, max(1, session.store.last_step(run_id) + 1), size


@dataclass(frozen=True)
class RunHeader:
    """A run as a list of runs shows it; ``status`` is the live status (see ``live_status``)."""

    run_id: int
    status: str
    status_reason: str
    steps_completed: int
    max_steps: int | None
    parent_run_id: int | None
    fork_step: int | None

    @property
    def status_text(self) -> str:
        """The one wording of a run's status and its reason (services.status), for every view."""
        return _status_text(self.status, self.status_reason)


@_reads_file
def run_header(session: SessionBase, run_id: int) -> RunHeader:
    run = session.store.run(run_id)
    status, reason, _cause = live_status(run.status, run.status_reason, run.stop_cause)
    return RunHeader(
        run_id=run_id,
        status=str(status),
        status_reason=reason,
        steps_completed=max(0, session.store.last_step(run_id)),
        max_steps=run.settings.max_steps,
        parent_run_id=run.parent_run_id,
        fork_step=run.fork_step,
    )


@_reads_file
def run_headers(session: SessionBase) -> list[RunHeader]:
    return [run_header(session, r) for r in session.run_ids()]


def needs_upgrade(path: Path) -> bool:
    """Whether opening ``path`` to write would first upgrade it from an older file schema
    (which reads and rewrites tables: O(file size))."""
    from opro_gui.storage.schema import SCHEMA_VERSION, UPGRADES, only_indexes_missing

    version = pages.file_version(path)
    if version is None or version >= SCHEMA_VERSION or version not in UPGRADES:
        return False
    # A file this process cannot write opens as it is when all it lacks is an index.
    return not (only_indexes_missing(version) and not os.access(path, os.W_OK))


def check_pages(session: SessionBase) -> None:
    """Read every page of the file (O(file size)); a damaged one raises ProjectError. For a
    session opened with ``check_pages=False``."""
    problem = pages.page_problem(session.store.conn)
    if problem:
        raise ProjectError(f"{session.path.name} is damaged: integrity check failed ({problem})")


@_reads_file
def last_step(session: SessionBase, run_id: int) -> int:
    return session.store.last_step(run_id)


# -- what the replay and fork dialogs start from (each opens its own short read session) ----
# The project is open in the window, whose document ran the full page check: these skip it.


@dataclass(frozen=True)
class ReplaySetup:
    kind: str
    detail: StepDetail | None
    settings: RunSettings
    optimizer: EndpointConfig
    replays: tuple[ReplayRow, ...]


def replay_setup(path: str | Path, run_id: int, step: int) -> ReplaySetup:
    from . import ProjectSession

    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        optimizer, _ = session.endpoints(run_id)
        detail = session.step_detail(run_id, step)
        return ReplaySetup(
            kind=session.kind,
            detail=detail,
            settings=session.run_settings(run_id),
            optimizer=optimizer,
            replays=tuple(session.store.replays(run_id, step)),
        )


@dataclass(frozen=True)
class ForkSetup:
    kind: str
    spec: dict[str, Any]  # the run's task, with its own template if it has one
    settings: RunSettings
    last_step: int


def fork_setup(path: str | Path, run_id: int) -> ForkSetup:
    from . import ProjectSession

    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        run = session.store.run(run_id)
        return ForkSetup(
            kind=session.kind,
            spec={**session.store.spec(), **(run.spec_override or {})},
            settings=session.run_settings(run_id),
            last_step=session.store.last_step(run_id),
        )


def history_top_at(path: str | Path, run_id: int, upto_step: int) -> list[Scored]:
    """The top of ``run_id``'s history as it stood after ``upto_step`` (the fork preview)."""
    from . import ProjectSession

    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        records = session.problem_kind.needs_records_on_resume
        return history_top(session, run_id, records, upto_step=upto_step)[0]


# -- the run dashboard and its leaderboard (bounded reads, every step of a live run) ---------


@dataclass(frozen=True)
class LeaderRow:
    """One of a run's best candidates, as the leaderboard lists it."""

    rank: int
    step: int
    index: int
    score: float
    text: str  # the full solution as text (an instruction, a tour, a pair)


@_reads_file
def leaderboard(session: SessionBase, run_id: int, limit: int = 10) -> list[LeaderRow]:
    """The ``limit`` best scored candidates, best first by the kind's direction (sorted in
    SQL; only these ``limit`` solutions are decoded)."""
    higher = session.problem_kind.higher_is_better
    rows = pages.top_texts(session.store.conn, run_id, limit, higher)
    return [
        LeaderRow(rank, int(step), int(idx), float(score), _solution_text(sol, text))
        for rank, (step, idx, score, sol, text) in enumerate(rows, start=1)
    ]


def _solution_text(solution_json: str | None, text: str | None) -> str:
    """An instruction as itself, other solutions as JSON (as the history table shows them)."""
    solution = _decode(solution_json)
    if solution is None:
        return str(text or "")
    return solution if isinstance(solution, str) else json.dumps(solution, ensure_ascii=False)


@dataclass(frozen=True)
class RunFigures:
    """A run's headline figures as stored after a step: read from its aggregates (one row
    per table and the per-step verdict sums), never from its candidates or calls."""

    run_id: int
    step: int  # the step these were read for
    last_step: int  # the run's last stored step (may be ahead of ``step`` on a busy GUI)
    max_steps: int | None
    start_score: float | None  # best after step 0
    best_score: float | None  # best after the last stored step
    random_search: float | None  # the equal-budget random search's best after ``step``
    proposed: int  # candidates proposed after step 0
    invalid: int  # of those, answers that did not parse into a valid solution
    tokens: int
    cost_usd: float


@_reads_file
def run_figures(session: SessionBase, run_id: int, step: int) -> RunFigures:
    stats = session.store.run_stats(run_id)
    start, _best_at_step, rs = pages.step_scores(session.store.conn, run_id, step)
    counts = stats.status_counts
    return RunFigures(
        run_id=run_id,
        step=step,
        last_step=stats.last_step,
        max_steps=session.run_settings(run_id).max_steps,
        start_score=start,
        best_score=stats.best_score,
        random_search=rs,
        proposed=sum(counts.values()),
        invalid=counts.get("invalid", 0),
        tokens=stats.usage.tokens,
        cost_usd=stats.usage.cost_usd,
    )
