"""Evaluators' verdicts on scorer answers, and what people did to a run (add, star, exclude)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from opro_gui.core.models import ExampleRecord, Verdict

from .base import StoreBase
from .rows import ProjectError, finite_or_none, from_json, to_json

HUMAN_ACTIONS = ("add", "star", "exclude")
_VERDICT_COLS = "name, kind, weight, score, reason, prompt, agrees"


def _combined(verdicts: Sequence[Verdict]) -> float | None:
    if not verdicts or any(v.score is None for v in verdicts):
        return None
    total = sum(v.weight for v in verdicts)
    return sum(v.weight * float(v.score or 0.0) for v in verdicts) / total if total else 0.0


class VerdictsMixin(StoreBase):
    # -- verdicts ------------------------------------------------------------------------------
    def _write_graded(
        self,
        records: Sequence[ExampleRecord],
        candidate_id: int | None,
        evaluation_id: int | None,
    ) -> None:
        for r in records:
            cur = self.conn.execute(
                "INSERT INTO example_result (candidate_id, evaluation_id, example_id, prompt,"
                " raw_answer, parsed_answer, correct, error) VALUES (?,?,?,?,?,?,?,?)",
                (
                    candidate_id, evaluation_id, r.example_id, r.prompt, r.raw_answer,
                    r.parsed_answer, None if r.correct is None else int(r.correct), r.error,
                ),
            )  # fmt: skip
            self.conn.executemany(
                f"INSERT INTO example_verdict (result_id, {_VERDICT_COLS}) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        cur.lastrowid, v.name, v.kind, v.weight, finite_or_none(v.score),
                        v.reason, v.prompt, None if v.agrees is None else int(v.agrees),
                    )
                    for v in r.verdicts
                ],
            )  # fmt: skip

    def _verdicts_of(self, result_ids: Sequence[int]) -> dict[int, tuple[Verdict, ...]]:
        if not result_ids:
            return {}
        out: dict[int, list[Verdict]] = {}
        lo, hi = min(result_ids), max(result_ids)
        for row in self.conn.execute(
            f"SELECT result_id, {_VERDICT_COLS} FROM example_verdict"
            " WHERE result_id BETWEEN ? AND ? ORDER BY id",
            (lo, hi),
        ):
            v = Verdict(
                name=row[1], kind=row[2], weight=float(row[3]), score=row[4], reason=row[5],
                prompt=row[6], agrees=None if row[7] is None else bool(row[7]),
            )  # fmt: skip
            out.setdefault(int(row[0]), []).append(v)
        wanted = set(result_ids)
        return {k: tuple(v) for k, v in out.items() if k in wanted}

    @staticmethod
    def _graded(record: ExampleRecord, verdicts: tuple[Verdict, ...]) -> ExampleRecord:
        if not verdicts:
            return record
        score = _combined(verdicts) if record.correct is not None else None
        return replace(record, verdicts=verdicts, score=score)

    def _copy_records(self, src_candidate: int, dst_candidate: int) -> None:
        """Copy a candidate's scorer answers and their verdicts to another candidate."""
        rows = self.conn.execute(
            "SELECT id FROM example_result WHERE candidate_id = ? ORDER BY id", (src_candidate,)
        ).fetchall()
        for (rid,) in rows:
            cur = self.conn.execute(
                "INSERT INTO example_result (candidate_id, example_id, prompt, raw_answer,"
                " parsed_answer, correct, error) SELECT ?, example_id, prompt, raw_answer,"
                " parsed_answer, correct, error FROM example_result WHERE id = ?",
                (dst_candidate, rid),
            )
            self.conn.execute(
                f"INSERT INTO example_verdict (result_id, {_VERDICT_COLS}) SELECT ?,"
                f" {_VERDICT_COLS} FROM example_verdict WHERE result_id = ? ORDER BY id",
                (cur.lastrowid, rid),
            )

    def judge_agreement(self, run_id: int) -> tuple[int, int]:
        """(judge verdicts agreeing with the gold label, judge verdicts on labelled examples)
        over every scored candidate of a run."""
        row = self.conn.execute(
            "SELECT COALESCE(SUM(v.agrees), 0), COUNT(v.agrees) FROM example_verdict v"
            " JOIN example_result r ON r.id = v.result_id"
            " JOIN candidate c ON c.id = r.candidate_id WHERE c.run_id = ?",
            (run_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    # -- people in the loop --------------------------------------------------------------------
    def add_human_action(
        self,
        run_id: int,
        step: int,
        action: str,
        *,
        text: str = "",
        solution: Any = None,
        candidate_id: int | None = None,
        candidate_key: str = "",
        note: str = "",
    ) -> int:
        if action not in HUMAN_ACTIONS:
            raise ProjectError(f"unknown action {action!r}")
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO human_action (run_id, step, action, text, solution, candidate_id,"
                " candidate_key, note, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    run_id, step, action, text, to_json(solution), candidate_id, candidate_key,
                    note, time.time(),
                ),
            )  # fmt: skip
        assert cur.lastrowid is not None
        return cur.lastrowid

    def human_actions(self, run_id: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, run_id, step, action, text, solution, candidate_id, candidate_key, note,"
            " created_at, applied_step FROM human_action"
        )
        args: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            args = (run_id,)
        keys = ["id", "run_id", "step", "action", "text", "solution", "candidate_id",
                "candidate_key", "note", "created_at", "applied_step"]  # fmt: skip
        out = []
        for row in self.conn.execute(sql + " ORDER BY id", args):
            d = dict(zip(keys, row, strict=True))
            d["solution"] = from_json(d["solution"], "a human action")
            out.append(d)
        return out

    def mark_applied(self, action_ids: Sequence[int], step: int) -> None:
        with self._tx():
            self.conn.executemany(
                "UPDATE human_action SET applied_step = ? WHERE id = ? AND applied_step IS NULL",
                [(step, i) for i in action_ids],
            )

    def candidate_by_id(self, candidate_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, run_id, step, key, text, status, score FROM candidate WHERE id = ?",
            (candidate_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ["id", "run_id", "step", "key", "text", "status", "score"]
        return dict(zip(keys, row, strict=True))
