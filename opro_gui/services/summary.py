"""Typed summaries of runs and projects; ``to_json`` gives exactly the keys of `opro show --json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opro_gui.core.models import Solution, Totals
from opro_gui.core.text import scrub_urls


@dataclass(frozen=True)
class TestEvaluation:
    """One held-out evaluation of an instruction, as `show` lists it."""

    label: str
    instruction: Solution | None
    train_accuracy: float | None
    test_accuracy: float | None
    n_examples: int
    complete: bool
    train_accuracy_ci: list[float] | None = None  # 95 % bootstrap interval [low, high]
    test_accuracy_ci: list[float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "instruction": self.instruction,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "n_examples": self.n_examples,
            "complete": self.complete,
            "train_accuracy_ci": self.train_accuracy_ci,
            "test_accuracy_ci": self.test_accuracy_ci,
        }


@dataclass(frozen=True)
class TransferEvaluation:
    """One instruction scored on another dataset (paper §5.2.3), as `show` lists it."""

    dataset: str
    label: str
    instruction: Solution | None
    train_accuracy: float | None
    accuracy: float | None
    n_examples: int
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "label": self.label,
            "instruction": self.instruction,
            "train_accuracy": self.train_accuracy,
            "accuracy": self.accuracy,
            "n_examples": self.n_examples,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class BaselineFacts:
    """The run's equal-budget no-trajectory baseline (its own run ``run_id``)."""

    run_id: int
    steps_completed: int
    best_instruction: Solution | None
    best_train_accuracy: float | None
    best_test_accuracy: float | None
    scored_instructions: int
    total_tokens: int
    cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline_run_id": self.run_id,
            "baseline_steps_completed": self.steps_completed,
            "baseline_best_instruction": self.best_instruction,
            "baseline_best_train_accuracy": self.best_train_accuracy,
            "baseline_best_test_accuracy": self.best_test_accuracy,
            "baseline_scored_instructions": self.scored_instructions,
            "baseline_total_tokens": self.total_tokens,
            "baseline_cost_usd": round(self.cost_usd, 6),
        }


_NO_BASELINE = dict.fromkeys(
    ("baseline_run_id", "baseline_best_instruction", "baseline_best_train_accuracy",
     "baseline_best_test_accuracy", "baseline_scored_instructions", "baseline_total_tokens",
     "baseline_cost_usd"),
)  # fmt: skip


@dataclass(frozen=True)
class PromptFacts:
    """What a prompt-optimization run adds: accuracies of its best instruction, transfer
    evaluations and the equal-budget baseline."""

    best_instruction: Solution | None
    best_train_accuracy: float | None
    best_test_accuracy: float | None
    test_evaluations: tuple[TestEvaluation, ...]
    transfer_evaluations: tuple[TransferEvaluation, ...] = ()
    best_transfer_accuracy: dict[str, float | None] = field(default_factory=dict)
    baseline: BaselineFacts | None = None
    #: How sure we are (services.confidence): best_train_accuracy_ci, best_test_accuracy_ci,
    #: paired_tests, train_test_gap_warning — `show --json` keys as they are.
    confidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RandomSearch:
    """The equal-budget random search a run is compared with (kinds that have one)."""

    best: float | None
    beats: bool | None  # the run's best is better than random search's


@dataclass(frozen=True)
class Checks:
    """How answers were parsed and requests went: what tells the model's failures from ours."""

    invalid_reasons: dict[str, int]  # invalid proposals per category, most frequent first
    invalid_by: dict[str, int]  # "model" / "parser" (usable answers refused by strict parsing)
    repaired: int  # answers robust parsing repaired and scored
    retries: int
    timeouts: int
    top_up_calls: int  # extra optimizer requests because the server ignored n
    pacing_notes: tuple[str, ...] = ()  # what adaptive pacing changed

    def to_json(self) -> dict[str, Any]:
        return {
            "invalid_reasons": dict(self.invalid_reasons),
            "invalid_by": dict(self.invalid_by),
            "repaired": self.repaired,
            "retries": self.retries,
            "timeouts": self.timeouts,
            "top_up_calls": self.top_up_calls,
            "pacing_notes": list(self.pacing_notes),
        }


