"""Checks made when a project file is opened: how to connect, what a usable file looks like."""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path

from . import busy, schema
from .rows import ProjectError


def connect_readonly(path: Path) -> sqlite3.Connection:
    # as_uri() escapes "#", "?" and "%": a raw "file:" URI cut "run #1.opro" short and
    # created a stray empty database instead of opening the project.
    uri = path.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=busy.WAIT_S)
    try:
        conn.execute("PRAGMA schema_version")
    except sqlite3.OperationalError:
        if os.access(path.parent, os.W_OK):
            raise
        # Left in WAL mode by a crash, on read-only media with no -shm: read the main file.
        conn.close()
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=busy.WAIT_S)
    return conn


def unreadable(path: Path, exc: Exception) -> ProjectError:
    """SQLite's word on a damaged file, on one line (it may quote the schema's SQL)."""
    return ProjectError(f"{path} is damaged and cannot be read ({' '.join(str(exc).split())})")


@functools.cache
def expected_columns() -> dict[str, frozenset[str]]:
    """The columns of each table this version writes (built once per process)."""
    expected = sqlite3.connect(":memory:")
    try:
        schema.create(expected)
        tables = [
            r[0] for r in expected.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            t: frozenset(r[1] for r in expected.execute(f"PRAGMA table_info({t})")) for t in tables
        }
    finally:
        expected.close()


def structure_problem(conn: sqlite3.Connection, check_pages: bool = True) -> str:
    """Why the file's pages or tables are unusable, or "" (checked once on open, so later
    reads meet only well-formed tables; quick_check reads every page but skips slow checks,
    and is left out with ``check_pages=False``: the caller checks the pages elsewhere)."""
    for table, want in expected_columns().items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if not want <= have:
            return f"table {table} is missing or lacks columns {sorted(want - have)}"
    # We never write triggers or views: in a file from elsewhere they would be code run on
    # our writes (rewriting scores, deleting steps). Refuse them rather than run them.
    sql = "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view')"
    code = [r[0] for r in conn.execute(sql)]
    if code:
        return f"it contains triggers or views ({', '.join(code[:3])}), which projects never have"
    if not check_pages:
        return ""
    verdict = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    return "" if verdict == "ok" else f"integrity check failed ({' '.join(verdict.split())[:200]})"


def in_memory_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    memory = sqlite3.connect(":memory:")
    conn.backup(memory)
    conn.close()
    return memory
