"""What a project says about its runs: summaries for `opro show`, the GUI and exports."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from opro_gui.core.models import RunSettings
from opro_gui.core.rows import RunStats, StepDetail
from opro_gui.core.text import without_url_credentials
from opro_gui.llm import EndpointConfig
from opro_gui.llm.config import model_mismatch

from . import verdict
from .base import _reads_file, live_status
from .confidence import ConfidenceMixin, seed_spread
from .estimates import estimate_steps
from .people_report import people_summary
from .project_models import models_json_of
from .status import status_text
from .summary import (
    BaselineFacts,
    ProjectSummary,
    PromptFacts,
    RandomSearch,
    RunSummary,
    TestEvaluation,
    TransferEvaluation,
)

#: The evaluation label of the baseline run's best instruction (scored beside the run's).
BASELINE_LABEL = "equal-budget baseline"


class ReportsMixin(ConfidenceMixin):
    def estimate(
        self,
        steps: int,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
    ) -> dict[str, Any]:
        """Calls, tokens and dollars that ``steps`` more steps will take (``estimates.py``):
        from the latest run's own measurements once it has a step, else the kind's defaults."""
        kind = self.problem_kind
        run_id = self.latest_run_id()
        run: dict[str, Any] | None = None
        if run_id is not None:
            state = self.store.load_state(
                run_id, kind.higher_is_better, kind.needs_records_on_resume
            )
            last = state.last_step
            recent = list(range(max(1, last - 2), last + 1)) if last >= 1 else []
            detail = self.store.step_detail(run_id, last) if last >= 1 else None
            run = {
                "steps": [{"step": s} for s in recent],
                "calls": [
                    {
                        "step": c.step,
                        "role": c.record.role,
                        "cached": c.record.cached,
                        "prompt_tokens": c.record.prompt_tokens,
                        "completion_tokens": c.record.completion_tokens,
                    }
                    for s in recent
                    for c in self.store.calls(run_id, s)
                ],
                "candidates": [
                    {"step": c.step, "status": str(c.status)}
                    for s in recent
                    for c in self.store.candidates(run_id, s)
                ],
                "history": state.history,
                "last_step": last,
                "meta_prompts": {last: detail.meta_prompt} if detail else {},
            }
        problem = self.problem(run_id) if run_id is not None else self.problem()
        return estimate_steps(kind, problem, steps, settings, optimizer, scorer, run)

    @_reads_file
    def pacing_notes(self, run_id: int) -> list[str]:
        """What adaptive pacing changed during the run (lowered concurrency and why)."""
        return [str(n) for n in self.store.run(run_id).optimizer.get("pacing_notes", [])]

    @_reads_file
    def run_summary(self, run_id: int) -> RunSummary:
        """Read from the run's aggregates: bounded however many steps and candidates it has."""
        run = self.store.run(run_id)
        status, status_reason, cause = live_status(run.status, run.status_reason, run.stop_cause)
        problem = self.problem(run_id)
        kind = self.problem_kind
        stats = self.store.run_stats(run_id)
        counts = stats.status_counts
        proposed = sum(counts.values())
        mismatched = {b for a, b in stats.models if model_mismatch(a, b)}
        best = stats.best_score
        facts = kind.summary_facts(problem, best, stats.found_at_step)
        random_search = None
        if kind.has_random_search:
            rs_best = self._random_search_best(run_id, stats)
            beats = None if rs_best is None or best is None else kind.better(best, rs_best)
            random_search = RandomSearch(best=rs_best, beats=beats)
        summary = RunSummary(
            id=run_id,
            status=str(status),
            status_reason=without_url_credentials(status_reason),
            status_text=without_url_credentials(status_text(status, status_reason)),
            stop_cause=str(cause),
            steps_completed=max(0, stats.last_step),
            max_steps=run.settings.max_steps,
            best_score=best,
            best_solution=stats.best_solution,
            usage=stats.usage,
            optimizer_model=run.optimizer.get("model"),
            scorer_model=(run.scorer or {}).get("model"),
            parent_run_id=run.parent_run_id,
            fork_step=run.fork_step,
            candidates=stats.candidates,
            evaluations=stats.evaluations,
            status_counts=counts,
            invalid_rate=round(counts.get("invalid", 0) / proposed, 4) if proposed else None,
            model_mismatch=tuple(sorted(mismatched)),
            facts=facts,
            found_at_step=stats.found_at_step,
            random_search=random_search,
            prompt=self._prompt_facts(run_id, stats) if kind.supports_evaluation else None,
            scored_instructions=counts.get("scored", 0) + counts.get("incomplete", 0),
            # the meta-prompt settings this run used (a fork may change them), if the kind has any
            task_settings=problem.summary().get("settings"),
            people=people_summary(self.store, run_id),
        )
        return replace(summary, warnings=tuple(verdict.run_warnings(summary)))

    @_reads_file
    def run_verdict(self, run_id: int) -> RunSummary:
        """``run_summary`` with the facts that tell the model's failures from ours: invalid
        reasons by category, repairs, retries, timeouts, top-ups and pacing changes (counted
        in SQL: the run's candidates grouped by reason and its calls summed, none loaded)."""
        summary = self.run_summary(run_id)
        notes = self.store.run(run_id).optimizer.get("pacing_notes", [])
        checks = verdict.checks(self.store.verdict_counts(run_id), notes)
        summary = replace(summary, checks=checks)
        return replace(summary, warnings=tuple(verdict.run_warnings(summary)))

    def random_search_curve(self, run_id: int) -> list[float]:
        """Best score after each step of a random search given exactly as many evaluations per
        step as the run made (TSP, linear regression): small models often do no better.
        Read from the values stored with each step; computed only for steps written without
        one (files from before version 3) or when the run's seed has changed since."""
        curve_fn = getattr(self.problem(run_id), "random_search_curve", None)
        if curve_fn is None:
            return []
        stats = self.store.run_stats(run_id)
        seed = self.run_settings(run_id).seed
        if _seed_of(stats) == seed:
            stored = self.store.random_search_values(run_id)
            if all(v is not None for v in stored):
                return [float(v) for v in stored if v is not None]
        budget = self.store.scored_per_step(run_id)
        return [float(x) for x in curve_fn(budget, seed)]

    def _random_search_best(self, run_id: int, stats: RunStats) -> float | None:
        if stats.random_search is not None and _seed_of(stats) == self.run_settings(run_id).seed:
            return stats.random_search
        curve = self.random_search_curve(run_id)
        return curve[-1] if curve else None

    def _prompt_facts(self, run_id: int, stats: RunStats) -> PromptFacts:
        best = stats.best_solution
        every = self.store.evaluations(run_id)
        evals = [e for e in every if e.split == "test"]
        test_acc = next((e.score for e in reversed(evals) if e.solution == best), None)
        # Transfer (§5.2.3): evaluations on other datasets, stored as "transfer:<name>".
        transfer = [e for e in every if e.split.startswith("transfer:")]
        intervals = {e.id: self.evaluation_interval(e.id) for e in evals}
        train_ci = {
            key: self.train_interval(run_id, sol)
            for key, sol in {json.dumps(e.solution): e.solution for e in evals}.items()
        }
        return PromptFacts(
            best_instruction=best,
            best_train_accuracy=stats.best_score,
            best_test_accuracy=test_acc,
            test_evaluations=tuple(
                TestEvaluation(
                    label=e.label,
                    instruction=e.solution,
                    train_accuracy=e.train_score,
                    test_accuracy=e.score,
                    n_examples=e.n_examples,
                    complete=e.complete,
                    train_accuracy_ci=_ci(train_ci[json.dumps(e.solution)]),
                    test_accuracy_ci=_ci(intervals[e.id]),
                )
                for e in evals
            ),
            transfer_evaluations=tuple(
                TransferEvaluation(
                    dataset=e.split.removeprefix("transfer:"),
                    label=e.label,
                    instruction=e.solution,
                    train_accuracy=e.train_score,
                    accuracy=e.score,
                    n_examples=e.n_examples,
                    complete=e.complete,
                )
                for e in transfer
            ),
            best_transfer_accuracy={
                e.split.removeprefix("transfer:"): e.score for e in transfer if e.solution == best
            },
            baseline=self._baseline_facts(run_id, evals),
            confidence=self._accuracy_stats(run_id, best, evals),
        )

    def _baseline_facts(self, run_id: int, test_evals: list[Any]) -> BaselineFacts | None:
        """The equal-budget no-trajectory baseline beside the run (None when never run)."""
        base = self.baseline_run_id(run_id)
        if base is None:
            return None
        stats = self.store.run_stats(base)
        counts = stats.status_counts
        test = next((e.score for e in reversed(test_evals) if e.label == BASELINE_LABEL), None)
        return BaselineFacts(
            run_id=base,
            steps_completed=max(0, stats.last_step),
            best_instruction=stats.best_solution,
            best_train_accuracy=stats.best_score,
            best_test_accuracy=test,
            scored_instructions=counts.get("scored", 0) + counts.get("incomplete", 0),
            total_tokens=stats.usage.tokens,
            cost_usd=stats.usage.cost_usd,
        )

    @_reads_file
    def summary(self) -> ProjectSummary:
        project = self.store.project()
        runs = tuple(self.run_verdict(r) for r in self.run_ids())
        return ProjectSummary(
            path=str(self.path),
            name=project.name,
            kind=self.kind,
            app_version=project.app_version,
            problem=self.problem().summary(),
            runs=runs,
            seed_spread=tuple(
                seed_spread(
                    [r.to_json() for r in runs],
                    {r.id: self.store.run(r.id).settings.to_dict() for r in runs},
                )
            ),
            models=models_json_of(self),
        )

    @_reads_file
    def step_detail(self, run_id: int, step: int) -> StepDetail | None:
        return self.store.step_detail(run_id, step)


def _ci(interval: Any) -> list[float] | None:
    return None if interval is None else list(interval.to_list())


def _seed_of(stats: RunStats) -> object:
    """The seed the stored random search was made with (None when there is none)."""
    state = stats.random_search_state
    return state.get("seed") if state and state.get("step") == stats.last_step else None
