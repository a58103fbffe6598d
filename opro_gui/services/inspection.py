"""What the inspection panes read: scorer answers beside their example's input and gold, the
best solution as text, and a scorer client that reports how far an evaluation has got."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import Candidate, CandidateStatus, ExampleRecord, Verdict
from opro_gui.core.ports import LLMClient, LLMRequest, LLMResult
from opro_gui.core.rows import ReplayCandidate, StepDetail
from opro_gui.problems import ProblemKind
from opro_gui.storage import ProjectError

from .base import SessionBase, _reads_file

#: The role of the first-round scorer requests: one per (instruction, example).
SCORER_ROLE = "scorer"
#: Without a per-answer hook: requests sent at once per reported slice, per parallel slot.
SLICE_PER_SLOT = 4
MIN_SLICE = 8

Progress = Callable[[int, int], None]  # (scorer answers in, scorer answers in all)


@dataclass(frozen=True)
class AnswerRow:
    """One scorer answer with its example's input and expected answer (gold)."""

    example_id: int
    input: str
    gold: str
    raw_answer: str
    parsed_answer: str
    correct: bool | None  # None: the request failed
    error: str
    verdicts: tuple[Verdict, ...]
    prompt: str  # the full scorer prompt sent

    @property
    def wrong(self) -> bool:
        """Not answered correctly (a failed request counts as wrong)."""
        return self.correct is not True


@dataclass(frozen=True)
class StepView:
    """A step as the step detail shows it: the stored step and, per candidate index, its
    scorer answers (prompt tasks; empty for kinds scored without a model)."""

    detail: StepDetail
    answers: dict[int, tuple[AnswerRow, ...]]

    @property
    def run_id(self) -> int:
        return self.detail.run_id

    @property
    def step(self) -> int:
        return self.detail.step


def answer_rows(problem: Any, records: Sequence[ExampleRecord]) -> tuple[AnswerRow, ...]:
    """Each record with the input and gold of its example (empty when the problem keeps none)."""
    fields = getattr(problem, "example_fields", None)
    out = []
    for r in records:
        text, gold = fields(r.example_id) if callable(fields) else ("", "")
        out.append(
            AnswerRow(
                r.example_id,
                text or r.prompt,
                gold,
                r.raw_answer,
                r.parsed_answer,
                r.correct,
                r.error,
                tuple(r.verdicts),
                r.prompt,
            )  # fmt: skip
        )
    return tuple(out)


@_reads_file
def step_view(session: SessionBase, run_id: int, step: int) -> StepView | None:
    """``step_detail`` with each candidate's scorer answers joined to their examples."""
    detail = session.store.step_detail(run_id, step)
    if detail is None:
        return None
    with_records = [c for c in detail.candidates if c.records]
    problem = session.problem(run_id) if with_records else None
    return StepView(detail, {c.index: answer_rows(problem, c.records) for c in with_records})


@_reads_file
def best_text(session: SessionBase, run_id: int) -> str | None:
    """The run's best solution as a person reads it: a prompt run's best instruction, another
    kind's formatted solution (what `opro show` calls best_solution). None before any score."""
    best = session.store.run_stats(run_id).best_solution
    if best is None:
        return None
    return best if isinstance(best, str) else session.problem(run_id).format_solution(best)


def slice_size(concurrency: int) -> int:
    return max(MIN_SLICE, SLICE_PER_SLOT * concurrency)


