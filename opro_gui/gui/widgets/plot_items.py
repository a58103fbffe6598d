"""Pieces of the score plot: growing point arrays, a whole-number step axis and a legend that
sits in a row of the plot's layout, under the x axis (outside the data area)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg


class GrowingXY:
    """Append-only float arrays with amortised doubling (no per-step reallocation)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.ids = np.empty(capacity, dtype=np.int64)
        self.size = 0

    def extend(self, xs: np.ndarray, ys: np.ndarray, ids: np.ndarray) -> None:
        need = self.size + len(xs)
        if need > len(self.x):
            cap = max(need, 2 * len(self.x))
            for name in ("x", "y", "ids"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[: self.size] = old[: self.size]
                setattr(self, name, new)
        self.x[self.size : need] = xs
        self.y[self.size : need] = ys
        self.ids[self.size : need] = ids
        self.size = need

    def clear(self) -> None:
        self.size = 0


class StepAxis(pg.AxisItem):
    """Steps are whole numbers: no 0.5 ticks when a run has only a few steps."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:  # noqa: N802
        levels = super().tickValues(minVal, maxVal, size)
        out = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in levels
            if spacing >= 1 or spacing == levels[0][0]
        ]
        return [(max(spacing, 1.0), values) for spacing, values in out]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [str(int(v)) for v in values]


class LegendBelow(pg.LegendItem):
    """A legend that lives in a row of the plot's own layout, under the x axis: outside the
    data area, so no curve or point is ever drawn over its labels. Not draggable."""

    def __init__(self, columns: int) -> None:
        super().__init__(offset=None, colCount=columns, frame=False, horSpacing=6)

    def updateSize(self) -> None:  # noqa: N802  (pyqtgraph's name)
        self.layout.invalidate()
        self.updateGeometry()  # the plot's layout gives it the room its entries need

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802
        ev.ignore()


#: Rows of the plot item's layout under the bottom axis (pyqtgraph uses rows 0-3).
LEGEND_ROW, BASELINE_ROW = 4, 5
LEGEND_ENTRY_WIDTH = 240  # px a legend entry may take (sample and a label like "optimum: 603")
