"""Temporary files beside a target (exports, Save As): named so a later start can sweep them."""

from __future__ import annotations

import contextlib
import os
import re
import socket
from pathlib import Path

SUFFIX = ".opro-part"
COMPANIONS = ("", "-journal", "-wal", "-shm")  # SQLite writes these beside a database
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:40] or "host"
_PART = re.compile(r".+\.(\d+)@([A-Za-z0-9-]*)" + re.escape(SUFFIX) + r"(-journal|-wal|-shm)?")


def part_path(target: Path) -> Path:
    """Where to write ``target`` before renaming it into place: names this process."""
    return target.with_name(f"{target.name}.{os.getpid()}@{_HOST}{SUFFIX}")


def remove(path: Path) -> None:
    """Delete ``path`` and its SQLite companions; a folder that refuses is left alone."""
    for tail in COMPANIONS:
        with contextlib.suppress(OSError):
            path.with_name(path.name + tail).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, OSError):
        return True  # another user's process, or a pid we cannot check: keep its file
    return True


def sweep(folder: Path) -> list[Path]:
    """Remove the part files in ``folder`` left by a process of this machine that is gone
    (killed during an export or a Save As). Returns what was removed."""
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _PART.fullmatch(name)
        if m is None or m.group(2) != _HOST or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            (folder / name).unlink()
            removed.append(folder / name)
    return removed
