"""Steps, candidates, scorer answers and LLM calls of runs; rebuilding a run's state to resume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from opro_gui.core.models import (
    HUMAN_ORIGIN,
    CallRecord,
    CandidateStatus,
    ExampleRecord,
    Scored,
    StepRecord,
    Totals,
)
from opro_gui.core.ports import RunState

from .rows import finite_or_none, from_json, to_json, totals_of
from .verdicts import VerdictsMixin


class StepsMixin(VerdictsMixin):
    def write_step(self, run_id: int, record: StepRecord, status: str = "running") -> None:
        """Everything of one step in one transaction: a crash loses at most the step in flight."""
        with self._tx():
            self.conn.execute(
                "INSERT INTO step (run_id, step, meta_prompt, completions, best_score,"
                " best_solution, optimal, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    record.step,
                    record.meta_prompt,
                    to_json(list(record.completions)),
                    finite_or_none(record.best_score),
                    to_json(record.best_solution),
                    int(record.optimal),
                    record.started_at,
                    record.finished_at,
                ),
            )
            for c in record.candidates:
                cur = self.conn.execute(
                    "INSERT INTO candidate (run_id, step, idx, completion_index, solution, text,"
                    " key, status, reason, score) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        record.step,
                        c.index,
                        c.completion_index,
                        to_json(c.solution),
                        c.text,
                        c.key,
                        str(c.status),
                        c.reason,
                        finite_or_none(c.score),
                    ),
                )
                self._write_records(c.records, candidate_id=cur.lastrowid)
            self._write_calls(record.calls, run_id=run_id, step=record.step)
            self.conn.execute("UPDATE run SET status = ? WHERE id = ?", (status, run_id))

    def _write_records(
        self,
        records: Sequence[ExampleRecord],
        candidate_id: int | None = None,
        evaluation_id: int | None = None,
    ) -> None:
        if any(r.verdicts for r in records):
            self._write_graded(records, candidate_id, evaluation_id)
            return
        self.conn.executemany(
            "INSERT INTO example_result (candidate_id, evaluation_id, example_id, prompt,"
            " raw_answer, parsed_answer, correct, error) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    candidate_id,
                    evaluation_id,
                    r.example_id,
                    r.prompt,
                    r.raw_answer,
                    r.parsed_answer,
                    None if r.correct is None else int(r.correct),
                    r.error,
                )
                for r in records
            ],
        )

    def _write_calls(self, calls: Sequence[CallRecord], **where: int | None) -> None:
        cols = ["run_id", "step", "replay_id", "evaluation_id"]
        keys = [where.get(c) for c in cols]
        self.conn.executemany(
            "INSERT INTO llm_call (run_id, step, replay_id, evaluation_id, role, model_requested,"
            " model_reported, base_url, prompt_tokens, completion_tokens, latency_s, retries,"
            " cached, error, n, cost_usd) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    *keys,
                    c.role,
                    c.model_requested,
                    c.model_reported,
                    c.base_url,
                    c.prompt_tokens,
                    c.completion_tokens,
                    c.latency_s,
                    c.retries,
                    int(c.cached),
                    c.error,
                    c.n,
                    c.cost_usd,
                )
                for c in calls
            ],
        )

    def records(
        self, candidate_id: int | None = None, evaluation_id: int | None = None
    ) -> list[ExampleRecord]:
        col, val = (
            ("candidate_id", candidate_id)
            if candidate_id is not None
            else (
                "evaluation_id",
                evaluation_id,
            )
        )
        rows = self.conn.execute(
            "SELECT example_id, prompt, raw_answer, parsed_answer, correct, error, id"
            f" FROM example_result WHERE {col} = ? ORDER BY id",
            (val,),
        ).fetchall()
        verdicts = self._verdicts_of([r[6] for r in rows])
        return [
            self._graded(
                ExampleRecord(
                    example_id=r[0],
                    prompt=r[1],
                    raw_answer=r[2],
                    parsed_answer=r[3],
                    correct=None if r[4] is None else bool(r[4]),
                    error=r[5],
                ),
                verdicts.get(r[6], ()),
            )
            for r in rows
        ]

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        return [
            {
                "step": r[0],
                "best_score": r[1],
                "best_solution": from_json(r[2], "a step"),
                "optimal": bool(r[3]),
                "started_at": r[4],
                "finished_at": r[5],
            }
            for r in self.conn.execute(
                "SELECT step, best_score, best_solution, optimal, started_at, finished_at"
                " FROM step WHERE run_id = ? ORDER BY step",
                (run_id,),
            )
        ]

    def candidates(self, run_id: int, step: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, step, idx, completion_index, solution, text, key, status, reason, score"
            " FROM candidate WHERE run_id = ?"
        )
        args: tuple[Any, ...] = (run_id,)
        if step is not None:
            sql += " AND step = ?"
            args += (step,)
        keys = [
            "id",
            "step",
            "index",
            "completion_index",
            "solution",
            "text",
            "key",
            "status",
            "reason",
            "score",
        ]
        out = []
        for row in self.conn.execute(sql + " ORDER BY step, idx", args):
            d = dict(zip(keys, row, strict=True))
            d["solution"] = from_json(d["solution"], "a candidate")
            out.append(d)
        return out

    def calls(self, run_id: int, step: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM llm_call WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if step is not None:
            sql += " AND step = ?"
            args += (step,)
        return list(self.db.query(sql + " ORDER BY id", args))

    def step_detail(self, run_id: int, step: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT meta_prompt, completions, best_score, best_solution, optimal, started_at,"
            " finished_at FROM step WHERE run_id = ? AND step = ?",
            (run_id, step),
        ).fetchone()
        if row is None:
            return None
        cands = self.candidates(run_id, step)
        for c in cands:
            c["records"] = [asdict(r) for r in self.records(candidate_id=c["id"])]
            c["human"] = c["completion_index"] == HUMAN_ORIGIN
        return {
            "run_id": run_id,
            "step": step,
            "meta_prompt": row[0],
            "completions": from_json(row[1], "completions"),
            "best_score": row[2],
            "best_solution": from_json(row[3], "a step"),
            "optimal": bool(row[4]),
            "started_at": row[5],
            "finished_at": row[6],
            "candidates": cands,
            "calls": self.calls(run_id, step),
        }

    def totals(self, run_id: int) -> Totals:
        return totals_of(self.calls(run_id))

    def load_state(self, run_id: int, higher_is_better: bool, with_records: bool) -> RunState:
        """Rebuild what the engine needs to continue ``run_id`` after its last completed step."""
        state = RunState(last_step=self.last_step(run_id), totals=self.totals(run_id))
        for c in self.candidates(run_id):
            status = c["status"]
            if status in (CandidateStatus.SCORED, CandidateStatus.FILTERED) and c["key"]:
                state.seen_keys.add(c["key"])
            if status == CandidateStatus.SCORED and c["score"] is not None:
                records = tuple(self.records(candidate_id=c["id"])) if with_records else ()
                state.history.append(
                    Scored(
                        solution=c["solution"], score=c["score"], step=c["step"], records=records
                    )
                )
        best: float | None = None
        for s in self.steps(run_id):
            state.found_optimum = state.found_optimum or s["optimal"]
            score = s["best_score"]
            better = score is not None and (
                best is None or (score > best if higher_is_better else score < best)
            )
            if better:
                best = score
                state.steps_without_improvement = 0
            elif s["step"] > 0:
                state.steps_without_improvement += 1
        return state

    def copy_steps(self, src_run: int, dst_run: int, upto_step: int) -> None:
        """Copy steps 0..upto_step (with candidates and scorer answers) into a forked run."""
        with self._tx():
            self.conn.execute(
                "INSERT INTO step (run_id, step, meta_prompt, completions, best_score,"
                " best_solution, optimal, started_at, finished_at) SELECT ?, step, meta_prompt,"
                " completions, best_score, best_solution, optimal, started_at, finished_at"
                " FROM step WHERE run_id = ? AND step <= ?",
                (dst_run, src_run, upto_step),
            )
            old = self.conn.execute(
                "SELECT id FROM candidate WHERE run_id = ? AND step <= ? ORDER BY id",
                (src_run, upto_step),
            ).fetchall()
            for (cid,) in old:
                cur = self.conn.execute(
                    "INSERT INTO candidate (run_id, step, idx, completion_index, solution, text,"
                    " key, status, reason, score) SELECT ?, step, idx, completion_index, solution,"
                    " text, key, status, reason, score FROM candidate WHERE id = ?",
                    (dst_run, cid),
                )
                assert cur.lastrowid is not None
                self._copy_records(cid, cur.lastrowid)
            self.conn.execute("UPDATE run SET status = 'paused' WHERE id = ?", (dst_run,))
