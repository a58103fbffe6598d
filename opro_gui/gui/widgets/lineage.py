"""Lineage of a run: candidates as points over steps (coloured by score), an edge from each to
its closest ancestor in its meta-prompt; clicking one shows where it came from."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from opro_gui.services.provenance import lineage_of, provenance_of

from ..worker import run_in_background


def _colour(t: float) -> tuple[int, int, int]:
    """Blue (worst) to red (best)."""
    t = min(1.0, max(0.0, t))
    return int(40 + 200 * t), int(80 + 60 * (1 - abs(2 * t - 1))), int(220 - 200 * t)


class LineageDialog(QDialog):
    lineage_loaded = Signal()
    provenance_shown = Signal(int)  # candidate id

    def __init__(
        self,
        project: str | Path,
        run_id: int,
        higher_is_better: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Lineage of run {run_id}")
        self.resize(900, 700)
        self.project, self.run_id, self.higher_is_better = str(project), run_id, higher_is_better
        self.nodes: list[dict[str, Any]] = []
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "score")
        self.edges = self.plot.plot([], [], pen=pg.mkPen("#999999", width=1), connect="pairs")
        self.points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#333333"))
        self.points.sigClicked.connect(self._on_points_clicked)
        self.plot.addItem(self.points)
        self.detail = QTextBrowser()
        self.message = QLabel("Loading…")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.detail)
        box = QVBoxLayout(self)
        box.addWidget(self.message)
        box.addWidget(split)
        run_in_background(
            lineage_of, self.project, run_id, on_done=self.set_lineage,
            on_error=lambda e: self.message.setText(str(e)), owner=self,
        )  # fmt: skip

    def set_lineage(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = nodes
        scores = [n["score"] for n in nodes]
        lo, hi = (min(scores), max(scores)) if scores else (0.0, 1.0)
        span = (hi - lo) or 1.0
        spots = []
        for n in nodes:
            t = (n["score"] - lo) / span
            t = t if self.higher_is_better else 1 - t
            spots.append({"pos": (n["step"], n["score"]), "data": n["candidate_id"],
                          "brush": pg.mkBrush(*_colour(t))})  # fmt: skip
        self.points.setData(spots)
        by_id = {n["candidate_id"]: n for n in nodes}
        xs, ys = [], []
        for n in nodes:
            parent = by_id.get(n["parent_id"])
            if parent is not None:
                xs += [parent["step"], n["step"]]
                ys += [parent["score"], n["score"]]
        self.edges.setData(xs, ys)
        self.message.setText(f"{len(nodes)} scored candidates; click one to see where it came from")
        self.lineage_loaded.emit()

    def _on_points_clicked(self, _item: Any, spots: list[Any], *_: Any) -> None:
        if spots:
            self.select(int(spots[0].data()))

    def select(self, candidate_id: int) -> None:
        node = next(n for n in self.nodes if n["candidate_id"] == candidate_id)
        run_in_background(
            provenance_of, self.project, self.run_id, node["step"], node["index"],
            on_done=self.show_provenance, owner=self,
        )  # fmt: skip

    def show_provenance(self, p: dict[str, Any]) -> None:
        parts = [f"<h3>step {p['step']}, candidate {p['index']}: score {p['score']}</h3>",
                 f"<p>{escape(p['text'])}</p>"]  # fmt: skip
        a = p["closest_ancestor"]
        if a is not None:
            diff = []
            for d in a["diff"]:
                if d["op"] == "equal":
                    diff.append(escape(d["old"]))
                if d["op"] in ("delete", "replace"):
                    diff.append(f"<span style='color:#a40000'><s>{escape(d['old'])}</s></span>")
                if d["op"] in ("insert", "replace"):
                    diff.append(f"<span style='color:#006400'><b>{escape(d['new'])}</b></span>")
            parts.append(
                f"<p>closest ancestor: step {a['step']} (similarity {a['similarity']:.2f})</p>"
                f"<p>{' '.join(diff)}</p>"
            )
        parts.append("<p>its meta-prompt showed:</p><ul>")
        parts += [f"<li>step {e['step']}: {escape(str(e['text']))[:200]}</li>"
                  for e in p["ingredients"]]  # fmt: skip
        parts.append("</ul><p>sentences first seen at:</p><ul>")
        parts += [f"<li>step {s['first_step']}: {escape(s['sentence'])}</li>"
                  for s in p["sentences"]]  # fmt: skip
        parts.append("</ul>")
        self.detail.setHtml("".join(parts))
        self.provenance_shown.emit(p["candidate_id"])
