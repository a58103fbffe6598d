"""Frozen value types shared by every layer: settings, candidates, steps, LLM calls."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: A solution is any JSON-able value: ``list[int]`` (TSP tour), ``[w, b]`` (linear
#: regression) or ``str`` (an instruction for prompt optimization).
Solution = Any


class CandidateStatus(StrEnum):
    SCORED = "scored"  # valid, new, scored completely: enters the history
    INVALID = "invalid"  # could not be parsed / failed validation
    DUPLICATE = "duplicate"  # seen before in this run (or earlier in this step)
    FILTERED = "filtered"  # parsed but rejected by a filter (length, digits, "INS", ...)
    INCOMPLETE = "incomplete"  # scoring requests failed: score covers only part of the data


class RunStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"  # step budget used up
    TARGET_REACHED = "target_reached"  # optimum / target score reached
    NO_IMPROVEMENT = "no_improvement"  # patience exhausted
    PAUSED = "paused"  # stopped at a step boundary (pause, budget, scorer failure); resumable
    CANCELLED = "cancelled"  # stopped now; completed steps kept; resumable
    FAILED = "failed"  # an error ended the run; completed steps kept; resumable


class StopCause(StrEnum):
    """Why a run stopped (or ``NONE`` while it has not). Every message about a stop is made
    from the cause in one place (``services.status``); nothing recognises a stop by its text."""

    NONE = ""
    STEP_BUDGET = "step_budget"  # completed: the step budget is used
    TARGET = "target"  # the target score was reached
    OPTIMUM = "optimum"  # a provably optimal solution was found
    PATIENCE = "patience"  # no improvement for N steps
    USER_PAUSE = "user_pause"  # paused by the user at a step boundary
    USER_CANCEL = "user_cancel"  # stopped by the user now
    BUDGET_TOKENS = "budget_tokens"  # the token budget is used
    BUDGET_USD = "budget_usd"  # the dollar budget is used
    OPTIMIZER_FAILED = "optimizer_failed"  # the optimizer endpoint did not answer
    SCORER_FAILED = "scorer_failed"  # every scoring request of a step failed
    OPTIMIZER_UNPARSEABLE = "optimizer_unparseable"  # N steps in a row with nothing parseable
    SCORER_ALL_ZERO = "scorer_all_zero"  # N steps in a row scored all at the worst score
    DISK = "disk"  # the project file could not be written
    ERROR = "error"  # an unexpected error
    INTERRUPTED = "interrupted"  # the process running it died (killed, crash, power cut)


def stop_cause_from_text(status: str, reason: str) -> StopCause:
    """The cause of a stop recorded before causes were stored (files of schema version 1):
    read once from the engine's own wording of that time."""
    r = reason or ""
    if status == RunStatus.COMPLETED:
        return StopCause.STEP_BUDGET
    if status == RunStatus.NO_IMPROVEMENT:
        return StopCause.PATIENCE
    if status == RunStatus.TARGET_REACHED:
        return StopCause.OPTIMUM if "optimum" in r else StopCause.TARGET
    if status == RunStatus.CANCELLED:
        return StopCause.USER_CANCEL
    if status == RunStatus.FAILED:
        return StopCause.ERROR
    if status == RunStatus.PAUSED:
        for prefix, cause in _OLD_PAUSES:
            if r.startswith(prefix):
                return cause
        return StopCause.ERROR
    return StopCause.NONE


_OLD_PAUSES = (
    ("paused by the user", StopCause.USER_PAUSE),
    ("token budget reached", StopCause.BUDGET_TOKENS),
    ("cost budget reached", StopCause.BUDGET_USD),
    ("optimizer request failed", StopCause.OPTIMIZER_FAILED),
    ("scorer requests failed", StopCause.SCORER_FAILED),
    ("cannot write", StopCause.DISK),
    ("could not save", StopCause.DISK),
)

#: Statuses after which ``opro run`` may continue the run.
RESUMABLE = frozenset(
    {RunStatus.CREATED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CANCELLED, RunStatus.FAILED}
)


#: How a scored candidate's reason starts when robust parsing repaired the answer.
REPAIRED_PREFIX = "repaired: "


@dataclass(frozen=True)
class ParsedCandidate:
    """One solution read from an optimizer completion, or why none could be read."""

    solution: Solution | None
    reason: str = ""  # non-empty when ``solution`` is None
    text: str = ""  # the snippet of the completion the solution came from
    repair: str = ""  # what robust parsing changed to read a valid solution ("" if nothing)


@dataclass(frozen=True)
class Verdict:
    """One evaluator's judgement of one scorer answer (prompt optimization)."""

    name: str  # the evaluator's name within its project ("paper", "judge", "schema", ...)
    kind: str  # the evaluator type
    weight: float
    score: float | None  # in [0, 1]; None when the evaluator could not judge (request failed)
    reason: str = ""
    prompt: str = ""  # the judge prompt sent (LLM judges only), kept to show and replay
    agrees: bool | None = None  # judge vs the gold label, on examples that have one


@dataclass(frozen=True)
class ExampleRecord:
    """One scorer answer on one example (prompt optimization)."""

    example_id: int
    prompt: str
    raw_answer: str
    parsed_answer: str
    correct: bool | None  # None: the request failed, no answer
    error: str = ""
    verdicts: tuple[Verdict, ...] = ()  # empty with the paper's grading alone
    score: float | None = None  # the weighted score of ``verdicts``; None: 1/0 from ``correct``


#: ``Candidate.completion_index`` of a solution a person added (not an optimizer completion).
HUMAN_ORIGIN = -2


