"""Live score plot: every scored candidate as a point, best-so-far line, baselines, random
search curve and held-out markers. Items are created once and updated with setData; every
label sits in the legends under the plot, outside the data area, so no curve crosses one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import exporters
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QVBoxLayout, QWidget

from opro_gui.problems import ProblemKind

from ..themes import LIGHT, PlotColors
from .plot_items import (
    BASELINE_ROW,
    LEGEND_ENTRY_WIDTH,
    LEGEND_ROW,
    GrowingXY,
    LegendBelow,
    StepAxis,
)

_ID_STRIDE = 100_000  # point id = step * stride + index
_LOG_FLOOR = 1e-6  # a loss of 0 still gets a place on a log axis


class ScorePlot(QWidget):
    """Score per step. ``candidate_clicked(step, index)`` when the user clicks a point."""

    candidate_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors = LIGHT
        self.plot_widget = pg.PlotWidget(
            background=self._colors.background, axisItems={"bottom": StepAxis("bottom")}
        )
        self.plot_widget.setObjectName("score_plot")
        item = self.plot_widget.getPlotItem()
        # A GridItem with an opaque pen: the axis grid with alpha costs ~15 ms per paint.
        self.grid = pg.GridItem(textPen=None)
        self.grid.setZValue(-100)
        item.addItem(self.grid, ignoreBounds=True)
        item.setLabel("bottom", "step")
        item.setLabel("left", "score")
        item.getAxis("left").enableAutoSIPrefix(False)
        # The curves' legend and the baselines' labels, each in a row under the x axis.
        self._legend = LegendBelow(columns=5)
        self._baseline_legend = LegendBelow(columns=4)
        for row, legend in ((LEGEND_ROW, self._legend), (BASELINE_ROW, self._baseline_legend)):
            item.layout.addItem(legend, row, 1)
            item.layout.setRowStretchFactor(row, 0)
        self._baseline_legend.sigSampleClicked.connect(self._on_baseline_sample_clicked)
        self._fmt: Callable[[float | None], str] = ProblemKind().format_score
        self._points = GrowingXY()
        self._drawn = 0  # points handed to the scatter item so far
        self._log = False
        self._scale = 1.0
        self.scatter = pg.ScatterPlotItem(size=6, pxMode=True, name="candidates")
        self.best_curve = pg.PlotDataItem(name="best so far")
        # Shown in the legend only once they hold data (see _legend_entry).
        self.random_curve = pg.PlotDataItem()
        self.baseline_curve = pg.PlotDataItem()  # prompt runs: the no-trajectory baseline
        self.test_markers = pg.ScatterPlotItem(size=11, symbol="t", pxMode=True)
        self._optional_names = {
            id(self.random_curve): "random search (same budget)",
            id(self.baseline_curve): "no-trajectory baseline (same budget)",
            id(self.test_markers): "held-out test accuracy",
        }
        self.highlight = pg.ScatterPlotItem(size=14, symbol="o", pxMode=True)
        for it in (
            self.random_curve,
            self.baseline_curve,
            self.scatter,
            self.best_curve,
            self.test_markers,
            self.highlight,
        ):
            item.addItem(it)
        for it in (self.scatter, self.best_curve):
            self._legend.addItem(it, it.name())
        self._baselines: list[pg.InfiniteLine] = []
        self._baseline_samples: list[pg.PlotDataItem] = []  # their entries' line samples
        self._y_fitted: bool | None = None  # autorange on (data), off (empty), or not set
        self.scatter.sigClicked.connect(self._on_scatter_clicked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot_widget)
        self.apply_colors(self._colors)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt's name)
        """Legend entries flow into as many columns as fit: no label is cut off at the edge."""
        super().resizeEvent(event)
        columns = max(1, self.width() // LEGEND_ENTRY_WIDTH)
        for legend, most in ((self._legend, 5), (self._baseline_legend, 4)):
            legend.setColumnCount(min(columns, most))

    # -- data ----------------------------------------------------------------------------
    @property
    def point_count(self) -> int:
        return self._points.size

    def configure(self, label: str, log_scale: bool, value_scale: float) -> None:
        """Start over for another project: no point, line, label or range of the last one."""
        self.clear_data()
        self.set_score_label(label)
        self.set_log_scale(log_scale)
        self.set_value_scale(value_scale)
        self._fit_y()

    def _fit_y(self) -> None:
        """Autorange only with something to fit: an empty log axis would span 1e-300..1e300."""
        item = self.plot_widget.getPlotItem()
        fixed_y = self._scale == 100.0  # accuracies keep their 0-100 range
        has_data = (
            self._points.size > 0
            or _has_xy(self.best_curve)
            or _has_xy(self.random_curve)
            or any(line.isVisible() for line in self._baselines)
        )
        if has_data == self._y_fitted:
            return  # switching autorange recomputes every item's bounds: only on a change
        self._y_fitted = has_data
        if has_data:
            item.enableAutoRange(x=True, y=not fixed_y)
        else:  # nothing of the last project's ranges stays
            item.enableAutoRange(x=False, y=False)
            item.setXRange(0, 1, padding=0.05)
            if not fixed_y:
                item.setYRange(0, 1, padding=0)

    def set_log_scale(self, on: bool) -> None:
        """Log y axis (losses spanning orders of magnitude). Call before adding data: points
        are stored in plot coordinates."""
        self._log = on
        self.plot_widget.getPlotItem().getAxis("left").setLogMode(on)

    def set_value_scale(self, factor: float) -> None:
        """Multiply every value (100 for accuracies in percent); a 0-100 y range then."""
        self._scale = factor
        self._y_fitted = None
        item = self.plot_widget.getPlotItem()
        if factor == 100.0:
            item.enableAutoRange(y=False)
            item.setYRange(0, 100, padding=0.03)
        else:
            item.enableAutoRange(y=True)

    def _ty(self, values: Any) -> np.ndarray:
        y = np.asarray(values, dtype=float) * self._scale
        return np.log10(np.maximum(y, _LOG_FLOOR)) if self._log else y

    def set_formatter(self, fmt: Callable[[float | None], str]) -> None:
        """How a score is written (the kind's ``format_score``): the baselines' labels."""
        self._fmt = fmt

    def set_score_label(self, text: str) -> None:
        self.plot_widget.getPlotItem().setLabel("left", text)

    def clear_data(self) -> None:
        """Forget everything drawn: points, curves, markers and baselines."""
        self.clear_points()
        self.set_baselines([])

    def clear_points(self) -> None:
        """Forget a run's points, curves and markers; the problem's baselines stay."""
        self._points.clear()
        self._drawn = 0
        self.scatter.setData(x=[], y=[])
        self.best_curve.setData(x=[], y=[])
        self.set_random_curve([], [])
        self.set_baseline_curve([], [])
        self.set_test_markers([], [])
        self.highlight.setData(x=[], y=[])
        self._fit_y()

    def add_candidates(self, steps: list[int], indices: list[int], scores: list[float]) -> None:
        """Append scored candidates; call ``refresh()`` to redraw (the caller coalesces)."""
        if not steps:
            return
        s = np.asarray(steps, dtype=np.int64)
        self._points.extend(s.astype(float), self._ty(scores), s * _ID_STRIDE + np.asarray(indices))

    def refresh(self, full: bool = False) -> None:
        """Draw the points added since the last refresh (all of them with ``full``): the
        scatter item appends them, so a step costs about the same with 100 or 10 000 points."""
        p, n, drawn = self._points, self._points.size, self._drawn
        if full or drawn == 0 or drawn > n:
            self.scatter.setData(x=p.x[:n], y=p.y[:n], data=p.ids[:n])
        elif n > drawn:
            self.scatter.addPoints(x=p.x[drawn:n], y=p.y[drawn:n], data=p.ids[drawn:n])
        self._drawn = n
        self._fit_y()

    def set_best_curve(self, steps: list[int], best: list[float]) -> None:
        self.best_curve.setData(x=np.asarray(steps, dtype=float), y=self._ty(best))

    def set_random_curve(self, steps: list[int], values: list[float]) -> None:
        self.random_curve.setData(x=np.asarray(steps, dtype=float), y=self._ty(values))
        self._legend_entry(self.random_curve, bool(len(values)))

    def set_baseline_curve(self, steps: list[int], values: list[float]) -> None:
        self.baseline_curve.setData(x=np.asarray(steps, dtype=float), y=self._ty(values))
        self._legend_entry(self.baseline_curve, bool(len(values)))

    def set_test_markers(self, steps: list[int], scores: list[float]) -> None:
        self.test_markers.setData(x=np.asarray(steps, dtype=float), y=self._ty(scores))
        self._legend_entry(self.test_markers, bool(len(scores)))

    def _legend_entry(self, item: pg.GraphicsObject, show: bool) -> None:
        legend, name = self._legend, self._optional_names[id(item)]
        present = any(sample.item is item for sample, _ in legend.items)
        if show and not present:
            legend.addItem(item, name)
            legend.setLabelTextColor(self._colors.foreground)
        elif not show and present:
            legend.removeItem(item)

    def set_baselines(self, baselines: list[tuple[str, float]]) -> None:
        """Horizontal lines, labelled in the legend under the plot (never on the line, where
        a curve would cross the label); the few line items are reused between calls."""
        item = self.plot_widget.getPlotItem()
        while len(self._baselines) < len(baselines):
            line = pg.InfiniteLine(angle=0, movable=False)
            item.addItem(line)
            self._baselines.append(line)
            self._baseline_samples.append(pg.PlotDataItem())
        self._baseline_legend.clear()
        for i, line in enumerate(self._baselines):
            sample = self._baseline_samples[i]
            if i < len(baselines):
                label, value = baselines[i]
                line.setVisible(True)
                sample.setVisible(True)
                line.setValue(float(self._ty([value])[0]))
                self._baseline_legend.addItem(sample, f"{label}: {self._fmt(value)}")
            else:
                line.setVisible(False)
        self._baseline_legend.setLabelTextColor(self._colors.foreground)
        self._color_baselines()
        self._fit_y()

    def baseline_labels(self) -> list[str]:
        """The baselines' labels as drawn (in the legend under the plot)."""
        return [label.text for _sample, label in self._baseline_legend.items]

    def label_items(self) -> list[Any]:
        """Every label drawn about the curves and lines (both legends' text items)."""
        return [lab for lg in (self._legend, self._baseline_legend) for _s, lab in lg.items]

    def _on_baseline_sample_clicked(self, sample: pg.PlotDataItem) -> None:
        """Clicking an entry hides or shows its line (as pyqtgraph does for curves)."""
        for line, own in zip(self._baselines, self._baseline_samples, strict=True):
            if own is sample:
                line.setVisible(sample.isVisible())

    def select(self, step: int, index: int) -> bool:
        """Ring the point of (step, index); False when it is not plotted."""
        n = self._points.size
        hits = np.nonzero(self._points.ids[:n] == step * _ID_STRIDE + index)[0]
        if not len(hits):
            self.highlight.setData(x=[], y=[])
            return False
        i = int(hits[0])
        self.highlight.setData(x=[self._points.x[i]], y=[self._points.y[i]])
        return True

    # -- look ----------------------------------------------------------------------------
    def apply_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        pw = self.plot_widget
        pw.setBackground(colors.background)
        item = pw.getPlotItem()
        for axis in ("left", "bottom"):
            ax = item.getAxis(axis)
            ax.setPen(colors.foreground)
            ax.setTextPen(colors.foreground)
        self.grid.setPen(pg.mkPen(_blend(colors.background, colors.foreground, colors.grid_alpha)))
        cand = pg.mkColor(colors.candidate)
        cand.setAlpha(150)
        self.scatter.setPen(None)
        self.scatter.setBrush(pg.mkBrush(cand))
        self.best_curve.setPen(pg.mkPen(colors.best, width=2.5))
        self.random_curve.setPen(
            pg.mkPen(colors.random_search, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.baseline_curve.setPen(
            pg.mkPen(colors.random_search, width=2, style=pg.QtCore.Qt.PenStyle.DashDotLine)
        )
        self.test_markers.setBrush(pg.mkBrush(colors.test_marker))
        self.test_markers.setPen(pg.mkPen(colors.foreground))
        self.highlight.setBrush(None)
        self.highlight.setPen(pg.mkPen(colors.highlight, width=2))
        for legend in (self._legend, self._baseline_legend):
            legend.setLabelTextColor(colors.foreground)
        self._color_baselines()

    def _color_baselines(self) -> None:
        for i, line in enumerate(self._baselines):
            color = self._colors.baseline[i % len(self._colors.baseline)]
            pen = pg.mkPen(color, width=1.5, style=pg.QtCore.Qt.PenStyle.DotLine)
            line.setPen(pen)
            self._baseline_samples[i].setPen(pen)

    # -- export --------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """Write the plot as PNG or SVG (by extension)."""
        return export_plot(self.plot_widget, path)

    def _on_scatter_clicked(self, _item: object, points: Any, *_: object) -> None:
        pts = list(points) if points is not None else []
        if not pts:
            return
        ident = int(pts[0].data())
        step, index = divmod(ident, _ID_STRIDE)
        self.select(step, index)
        self.candidate_clicked.emit(step, index)


def _has_xy(item: pg.PlotDataItem) -> bool:
    x = item.getData()[0]
    return x is not None and len(x) > 0


def _blend(background: str, foreground: str, alpha: float) -> QColor:
    bg, fg = QColor(background), QColor(foreground)
    pairs = ((bg.red(), fg.red()), (bg.green(), fg.green()), (bg.blue(), fg.blue()))
    r, g, b = (round(x + (y - x) * alpha) for x, y in pairs)
    return QColor(r, g, b)


def export_plot(widget: pg.PlotWidget | pg.GraphicsLayoutWidget, path: str | Path) -> Path:
    """Export a pyqtgraph widget to PNG (pyqtgraph's exporter, 2x resolution) or SVG."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        # pyqtgraph 0.14's SVG exporter cannot parse the paths Qt 6.11 writes ("Z" segments);
        # Qt's own SVG generator renders the same scene as vectors.
        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(widget.size())
        gen.setViewBox(widget.rect())
        gen.setTitle("OPRO Studio plot")
        painter = QPainter(gen)
        widget.render(painter)
        painter.end()
        return path
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    item = widget.getPlotItem() if isinstance(widget, pg.PlotWidget) else widget.scene()
    exporter = exporters.ImageExporter(item)
    exporter.parameters()["width"] = max(2 * widget.width(), 800)
    exporter.export(str(path))
    return path
