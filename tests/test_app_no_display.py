"""`opro-gui` where Qt cannot open a window: one readable line and exit 1, never Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from opro_gui.gui.platform_check import _x_display_problem, platform_problem


def _plugins(tmp_path: Path, *names: str, content: bytes = b"") -> Path:
    folder = tmp_path / "plugins" / "platforms"
    folder.mkdir(parents=True)
    for name in names:
        (folder / f"libq{name}.so").write_bytes(content)
    return tmp_path / "plugins"


def test_missing_plugin_is_named(tmp_path: Path) -> None:
    plugins = _plugins(tmp_path, "offscreen")
    assert platform_problem(plugins, {"QT_QPA_PLATFORM": "nosuch"}) == (
        "Qt has no platform plugin 'nosuch'"
    )


def test_a_plugin_that_cannot_load_is_named(tmp_path: Path) -> None:
    plugins = _plugins(tmp_path, "xcb", content=b"not a shared object")
    problem = platform_problem(plugins, {"DISPLAY": ":0"})
    assert problem.startswith("Qt's 'xcb' plugin cannot load (")


def test_no_x_display_and_fallback_order(tmp_path: Path) -> None:
    from PySide6.QtCore import QLibraryInfo

    real = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    # offscreen loads anywhere: usable, so no problem is reported
    assert platform_problem(real, {"QT_QPA_PLATFORM": "offscreen"}) == ""
    # a list falls back in Qt's order: the first usable one wins
    assert platform_problem(real, {"QT_QPA_PLATFORM": "nosuch;offscreen"}) == ""
    # Qt's X11 plugin needs a display: unset, or one no server listens on, is said
    assert _x_display_problem("") == "no X display (DISPLAY is not set)"
    assert _x_display_problem(":987") == "no X server is listening on display :987"
    assert _x_display_problem("remotehost:10.0") == ""  # only Qt can tell


def test_the_app_exits_1_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "nosuch", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "opro_gui.app", "--quit-after", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("opro-gui: cannot open a window: Qt has no platform plugin 'nosuch'")
    assert "libxcb-cursor0" in lines[0]
