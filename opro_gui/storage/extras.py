"""Replays, held-out evaluations and the LLM response cache kept in the project."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opro_gui.core.models import (
    CallRecord,
    ScoreResult,
)

from .rows import finite_or_none, from_json, to_json
from .steps import StepsMixin


class ExtrasMixin(StepsMixin):
    def add_replay(
        self,
        run_id: int,
        step: int,
        endpoint: dict[str, Any],
        meta_prompt: str,
        completions: Sequence[str],
        candidates: Sequence[dict[str, Any]],
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
                    to_json(list(candidates)),
                ),
            )
            replay_id = int(cur.lastrowid or 0)
            self._write_calls(calls, replay_id=replay_id)
        return replay_id

    def replays(self, run_id: int | None = None, step: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, run_id, step, created_at, endpoint, meta_prompt, completions, candidates FROM replay"
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
            {
                "id": r[0],
                "run_id": r[1],
                "step": r[2],
                "created_at": r[3],
                "endpoint": from_json(r[4], "a replay"),
                "meta_prompt": r[5],
                "completions": from_json(r[6], "a replay"),
                "candidates": from_json(r[7], "a replay"),
            }
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

    def evaluations(self, run_id: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM evaluation"
        args: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            args = (run_id,)
        rows = list(self.db.query(sql + " ORDER BY id", args))
        for r in rows:
            r["solution"] = from_json(r["solution"], "an evaluation")
        return rows


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
