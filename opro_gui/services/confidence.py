"""Statistics of a project's runs from stored per-example answers: intervals, paired tests,
train–test gap warnings and the spread of runs that differ only in their seed."""

from __future__ import annotations

import json
from typing import Any

from opro_gui.core.models import CandidateStatus
from opro_gui.core.rows import EvaluationRow

from . import stats
from .base import SessionBase

#: Settings that do not make two runs different experiments (the budget and stop rules).
_NOT_A_CONDITION = {"seed", "max_steps", "patience", "target_score", "budget_tokens", "budget_usd"}


class ConfidenceMixin(SessionBase):
    def train_correctness(self, run_id: int, instruction: Any) -> dict[int, bool]:
        """Per-example correctness on the training split of the first complete scoring of
        ``instruction`` in the run ({} when it was never scored there)."""
        row = self.store.conn.execute(
            "SELECT id FROM candidate WHERE run_id = ? AND status = ? AND solution = ?"
            " ORDER BY step, idx LIMIT 1",
            (run_id, str(CandidateStatus.SCORED), json.dumps(instruction, ensure_ascii=False)),
        ).fetchone()
        if row is None:
            return {}
        return _correctness(self.store.records(candidate_id=row[0]))

    def evaluation_correctness(self, evaluation_id: int) -> dict[int, bool]:
        return _correctness(self.store.records(evaluation_id=evaluation_id))

    def evaluation_interval(self, evaluation_id: int) -> stats.Interval | None:
        return stats.bootstrap_interval(list(self.evaluation_correctness(evaluation_id).values()))

    def train_interval(self, run_id: int, instruction: Any) -> stats.Interval | None:
        return stats.bootstrap_interval(list(self.train_correctness(run_id, instruction).values()))

    def _accuracy_stats(self, run_id: int, best: Any, evals: list[EvaluationRow]) -> dict[str, Any]:
        """The keys `show --json` adds for prompt runs: intervals, paired tests, gap warning."""
        train = self.train_interval(run_id, best)
        latest = _latest_by_label(evals)
        best_eval = next((e for e in reversed(latest) if e.solution == best), None)
        test = self.evaluation_interval(best_eval.id) if best_eval else None
        return {
            "best_train_accuracy_ci": train.to_list() if train else None,
            "best_test_accuracy_ci": test.to_list() if test else None,
            "paired_tests": self._paired(best_eval, latest) if best_eval else [],
            "train_test_gap_warning": stats.gap_warning(train, test),
        }

    def paired_tests(self, run_id: int, split: str = "test") -> list[dict[str, Any]]:
        """Exact McNemar of the run's best instruction against each baseline, on the latest
        evaluation of each on ``split``."""
        steps = self.store.steps(run_id)
        best = steps[-1].best_solution if steps else None
        evals = [e for e in self.store.evaluations(run_id) if e.split == split]
        latest = _latest_by_label(evals)
        best_eval = next((e for e in reversed(latest) if e.solution == best), None)
        return self._paired(best_eval, latest) if best_eval else []

    def _paired(
        self, best_eval: EvaluationRow, latest: list[EvaluationRow]
    ) -> list[dict[str, Any]]:
        mine = self.evaluation_correctness(best_eval.id)
        out = []
        for e in latest:
            if not str(e.label).startswith("baseline") or e.id == best_eval.id:
                continue
            test = stats.paired_test(mine, self.evaluation_correctness(e.id))
            out.append(
                {
                    "a": best_eval.label,
                    "b": e.label,
                    "instruction_a": best_eval.solution,
                    "instruction_b": e.solution,
                    "split": e.split,
                    **test.to_dict(),
                    "significant": test.p_value < 0.05,
                }
            )
        return out


def seed_spread(runs: list[dict[str, Any]], settings_of: dict[int, dict[str, Any]]) -> list[Any]:
    """Groups of two or more runs that differ only in their seed (same models, same settings),
    with the mean ± sd of their best scores: how much of a difference is luck."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        s = settings_of.get(r["id"], {})
        condition = {k: v for k, v in s.items() if k not in _NOT_A_CONDITION}
        key = json.dumps(
            [condition, r.get("optimizer_model"), r.get("scorer_model")],
            sort_keys=True,
            default=str,
        )
        groups.setdefault(key, []).append(r)
    out = []
    for members in groups.values():
        seeds = sorted({settings_of.get(r["id"], {}).get("seed") for r in members}, key=str)
        if len(members) < 2 or len(seeds) < 2:
            continue
        best = stats.spread(r.get("best_score") for r in members)
        steps = stats.spread(r.get("steps_completed") for r in members)
        out.append(
            {
                "runs": [r["id"] for r in members],
                "seeds": seeds,
                "optimizer_model": members[0].get("optimizer_model"),
                "scorer_model": members[0].get("scorer_model"),
                "best_score": best.to_dict() if best else None,
                "steps_completed": steps.to_dict() if steps else None,
            }
        )
    return out


def _correctness(records: Any) -> dict[int, bool]:
    return {r.example_id: bool(r.correct) for r in records if r.correct is not None}


def _latest_by_label(evals: list[EvaluationRow]) -> list[EvaluationRow]:
    """The latest evaluation per label, in the order the labels first appeared."""
    latest: dict[str, EvaluationRow] = {}
    for e in evals:
        latest[e.label] = e
    return list(latest.values())
