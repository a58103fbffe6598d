"""Compare runs: best-so-far curves of several runs overlaid (by step or by tokens spent) above
the comparison table. The data comes from services.compare, read in the background."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opro_gui.services.compare import HEADERS, compare_paths, table_rows

from ..worker import run_in_background

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"]


class CompareDialog(QDialog):
    """Shows ``compare_paths(refs)``; more projects can be added. ``comparison_loaded`` fires
    once the data is on screen (tests wait on it)."""

    comparison_loaded = Signal()
    comparison_failed = Signal(str)

    def __init__(self, refs: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare runs")
        self.resize(900, 640)
        self.refs = list(refs)
        self.data: dict[str, Any] | None = None
        self.curve_items: dict[str, pg.PlotDataItem] = {}
        self.align = QComboBox()
        self.align.addItems(["step", "tokens spent"])
        self.align.currentIndexChanged.connect(self._on_align_current_index_changed)
        self.add_button = QPushButton("Add Project…")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.message = QLabel("Loading…")
        self.plot = pg.PlotWidget(background="w")
        self.plot.addLegend()
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        top = QHBoxLayout()
        top.addWidget(QLabel("Align curves by:"))
        top.addWidget(self.align)
        top.addStretch(1)
        top.addWidget(self.add_button)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.message)
        box.addWidget(self.plot, 3)
        box.addWidget(self.table, 2)
        self._load()

    def _load(self) -> None:
        self.message.setText("Loading…")
        run_in_background(
            compare_paths,
            list(self.refs),
            on_done=self.set_comparison,
            on_error=self._on_load_error,
            owner=self,
        )

    def _on_load_error(self, exc: BaseException) -> None:
        self.message.setText(str(exc))
        self.comparison_failed.emit(str(exc))

    def set_comparison(self, data: dict[str, Any]) -> None:
        self.data = data
        self.message.setText("; ".join(data.get("warnings") or []) or f"{len(data['runs'])} runs")
        rows = table_rows(data)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self._draw()
        self.comparison_loaded.emit()

    def _draw(self) -> None:
        if self.data is None:
            return
        by_tokens = self.align.currentIndex() == 1
        self.plot.setLabel("bottom", "tokens spent" if by_tokens else "step")
        for i, run in enumerate(self.data["runs"]):
            curve = run["curve"]
            pairs = [
                (float(x), float(y))
                for x, y in zip(
                    curve["tokens" if by_tokens else "step"], curve["best"], strict=True
                )
                if y is not None
            ]
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
            item = self.curve_items.get(run["ref"])
            if item is None:
                pen = pg.mkPen(_COLOURS[i % len(_COLOURS)], width=2)
                item = self.plot.plot(xs, ys, pen=pen, name=run["ref"])
                self.curve_items[run["ref"]] = item
            else:
                item.setData(xs, ys)

    def _on_align_current_index_changed(self, _index: int) -> None:
        self._draw()

    def _on_add_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a project's runs", "", "OPRO projects (*.opro)"
        )
        if path:
            self.refs.append(path)
            self._load()
