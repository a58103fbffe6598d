"""Version report for Help ▸ About and bug reports; imports Qt only inside versions()."""

from __future__ import annotations

import html
import importlib.metadata
import platform
import sqlite3
import sys

import opro_gui

APP_NAME = "OPRO Studio"
APP_ID = "io.github.opro_studio.OproStudio"
HOMEPAGE = "https://github.com/opro-studio/opro-studio"
LICENSE = "Apache-2.0"

UNKNOWN = "not installed"


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN


def _module_version(module: str, attr: str = "__version__") -> str:
    try:
        mod = __import__(module, fromlist=[attr])
    except ImportError:
        return UNKNOWN
    return str(getattr(mod, attr, UNKNOWN))


def _qt_versions() -> tuple[str, str]:
    """(Qt runtime version, PySide6 version); Qt is imported here, never at module level."""
    try:
        import PySide6
        from PySide6 import QtCore
    except ImportError:
        return UNKNOWN, UNKNOWN
    return str(QtCore.qVersion()), str(PySide6.__version__)


def versions() -> dict[str, str]:
    """Versions of the app and everything it runs on, in display order."""
    qt, pyside = _qt_versions()
    # A frozen bundle carries no dist-info for some packages; fall back to module attributes.
    sqlite_utils = _dist_version("sqlite-utils")
    if sqlite_utils == UNKNOWN:
        sqlite_utils = _module_version("sqlite_utils")
    return {
        APP_NAME: opro_gui.__version__,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Qt": qt,
        "PySide6": pyside,
        "pyqtgraph": _module_version("pyqtgraph"),
        "openai SDK": _module_version("openai"),
        "sqlite-utils": sqlite_utils,
        "SQLite": sqlite3.sqlite_version,
        "Platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Frozen": "yes" if getattr(sys, "frozen", False) else "no",
    }


def _header() -> list[str]:
    return [
        f"{APP_NAME} {opro_gui.__version__}",
        "Watch a language model optimize: OPRO, Optimization by PROmpting",
        "(Yang et al., “Large Language Models as Optimizers”, ICLR 2024).",
        f"Licence: {LICENSE}. {HOMEPAGE}",
    ]


def about_text() -> str:
    """Plain-text About body: name, purpose, licence, then "Component: version" lines.

    No column padding: the About box uses a proportional font, where padding does not align.
    """
    details = [f"{k}: {v}" for k, v in versions().items() if k != APP_NAME]
    return "\n".join([*_header(), "", *details])


def about_html() -> str:
    """The same content as rich text, versions in a two-column table (for QMessageBox.about)."""
    head = [html.escape(line) for line in _header()]
    head[0] = f"<b>{head[0]}</b>"
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
        for k, v in versions().items()
        if k != APP_NAME
    )
    return f"<p>{'<br>'.join(head)}</p><table>{rows}</table>"


if __name__ == "__main__":  # `python -m opro_gui.about` prints the report for bug reports
    print(about_text())