class ProgressClient:
    """A scorer client that reports how many scorer requests are answered, of ``expected``
    (or of how many were asked for so far, if more). A client with an ``on_finished`` hook
    (the OpenAI-compatible one) reports each answer as it arrives; another gets the scorer
    requests in slices and reports after each (cancellation checked between slices). Other
    requests (second-round extraction, judges) pass through and are not counted."""

    def __init__(self, inner: LLMClient, report: Progress, size: int, expected: int = 0) -> None:
        self._inner, self._report, self._size = inner, report, max(1, size)
        self._expected = expected  # the total when known before the first request (else 0)
        self._done = self._asked = 0

    @property
    def model(self) -> str:
        return self._inner.model

    def __getattr__(self, name: str) -> Any:  # ignores_n, close, ... of the wrapped client
        return getattr(self._inner, name)

    @property
    def _total(self) -> int:
        return max(self._expected, self._asked)

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        counted = sum(1 for r in requests if r.role == SCORER_ROLE)
        if not counted:
            return list(self._inner.complete(requests, cancel))
        self._asked += counted
        self._report(self._done, self._total)
        if hasattr(self._inner, "on_finished"):
            return self._streamed(requests, cancel, counted)
        out: list[LLMResult] = []
        for start in range(0, len(requests), self._size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            part = requests[start : start + self._size]
            out.extend(self._inner.complete(part, cancel))
            self._done += sum(1 for r in part if r.role == SCORER_ROLE)
            self._report(self._done, self._total)
        return out

    def _streamed(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None, counted: int
    ) -> list[LLMResult]:
        before = self._done

        def answered(request: LLMRequest) -> None:
            if request.role == SCORER_ROLE:
                self._done += 1
                self._report(self._done, self._total)

        inner: Any = self._inner
        inner.on_finished = answered
        try:
            out = list(inner.complete(requests, cancel))
        finally:
            inner.on_finished = None
        if self._done != before + counted:  # answers from the cache were not reported
            self._done = before + counted
            self._report(self._done, self._total)
        return out


def _parsed_completions(candidates: Sequence[ReplayCandidate], completions: int) -> int:
    """How many completions gave at least one usable solution."""
    ok = {c.completion_index for c in candidates if c.solution is not None}
    return len(ok & set(range(completions)))


def replay_summary(
    kind: ProblemKind,
    original: Sequence[Candidate],
    replayed: Sequence[ReplayCandidate],
    completions: int,
) -> str:
    """One line: the replay's best against the original step's best, and how many of the
    replay's completions parsed ("Replay best 62.0% vs original 58.0% (+4.0 points, better),
    8 of 8 parsed")."""
    fmt = kind.format_score
    mine = kind.best_score(
        [c.score for c in replayed if c.status == "scored" and c.score is not None]
    )
    theirs = kind.best_score(
        [c.score for c in original if c.status == CandidateStatus.SCORED and c.score is not None]
    )
    parsed = f"{_parsed_completions(replayed, completions)} of {completions} parsed"
    if mine is None:
        return f"Replay not scored (original best {fmt(theirs)}), {parsed}"
    if theirs is None:
        return f"Replay best {fmt(mine)} (the original step scored nothing), {parsed}"
    word = (
        "better"
        if kind.better(mine, theirs)
        else "worse"
        if kind.better(theirs, mine)
        else "the same"
    )
    delta = kind.format_difference(mine - theirs)
    return f"Replay best {fmt(mine)} vs original {fmt(theirs)} ({delta}, {word}), {parsed}"


# -- File ▸ Export and Copy best of the window (each opens its own short read session) ----------


def export_project(project: str | Path, target: str | Path, fmt: str) -> Path:
    """`opro export`: the same function, the same keys (runs in a worker thread)."""
    from .session import ProjectSession

    with ProjectSession.open(project, readonly=True, check_pages=False) as session:
        session.export(target, fmt)
    return Path(target)


def read_best_text(project: str | Path, run_id: int) -> str | None:
    from .session import ProjectSession

    with ProjectSession.open(project, readonly=True, check_pages=False) as session:
        return best_text(session, run_id)


def export_best_text(project: str | Path, run_id: int, target: str | Path) -> Path:
    """Write the run's best solution as text (a prompt run's instruction) to ``target``."""
    text = read_best_text(project, run_id)
    if text is None:
        raise ProjectError(f"run {run_id} has no scored solution yet")
    target = Path(target)
    try:
        target.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ProjectError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
