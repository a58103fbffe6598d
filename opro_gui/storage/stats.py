"""A run's aggregates (verdict counts, usage, best so far) for summaries and plots."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opro_gui.core.models import REPAIRED_PREFIX, CandidateStatus, Totals
from opro_gui.core.rows import RunStats

from .rows import MAX_CONFIG_CHARS, ProjectError, amount, count, from_json, number, text, whole
from .stats_sql import VERDICTS
from .steps import _INT_STEP, StepsMixin


class StatsMixin(StepsMixin):
    def run_stats(self, run_id: int) -> RunStats:
        """Aggregates of ``run_id`` as kept with its steps: one row per step at most is read,
        and no candidate or call."""
        row = self.conn.execute(
            "SELECT last_step, found_at_step, candidates, evaluations, random_search,"
            " random_search_state, verdict_order FROM run_stats WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            return self._computed_stats(run_id)
        last = whole(row[0])
        last = -1 if last is None or last < -1 else last
        sums = self.conn.execute(
            f"SELECT {', '.join(f'TOTAL({v})' for v in VERDICTS)} FROM step_stats"
            " WHERE run_id = ? AND step > 0 AND typeof(step) = 'integer'",
            (run_id,),
        ).fetchone()
        totals = dict(zip(VERDICTS, (count(v) for v in sums), strict=True))
        order = [v for v in text(row[6]).split(",") if v in totals]
        counts = {v: totals[v] for v in dict.fromkeys([*order, *VERDICTS]) if totals[v]}
        best = self.conn.execute(
            "SELECT best_score, best_solution FROM step WHERE run_id = ? AND step = ?",
            (run_id, last),
        ).fetchone()
        return RunStats(
            last_step=last,
            best_score=number(best[0]) if best else None,
            best_solution=from_json(best[1], "a step's best solution") if best else None,
            found_at_step=whole(row[1]),
            candidates=count(row[2]),
            evaluations=count(row[3]),
            status_counts=counts,
            usage=self._role_usage(run_id),
            models=tuple(
                (text(a), text(b))
                for a, b in self.conn.execute(
                    "SELECT requested, reported FROM model_pair WHERE run_id = ?", (run_id,)
                )
            ),
            random_search=number(row[4]),
            random_search_state=_state(row[5]),
        )

    def verdict_counts(self, run_id: int) -> dict[str, Any]:
        """What a run's verdict needs beyond its aggregates, counted in SQL: invalid proposals
        per reason, answers robust parsing repaired, and retries, timeouts and n top-ups of
        its requests (replays not included)."""
        reasons = [
            (text(r), count(k))
            for r, k in self.conn.execute(
                "SELECT reason, COUNT(*) FROM candidate WHERE run_id = ? AND step > 0"
                " AND status = 'invalid' GROUP BY reason",
                (run_id,),
            )
        ]
        repaired = self.conn.execute(
            "SELECT COUNT(*) FROM candidate WHERE run_id = ? AND status = 'scored'"
            " AND substr(reason, 1, ?) = ?",
            (run_id, len(REPAIRED_PREFIX), REPAIRED_PREFIX),
        ).fetchone()
        calls = self.conn.execute(
            "SELECT TOTAL(retries), TOTAL(error LIKE '%timed out%' OR error LIKE '%too slowly%')"
            " FROM llm_call WHERE run_id = ? AND replay_id IS NULL",
            (run_id,),
        ).fetchone()
        top_ups = self.conn.execute(
            "SELECT COUNT(*) - COUNT(DISTINCT step) FROM llm_call WHERE run_id = ?"
            " AND role = 'optimizer' AND step IS NOT NULL AND replay_id IS NULL",
            (run_id,),
        ).fetchone()
        return {
            "invalid_reasons": reasons,
            "repaired": count(repaired[0]),
            "retries": count(calls[0]),
            "timeouts": count(calls[1]),
            "top_up_calls": max(0, count(top_ups[0])),
        }

    def scored_per_step(self, run_id: int) -> list[int]:
        """Candidates scored at each step 1..last: the random search's budget."""
        last = self.last_step(run_id)
        if not self.conn.execute("SELECT 1 FROM run_stats WHERE run_id = ?", (run_id,)).fetchone():
            return list(self._computed_stats(run_id).scored_per_step)
        stored = {
            r[0]: count(r[1])
            for r in self.conn.execute(
                "SELECT step, scored FROM step_stats WHERE run_id = ? AND step > 0"
                " AND typeof(step) = 'integer'",
                (run_id,),
            )
        }
        return [stored.get(s, 0) for s in range(1, last + 1)]

    def random_search_state(self, run_id: int) -> dict[str, object] | None:
        row = self.conn.execute(
            "SELECT random_search_state FROM run_stats WHERE run_id = ?", (run_id,)
        ).fetchone()
        return _state(row[0]) if row else None

    def random_search_values(self, run_id: int) -> list[float | None]:
        """The random search's stored best after each step 1..last (None where unknown)."""
        last = self.last_step(run_id)
        stored = {
            r[0]: number(r[1])
            for r in self.conn.execute(
                "SELECT step, random_search FROM step_stats WHERE run_id = ? AND step > 0"
                " AND typeof(step) = 'integer'",
                (run_id,),
            )
        }
        return [stored.get(s) for s in range(1, last + 1)]

    def _role_usage(self, run_id: int) -> Totals:
        return _totals_of(
            self.conn.execute(
                "SELECT role, calls, cached_calls, failed_calls, prompt_tokens,"
                " completion_tokens, cost_usd FROM role_stats WHERE run_id = ? ORDER BY rowid",
                (run_id,),
            )
        )

    def _computed_stats(self, run_id: int) -> RunStats:
        """Aggregates computed from the rows in SQL (a run without a stats row)."""
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
        return _totals_of(
            self.conn.execute(
                f"SELECT role, COUNT(*), TOTAL(cached != 0), TOTAL(error != ''),"
                f" {_sane('prompt_tokens')}, {_sane('completion_tokens')}, {_sane('cost_usd')}"
                " FROM llm_call WHERE run_id = ? GROUP BY role ORDER BY MIN(id)",
                (run_id,),
            )
        )


def _totals_of(rows: Iterable[tuple[Any, ...]]) -> Totals:
    """Totals from per-role rows (role, calls, cached, failed, prompt, completion, cost), read
    either from the stored aggregates or computed from the call rows."""
    totals = Totals()
    for role, calls, cached, failed, prompt, completion, cost in rows:
        p, c, usd, n = count(prompt), count(completion), amount(cost), count(calls)
        totals.calls += n
        totals.cached_calls += count(cached)
        totals.failed_calls += count(failed)
        totals.prompt_tokens += p
        totals.completion_tokens += c
        totals.cost_usd += usd
        totals.by_role[text(role)] = {
            "calls": n, "prompt_tokens": p, "completion_tokens": c, "cost_usd": usd,
        }  # fmt: skip
    return totals


def _sane(column: str) -> str:
    """SQL summing ``column`` where each value counts only if it is a number in [0, 2^53]."""
    return (
        f"TOTAL(CASE WHEN typeof({column}) IN ('integer', 'real') AND {column} >= 0"
        f" AND {column} <= 9007199254740992 THEN {column} ELSE 0 END)"
    )


def _state(value: object) -> dict[str, object] | None:
    """A stored random-search state, or None when absent or unreadable (then recomputed)."""
    try:
        state = from_json(value, "a random-search state", MAX_CONFIG_CHARS)
    except ProjectError:
        return None
    return state if isinstance(state, dict) else None
