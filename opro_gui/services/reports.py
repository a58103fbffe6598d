"""What a project says about its runs: summaries for `opro show`, the GUI and exports."""

from __future__ import annotations

from typing import Any, cast

from opro_gui.core.models import RunSettings, Scored
from opro_gui.core.ports import Problem
from opro_gui.core.rows import RunStats, StepDetail
from opro_gui.llm import EndpointConfig
from opro_gui.llm.presets import model_mismatch
from opro_gui.llm.pricing import estimate_run
from opro_gui.problems.prompt_opt import PromptProblem

from .base import SessionBase, _reads_file, live_status
from .summary import ProjectSummary, PromptFacts, RandomSearch, RunSummary, TestEvaluation


class ReportsMixin(SessionBase):
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
        scorer_per_step = scorer_chars = initial_requests = 0
        if self.kind == "prompt" and scorer is not None:
            prompt_problem = cast(PromptProblem, problem)
            train_ids = list(prompt_problem.train_ids)
            scorer_per_step = settings.samples_per_step * len(train_ids)
            initial_requests = len(initial) * len(train_ids)
            sample = train_ids[:50]
            chars = [len(prompt_problem.scorer_prompt(str(initial[0]), i)) for i in sample]
            scorer_chars = sum(chars) // max(1, len(chars))
        est = estimate_run(
            steps=steps,
            optimizer=optimizer,
            meta_prompt_chars=meta_chars,
            samples_per_step=settings.samples_per_step,
            scorer=scorer,
            scorer_requests_per_step=scorer_per_step,
            scorer_prompt_chars=scorer_chars,
            initial_scorer_requests=initial_requests,
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
        status, status_reason = live_status(run.status, run.status_reason)
        problem = self.problem(run_id)
        stats = self.store.run_stats(run_id)
        counts = stats.status_counts
        proposed = sum(counts.values())
        mismatched = {b for a, b in stats.models if model_mismatch(a, b)}
        best = stats.best_score
        facts = _kind_summary(self.kind, problem, best, stats.found_at_step)
        random_search = None
        if hasattr(problem, "random_search_curve"):
            rs_best = self._random_search_best(run_id, stats)
            beats = None if rs_best is None or best is None else best < rs_best
            random_search = RandomSearch(best=rs_best, beats=beats)
        return RunSummary(
            id=run_id,
            status=str(status),
            status_reason=status_reason,
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
            prompt=self._prompt_facts(run_id, stats) if self.kind == "prompt" else None,
        )

    def random_search_curve(self, run_id: int) -> list[float]:
        """Best score after each step of a random search given exactly as many evaluations per
        step as the run made (TSP, linear regression): small models often do no better."""
        curve_fn = getattr(self.problem(run_id), "random_search_curve", None)
        if curve_fn is None:
            return []
        budget = self.store.run_stats(run_id).scored_per_step
        return [float(x) for x in curve_fn(list(budget), self.run_settings(run_id).seed)]

    def _random_search_best(self, run_id: int, stats: RunStats) -> float | None:
        if stats.random_search is not None:
            return stats.random_search
        curve = self.random_search_curve(run_id)
        return curve[-1] if curve else None

    def _prompt_facts(self, run_id: int, stats: RunStats) -> PromptFacts:
        best = stats.best_solution
        evals = [e for e in self.store.evaluations(run_id) if e.split == "test"]
        test_acc = next((e.score for e in reversed(evals) if e.solution == best), None)
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
                )
                for e in evals
            ),
        )

    @_reads_file
    def summary(self) -> ProjectSummary:
        project = self.store.project()
        return ProjectSummary(
            path=str(self.path),
            name=project.name,
            kind=self.kind,
            app_version=project.app_version,
            problem=self.problem().summary(),
            runs=tuple(self.run_summary(r) for r in self.run_ids()),
        )

    @_reads_file
    def step_detail(self, run_id: int, step: int) -> StepDetail | None:
        return self.store.step_detail(run_id, step)


def _kind_summary(
    kind: str, problem: Problem, best: float | None, found_at: int | None
) -> dict[str, Any]:
    facts = problem.summary()
    if kind == "tsp":
        opt = facts.get("optimal_length") or facts.get("best_known_length")
        return {
            "optimal_length": opt,
            "optimal_is_exact": facts.get("optimal_is_exact", True),
            "gap_percent": None if best is None or not opt else round((best - opt) / opt * 100, 4),
            "found_at_step": found_at,
            "nearest_neighbour_length": facts.get("nearest_neighbour"),
            "farthest_insertion_length": facts.get("farthest_insertion"),
        }
    if kind == "linreg":
        return {
            "w_true": facts.get("w_true"),
            "b_true": facts.get("b_true"),
            "optimum_w": facts.get("optimum_w"),
            "optimum_b": facts.get("optimum_b"),
            "found_at_step": found_at,
        }
    return {}
