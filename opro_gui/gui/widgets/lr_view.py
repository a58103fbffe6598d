"""Linear-regression view: the data with the current best fit, and the (w, b) trajectory of the
best pair over the loss landscape (log-scaled heat map with contour lines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from opro_gui.problems import ProblemKind

from ..themes import LIGHT, PlotColors
from .score_plot import export_plot

_GRID = 120
_CONTOURS = 8


class LRView(QWidget):
    """The linear-regression domain view: the data and best fit, the loss landscape with the
    path of the best (w, b) after each step."""

    tab_title = "Fit"

    def reset(self) -> None:
        self._x = np.zeros(0)
        self.data_points.setData(x=[], y=[])
        self.optimum_marker.setData(x=[], y=[])
        self.heat.clear()
        for iso in self._isocurves:
            iso.setData(None)
        self.set_trajectory([], None)

    def set_problem(self, problem: Any, facts: dict[str, Any]) -> None:
        x, y = problem.data()
        w0, b0 = float(facts.get("optimum_w", 0)), float(facts.get("optimum_b", 0))
        lo_w, hi_w = min(w0, 10.0) - 8.0, max(w0, 20.0) + 8.0
        lo_b, hi_b = min(b0, 10.0) - 8.0, max(b0, 20.0) + 8.0
        self.set_instance(x, y, problem.loss, (w0, b0), (lo_w, hi_w), (lo_b, hi_b))

    def show_best(
        self, solutions: Sequence[Any], scores: Sequence[float], fmt: Callable[[float | None], str]
    ) -> None:
        self._fmt = fmt
        self.set_trajectory([s for s in solutions if s is not None], scores[-1] if scores else None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = LIGHT
        self._x = np.zeros(0)
        # Losses are written the kind's way (the run view hands its formatter to show_best).
        self._fmt = ProblemKind().format_score
        self.fit_label = QLabel("No fit yet")
        self.fit_label.setObjectName("lr_fit_label")
        self.data_plot = pg.PlotWidget(background=self._colors.background)
        self.data_plot.setObjectName("lr_data_plot")
        self.data_plot.setLabel("bottom", "x")
        self.data_plot.setLabel("left", "y")
        self.data_points = pg.ScatterPlotItem(size=6, pxMode=True)
        self.fit_curve = pg.PlotDataItem()
        self.data_plot.addItem(self.data_points)
        self.data_plot.addItem(self.fit_curve)
        self.loss_plot = pg.PlotWidget(background=self._colors.background)
        self.loss_plot.setObjectName("lr_loss_plot")
        self.loss_plot.setLabel("bottom", "w")
        self.loss_plot.setLabel("left", "b")
        self.heat = pg.ImageItem()
        self.loss_plot.addItem(self.heat)
        self._isocurves: list[pg.IsocurveItem] = []
        for _ in range(_CONTOURS):
            iso = pg.IsocurveItem()
            iso.setParentItem(self.heat)
            self._isocurves.append(iso)
        self.trajectory = pg.PlotDataItem(symbol="o", symbolSize=5)
        self.optimum_marker = pg.ScatterPlotItem(size=14, symbol="star", pxMode=True)
        self.loss_plot.addItem(self.trajectory)
        self.loss_plot.addItem(self.optimum_marker)
        plots = QHBoxLayout()
        plots.addWidget(self.data_plot, 1)
        plots.addWidget(self.loss_plot, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.fit_label)
        lay.addLayout(plots, 1)
        self.apply_colors(self._colors)

    def set_instance(
        self,
        x: Sequence[float],
        y: Sequence[float],
        loss: Callable[[np.ndarray, np.ndarray], np.ndarray],
        optimum: tuple[float, float],
        w_range: tuple[float, float],
        b_range: tuple[float, float],
    ) -> None:
        self._x = np.asarray(x, dtype=float)
        self.data_points.setData(x=self._x, y=np.asarray(y, dtype=float))
        ws = np.linspace(w_range[0], w_range[1], _GRID)
        bs = np.linspace(b_range[0], b_range[1], _GRID)
        grid_w, grid_b = np.meshgrid(ws, bs, indexing="ij")
        z = np.log10(1.0 + np.asarray(loss(grid_w, grid_b), dtype=float))
        self.heat.setImage(z, autoLevels=True)
        self.heat.setRect(
            QRectF(w_range[0], b_range[0], w_range[1] - w_range[0], b_range[1] - b_range[0])
        )
        levels = np.linspace(float(z.min()), float(z.max()), _CONTOURS + 2)[1:-1]
        for iso, level in zip(self._isocurves, levels, strict=True):
            iso.setData(z, level)
        self.optimum_marker.setData(x=[optimum[0]], y=[optimum[1]])
        self.set_trajectory([], None)
        self.loss_plot.getPlotItem().autoRange()

    def set_trajectory(self, pairs: Sequence[Sequence[float]], loss: float | None) -> None:
        """Best (w, b) after each step; the last one is drawn as the fit."""
        arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
        self.trajectory.setData(x=arr[:, 0], y=arr[:, 1])
        if not len(arr) or not len(self._x):
            self.fit_curve.setData(x=[], y=[])
            self.fit_label.setText("No fit yet")
            return
        w, b = arr[-1]
        xs = np.array([self._x.min(), self._x.max()])
        self.fit_curve.setData(x=xs, y=w * xs + b)
        self.fit_label.setText(
            f"Best fit: y = {w:g}·x + {b:g}"
            + (f" (loss {self._fmt(loss)})" if loss is not None else "")
        )

    def apply_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        for pw in (self.data_plot, self.loss_plot):
            pw.setBackground(colors.background)
            for axis in ("left", "bottom"):
                pw.getPlotItem().getAxis(axis).setPen(colors.foreground)
                pw.getPlotItem().getAxis(axis).setTextPen(colors.foreground)
        self.data_points.setBrush(pg.mkBrush(colors.data))
        self.data_points.setPen(None)
        self.fit_curve.setPen(pg.mkPen(colors.fit, width=2.5))
        self.heat.setColorMap(pg.colormap.get("viridis" if colors.dark else "CET-L17"))
        for iso in self._isocurves:
            iso.setPen(pg.mkPen(colors.foreground, width=0.8))
        self.trajectory.setPen(pg.mkPen(colors.trajectory, width=2))
        self.trajectory.setSymbolBrush(pg.mkBrush(colors.trajectory))
        self.trajectory.setSymbolPen(None)
        self.optimum_marker.setBrush(pg.mkBrush(colors.optimum))
        self.optimum_marker.setPen(pg.mkPen(colors.foreground))

    def export(self, path: str | Path) -> Path:
        return export_plot(self.loss_plot, path)
