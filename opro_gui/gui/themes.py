"""Light and dark themes: follows the system colour scheme (Qt 6 style hints) unless the user
chooses one; gives plots a matching colour set."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class PlotColors:
    """Colours for every plot item, chosen for contrast on the plot background."""

    dark: bool
    background: str
    foreground: str
    grid_alpha: float
    candidate: str
    best: str
    random_search: str
    baseline: tuple[str, ...]
    test_marker: str
    highlight: str
    city: str
    tour: str
    optimum: str
    data: str
    fit: str
    trajectory: str


LIGHT = PlotColors(
    dark=False,
    background="#ffffff",
    foreground="#303030",
    grid_alpha=0.25,
    candidate="#5b8fd6",
    best="#d1495b",
    random_search="#7a7a7a",
    baseline=("#2e8b57", "#c77c02", "#7b4fb0", "#00838f"),
    test_marker="#e76f00",
    highlight="#111111",
    city="#1f4e8c",
    tour="#d1495b",
    optimum="#2e8b57",
    data="#1f4e8c",
    fit="#d1495b",
    trajectory="#d1495b",
)

DARK = PlotColors(
    dark=True,
    background="#1e1f22",
    foreground="#d8d8d8",
    grid_alpha=0.3,
    candidate="#6fa8ff",
    best="#ff6b7d",
    random_search="#a0a0a0",
    baseline=("#5fd38d", "#ffb347", "#c39bff", "#4dd0e1"),
    test_marker="#ffa040",
    highlight="#ffffff",
    city="#8fbfff",
    tour="#ff6b7d",
    optimum="#5fd38d",
    data="#8fbfff",
    fit="#ff6b7d",
    trajectory="#ffb347",
)


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def is_dark(choice: str) -> bool:
    """``choice`` is "system", "light" or "dark"."""
    if choice == "dark":
        return True
    if choice == "light":
        return False
    return system_prefers_dark()


def plot_colors(dark: bool) -> PlotColors:
    return DARK if dark else LIGHT


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#dfe1e5")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#26282b"),
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#6fa8ff"),
        QPalette.ColorRole.Highlight: QColor("#3574f0"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.PlaceholderText: QColor("#8c8f94"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7d82"))
    return p


def apply_theme(app: QApplication, dark: bool) -> PlotColors:
    """Fusion style with a light or dark palette; returns the matching plot colours."""
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    return plot_colors(dark)
