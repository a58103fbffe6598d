"""Replays, held-out evaluations and the LLM response cache kept in the project."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opro_gui.core.models import (
    CallRecord,
    ScoreResult,
)
from opro_gui.core.rows import EvaluationRow, ReplayCandidate, ReplayRow

from .rows import (
    amount,
    count,
    finite_or_none,
    flag,
    from_json,
    json_object,
    number,
    text,
    texts,
    to_json,
    whole,
)
from .stats import StatsMixin


class ExtrasMixin(StatsMixin):
    def add_replay(
        self,
        run_id: int,
        step: int,
        endpoint: dict[str, Any],
        meta_prompt: str,
        completions: Sequence[str],
        candidates: Sequence[ReplayCandidate],
        calls: Sequence[CallRecord],
    ) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO replay (run_id, step, created_at, endpoint, meta_prompt, completions,"
                " candidates) VALUES (?,?,?,?,?,?,?)",
                (
                    run_id,
                    step,
                    time.time(),
                    to_json(endpoint),
                    meta_prompt,
                    to_json(list(completions)),
                    to_json([c.to_json() for c in candidates]),
                ),
            )
            replay_id = int(cur.lastrowid or 0)
            self._write_calls(calls, replay_id=replay_id)
        return replay_id

    def replays(self, run_id: int | None = None, step: int | None = None) -> list[ReplayRow]:
        sql = (
            "SELECT id, run_id, step, created_at, endpoint, meta_prompt, completions, candidates"
            " FROM replay"
        )
        cond, args = [], []
        if run_id is not None:
            cond.append("run_id = ?")
            args.append(run_id)
        if step is not None:
            cond.append("step = ?")
            args.append(step)
        if cond:
            sql += " WHERE " + " AND ".join(cond)
        return [
            ReplayRow(
                id=int(r[0]),
                run_id=whole(r[1]) or 0,
                step=whole(r[2]) or 0,
                created_at=amount(r[3]),
                endpoint=json_object(r[4], "a replay's endpoint") or {},
                meta_prompt=text(r[5]),
                completions=texts(from_json(r[6], "a replay")),
                candidates=_replay_candidates(from_json(r[7], "a replay")),
            )
            for r in self.conn.execute(sql + " ORDER BY id", args)
        ]

    def add_evaluation(
        self,
        run_id: int | None,
        split: str,
        label: str,
        solution: Any,
        text: str,
        result: ScoreResult,
        train_score: float | None,
        calls: Sequence[CallRecord] = (),
    ) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO evaluation (run_id, split, label, solution, text, score, complete,"
                " train_score, n_examples, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    split,
                    label,
                    to_json(solution),
                    text,
                    finite_or_none(result.score),
                    int(result.complete),
                    finite_or_none(train_score),
                    len(result.records),
                    time.time(),
                ),
            )
            eval_id = int(cur.lastrowid or 0)
            self._write_records(result.records, evaluation_id=eval_id)
            self._write_calls(calls, run_id=run_id, evaluation_id=eval_id)
        return eval_id

    def evaluations(self, run_id: int | None = None, records: bool = False) -> list[EvaluationRow]:
        sql = (
            "SELECT id, run_id, split, label, solution, text, score, complete, train_score,"
            " n_examples, created_at FROM evaluation"
        )
        args: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            args = (run_id,)
        return [
            EvaluationRow(
                id=int(r[0]),
                run_id=whole(r[1]),
                split=text(r[2]),
                label=text(r[3]),
                solution=from_json(r[4], "an evaluation"),
                text=text(r[5]),
                score=number(r[6]),
                complete=flag(r[7]),
                train_score=number(r[8]),
                n_examples=count(r[9]),
                created_at=amount(r[10]),
                records=tuple(self.records(evaluation_id=int(r[0]))) if records else (),
            )
            for r in self.conn.execute(sql + " ORDER BY id", args).fetchall()
        ]


def _replay_candidates(value: Any) -> tuple[ReplayCandidate, ...]:
    """Replay candidates from their stored JSON; entries of another shape are skipped."""
    out = []
    for c in value if isinstance(value, list) else ():
        if isinstance(c, dict):
            out.append(
                ReplayCandidate(
                    completion_index=whole(c.get("completion_index")) or 0,
                    text=text(c.get("text")),
                    solution=c.get("solution"),
                    status=text(c.get("status")),
                    reason=text(c.get("reason")),
                    score=number(c.get("score")),
                )
            )
    return tuple(out)


class ProjectCache:
    """The LLM response cache, kept in the project so a shared project replays for free.

    Answers are held back until the calls that paid for them are written (with a step, an
    evaluation or a replay, in the same transaction): a process killed in between leaves no
    free answers whose cost was never counted."""

    def __init__(self, store: ExtrasMixin) -> None:
        self.store = store

    def get(self, key: str) -> str | None:
        pending = self.store.pending_cache.get(key)
        if pending is not None:
            return pending[0]
        row = self.store.conn.execute(
            "SELECT value FROM response_cache WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.store.pending_cache[key] = (value, time.time())
