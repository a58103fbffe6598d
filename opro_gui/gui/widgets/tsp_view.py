"""TSP view: the cities, the best tour so far (redrawn as it improves), an optional optimal
tour overlay and the gap to the optimum."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from opro_gui.problems import ProblemKind

from ..themes import LIGHT, PlotColors
from .score_plot import export_plot

_MAX_LABELLED = 60  # city numbers beyond this would only clutter the view


class TSPView(QWidget):
    """The TSP domain view: cities, the best tour so far, the optimum and the gap."""

    tab_title = "Tour"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = LIGHT
        self._points = np.zeros((0, 2))
        self._optimum_length: float | None = None
        self._optimum_exact = True
        self.best_tour: list[int] = []
        # Lengths are written the kind's way (the run view hands its formatter to show_best).
        self._fmt: Callable[[float | None], str] = ProblemKind().format_score
        self.gap_label = QLabel("No tour yet")
        self.gap_label.setObjectName("tsp_gap_label")
        self.gap_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_optimum = QCheckBox("Show optimal tour")
        self.show_optimum.toggled.connect(self._on_show_optimum_toggled)
        self.plot_widget = pg.PlotWidget(background=self._colors.background)
        self.plot_widget.setObjectName("tsp_plot")
        item = self.plot_widget.getPlotItem()
        item.setAspectLocked(True)
        item.hideButtons()
        self.optimum_curve = pg.PlotDataItem()
        self.optimum_curve.setVisible(False)
        self.tour_curve = pg.PlotDataItem()
        self.cities = pg.ScatterPlotItem(size=9, pxMode=True)
        self.start_city = pg.ScatterPlotItem(size=13, symbol="s", pxMode=True)
        for it in (self.optimum_curve, self.tour_curve, self.cities, self.start_city):
            item.addItem(it)
        self._labels: list[pg.TextItem] = []
        top = QHBoxLayout()
        top.addWidget(self.gap_label, 1)
        top.addWidget(self.show_optimum)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.plot_widget, 1)
        self.apply_colors(self._colors)

    def set_instance(
        self,
        points: Sequence[Sequence[float]],
        optimal_tour: Sequence[int] | None,
        optimal_length: float | None,
        exact: bool = True,
    ) -> None:
        self._points = np.asarray(points, dtype=float).reshape(-1, 2)
        self._optimum_length = optimal_length
        self._optimum_exact = exact
        self.cities.setData(pos=self._points)
        self.start_city.setData(pos=self._points[:1])
        item = self.plot_widget.getPlotItem()
        for lab in self._labels:
            item.removeItem(lab)
        self._labels = []
        if len(self._points) <= _MAX_LABELLED:
            for i, (x, y) in enumerate(self._points):
                lab = pg.TextItem(str(i), anchor=(-0.2, 1.1), color=self._colors.foreground)
                lab.setPos(x, y)
                item.addItem(lab)
                self._labels.append(lab)
        self.optimum_curve.setData(*self._closed(optimal_tour or []))
        self.set_best_tour([], None)
        item.autoRange()

    def reset(self) -> None:
        self.set_instance([], None, None)

    def set_problem(self, problem: Any, facts: dict[str, Any]) -> None:
        _, tour, exact = problem.optimum()
        opt = facts.get("optimal_length") or facts.get("best_known_length")
        self.set_instance(problem.points, tour, opt, exact)

    def show_best(
        self, solutions: Sequence[Any], scores: Sequence[float], fmt: Callable[[float | None], str]
    ) -> None:
        best = solutions[-1] if solutions else None
        score = scores[-1] if scores else None
        self._fmt = fmt
        if best != self.best_tour or score is None:
            self.set_best_tour(best, score)

    def set_best_tour(self, tour: Sequence[int] | None, length: float | None) -> None:
        self.best_tour = list(tour or [])
        self.tour_curve.setData(*self._closed(self.best_tour))
        if length is None:
            self.gap_label.setText("No tour yet")
            return
        text = f"Best tour: length {self._fmt(length)}"
        opt = self._optimum_length
        if opt:
            gap = (length - opt) / opt * 100.0
            which = "optimum" if self._optimum_exact else "best known (LKH)"
            text += f" — {which} {self._fmt(opt)}, gap {gap:.2f}%"
            if gap <= 0:
                text += " ✓ optimal"
        self.gap_label.setText(text)

    def _closed(self, tour: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        if not len(tour) or not len(self._points):
            return np.zeros(0), np.zeros(0)
        idx = [i for i in tour if 0 <= i < len(self._points)]
        if not idx:
            return np.zeros(0), np.zeros(0)
        xy = self._points[[*idx, idx[0]]]
        return xy[:, 0], xy[:, 1]

    def _on_show_optimum_toggled(self, on: bool) -> None:
        self.optimum_curve.setVisible(on)

    def apply_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        self.plot_widget.setBackground(colors.background)
        item = self.plot_widget.getPlotItem()
        for axis in ("left", "bottom"):
            item.getAxis(axis).setPen(colors.foreground)
            item.getAxis(axis).setTextPen(colors.foreground)
        self.cities.setBrush(pg.mkBrush(colors.city))
        self.cities.setPen(pg.mkPen(colors.background))
        self.start_city.setBrush(pg.mkBrush(colors.best))
        self.start_city.setPen(pg.mkPen(colors.foreground))
        self.tour_curve.setPen(pg.mkPen(colors.tour, width=2.5))
        self.optimum_curve.setPen(pg.mkPen(colors.optimum, width=2, style=Qt.PenStyle.DashLine))
        for lab in self._labels:
            lab.setColor(colors.foreground)

    def export(self, path: str | Path) -> Path:
        return export_plot(self.plot_widget, path)
