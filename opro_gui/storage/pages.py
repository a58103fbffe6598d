"""Bounded reads for views: candidate pages, score columns and the top of a run's history."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from opro_gui.core.models import ExampleRecord

from .rows import number

PAGE_COLUMNS = "step, idx, status, score, solution, text, reason"


def file_version(path: Path) -> int | None:
    """The schema version a project file says it has (one header read), or None when it is
    not readable as SQLite (opening it then says why)."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return None
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except (OSError, sqlite3.Error, ValueError, TypeError):
        return None


#: Tables that grow with every candidate, call or example result. A read-only open leaves their
#: pages to the reads themselves (every read is guarded: a damaged page is one clear error when
#: it is read), so opening costs about the same for 100 steps or a million candidates.
ROW_TABLES = frozenset(
    {"candidate", "llm_call", "example_result", "example_verdict", "response_cache"}
)


def header_problem(path: Path) -> str:
    """Pages missing at the end of the file (shorter than its header says), or "" (one read)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if len(head) < 100:
        return "the file is truncated"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    count = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96] and count > 0  # SQLite's rule for trusting the count
    if valid and count * page > size:
        return f"the file is cut short ({size // page:,} of its {count:,} pages)"
    return ""


def bounded_page_problem(conn: sqlite3.Connection, tables: list[str]) -> str:
    """quick_check of ``tables`` (with their indexes) except the row tables, or ""."""
    for table in tables:
        if table in ROW_TABLES or not table.isidentifier():
            continue
        verdict = str(conn.execute(f"PRAGMA quick_check({table})").fetchone()[0])
        if verdict != "ok":
            return " ".join(verdict.split())[:200]
    return ""


def page_problem(conn: sqlite3.Connection) -> str:
    """What SQLite's quick_check finds wrong with the file's pages, or "" (reads every page)."""
    verdict = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    return "" if verdict == "ok" else " ".join(verdict.split())[:200]


def candidate_count(conn: sqlite3.Connection, run_id: int, upto_step: int | None = None) -> int:
    sql, args = "SELECT COUNT(*) FROM candidate WHERE run_id = ?", [run_id]
    if upto_step is not None:
        sql += " AND step <= ?"
        args.append(upto_step)
    return int(conn.execute(sql, args).fetchone()[0])


def candidate_rows(
    conn: sqlite3.Connection, run_id: int, offset: int, limit: int, upto_step: int | None = None
) -> list[tuple[Any, ...]]:
    """Rows (step, idx, status, score, solution JSON, text, reason) in (step, idx) order."""
    sql, args = f"SELECT {PAGE_COLUMNS} FROM candidate WHERE run_id = ?", [run_id]
    if upto_step is not None:
        sql += " AND step <= ?"
        args.append(upto_step)
    sql += " ORDER BY step, idx LIMIT ? OFFSET ?"
    return conn.execute(sql, [*args, limit, offset]).fetchall()


def candidate_position(conn: sqlite3.Connection, run_id: int, step: int, idx: int) -> int | None:
    """The row number of candidate (step, idx) in (step, idx) order, or None."""
    if (
        conn.execute(
            "SELECT 1 FROM candidate WHERE run_id = ? AND step = ? AND idx = ?", (run_id, step, idx)
        ).fetchone()
        is None
    ):
        return None
    row = conn.execute(
        "SELECT COUNT(*) FROM candidate WHERE run_id = ? AND (step < ? OR (step = ? AND idx < ?))",
        (run_id, step, step, idx),
    ).fetchone()
    return int(row[0])


def scored_count(conn: sqlite3.Connection, run_id: int, upto_step: int) -> int:
    return int(
        conn.execute(
            "SELECT COUNT(*) FROM candidate WHERE run_id = ? AND step <= ? AND status = 'scored'"
            " AND score IS NOT NULL",
            (run_id, upto_step),
        ).fetchone()[0]
    )


def scored_points(
    conn: sqlite3.Connection, run_id: int, upto_step: int, stride: int = 1
) -> list[tuple[int, int, float]]:
    """(step, idx, score) of scored candidates up to ``upto_step`` (every ``stride``-th row
    by id when thinned): the score plot's points; no JSON decoded."""
    thin = " AND id % ? = 0" if stride > 1 else ""
    args: tuple[int, ...] = (run_id, upto_step, stride) if stride > 1 else (run_id, upto_step)
    return conn.execute(
        "SELECT step, idx, score FROM candidate WHERE run_id = ? AND step <= ?"
        f" AND status = 'scored' AND score IS NOT NULL{thin} ORDER BY step, idx",
        args,
    ).fetchall()


