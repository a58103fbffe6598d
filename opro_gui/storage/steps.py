"""Steps, candidates, scorer answers and LLM calls of runs; rebuilding a run's state to resume."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from opro_gui.core.models import (
    CallRecord,
    Candidate,
    CandidateStatus,
    ExampleRecord,
    Scored,
    StepRecord,
    Totals,
)
from opro_gui.core.ports import RunState
from opro_gui.core.rows import CallRow, StepDetail, StepRow

from . import stats_sql
from .rows import (
    amount,
    call_from_row,
    finite_or_none,
    flag,
    from_json,
    number,
    text,
    texts,
    to_json,
    totals_of,
    whole,
)
from .verdicts import VerdictsMixin

_CANDIDATE_STATUSES = {str(s) for s in CandidateStatus}
#: Rows whose step number is not a whole number cannot be placed in a run: they are skipped.
_INT_STEP = "typeof(step) = 'integer'"
_CALL_COLUMNS = (
    "id", "run_id", "step", "replay_id", "evaluation_id", "role", "model_requested",
    "model_reported", "base_url", "prompt_tokens", "completion_tokens", "latency_s", "retries",
    "cached", "error", "n", "cost_usd",
)  # fmt: skip


class StepsMixin(VerdictsMixin):
    def write_step(
        self,
        run_id: int,
        record: StepRecord,
        status: str = "running",
        random_search: tuple[Sequence[float], str] | None = None,
    ) -> None:
        """Everything of one step in one transaction, its run's aggregates included: a crash
        loses at most the step in flight. ``random_search``: the equal-budget random search's
        best after the last steps up to this one (at least this step's value) and the state to
        continue it from (kinds that have one)."""
        counts: dict[str, int] = {}
        for c in record.candidates:
            counts[str(c.status)] = counts.get(str(c.status), 0) + 1
        with self._tx():
            stats_sql.add_run_step(
                self.conn, run_id, record.step, counts, record.optimal, random_search
            )
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
            self._write_ingredients(run_id, record)
            self.conn.execute("UPDATE run SET status = ? WHERE id = ?", (status, run_id))

    def _write_ingredients(self, run_id: int, record: StepRecord) -> None:
        """The meta-prompt's history entries (as the ids of the candidates they came from) and
        exemplars (as example ids), in the order shown."""
        rows: list[tuple[int, int, int, int | None, int | None]] = []
        for step, index in record.shown_entries:
            found = self.conn.execute(
                "SELECT id FROM candidate WHERE run_id = ? AND step = ? AND idx = ?",
                (run_id, step, index),
            ).fetchone()
            rows.append((run_id, record.step, len(rows), found[0] if found else None, None))
        for example_id in record.shown_exemplars:
            rows.append((run_id, record.step, len(rows), None, example_id))
        self.conn.executemany(
            "INSERT INTO ingredient (run_id, step, position, candidate_id, example_id)"
            " VALUES (?,?,?,?,?)",
            rows,
        )

    def ingredients(self, run_id: int, step: int) -> dict[str, list[int]]:
        """What step ``step``'s meta-prompt contained: candidate ids and example ids, in order."""
        out: dict[str, list[int]] = {"candidates": [], "examples": []}
        for cand, example in self.conn.execute(
            "SELECT candidate_id, example_id FROM ingredient WHERE run_id = ? AND step = ?"
            " ORDER BY position",
            (run_id, step),
        ):
            if isinstance(cand, int):
                out["candidates"].append(cand)
            elif isinstance(example, int):
                out["examples"].append(example)
        return out

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
        run_id = where.get("run_id")
        if run_id is not None:
            stats_sql.add_calls(self.conn, run_id, where.get("step"), calls)
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
        self._flush_cache()

    def _flush_cache(self) -> None:
        """Inside the transaction that records the calls: the answers they paid for."""
        if self.pending_cache:
            self.conn.executemany(
                "INSERT OR REPLACE INTO response_cache (key, value, created_at) VALUES (?,?,?)",
                [(k, v, t) for k, (v, t) in self.pending_cache.items()],
            )
            self.pending_cache.clear()

    def records(
        self, candidate_id: int | None = None, evaluation_id: int | None = None
    ) -> list[ExampleRecord]:
        col, val = (
            ("candidate_id", candidate_id)
            if candidate_id is not None
            else ("evaluation_id", evaluation_id)
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
                    example_id=whole(r[0]) or 0,
                    prompt=text(r[1]),
                    raw_answer=text(r[2]),
                    parsed_answer=text(r[3]),
                    correct=None if r[4] is None else flag(r[4]),
                    error=text(r[5]),
                ),
                verdicts.get(r[6], ()),
            )
            for r in rows
        ]

    def _step_row(self, run_id: int, r: Sequence[Any]) -> StepRow:
        return StepRow(
            run_id=run_id,
            step=int(r[0]),
            best_score=number(r[1]),
            best_solution=from_json(r[2], "a step's best solution"),
            optimal=flag(r[3]),
            started_at=amount(r[4]),
            finished_at=amount(r[5]),
        )

    def steps(self, run_id: int, first: int = 0, last: int | None = None) -> list[StepRow]:
        """Steps ``first``..``last`` (all by default) of a run, in order."""
        return [
            self._step_row(run_id, r)
            for r in self.conn.execute(
                "SELECT step, best_score, best_solution, optimal, started_at, finished_at"
                f" FROM step WHERE run_id = ? AND {_INT_STEP} AND step BETWEEN ? AND ?"
                " ORDER BY step",
                (run_id, first, 2**62 if last is None else last),
            )
        ]

    def candidates(self, run_id: int, step: int | None = None) -> list[Candidate]:
        return list(self.iter_candidates(run_id, step))

    def iter_candidates(self, run_id: int, step: int | None = None) -> Iterator[Candidate]:
        """The run's candidates in order, one at a time (an export of a million rows never
        holds them all)."""
        sql = (
            "SELECT id, step, idx, completion_index, solution, text, key, status, reason, score"
            f" FROM candidate WHERE run_id = ? AND {_INT_STEP}"
        )
        args: tuple[Any, ...] = (run_id,)
        if step is not None:
            sql += " AND step = ?"
            args += (step,)
        for r in self.conn.execute(sql + " ORDER BY step, idx", args):
            status, reason = text(r[7]), text(r[8])
            if status not in _CANDIDATE_STATUSES:
                reason = f"unknown verdict {status[:40]!r} in the file"
                status = CandidateStatus.INVALID
            yield (
                Candidate(
                    id=int(r[0]),
                    step=int(r[1]),
                    index=whole(r[2]) or 0,
                    completion_index=whole(r[3]) or 0,
                    solution=from_json(r[4], "a candidate"),
                    text=text(r[5]),
                    key=text(r[6]),
                    status=CandidateStatus(status),
                    reason=reason,
                    score=number(r[9]),
                )
            )

    def calls(self, run_id: int, step: int | None = None) -> list[CallRow]:
        sql = f"SELECT {', '.join(_CALL_COLUMNS)} FROM llm_call WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if step is not None:
            sql += " AND step = ?"
            args += (step,)
        return [self._call_row(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    @staticmethod
    def _call_row(r: Sequence[Any]) -> CallRow:
        d = dict(zip(_CALL_COLUMNS, r, strict=True))
        return CallRow(
            id=int(d["id"]),
            run_id=whole(d["run_id"]),
            step=whole(d["step"]),
            replay_id=whole(d["replay_id"]),
            evaluation_id=whole(d["evaluation_id"]),
            record=call_from_row(d),
        )

    def step_detail(self, run_id: int, step: int) -> StepDetail | None:
        row = self.conn.execute(
            "SELECT step, best_score, best_solution, optimal, started_at, finished_at,"
            " meta_prompt, completions FROM step WHERE run_id = ? AND step = ?",
            (run_id, step),
        ).fetchone()
        if row is None:
            return None
        cands = tuple(
            replace(c, records=tuple(self.records(candidate_id=c.id)))
            for c in self.candidates(run_id, step)
        )
        return StepDetail(
            row=self._step_row(run_id, row),
            meta_prompt=text(row[6]),
            completions=texts(from_json(row[7], "completions")),
            candidates=cands,
            calls=tuple(self.calls(run_id, step)),
            ingredients=self.ingredients(run_id, step),
        )

    def totals(self, run_id: int) -> Totals:
        return totals_of([c.record for c in self.calls(run_id)])

    def load_state(self, run_id: int, higher_is_better: bool, with_records: bool) -> RunState:
        """Rebuild what the engine needs to continue ``run_id`` after its last completed step."""
        state = RunState(last_step=self.last_step(run_id), totals=self.totals(run_id))
        for c in self.candidates(run_id):
            if c.status in (CandidateStatus.SCORED, CandidateStatus.FILTERED) and c.key:
                state.seen_keys.add(c.key)
            if c.status == CandidateStatus.SCORED and c.score is not None:
                records = tuple(self.records(candidate_id=c.id)) if with_records else ()
                state.history.append(
                    Scored(
                        solution=c.solution,
                        score=c.score,
                        step=c.step,
                        records=records,
                        index=c.index,
                    )
                )
        best: float | None = None
        for s in self.steps(run_id):
            state.found_optimum = state.found_optimum or s.optimal
            score = s.best_score
            better = score is not None and (
                best is None or (score > best if higher_is_better else score < best)
            )
            if better:
                best = score
                state.steps_without_improvement = 0
            elif s.step > 0:
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
            # the copied steps' ingredients, pointing at the copies of their candidates
            self.conn.execute(
                "INSERT INTO ingredient (run_id, step, position, candidate_id, example_id)"
                " SELECT ?, i.step, i.position, new.id, i.example_id FROM ingredient i"
                " LEFT JOIN candidate old ON old.id = i.candidate_id"
                " LEFT JOIN candidate new ON new.run_id = ? AND new.step = old.step"
                " AND new.idx = old.idx WHERE i.run_id = ? AND i.step <= ?",
                (dst_run, dst_run, src_run, upto_step),
            )
            self.conn.execute("UPDATE run SET status = 'paused' WHERE id = ?", (dst_run,))
            stats_sql.rebuild(self.conn, dst_run)
