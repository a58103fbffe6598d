"""What a project says about its runs: summaries for `opro show`, the GUI and exports."""

from __future__ import annotations

import json
from typing import Any

from opro_gui.core.models import RunSettings, Scored
from opro_gui.core.rows import RunStats, StepDetail
from opro_gui.llm import EndpointConfig
from opro_gui.llm.config import model_mismatch
from opro_gui.llm.pricing import estimate_run
from opro_gui.problems import ScorerLoad

from .base import _reads_file, live_status
from .confidence import ConfidenceMixin, seed_spread
from .people_report import people_summary
from .status import status_text
from .summary import ProjectSummary, PromptFacts, RandomSearch, RunSummary, TestEvaluation


class ReportsMixin(ConfidenceMixin):
    def estimate(
        self,
        steps: int,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
    ) -> dict[str, Any]:
        """Calls, tokens and dollars that ``steps`` more steps will take, before running them.

        The meta-prompt is rendered from the initial solutions and grown to a full history of
        ``history_size`` entries; scorer requests are candidates x training examples."""
        problem = self.problem()
        initial = problem.initial_solutions()
        size = settings.history_size or problem.default_history_size
        fake = [Scored(solution=s, score=0.0, step=0) for s in initial]
        base = len(problem.render_meta_prompt(fake, 1, size))
        per_entry = max((len(problem.format_solution(s)) + 20 for s in initial), default=0)
        meta_chars = base + max(0, size - len(initial)) * per_entry
        load = ScorerLoad()
        if self.problem_kind.needs_scorer and scorer is not None:
            load = self.problem_kind.scorer_load(problem, settings.samples_per_step)
        est = estimate_run(
            steps=steps,
            optimizer=optimizer,
            meta_prompt_chars=meta_chars,
            samples_per_step=settings.samples_per_step,
            scorer=scorer,
            scorer_requests_per_step=load.requests_per_step,
            scorer_prompt_chars=load.prompt_chars,
            initial_scorer_requests=load.initial_requests,
        )
        return {
            "steps": est.steps,
            "calls": est.calls,
            "optimizer_calls": est.optimizer_calls,
            "scorer_calls": est.scorer_calls,
            "prompt_tokens": est.prompt_tokens,
            "completion_tokens": est.completion_tokens,
            "total_tokens": est.tokens,
            "cost_usd": round(est.cost_usd, 4),
            "priced": est.priced,
            "summary": est.summary(),
        }

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
        return RunSummary(
            id=run_id,
            status=str(status),
            status_reason=status_reason,
            status_text=status_text(status, status_reason),
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
            people=people_summary(self.store, run_id),
        )

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
        evals = [e for e in self.store.evaluations(run_id) if e.split == "test"]
        test_acc = next((e.score for e in reversed(evals) if e.solution == best), None)
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
            confidence=self._accuracy_stats(run_id, best, evals),
        )

    @_reads_file
    def summary(self) -> ProjectSummary:
        project = self.store.project()
        runs = tuple(self.run_summary(r) for r in self.run_ids())
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
