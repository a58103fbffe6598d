"""Checks made when a project file is opened: how to connect, what a usable file looks like."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from pathlib import Path

from . import busy, pages, schema
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


def check_file(path: Path) -> None:
    """What can be told before SQLite reads the file: it exists, is a regular file, starts as
    a SQLite database does, and holds whole pages."""
    if not path.exists():
        raise ProjectError(f"no such project file: {path}")
    if path.is_dir():
        raise ProjectError(f"{path} is a folder, not a project file")
    if not path.is_file():  # a FIFO or device would block or never end
        raise ProjectError(f"{path} is not a regular file")
    with path.open("rb") as fh:
        head = fh.read(18)
    if head[:16] != b"SQLite format 3\x00":
        raise ProjectError(f"{path} is not an OPRO Studio project (not a SQLite database)")
    page = int.from_bytes(head[16:18], "big") if len(head) == 18 else 0
    page = 65536 if page == 1 else page
    if not page or path.stat().st_size % page:  # a cut file (its last page may be unused)
        raise ProjectError(f"{path} is damaged and cannot be read (the file is truncated)")


def file_problem(
    path: Path, page: int, app_id: int, tables: set[str], version: int
) -> ProjectError | None:
    """What SQLite's own header says against opening the file here, or None."""
    if page > 0 and path.stat().st_size % page:  # SQLite writes whole pages only
        return ProjectError(f"{path} is damaged: the file was cut short (not whole pages)")
    if app_id != schema.APPLICATION_ID or "project" not in tables:
        return ProjectError(f"{path} is a SQLite database but not an OPRO Studio project")
    if version > schema.SCHEMA_VERSION:
        return ProjectError(
            f"{path} was written by a newer OPRO Studio (file schema {version}, this version "
            f"reads up to {schema.SCHEMA_VERSION}); update OPRO Studio to open it"
        )
    if version < 1 or (version < schema.SCHEMA_VERSION and version not in schema.UPGRADES):
        return ProjectError(f"{path} has an unknown schema version {version}")
    return None


def upgraded(conn: sqlite3.Connection, version: int, readonly: bool) -> sqlite3.Connection:
    """The connection to read from once the file is at this version's schema: upgraded in
    place, or — opened to read — a private upgraded copy (never written). Upgrades that only
    add an index are skipped when reading: the file reads the same without it."""
    if version >= schema.SCHEMA_VERSION or (readonly and schema.only_indexes_missing(version)):
        return conn
    if readonly:
        conn = in_memory_copy(conn)
    elif schema.only_indexes_missing(version):
        # A file that cannot be written (read-only media) reads the same without the index.
        with contextlib.suppress(sqlite3.OperationalError):
            schema.upgrade(conn, version)
        return conn
    schema.upgrade(conn, version)
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


def structure_problem(
    conn: sqlite3.Connection, check_pages: bool = True, bounded_on: Path | None = None
) -> str:
    """Why the file's pages or tables are unusable, or "" (checked once on open, so later
    reads meet only well-formed tables; quick_check reads every page but skips slow checks,
    and is left out with ``check_pages=False``: the caller checks the pages elsewhere). With
    ``bounded_on`` (a read-only open of that file) the check is bounded: the header's page
    count against the file's size, and quick_check of every table but the row tables, whose
    damaged pages the guarded reads report when they meet them."""
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
    if bounded_on is not None:
        tables = list(expected_columns())
        found = pages.header_problem(bounded_on) or pages.bounded_page_problem(conn, tables)
        return f"integrity check failed ({found})" if found else ""
    verdict = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    return "" if verdict == "ok" else f"integrity check failed ({' '.join(verdict.split())[:200]})"


def in_memory_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    memory = sqlite3.connect(":memory:")
    conn.backup(memory)
    conn.close()
    return memory
