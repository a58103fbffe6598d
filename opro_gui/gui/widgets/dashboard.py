"""The run dashboard: the shown run's headline figures above the plot (best score, change from
the start, the equal-budget random search, gap, test accuracy, valid proposals, steps, tokens
and dollars), each with its unit, written the kind's way and updated on every step."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from opro_gui.problems import ProblemKind

#: Tiles in the order they are laid out, the visible ones in rows of as many as fit.
TILES = ("best", "change", "random", "gap", "test", "valid", "steps", "tokens", "cost")
COLUMNS = 5  # at most
TILE_WIDTH = 175  # px a tile wants; fewer columns when the window is narrower


@dataclass(frozen=True)
class Headline:
    """What the dashboard knows of the shown run; None where not (yet) known."""

    best: float | None = None
    start: float | None = None  # best after step 0
    random: float | None = None  # the equal-budget random search's best so far
    test: float | None = None  # held-out accuracy of the best candidate (kinds with evaluation)
    proposed: int | None = None  # proposals after step 0
    invalid: int | None = None
    steps: int | None = None
    max_steps: int | None = None
    tokens: int | None = None
    cost: float | None = None

    def merged(self, **values: Any) -> Headline:
        """This headline with every given value that is not None."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in values.items() if k in known and v is not None})


class _Tile(QFrame):
    def __init__(self, key: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"dash_{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setObjectName("dash_title")
        font = self.title.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        self.title.setFont(font)
        self.value = QLabel("–")
        self.value.setObjectName("dash_value")
        vfont = self.value.font()
        vfont.setBold(True)
        vfont.setPointSizeF(vfont.pointSizeF() * 1.15)
        self.value.setFont(vfont)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(0)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        for label in (self.title, self.value):  # a narrow window clips a tile, never the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)


class Dashboard(QWidget):
    """Headline figures. Every kind-specific fact (label, unit, direction, format, whether a
    random search or a held-out evaluation applies) comes from the kind's descriptor."""

    relaid = Signal()  # the tiles flowed into another number of rows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("run_dashboard")
        self._desc: ProblemKind | None = None
        self._reference: float | None = None
        self._reference_name = "optimum"
        self.headline = Headline()
        self.tiles = {key: _Tile(key, self) for key in TILES}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(4)
        self._placed: tuple[str, ...] = ()
        self._columns = COLUMNS
        self._render()

    # -- input ---------------------------------------------------------------------------
    def set_kind(self, desc: ProblemKind | None) -> None:
        """Another project: nothing of the last one stays."""
        self._desc, self._reference = desc, None
        self.headline = Headline()
        self._render()

    def set_reference(self, reference: float | None, facts: dict[str, Any]) -> None:
        """The score a gap is measured against (the kind's ``reference_score``)."""
        self._reference = reference
        exact = facts.get("optimal_is_exact", True) is not False
        self._reference_name = "optimum" if exact else "best known"
        self._render()

    def clear(self) -> None:
        """Another run: its figures come with its data."""
        self.headline = Headline()
        self._render()

    def update_figures(self, **values: Any) -> None:
        """Merge what is known now (None keeps the figure shown) and redraw."""
        self.headline = self.headline.merged(**values)
        self._render()

    # -- output --------------------------------------------------------------------------
    def figures(self) -> dict[str, str]:
        """Each visible tile as "title: value" (what a person reads), by key."""
        return {
            key: f"{tile.title.text()}: {tile.value.text()}"
            for key, tile in self.tiles.items()
            if not tile.isHidden()
        }

    def _render(self) -> None:
        h, d = self.headline, self._desc
        visible = []
        for key, (title, value, shown) in self._texts(h, d).items():
            tile = self.tiles[key]
            tile.title.setText(title)
            tile.value.setText(value)
            tile.setToolTip(f"{title}: {value}")
            tile.setVisible(shown)
            if shown:
                visible.append(key)
        if tuple(visible) != self._placed:  # the kind changed: lay the shown tiles out again
            self._placed = tuple(visible)
            self._lay_out()

    def _lay_out(self) -> None:
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
        for i, key in enumerate(self._placed):
            self._grid.addWidget(self.tiles[key], i // self._columns, i % self._columns)
        self.updateGeometry()
        self.relaid.emit()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt's name)
        super().resizeEvent(event)
        columns = max(2, min(COLUMNS, self.width() // TILE_WIDTH))
        if columns != self._columns:
            self._columns = columns
            self._lay_out()

    def _score(self, value: float | None) -> str:
        d = self._desc
        if value is None:
            return "–"
        text = d.format_score(value) if d is not None else ProblemKind().format_score(value)
        unit = d.score_unit if d is not None else ""
        return text if not unit or text.endswith(unit) else f"{text} {unit}"

    def _texts(self, h: Headline, d: ProblemKind | None) -> dict[str, tuple[str, str, bool]]:
        label = d.score_label if d is not None else "score"
        gap = d.gap_percent(h.best, self._reference) if d is not None else None
        out = {
            "best": (f"best {label}", self._score(h.best), True),
            "change": ("change from step 0", self._change(h), True),
            "random": (
                "random search, same budget",
                self._score(h.random),
                d is not None and d.has_random_search,
            ),
            "gap": (
                f"gap to {self._reference_name}",
                "–" if gap is None else f"{gap:.2f} %",
                self._reference is not None,
            ),
            "test": (
                "test accuracy of the best",
                "not evaluated" if h.test is None else self._score(h.test),
                d is not None and d.supports_evaluation,
            ),
            "valid": ("valid proposals", self._valid(h), True),
            "steps": ("steps done / budget", self._steps(h), True),
            "tokens": ("tokens used", "–" if h.tokens is None else f"{h.tokens:,} tokens", True),
            "cost": ("spent", "–" if h.cost is None else f"${h.cost:,.4f}", True),
        }
        return out

    def _change(self, h: Headline) -> str:
        d = self._desc
        if h.best is None or h.start is None or d is None:
            return "–"
        delta = h.best - h.start
        if delta == 0:
            return "no change"
        word = "better" if d.better(h.best, h.start) else "worse"
        sign = "+" if delta > 0 else "−"
        if d.score_unit == "%":  # fractions shown in percent: the change is in points
            return f"{sign}{abs(delta) * 100:.1f} pts ({word})"
        rel = f", {sign}{abs(delta) / abs(h.start) * 100:.1f} %" if h.start else ""
        return f"{sign}{d.format_score(abs(delta))}{rel} ({word})"

    @staticmethod
    def _valid(h: Headline) -> str:
        if not h.proposed or h.invalid is None:
            return "–"
        valid = h.proposed - h.invalid
        return f"{valid / h.proposed * 100:.0f} % ({valid:,} of {h.proposed:,})"

    @staticmethod
    def _steps(h: Headline) -> str:
        if h.steps is None:
            return "–"
        budget = "–" if not h.max_steps else f"{h.max_steps:,}"
        return f"{h.steps:,} / {budget}"


class DashboardArea(QScrollArea):
    """The dashboard in a frameless scroll area: every row when there is room, one row (and a
    scroll bar) when a layout gives the run view little height (View ▸ Layout ▸ Inspect)."""

    def __init__(self, dashboard: Dashboard) -> None:
        super().__init__()
        self.setObjectName("run_dashboard_area")
        self.setWidget(dashboard)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self._dashboard = dashboard
        dashboard.relaid.connect(self.updateGeometry)  # its height changed: ask for it

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt's name)
        return self._dashboard.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        row = min((t.sizeHint().height() for t in self._dashboard.tiles.values()), default=0)
        return QSize(0, min(self._dashboard.sizeHint().height(), row + 2))