@dataclass(frozen=True)
class RunSummary:
    id: int
    status: str  # a RunStatus value, or "interrupted" for a run whose writer died
    status_reason: str
    status_text: str  # the status in words, the same everywhere
    stop_cause: str  # a StopCause value
    steps_completed: int
    max_steps: int
    best_score: float | None
    best_solution: Solution | None
    usage: Totals  # calls, tokens and dollars of its steps and evaluations (not replays)
    optimizer_model: Any
    scorer_model: Any
    parent_run_id: int | None
    fork_step: int | None
    candidates: int
    evaluations: int  # candidates scored (completely or not)
    status_counts: dict[str, int]  # verdicts of proposed candidates (steps >= 1)
    invalid_rate: float | None
    model_mismatch: tuple[str, ...]
    facts: dict[str, Any]  # the kind's facts: gap, optimum, found_at_step...
    found_at_step: int | None = None
    random_search: RandomSearch | None = None
    prompt: PromptFacts | None = None
    scored_instructions: int = 0  # sent to the scorer after step 0 (the equal-budget unit)
    task_settings: dict[str, Any] | None = None  # the meta-prompt settings this run used
    # people's actions and judges' agreement with gold labels (services.people_report)
    people: dict[str, Any] | None = None
    checks: Checks | None = None  # parsing and transport facts (issue 16)
    warnings: tuple[str, ...] = ()  # the verdict, worded once (services/verdict.py)

    def to_json(self) -> dict[str, Any]:
        """The run as `opro show --json` prints it (keys are a contract with scripts)."""
        u = self.usage
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "status_reason": self.status_reason,
            "status_text": self.status_text,
            "stop_cause": self.stop_cause,
            "steps_completed": self.steps_completed,
            "max_steps": self.max_steps,
            "best_score": self.best_score,
            "best_solution": self.best_solution,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.tokens,
            "cost_usd": round(u.cost_usd, 6),
            "calls": u.calls,
            "cached_calls": u.cached_calls,
            "failed_calls": u.failed_calls,
            "tokens_by_role": u.by_role,
            "optimizer_model": self.optimizer_model,
            "scorer_model": self.scorer_model,
            "parent_run_id": self.parent_run_id,
            "fork_step": self.fork_step,
            "candidates": self.candidates,
            "evaluations": self.evaluations,
            "status_counts": self.status_counts,
            "invalid_rate": self.invalid_rate,
            "model_mismatch": list(self.model_mismatch),
            "scored_instructions": self.scored_instructions,
            **self.facts,
        }
        if self.task_settings is not None:
            out["task_settings"] = self.task_settings
        if self.random_search is not None:
            out["random_search_best"] = self.random_search.best
            out["beats_random_search"] = self.random_search.beats
        if self.prompt is not None:
            p = self.prompt
            out["best_instruction"] = p.best_instruction
            out["best_train_accuracy"] = p.best_train_accuracy
            out["best_test_accuracy"] = p.best_test_accuracy
            out["test_evaluations"] = [e.to_json() for e in p.test_evaluations]
            out["transfer_evaluations"] = [e.to_json() for e in p.transfer_evaluations]
            out["best_transfer_accuracy"] = dict(p.best_transfer_accuracy)
            out.update(p.baseline.to_json() if p.baseline is not None else _NO_BASELINE)
            out.update(p.confidence)
        if self.checks is not None:
            out.update(self.checks.to_json())
        out["warnings"] = list(self.warnings)
        out.update(self.people or {})
        return out


@dataclass(frozen=True)
class ProjectSummary:
    path: str
    name: str
    kind: str
    app_version: str
    problem: dict[str, Any]  # the problem's static facts (optimum, baselines...)
    runs: tuple[RunSummary, ...]
    #: groups of runs that differ only in their seed, with the spread of their best scores
    seed_spread: tuple[dict[str, Any], ...] = ()
    #: the models the project runs with (``project_models.models_json``); no key is in them
    models: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "app_version": self.app_version,
            "problem": self.problem,
            "runs": [r.to_json() for r in self.runs],
            "seed_spread": list(self.seed_spread),
            "models": self.models,
        }
        return dict(scrub_urls(out))  # a hand-edited file may hold a URL with a password
