"""Exports of a whole project (JSON nested run → step → candidate, or CSV) and Save As."""

from __future__ import annotations

import contextlib
import csv
import json
import time
from pathlib import Path
from typing import Any

from opro_gui.storage import ProjectError

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
        for run_id in self.run_ids():
            run = self.store.run(run_id).to_json()
            run["summary"] = self.run_summary(run_id).to_json()
            run["steps"] = []
            for s in self.store.steps(run_id):
                detail = self.store.step_detail(run_id, s.step)
                if detail is not None:
                    run["steps"].append(detail.to_json())
            run["replays"] = [r.to_json() for r in self.store.replays(run_id)]
            run["evaluations"] = [e.to_json() for e in self.store.evaluations(run_id, records=True)]
            run["human_actions"] = self.store.human_actions(run_id)
            out["runs"].append(run)
        return out

    def export(self, target: str | Path, fmt: str) -> None:
        target = Path(target)
        # Written beside the target, then renamed: a full disk never leaves half an export.
        part = target.with_name(target.name + ".part")
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
                    for run_id in self.run_ids():
                        for c in self.store.candidates(run_id):
                            w.writerow(
                                [
                                    run_id,
                                    c.step,
                                    c.index,
                                    c.completion_index,
                                    str(c.status),
                                    c.reason,
                                    c.score,
                                    json.dumps(c.solution, ensure_ascii=False),
                                    c.text,
                                ]
                            )
            else:
                raise ProjectError(f"unknown export format {fmt!r}; use json or csv")
            part.replace(target)
        except OSError as exc:
            raise ProjectError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(OSError):  # a read-only folder refuses even this
                part.unlink(missing_ok=True)

    def save_as(self, target: str | Path) -> None:
        self.store.save_as(target)
