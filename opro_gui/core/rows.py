"""Typed rows read back from a project file: the project, runs, steps, calls, replays, evaluations.

Storage builds them (checking every value where it enters); services, the CLI and the GUI read
their fields. ``to_json`` gives the dict that ``opro export`` has always written for the row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .models import (
    HUMAN_ORIGIN,
    CallRecord,
    Candidate,
    ExampleRecord,
    RunSettings,
    RunStatus,
    Solution,
    StopCause,
    Totals,
)


@dataclass(frozen=True)
class ProjectRow:
    name: str
    kind: str
    created_at: float
    updated_at: float
    app_version: str
    created_by_version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunRow:
    id: int
    created_at: float
    settings: RunSettings
    optimizer: dict[str, Any]  # an endpoint's public settings (no key)
    scorer: dict[str, Any] | None
    status: RunStatus
    status_reason: str
    parent_run_id: int | None
    fork_step: int | None
    spec_override: dict[str, Any] | None
    app_version: str
    stop_cause: StopCause = StopCause.NONE

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "settings": self.settings.to_dict(),
            "optimizer": self.optimizer,
            "scorer": self.scorer,
            "status": str(self.status),
            "status_reason": self.status_reason,
            "parent_run_id": self.parent_run_id,
            "fork_step": self.fork_step,
            "spec_override": self.spec_override,
            "app_version": self.app_version,
            "stop_cause": str(self.stop_cause),
        }


@dataclass(frozen=True)
class StepRow:
    """One completed step without its texts: what lists and plots need."""

    run_id: int
    step: int
    best_score: float | None  # best so far in the run, after this step
    best_solution: Solution | None
    optimal: bool
    started_at: float
    finished_at: float


@dataclass(frozen=True)
class CallRow:
    """One stored request to a model, with where it belongs."""

    id: int
    run_id: int | None
    step: int | None
    replay_id: int | None
    evaluation_id: int | None
    record: CallRecord

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": self.id,
            "run_id": self.run_id,
            "step": self.step,
            "replay_id": self.replay_id,
            "evaluation_id": self.evaluation_id,
            "role": r.role,
            "model_requested": r.model_requested,
            "model_reported": r.model_reported,
            "base_url": r.base_url,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "latency_s": r.latency_s,
            "retries": r.retries,
            "cached": int(r.cached),
            "error": r.error,
            "n": r.n,
            "cost_usd": r.cost_usd,
        }


def candidate_json(c: Candidate, with_records: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "step": c.step,
        "index": c.index,
        "completion_index": c.completion_index,
        "human": c.completion_index == HUMAN_ORIGIN,  # added by a person (opro add)
        "solution": c.solution,
        "text": c.text,
        "key": c.key,
        "status": str(c.status),
        "reason": c.reason,
        "score": c.score,
    }
    if with_records:
        out["records"] = [asdict(r) for r in c.records]
    return out


@dataclass(frozen=True)
class StepDetail:
    """Everything of one step: the meta-prompt sent, each completion, verdicts and calls."""

    row: StepRow
    meta_prompt: str
    completions: tuple[str, ...]
    candidates: tuple[Candidate, ...]  # with their scorer answers (``records``)
    calls: tuple[CallRow, ...]
    #: what the meta-prompt contained: {"candidates": [ids], "examples": [ids]} in order shown
    ingredients: dict[str, list[int]] = field(default_factory=dict)

    @property
    def run_id(self) -> int:
        return self.row.run_id

    @property
    def step(self) -> int:
        return self.row.step

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "run_id": r.run_id,
            "step": r.step,
            "meta_prompt": self.meta_prompt,
            "completions": list(self.completions),
            "best_score": r.best_score,
            "best_solution": r.best_solution,
            "optimal": r.optimal,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "candidates": [candidate_json(c, with_records=True) for c in self.candidates],
            "calls": [c.to_json() for c in self.calls],
            "ingredients": self.ingredients,
        }


@dataclass(frozen=True)
class ReplayCandidate:
    """A solution read from a replayed completion; ``status`` is a CandidateStatus value or
    "parsed" (valid, not scored)."""

    completion_index: int
    text: str
    solution: Solution | None
    status: str
    reason: str = ""
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReplayRow:
    id: int
    run_id: int
    step: int
    created_at: float
    endpoint: dict[str, Any]
    meta_prompt: str
    completions: tuple[str, ...]
    candidates: tuple[ReplayCandidate, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "step": self.step,
            "created_at": self.created_at,
            "endpoint": self.endpoint,
            "meta_prompt": self.meta_prompt,
            "completions": list(self.completions),
            "candidates": [c.to_json() for c in self.candidates],
        }


@dataclass(frozen=True)
class EvaluationRow:
    """One held-out (or training) evaluation of one solution."""

    id: int
    run_id: int | None
    split: str
    label: str
    solution: Solution | None
    text: str
    score: float | None
    complete: bool
    train_score: float | None
    n_examples: int
    created_at: float
    records: tuple[ExampleRecord, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "split": self.split,
            "label": self.label,
            "solution": self.solution,
            "text": self.text,
            "score": self.score,
            "complete": int(self.complete),
            "train_score": self.train_score,
            "n_examples": self.n_examples,
            "created_at": self.created_at,
            "records": [asdict(r) for r in self.records],
        }


@dataclass(frozen=True)
class RunStats:
    """A run's aggregates, kept with its steps: what a summary needs without reading every
    candidate or call."""

    last_step: int = -1  # -1: no step completed
    best_score: float | None = None  # after the last step
    best_solution: Solution | None = None
    found_at_step: int | None = None  # first step that proposed a provably optimal solution
    candidates: int = 0
    evaluations: int = 0  # candidates scored (completely or not), initial ones included
    status_counts: dict[str, int] = field(default_factory=dict)  # proposed (steps >= 1)
    usage: Totals = field(default_factory=Totals)
    models: tuple[tuple[str, str], ...] = ()  # (asked, answered) of served, uncached calls
    scored_per_step: tuple[int, ...] = ()  # scored at steps 1..last (only when recounted)
    random_search: float | None = None  # equal-budget random search's best after last_step
    random_search_state: dict[str, Any] | None = None  # to continue it (includes its seed)
