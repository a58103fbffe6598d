"""Temporary files beside a target (exports, Save As): named so a later start can sweep them."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import time
from pathlib import Path

from opro_gui.core.text import one_line

from . import schema

log = logging.getLogger(__name__)
SUFFIX = ".opro-part"
#: Earlier versions named a part file ``NAME.part``, which says nothing of its writer. Such a
#: file is removed only when its first bytes show that OPRO Studio wrote it (an export's JSON
#: or CSV header, or a SQLite file with the project application id), it has not changed for
#: ``OLD_AFTER_S`` and no process has it open (Linux: /proc/*/fd; where that cannot be
#: looked at, only once it is ``OLD_UNCHECKED_S`` old).
OLD_SUFFIX = ".part"
OLD_AFTER_S = 3600.0
OLD_UNCHECKED_S = 86400.0
_EXPORT_HEADS = (b'{\n "format": "opro-studio-export"', b"run_id,step,")
_SQLITE_HEAD = b"SQLite format 3\x00"
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
    for name in names:
        if name.endswith(OLD_SUFFIX) and _old_part_left_behind(folder / name):
            for tail in COMPANIONS:
                with contextlib.suppress(OSError):
                    (folder / (name + tail)).unlink()
                    removed.append(folder / (name + tail))
    for path in removed:
        log.warning(
            "removed %s, left by an export or Save As that did not finish", one_line(str(path))
        )
    return removed


def _written_by_us(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError:
        return False
    if head.startswith(_SQLITE_HEAD):
        return len(head) >= 72 and int.from_bytes(head[68:72], "big") == schema.APPLICATION_ID
    return head.startswith(_EXPORT_HEADS)


def _held_open(path: Path) -> bool | None:
    """Whether a process we can look at has ``path`` open; None where /proc is not there."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    try:
        want = os.stat(path)
    except OSError:
        return False
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or another user's: the age rule protects its files
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                st = os.stat(f"/proc/{pid}/fd/{fd}")
                if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
                    return True
    return False


def _old_part_left_behind(path: Path) -> bool:
    """An old-style ``NAME.part`` of ours that nothing is writing any more."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False
    if age < OLD_AFTER_S or not _written_by_us(path):
        return False
    held = _held_open(path)
    return not held if held is not None else age >= OLD_UNCHECKED_S
