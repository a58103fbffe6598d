"""The main window's docks (task editor and model settings on the left, history at the bottom)
and the three named layouts that arrange them: set up, watch and inspect."""

from __future__ import annotations

import importlib
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QFrame,
    QMainWindow,
    QScrollArea,
    QStyle,
    QTabBar,
    QWidget,
)

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

# name -> (menu text, shortcut, what it is for); the first is the layout of a first start.
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "setup": ("&Set Up", "Ctrl+1", "The task and the model settings at full height"),
    "watch": ("&Watch", "Ctrl+2", "The score plot takes most of the window; history below"),
    "inspect": ("&Inspect", "Ctrl+3", "History and step detail take most of the window"),
}
DEFAULT_LAYOUT = "setup"
SCROLLED = ("task", "models")
# A form at its minimum width may keep a row unwrapped with its field a few pixels under the
# field's size hint (QFormLayout wraps by minimum sizes): the panes get this much more.
FORM_SLACK = 12
TAB_BAR_GAP = 4  # pixels between a tabbed dock and its tab bar
# Shares of the window: (task width, model settings width) in set up; the history's height.
SETUP_WIDTHS = (0.37, 0.31)
WATCH_HISTORY = 0.34
INSPECT_HISTORY = 0.72


def optional_widget(module: str, name: str) -> Any:
    """An instance of ``opro_gui.gui.widgets.<module>.<name>``, or None when it is missing."""
    try:
        cls = getattr(importlib.import_module(f"opro_gui.gui.widgets.{module}"), name)
    except (ImportError, AttributeError):
        return None
    return cls()


def scrollable(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area: a tall form no longer sets its dock's (and so the
    window's) minimum height, and stays reachable in any dock size."""
    area = QScrollArea()
    area.setObjectName(f"{widget.objectName() or 'panel'}_scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    for form in widget.findChildren(QFormLayout):  # narrow: a long row's field under its label
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return area


def add_docks(
    window: QMainWindow, widgets: dict[str, tuple[str, QWidget | None]]
) -> dict[str, QDockWidget]:
    """``widgets``: key -> (title, widget). Keys "task" and "models" go left, tabbed; the
    rest at the bottom. Object names are stable so saved window states restore. The left
    panes scroll when their dock is shorter than they are: their minimum height would
    otherwise stop the history dock's splitter (and the model settings form alone is most of
    an 800-pixel screen)."""
    docks: dict[str, QDockWidget] = {}
    for key, (title, widget) in widgets.items():
        if widget is None:
            continue
        dock = QDockWidget(title, window)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(scrollable(widget) if key in SCROLLED else widget)
        window.addDockWidget(LEFT if key in ("task", "models") else BOTTOM, dock)
        docks[key] = dock
    if "task" in docks and "models" in docks:
        window.tabifyDockWidget(docks["task"], docks["models"])
        docks["task"].raise_()
    return docks


def apply_layout(window: QMainWindow, docks: dict[str, QDockWidget], name: str) -> None:
    """Arrange the docks for ``name`` (a key of LAYOUTS); docks the user floated come back.
    Docks are moved only when they are not where the layout wants them: re-adding a dock
    that is already tabbed leaves a stale tab bar behind (seen on Qt 6.11)."""
    task, models, history = docks.get("task"), docks.get("models"), docks.get("history")
    w, h = max(window.width(), 1), max(window.height(), 1)
    for each in docks.values():
        each.setFloating(False)
    for dock, area in ((task, LEFT), (models, LEFT), (history, BOTTOM)):
        if dock is not None and window.dockWidgetArea(dock) != area:
            window.addDockWidget(area, dock)
    if name == "setup":
        left = [d for d in (task, models) if d is not None]
        for side in left:
            side.show()
        if history is not None:
            history.hide()
        wanted = [int(w * s) for s in SETUP_WIDTHS[: len(left)]]
        if task is not None and models is not None:
            tabbed = models in window.tabifiedDockWidgets(task)
            if not side_by_side_fits(window, left):
                # A wide run view (its minimum) leaves no room for both: tabs, task in front.
                if not tabbed:
                    window.tabifyDockWidget(task, models)
                task.raise_()
                left, wanted = [task], [max(sum(wanted), *(pane_width(d) for d in left))]
            elif tabbed:  # splitting a tabbed dock only adds a tab: take it out first
                window.removeDockWidget(models)
                window.addDockWidget(LEFT, models)
                window.splitDockWidget(task, models, Qt.Orientation.Horizontal)
                models.show()
        window.resizeDocks(left, setup_widths(window, left, wanted), Qt.Orientation.Horizontal)
    else:
        if (
            task is not None
            and models is not None
            and models not in window.tabifiedDockWidgets(task)
        ):
            window.tabifyDockWidget(task, models)  # shown again from View: tabs, never squeezed
        for maybe in (task, models):
            if maybe is not None:
                maybe.hide()
        if history is not None:
            history.show()
            share = INSPECT_HISTORY if name == "inspect" else WATCH_HISTORY
            window.resizeDocks([history], [int(h * share)], Qt.Orientation.Vertical)
    # Once the window has laid the docks out (the next turn of the event loop).
    QTimer.singleShot(0, window, lambda: hide_stray_tab_bars(window, list(docks.values())))


def hide_stray_tab_bars(window: QMainWindow, docks: list[QDockWidget]) -> None:
    """Qt (6.11) leaves a dock tab bar on screen when a tabbed dock is taken out of its tab
    group; hide every tab bar of the window that is not right under a visible tabbed dock."""
    groups = [d.geometry() for d in docks if d.isVisible() and window.tabifiedDockWidgets(d)]
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        place = bar.geometry()
        if not bar.isVisible() or not window.rect().intersects(place):
            continue
        in_use = any(
            abs(place.top() - g.bottom()) <= TAB_BAR_GAP
            and place.left() <= g.right()
            and g.left() <= place.right()
            for g in groups
        )
        if not in_use:
            bar.hide()


def pane_width(dock: QDockWidget) -> int:
    """The width a dock needs to show its pane without scrolling sideways."""
    pane = dock.widget()
    inner = pane.widget() if isinstance(pane, QScrollArea) else None
    if isinstance(pane, QScrollArea) and inner is not None:
        bar = pane.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, pane)
        return inner.minimumSizeHint().width() + bar + 2 * pane.frameWidth() + FORM_SLACK
    return pane.minimumSizeHint().width() if pane is not None else 0


def _room(window: QMainWindow, n_docks: int) -> int:
    """The width the left docks can share beside the central view's minimum width."""
    central = window.centralWidget()
    separator = window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
    room = window.width() - (central.minimumSizeHint().width() if central else 0)
    return room - (n_docks + 1) * separator


def side_by_side_fits(window: QMainWindow, docks: list[QDockWidget]) -> bool:
    return sum(pane_width(d) for d in docks) <= _room(window, len(docks))


def setup_widths(window: QMainWindow, docks: list[QDockWidget], wanted: list[int]) -> list[int]:
    """``wanted`` widths, raised to what each pane needs, then lowered (never below the
    needs) so the central view keeps its minimum width."""
    needs = [pane_width(d) for d in docks]
    widths = [max(want, need) for want, need in zip(wanted, needs, strict=True)]
    spare = sum(widths) - sum(needs)
    excess = sum(widths) - _room(window, len(docks))
    if excess > 0 and spare > 0:  # take the excess from what each got above its need
        cut = min(excess, spare) / spare
        widths = [w - int((w - n) * cut) for w, n in zip(widths, needs, strict=True)]
    return widths