def step_bests(conn: sqlite3.Connection, run_id: int) -> list[tuple[int, float | None, str]]:
    """(step, best score, best solution JSON) of every step, in order."""
    return conn.execute(
        "SELECT step, best_score, best_solution FROM step WHERE run_id = ? ORDER BY step",
        (run_id,),
    ).fetchall()


def top_scored(
    conn: sqlite3.Connection,
    run_id: int,
    limit: int,
    higher_is_better: bool,
    upto_step: int | None = None,
) -> list[tuple[int, str, float, int]]:
    """(candidate id, solution JSON, score, step) of the ``limit`` best scored candidates (up
    to ``upto_step``), ties broken by the earlier step (the meta-prompt history's order)."""
    order = "score DESC" if higher_is_better else "score ASC"
    upto = 1 << 62 if upto_step is None else upto_step
    return conn.execute(
        "SELECT id, solution, score, step FROM candidate WHERE run_id = ? AND step <= ?"
        " AND status = 'scored' AND score IS NOT NULL"
        f" ORDER BY {order}, step, idx LIMIT ?",
        (run_id, upto, limit),
    ).fetchall()


def example_records(conn: sqlite3.Connection, candidate_id: int) -> tuple[ExampleRecord, ...]:
    return tuple(
        ExampleRecord(
            example_id=r[0],
            prompt=r[1],
            raw_answer=r[2],
            parsed_answer=r[3],
            correct=None if r[4] is None else bool(r[4]),
            error=r[5],
        )
        for r in conn.execute(
            "SELECT example_id, prompt, raw_answer, parsed_answer, correct, error"
            " FROM example_result WHERE candidate_id = ? ORDER BY id",
            (candidate_id,),
        )
    )


def top_texts(
    conn: sqlite3.Connection, run_id: int, limit: int, higher_is_better: bool
) -> list[tuple[int, int, float, str, str]]:
    """(step, idx, score, solution JSON, display text) of the ``limit`` best scored candidates,
    ties broken by the earlier step: a leaderboard sorted in SQL.

    Index reads only, whatever the run's size and its ties (a long run may hold thousands
    of candidates of the same score): the ``limit``-th best score, the fewer than ``limit``
    candidates strictly better, then the earliest of those tied at that score. (One query
    ordered by score and step sorts every tied candidate: SQLite does not stop early on the
    part of an ORDER BY that its index does not give in order.)"""
    if limit <= 0:
        return []
    order = "DESC" if higher_is_better else "ASC"
    scored = "run_id = ? AND status = 'scored' AND score IS NOT NULL"
    columns = "SELECT step, idx, score, solution, text FROM candidate WHERE"
    cut = conn.execute(
        f"SELECT score FROM candidate WHERE {scored} ORDER BY score {order} LIMIT 1 OFFSET ?",
        (run_id, limit - 1),
    ).fetchone()
    if cut is None:  # fewer than ``limit``: all of them
        return conn.execute(
            f"{columns} {scored} ORDER BY score {order}, step, idx", (run_id,)
        ).fetchall()
    beyond = ">" if higher_is_better else "<"
    better = conn.execute(
        f"{columns} {scored} AND score {beyond} ? ORDER BY score {order}, step, idx",
        (run_id, cut[0]),
    ).fetchall()
    tied = conn.execute(
        f"{columns} {scored} AND score = ? ORDER BY step, idx LIMIT ?",
        (run_id, cut[0], limit - len(better)),
    ).fetchall()
    return better + tied


def step_scores(
    conn: sqlite3.Connection, run_id: int, step: int
) -> tuple[float | None, float | None, float | None]:
    """(best after step 0, best after ``step``, the random search's best after ``step``)."""
    start = conn.execute(
        "SELECT best_score FROM step WHERE run_id = ? AND step = 0", (run_id,)
    ).fetchone()
    best = conn.execute(
        "SELECT best_score FROM step WHERE run_id = ? AND step = ?", (run_id, step)
    ).fetchone()
    rs = conn.execute(
        "SELECT random_search FROM step_stats WHERE run_id = ? AND step = ?", (run_id, step)
    ).fetchone()
    return tuple(number(r[0]) if r else None for r in (start, best, rs))  # type: ignore[return-value]
