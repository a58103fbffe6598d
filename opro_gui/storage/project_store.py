"""Read and write one `.opro` project file. The only module that speaks SQL."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from opro_gui import __version__
from opro_gui.core.models import (
    CallRecord,
    CandidateStatus,
    ExampleRecord,
    Scored,
    ScoreResult,
    StepRecord,
    Totals,
)
from opro_gui.core.ports import RunState

from . import schema


class ProjectError(Exception):
    """A project file cannot be used; the message is one line a user can act on."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _loads(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"corrupt project file: {what} is not valid JSON ({exc})") from None


def _connect_readonly(path: Path) -> sqlite3.Connection:
    # as_uri() escapes "#", "?" and "%": a raw "file:" URI cut "run #1.opro" short and
    # created a stray empty database instead of opening the project.
    uri = path.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        conn.execute("PRAGMA schema_version")
    except sqlite3.OperationalError:
        if os.access(path.parent, os.W_OK):
            raise
        # Left in WAL mode by a crash, on read-only media with no -shm: read the main file.
        conn.close()
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=30)
    return conn


def _structure_problem(conn: sqlite3.Connection) -> str:
    """Why the file's pages or tables are unusable, or "" (checked once on open, so later
    reads meet only well-formed tables; quick_check reads every page but skips slow checks)."""
    expected = sqlite3.connect(":memory:")
    schema.create(expected)
    for (table,) in expected.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        want = {r[1] for r in expected.execute(f"PRAGMA table_info({table})")}
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if not want <= have:
            expected.close()
            return f"table {table} is missing or lacks columns {sorted(want - have)}"
    expected.close()
    # We never write triggers or views: in a file from elsewhere they would be code run on
    # our writes (rewriting scores, deleting steps). Refuse them rather than run them.
    sql = "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view')"
    code = [r[0] for r in conn.execute(sql)]
    if code:
        return f"it contains triggers or views ({', '.join(code[:3])}), which projects never have"
    verdict = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    return "" if verdict == "ok" else f"integrity check failed ({' '.join(verdict.split())[:200]})"


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


