"""The main window's docks: task editor and model settings on the left (tabbed), history at
the bottom; the panels' widgets are optional so the shell runs without them."""

from __future__ import annotations

import importlib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

LEFT_WIDTH = 460
HISTORY_HEIGHT = 360


def optional_widget(module: str, name: str) -> Any:
    """An instance of ``opro_gui.gui.widgets.<module>.<name>``, or None when it is missing."""
    try:
        cls = getattr(importlib.import_module(f"opro_gui.gui.widgets.{module}"), name)
    except (ImportError, AttributeError):
        return None
    return cls()


def add_docks(
    window: QMainWindow, widgets: dict[str, tuple[str, QWidget | None]]
) -> dict[str, QDockWidget]:
    """``widgets``: key -> (title, widget). Keys "task" and "models" go left, tabbed; the
    rest at the bottom. Object names are stable so saved window states restore."""
    docks: dict[str, QDockWidget] = {}
    for key, (title, widget) in widgets.items():
        if widget is None:
            continue
        dock = QDockWidget(title, window)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        left = key in ("task", "models")
        area = (
            Qt.DockWidgetArea.LeftDockWidgetArea if left else Qt.DockWidgetArea.BottomDockWidgetArea
        )
        window.addDockWidget(area, dock)
        docks[key] = dock
    if "task" in docks and "models" in docks:
        window.tabifyDockWidget(docks["task"], docks["models"])
        docks["task"].raise_()
    return docks


def default_dock_sizes(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """First start (no saved layout): room for the editor and the history table."""
    left = [d for k, d in docks.items() if k in ("task", "models")]
    if left:
        window.resizeDocks(left[:1], [LEFT_WIDTH], Qt.Orientation.Horizontal)
    if "history" in docks:
        window.resizeDocks([docks["history"]], [HISTORY_HEIGHT], Qt.Orientation.Vertical)