@dataclass(frozen=True)
class Intervention:
    """What people asked for before a step: solutions to score in it, and the dedup keys of
    solutions to leave out of the trajectory shown to the optimizer from that step on."""

    added: tuple[Solution, ...] = ()
    excluded_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ScoreResult:
    """The objective value of one solution."""

    score: float | None  # None when nothing could be scored
    complete: bool = True  # False when some scorer requests failed
    records: tuple[ExampleRecord, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Scored:
    """A history entry: a scored solution and the step that proposed it (0 = initial)."""

    solution: Solution
    score: float
    step: int
    records: tuple[ExampleRecord, ...] = ()
    index: int = -1  # its position within its step: (step, index) names the stored candidate


@dataclass(frozen=True)
class Candidate:
    """Everything known about one proposed solution."""

    step: int
    index: int  # position within the step
    completion_index: int  # which raw completion it came from; -1 for initial solutions
    solution: Solution | None
    text: str  # display text (the formatted solution, or the offending snippet)
    status: CandidateStatus
    reason: str = ""
    score: float | None = None
    key: str = ""  # dedup key (empty for invalid candidates)
    records: tuple[ExampleRecord, ...] = ()
    id: int = 0  # the stored row's id (0 until written)


@dataclass(frozen=True)
class CallRecord:
    """One request to a model, as the LLM layer saw it."""

    role: str  # "optimizer" | "scorer" | "replay" | "extract"
    model_requested: str
    model_reported: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    retries: int = 0
    cached: bool = False
    error: str = ""
    n: int = 1
    cost_usd: float = 0.0
    base_url: str = ""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class StepRecord:
    """A completed step, written to the project in one transaction."""

    step: int  # 0 = scoring of the initial solutions
    meta_prompt: str
    completions: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    calls: tuple[CallRecord, ...]
    best_score: float | None
    best_solution: Solution | None
    started_at: float
    finished_at: float
    optimal: bool = False  # the step proposed a provably optimal solution
    #: What the meta-prompt contained, in the order shown: history entries as (step, index)
    #: of the candidates they came from, and the ids of the examples shown as exemplars.
    shown_entries: tuple[tuple[int, int], ...] = ()
    shown_exemplars: tuple[int, ...] = ()


_INT64 = 2**63 - 1
_SETTING_INTS = (
    ("max_steps", 0, 1_000_000),
    ("samples_per_step", 1, 1000),
    ("max_tokens", 1, 1_000_000),
    ("seed", -_INT64 - 1, _INT64),
    ("history_size", 0, 1_000_000),
    ("patience", 1, 1_000_000),
    ("budget_tokens", 1, _INT64),
    ("pause_after_unparseable", 0, 1_000_000),  # 0: off
    ("pause_after_zero_score", 0, 1_000_000),
)
_SETTING_FLOATS = (
    ("temperature", 0.0, 2.0),
    ("target_score", -math.inf, math.inf),  # any finite number
    ("budget_usd", 0.0, 1e12),
)
_OPTIONAL = frozenset({"history_size", "target_score", "patience", "budget_tokens", "budget_usd"})


def setting_problem(name: str, value: Any) -> str:
    """Why ``value`` cannot be the run setting ``name`` ("" when it can)."""
    if value is None and name in _OPTIONAL:
        return ""
    ints = {n: (lo, hi) for n, lo, hi in _SETTING_INTS}
    floats = {n: (lo, hi) for n, lo, hi in _SETTING_FLOATS}
    if name in ints:
        low, high = ints[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return f"setting {name} must be a whole number within {low}..{high}, not {value!r}"
    elif name in floats:
        flow, fhigh = floats[name]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not flow <= value <= fhigh:
            return f"setting {name} must be a number within {flow:g}..{fhigh:g}, not {value!r}"
    elif not isinstance(value, bool):  # stop_at_optimum
        return f"setting {name} must be true or false, not {value!r}"
    return ""


@dataclass(frozen=True)
class RunSettings:
    """How one run proceeds. Defaults follow the paper (OPRO_SPEC.md §1.3)."""

    max_steps: int = 200
    samples_per_step: int = 8
    temperature: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    history_size: int | None = None  # None: the problem's own default (20 prompts/pairs, 10 tours)
    target_score: float | None = None
    patience: int | None = None  # stop after this many steps without improvement
    stop_at_optimum: bool = True
    budget_tokens: int | None = None
    budget_usd: float | None = None
    # Pause after this many steps in a row with no parseable proposal / with every scored
    # candidate at the problem's worst score (the scorer got nothing right); 0 turns it off.
    pause_after_unparseable: int = 3
    pause_after_zero_score: int = 3
    baseline: bool = False  # also run the problem's equal-budget baseline (prompt runs)

    def __post_init__(self) -> None:
        """Range-check every field, so a bad value is refused before it can be stored."""
        for name in self.__dataclass_fields__:
            problem = setting_problem(name, getattr(self, name))
            if problem:
                raise ValueError(problem)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Totals:
    """Running usage totals of a run, per role."""

    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_role: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: CallRecord) -> None:
        self.calls += 1
        self.cached_calls += int(call.cached)
        self.failed_calls += int(bool(call.error))
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd += call.cost_usd
        role = self.by_role.setdefault(
            call.role, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
        )
        role["calls"] += 1
        role["prompt_tokens"] += call.prompt_tokens
        role["completion_tokens"] += call.completion_tokens
        role["cost_usd"] += call.cost_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cached_calls": self.cached_calls,
            "failed_calls": self.failed_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "by_role": self.by_role,
        }
