"""Exports of a whole project (JSON nested run → step → candidate, or CSV) and Save As."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import time
from pathlib import Path
from typing import Any

from opro_gui.core.text import scrub_urls
from opro_gui.storage import ProjectError, leftovers

from .base import _reads_file
from .reports import ReportsMixin


class ExportMixin(ReportsMixin):
    @_reads_file
    def export_dict(self) -> dict[str, Any]:
        """Everything in the project, nested run → step → candidate (no secrets: there are none)."""
        project = self.store.project().to_json()
        out: dict[str, Any] = {
            "format": "opro-studio-export",
            "format_version": 1,
            "exported_at": time.time(),
            "project": project,
            "kind": self.kind,
            "task": self.store.spec(),
            "problem": self.problem().summary(),
            "runs": [],
        }
        for run_id in self.store.run_ids():  # baseline runs too (spec_override baseline_of)
            run = self.store.run(run_id).to_json()
            run["summary"] = self.run_verdict(run_id).to_json()
            run["steps"] = []
            for s in self.store.steps(run_id):
                detail = self.store.step_detail(run_id, s.step)
                if detail is not None:
                    run["steps"].append(detail.to_json())
            run["replays"] = [r.to_json() for r in self.store.replays(run_id)]
            run["evaluations"] = [e.to_json() for e in self.store.evaluations(run_id, records=True)]
            run["human_actions"] = self.store.human_actions(run_id)
            out["runs"].append(run)
        return dict(scrub_urls(out))  # a hand-edited file may hold a URL with a password

    def export(self, target: str | Path, fmt: str) -> None:
        target = Path(target)
        refuse_overwriting_a_database(target, self.path)
        leftovers.sweep(target.parent)
        # Written beside the target, then renamed: a full disk never leaves half an export, and
        # the part file names this process so a later start removes it if we are killed.
        part = leftovers.part_path(target)
        try:
            if fmt == "json":
                part.write_text(json.dumps(self.export_dict(), indent=1, ensure_ascii=False))
            elif fmt == "csv":
                with part.open("w", newline="", encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow(
                        [
                            "run_id",
                            "step",
                            "index",
                            "completion_index",
                            "status",
                            "reason",
                            "score",
                            "solution",
                            "text",
                        ]
                    )
                    for run_id in self.store.run_ids():
                        for c in self.store.iter_candidates(run_id):
                            w.writerow(
                                safe_cells(
                                    run_id,
                                    c.step,
                                    c.index,
                                    c.completion_index,
                                    str(c.status),
                                    c.reason,
                                    c.score,
                                    json.dumps(c.solution, ensure_ascii=False),
                                    c.text,
                                )
                            )
            else:
                raise ProjectError(f"unknown export format {fmt!r}; use json or csv")
            part.replace(target)
        except OSError as exc:
            raise ProjectError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            leftovers.remove(part)

    def save_as(self, target: str | Path) -> None:
        target = Path(target)
        if _same_file(target, self.path):
            raise ProjectError(f"{target.name} is this project itself; choose another name")
        self.store.save_as(target)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SQLITE_HEAD = b"SQLite format 3\x00"


def safe_cells(*cells: Any) -> list[Any]:
    """CSV cells a spreadsheet will not run: text starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP's advice against CSV injection). Numbers are left as they are."""
    return ["'" + c if isinstance(c, str) and c.startswith(_FORMULA_START) else c for c in cells]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwriting_a_database(target: Path, project: Path) -> None:
    """An export must never replace a project: the open one, its -wal/-shm/-journal, or any
    other SQLite database."""
    for tail in leftovers.COMPANIONS:
        if _same_file(target, project.with_name(project.name + tail)) or (
            tail and target.name == project.name + tail and target.parent == project.parent
        ):
            what = "this project itself" if not tail else f"this project's {tail[1:]} file"
            raise ProjectError(
                f"refusing to export onto {target.name}: it is {what}; choose another name"
            )
    head = b""
    with contextlib.suppress(OSError):
        if target.is_file():
            with target.open("rb") as fh:
                head = fh.read(16)
    if head == _SQLITE_HEAD:
        raise ProjectError(
            f"refusing to export onto {target.name}: it is a SQLite database (perhaps a "
            "project); choose another name"
        )
    if not target.is_file() and target.exists():
        raise ProjectError(f"refusing to export onto {target.name}: it is not a regular file")
