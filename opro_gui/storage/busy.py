"""Telling a busy project (another process holds its lock) from a damaged one, and who it is."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

from .rows import ProjectError

WAIT_S = 30.0  # how long to wait for another connection's lock before saying "busy"
_WRITER = re.compile(r"written by process (\d+) on (.+)")


def is_busy(exc: BaseException) -> bool:
    """SQLite gave up waiting for another connection's lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def writer(conn: sqlite3.Connection | None) -> str:
    """Who is writing, from a running run's mark ("process 4242 on host"), or ""."""
    if conn is None:
        return ""
    with contextlib.suppress(sqlite3.Error):
        rows = conn.execute(
            "SELECT id, status_reason FROM run WHERE status = 'running' ORDER BY id DESC"
        ).fetchall()
        for run_id, reason in rows:
            m = _WRITER.fullmatch(str(reason))
            if m:
                return f"run {run_id} (process {m.group(1)} on {m.group(2)})"
    return ""


def busy_error(path: Path, conn: sqlite3.Connection | None = None) -> ProjectError:
    who = writer(conn)
    by = f" {who} is writing it" if who else " another program (a run, another window) has it"
    return ProjectError(f"{path.name} is busy:{by}; try again once it has finished")


def integrity_error(path: Path, exc: sqlite3.IntegrityError) -> ProjectError:
    """A duplicate step means another writer got there first; anything else (NOT NULL, CHECK,
    a foreign key) is a value this file cannot hold."""
    text = str(exc)
    if "UNIQUE" in text or "PRIMARY KEY" in text:
        return ProjectError(
            f"another OPRO Studio window or `opro run` is writing this run of {path.name}; "
            f"nothing was overwritten ({text})"
        )
    return ProjectError(
        f"{path.name} refused a value ({text}); nothing was written — the file may have been "
        "edited by hand"
    )
