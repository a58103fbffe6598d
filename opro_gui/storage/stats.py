"""A run's aggregates (verdict counts, usage, best so far) for summaries and plots."""

from __future__ import annotations

from opro_gui.core.models import CandidateStatus, Totals
from opro_gui.core.rows import RunStats

from .rows import amount, count, from_json, number, text, whole
from .steps import _INT_STEP, StepsMixin


class StatsMixin(StepsMixin):
    def run_stats(self, run_id: int) -> RunStats:
        """Aggregates of ``run_id`` computed in SQL: no candidate or call is decoded."""
        last = self.last_step(run_id)
        row = self.conn.execute(
            "SELECT best_score, best_solution FROM step WHERE run_id = ? AND step = ?",
            (run_id, last),
        ).fetchone()
        found = self.conn.execute(
            f"SELECT MIN(step) FROM step WHERE run_id = ? AND {_INT_STEP} AND optimal != 0",
            (run_id,),
        ).fetchone()[0]
        counts: dict[str, int] = {}
        candidates = evaluations = 0
        per_step: dict[int, int] = {}
        for step, status, n in self.conn.execute(
            f"SELECT step, status, COUNT(*) FROM candidate WHERE run_id = ? AND {_INT_STEP}"
            " GROUP BY step, status ORDER BY step, MIN(id)",
            (run_id,),
        ):
            status = text(status)
            candidates += n
            evaluations += n if status in (CandidateStatus.SCORED, "incomplete") else 0
            if step > 0:
                counts[status] = counts.get(status, 0) + n
                if status == CandidateStatus.SCORED:
                    per_step[step] = n
        return RunStats(
            last_step=last,
            best_score=number(row[0]) if row else None,
            best_solution=from_json(row[1], "a step's best solution") if row else None,
            found_at_step=whole(found),
            candidates=candidates,
            evaluations=evaluations,
            status_counts=counts,
            usage=self._usage(run_id),
            models=tuple(
                (text(a), text(b))
                for a, b in self.conn.execute(
                    "SELECT DISTINCT model_requested, model_reported FROM llm_call WHERE"
                    " run_id = ? AND model_reported != '' AND error = '' AND cached = 0",
                    (run_id,),
                )
            ),
            scored_per_step=tuple(per_step.get(s, 0) for s in range(1, last + 1)),
        )

    def _usage(self, run_id: int) -> Totals:
        totals = Totals()
        for role, calls, cached, failed, prompt, completion, cost in self.conn.execute(
            f"SELECT role, COUNT(*), TOTAL(cached != 0), TOTAL(error != ''), {_sane('prompt_tokens')},"
            f" {_sane('completion_tokens')}, {_sane('cost_usd')} FROM llm_call WHERE run_id = ?"
            " GROUP BY role ORDER BY MIN(id)",
            (run_id,),
        ):
            p, c, usd = count(prompt), count(completion), amount(cost)
            totals.calls += calls
            totals.cached_calls += count(cached)
            totals.failed_calls += count(failed)
            totals.prompt_tokens += p
            totals.completion_tokens += c
            totals.cost_usd += usd
            totals.by_role[text(role)] = {
                "calls": calls, "prompt_tokens": p, "completion_tokens": c, "cost_usd": usd,
            }  # fmt: skip
        return totals


def _sane(column: str) -> str:
    """SQL summing ``column`` where each value counts only if it is a number in [0, 2^53]."""
    return (
        f"TOTAL(CASE WHEN typeof({column}) IN ('integer', 'real') AND {column} >= 0"
        f" AND {column} <= 9007199254740992 THEN {column} ELSE 0 END)"
    )