class ProjectStore:
    """One open connection to a project file. Use one store per thread."""

    app_version = __version__  # stamped into every file this version writes

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)

    # -- opening -------------------------------------------------------------------------
    @staticmethod
    def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
        try:
            conn = _connect_readonly(path) if readonly else sqlite3.connect(str(path), timeout=30)
        except sqlite3.Error as exc:
            raise ProjectError(f"cannot open {path}: {exc}") from None
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA trusted_schema = OFF")  # no functions with side effects in schema
        # A damaged or hostile file may hold bytes that are not UTF-8: show them, never crash.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        return conn

    @classmethod
    def create(
        cls, path: str | Path, kind: str, spec: dict[str, Any], name: str | None = None
    ) -> ProjectStore:
        path = Path(path)
        if path.exists():
            raise ProjectError(f"{path} already exists; choose another name or delete it first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create {path}: {exc.strerror}") from None
        conn = cls._connect(path)
        store = cls(path, conn)
        now = time.time()
        spec = dict(spec)
        examples = spec.pop("examples", None)
        try:
            with conn:
                schema.create(conn)
                store.db.table("project").insert(
                    {
                        "id": 1,
                        "name": name or path.stem,
                        "kind": kind,
                        "spec": _dumps(spec),
                        "created_at": now,
                        "updated_at": now,
                        "app_version": cls.app_version,
                        "created_by_version": cls.app_version,
                    }
                )
                if examples is not None:
                    store._write_examples(examples)
        except (sqlite3.Error, OSError) as exc:
            conn.close()
            path.unlink(missing_ok=True)
            raise ProjectError(f"cannot write {path}: {exc}") from None
        return store

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> ProjectStore:
        path = Path(path)
        if not path.exists():
            raise ProjectError(f"no such project file: {path}")
        if path.is_dir():
            raise ProjectError(f"{path} is a folder, not a project file")
        if not path.is_file():  # a FIFO or device would block or never end
            raise ProjectError(f"{path} is not a regular file")
        with path.open("rb") as fh:
            head = fh.read(16)
        if head != b"SQLite format 3\x00":
            raise ProjectError(f"{path} is not an OPRO Studio project (not a SQLite database)")
        conn = cls._connect(path, readonly)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        # UnicodeDecodeError: the error message of a mangled schema may not be UTF-8 itself.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            conn.close()
            raise ProjectError(f"{path} is damaged and cannot be read ({exc})") from None
        if app_id != schema.APPLICATION_ID or "project" not in tables:
            conn.close()
            raise ProjectError(f"{path} is a SQLite database but not an OPRO Studio project")
        if version > schema.SCHEMA_VERSION:
            conn.close()
            raise ProjectError(
                f"{path} was written by a newer OPRO Studio (file schema {version}, this version "
                f"reads up to {schema.SCHEMA_VERSION}); update OPRO Studio to open it"
            )
        if version < 1 or (version < schema.SCHEMA_VERSION and version not in schema.UPGRADES):
            conn.close()
            raise ProjectError(f"{path} has an unknown schema version {version}")
        store = cls(path, conn)
        try:
            if version < schema.SCHEMA_VERSION and not readonly:
                schema.upgrade(conn, version)
            row = conn.execute("SELECT kind, spec FROM project WHERE id = 1").fetchone()
            problem = _structure_problem(conn)
        # UnicodeDecodeError: the error message of a mangled schema may not be UTF-8 itself.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            conn.close()
            raise ProjectError(f"{path} is damaged and cannot be read ({exc})") from None
        if row is None or problem:
            conn.close()
            raise ProjectError(f"{path} is damaged: {problem or 'it has no project record'}")
        _loads(row[1], "the task definition")
        return store

    def close(self) -> None:
        try:
            if self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.conn.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error:
            pass  # another connection still has the file open; the WAL is kept safely
        self.conn.close()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enable_wal(self) -> None:
        """While a run writes steps: readers (the GUI) never block the writer."""
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise ProjectError(f"cannot write to {self.path}: {exc}") from None

    @contextmanager
    def _tx(self) -> Iterator[None]:
        try:
            with self.conn:
                yield
        except sqlite3.OperationalError as exc:
            raise ProjectError(f"cannot write to {self.path}: {exc}") from None
        except sqlite3.IntegrityError as exc:  # e.g. the step we meant to add is already there
            raise ProjectError(
                f"another OPRO Studio window or `opro run` is writing this run of "
                f"{self.path.name}; nothing was overwritten ({exc})"
            ) from None

    # -- project -------------------------------------------------------------------------
    def project(self) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT name, kind, created_at, updated_at, app_version, created_by_version "
            "FROM project WHERE id = 1"
        ).fetchone()
        keys = ["name", "kind", "created_at", "updated_at", "app_version", "created_by_version"]
        return dict(zip(keys, row, strict=True))

    @property
    def kind(self) -> str:
        return str(self.project()["kind"])

    def spec(self) -> dict[str, Any]:
        """The task definition, with the embedded dataset put back under ``examples``."""
        row = self.conn.execute("SELECT spec FROM project WHERE id = 1").fetchone()
        spec = _loads(row[0], "the task definition")
        if not isinstance(spec, dict):
            raise ProjectError(
                f"corrupt project file {self.path}: the task definition is not a dict"
            )
        examples = self.examples()
        if examples:
            spec["examples"] = examples
        return spec

    def update_spec(self, spec: dict[str, Any]) -> None:
        spec = dict(spec)
        examples = spec.pop("examples", None)
        with self._tx():
            self.conn.execute(
                "UPDATE project SET spec = ?, updated_at = ?, app_version = ? WHERE id = 1",
                (_dumps(spec), time.time(), self.app_version),
            )
            if examples is not None:
                self.conn.execute("DELETE FROM example")
                self._write_examples(examples)

    def examples(self) -> list[dict[str, Any]]:
        out = []
        for input_, target, extra in self.conn.execute(
            "SELECT input, target, extra FROM example ORDER BY id"
        ):
            ex: dict[str, Any] = {"input": input_, "target": target}
            if extra:
                ex.update(_loads(extra, "an example"))
            out.append(ex)
        return out

    def _write_examples(self, examples: Sequence[dict[str, Any]]) -> None:
        rows = []
        for i, ex in enumerate(examples):
            extra = {k: v for k, v in ex.items() if k not in ("input", "target")}
            rows.append((i, str(ex["input"]), str(ex["target"]), _dumps(extra) if extra else None))
        self.conn.executemany(
            "INSERT INTO example (id, input, target, extra) VALUES (?,?,?,?)", rows
        )

    # -- runs ----------------------------------------------------------------------------
    def create_run(
        self,
        settings: dict[str, Any],
        optimizer: dict[str, Any],
        scorer: dict[str, Any] | None,
        parent_run_id: int | None = None,
        fork_step: int | None = None,
        spec_override: dict[str, Any] | None = None,
    ) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO run (created_at, settings, optimizer, scorer, status, parent_run_id,"
                " fork_step, spec_override, app_version) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    _dumps(settings),
                    _dumps(optimizer),
                    _dumps(scorer) if scorer is not None else None,
                    "created",
                    parent_run_id,
                    fork_step,
                    _dumps(spec_override) if spec_override is not None else None,
                    self.app_version,
                ),
            )
        return int(cur.lastrowid or 0)

    def update_run_config(
        self,
        run_id: int,
        settings: dict[str, Any],
        optimizer: dict[str, Any],
        scorer: dict[str, Any] | None,
    ) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE run SET settings = ?, optimizer = ?, scorer = ? WHERE id = ?",
                (_dumps(settings), _dumps(optimizer), _dumps(scorer) if scorer else None, run_id),
            )

    def run(self, run_id: int) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT id, created_at, settings, optimizer, scorer, status, status_reason,"
            " parent_run_id, fork_step, spec_override, app_version FROM run WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise ProjectError(f"run {run_id} does not exist in {self.path.name}")
        return {
            "id": row[0],
            "created_at": row[1],
            "settings": _loads(row[2], "run settings"),
            "optimizer": _loads(row[3], "optimizer settings"),
            "scorer": _loads(row[4], "scorer settings"),
            "status": row[5],
            "status_reason": row[6],
            "parent_run_id": row[7],
            "fork_step": row[8],
            "spec_override": _loads(row[9], "run template"),
            "app_version": row[10],
        }

    def run_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM run ORDER BY id")]

    def set_status(self, run_id: int, status: str, reason: str = "") -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE run SET status = ?, status_reason = ? WHERE id = ?",
                (str(status), reason, run_id),
            )

    def last_step(self, run_id: int) -> int:
        row = self.conn.execute("SELECT MAX(step) FROM step WHERE run_id = ?", (run_id,)).fetchone()
        return -1 if row[0] is None else int(row[0])

    # -- steps ---------------------------------------------------------------------------
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
                    _dumps(list(record.completions)),
                    _num(record.best_score),
                    _dumps(record.best_solution),
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
                        _dumps(c.solution),
                        c.text,
                        c.key,
                        str(c.status),
                        c.reason,
                        _num(c.score),
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
        return [
            ExampleRecord(
                example_id=r[0],
                prompt=r[1],
                raw_answer=r[2],
                parsed_answer=r[3],
                correct=None if r[4] is None else bool(r[4]),
                error=r[5],
            )
            for r in self.conn.execute(
                "SELECT example_id, prompt, raw_answer, parsed_answer, correct, error"
                f" FROM example_result WHERE {col} = ? ORDER BY id",
                (val,),
            )
        ]

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        return [
            {
                "step": r[0],
                "best_score": r[1],
                "best_solution": _loads(r[2], "a step"),
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
            d["solution"] = _loads(d["solution"], "a candidate")
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
            c["records"] = [r.__dict__ for r in self.records(candidate_id=c["id"])]
        return {
            "run_id": run_id,
            "step": step,
            "meta_prompt": row[0],
            "completions": _loads(row[1], "completions"),
            "best_score": row[2],
            "best_solution": _loads(row[3], "a step"),
            "optimal": bool(row[4]),
            "started_at": row[5],
            "finished_at": row[6],
            "candidates": cands,
            "calls": self.calls(run_id, step),
        }

    def totals(self, run_id: int) -> Totals:
        totals = Totals()
        for c in self.calls(run_id):
            totals.add(_call_from_row(c))
        return totals

    # -- resume --------------------------------------------------------------------------
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
                self.conn.execute(
                    "INSERT INTO example_result (candidate_id, example_id, prompt, raw_answer,"
                    " parsed_answer, correct, error) SELECT ?, example_id, prompt, raw_answer,"
                    " parsed_answer, correct, error FROM example_result WHERE candidate_id = ?",
                    (cur.lastrowid, cid),
                )
            self.conn.execute("UPDATE run SET status = 'paused' WHERE id = ?", (dst_run,))

    # -- replays and evaluations ---------------------------------------------------------
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
                    _dumps(endpoint),
                    meta_prompt,
                    _dumps(list(completions)),
                    _dumps(list(candidates)),
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
                "endpoint": _loads(r[4], "a replay"),
                "meta_prompt": r[5],
                "completions": _loads(r[6], "a replay"),
                "candidates": _loads(r[7], "a replay"),
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
                    _dumps(solution),
                    text,
                    _num(result.score),
                    int(result.complete),
                    _num(train_score),
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
            r["solution"] = _loads(r["solution"], "an evaluation")
        return rows

    # -- files ---------------------------------------------------------------------------
    def save_as(self, target: str | Path) -> None:
        """One self-contained file (SQLite backup API): no WAL or journal beside it."""
        target = Path(target)
        tmp = target.with_name(target.name + ".part")
        tmp.unlink(missing_ok=True)
        try:
            dest = sqlite3.connect(str(tmp))
            with dest:
                self.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
            dest.close()
            tmp.replace(target)
        except (sqlite3.Error, OSError) as exc:
            tmp.unlink(missing_ok=True)
            raise ProjectError(f"cannot save to {target}: {exc}") from None

    def integrity_ok(self) -> bool:
        return bool(self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


class ProjectCache:
    """The LLM response cache, kept in the project so a shared project replays for free."""

    def __init__(self, store: ProjectStore) -> None:
        self.store = store

    def get(self, key: str) -> str | None:
        row = self.store.conn.execute(
            "SELECT value FROM response_cache WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self.store.conn:
            self.store.conn.execute(
                "INSERT OR REPLACE INTO response_cache (key, value, created_at) VALUES (?,?,?)",
                (key, value, time.time()),
            )


def _call_from_row(c: dict[str, Any]) -> CallRecord:
    return CallRecord(
        role=c["role"],
        model_requested=c["model_requested"],
        model_reported=c["model_reported"],
        prompt_tokens=c["prompt_tokens"],
        completion_tokens=c["completion_tokens"],
        latency_s=c["latency_s"],
        retries=c["retries"],
        cached=bool(c["cached"]),
        error=c["error"],
        n=c["n"],
        cost_usd=c["cost_usd"],
        base_url=c["base_url"],
    )
