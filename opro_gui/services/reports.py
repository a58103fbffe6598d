"""What a project says about its runs: summaries for `opro show`, the GUI and exports."""

from __future__ import annotations

from typing import Any

from opro_gui.core.models import CandidateStatus, RunSettings, Scored
from opro_gui.llm import EndpointConfig
from opro_gui.llm.config import model_mismatch
from opro_gui.llm.pricing import estimate_run
from opro_gui.problems import ScorerLoad
from opro_gui.storage import totals_of

from .base import SessionBase, _reads_file, live_status
from .people_report import people_summary
from .status import status_text


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
    def run_summary(self, run_id: int) -> dict[str, Any]:
        run = self.store.run(run_id)
        status, status_reason, cause = live_status(
            run["status"], run["status_reason"], run["stop_cause"]
        )
        problem = self.problem(run_id)
        steps = self.store.steps(run_id)
        last = steps[-1] if steps else None
        calls = self.store.calls(run_id)
        totals = totals_of(calls).to_dict()
        summary: dict[str, Any] = {
            "id": run_id,
            "status": status,
            "status_reason": status_reason,
            "status_text": status_text(status, status_reason),
            "stop_cause": str(cause),
            "steps_completed": max(0, last["step"]) if last else 0,
            "max_steps": run["settings"].get("max_steps"),
            "best_score": last["best_score"] if last else None,
            "best_solution": last["best_solution"] if last else None,
            "prompt_tokens": totals["prompt_tokens"],
            "completion_tokens": totals["completion_tokens"],
            "total_tokens": totals["total_tokens"],
            "cost_usd": totals["cost_usd"],
            "calls": totals["calls"],
            "cached_calls": totals["cached_calls"],
            "failed_calls": totals["failed_calls"],
            "tokens_by_role": totals["by_role"],
            "optimizer_model": run["optimizer"].get("model"),
            "scorer_model": (run["scorer"] or {}).get("model"),
            "parent_run_id": run["parent_run_id"],
            "fork_step": run["fork_step"],
        }
        found = next((s["step"] for s in steps if s["optimal"]), None)
        cands = self.store.candidates(run_id)
        summary["candidates"] = len(cands)
        summary["evaluations"] = sum(c["status"] in ("scored", "incomplete") for c in cands)
        counts: dict[str, int] = {}
        for c in cands:
            if c["step"] > 0:
                counts[c["status"]] = counts.get(c["status"], 0) + 1
        summary["status_counts"] = counts
        proposed = sum(counts.values())
        summary["invalid_rate"] = (
            round(counts.get("invalid", 0) / proposed, 4) if proposed else None
        )
        mismatched = {
            c["model_reported"]
            for c in calls
            if c["model_reported"]
            and not c["error"]
            and not c["cached"]
            and model_mismatch(c["model_requested"], c["model_reported"])
        }
        summary["model_mismatch"] = sorted(mismatched)
        kind = self.problem_kind
        summary.update(kind.summary_facts(problem, summary["best_score"], found))
        if kind.has_random_search:
            curve = self._random_search_curve(run_id, cands, steps)
            rs_best = curve[-1] if curve else None
            summary["random_search_best"] = rs_best
            summary["beats_random_search"] = (
                None
                if rs_best is None or summary["best_score"] is None
                else kind.better(summary["best_score"], rs_best)
            )
        if kind.supports_evaluation:
            summary.update(self._evaluation_summary(run_id))
        summary.update(people_summary(self.store, run_id))
        return summary

    def random_search_curve(self, run_id: int) -> list[float]:
        """Best score after each step of a random search given exactly as many evaluations per
        step as the run made (TSP, linear regression): small models often do no better."""
        return self._random_search_curve(
            run_id, self.store.candidates(run_id), self.store.steps(run_id)
        )

    def _random_search_curve(
        self, run_id: int, cands: list[dict[str, Any]], steps: list[dict[str, Any]]
    ) -> list[float]:
        curve_fn = getattr(self.problem(run_id), "random_search_curve", None)
        if curve_fn is None:
            return []
        per_step: dict[int, int] = {}
        for c in cands:
            if c["step"] > 0 and c["status"] == CandidateStatus.SCORED:
                per_step[c["step"]] = per_step.get(c["step"], 0) + 1
        last = steps[-1]["step"] if steps else -1
        budget = [per_step.get(step, 0) for step in range(1, last + 1)]
        return [float(x) for x in curve_fn(budget, self.run_settings(run_id).seed)]

    def _evaluation_summary(self, run_id: int) -> dict[str, Any]:
        steps = self.store.steps(run_id)
        best = steps[-1]["best_solution"] if steps else None
        out: dict[str, Any] = {
            "best_instruction": best,
            "best_train_accuracy": steps[-1]["best_score"] if steps else None,
            "best_test_accuracy": None,
        }
        evals = [e for e in self.store.evaluations(run_id) if e["split"] == "test"]
        for e in reversed(evals):
            if e["solution"] == best:
                out["best_test_accuracy"] = e["score"]
                break
        out["test_evaluations"] = [
            {
                "label": e["label"],
                "instruction": e["solution"],
                "train_accuracy": e["train_score"],
                "test_accuracy": e["score"],
                "n_examples": e["n_examples"],
                "complete": bool(e["complete"]),
            }
            for e in evals
        ]
        return out

    @_reads_file
    def summary(self) -> dict[str, Any]:
        project = self.store.project()
        problem = self.problem()
        return {
            "path": str(self.path),
            "name": project["name"],
            "kind": self.kind,
            "app_version": project["app_version"],
            "problem": problem.summary(),
            "runs": [self.run_summary(r) for r in self.run_ids()],
        }

    @_reads_file
    def step_detail(self, run_id: int, step: int) -> dict[str, Any] | None:
        return self.store.step_detail(run_id, step)
