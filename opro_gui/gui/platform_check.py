"""Checks, before a QApplication exists, that Qt can open a window here: Qt aborts the process
(a core dump) when its platform plugin cannot start, so the app asks first and says why."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

#: Debian/Ubuntu packages Qt's X11 plugin needs beyond a bare system.
X11_PACKAGES = (
    "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 "
    "libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libegl1 libfontconfig1"
)


def _requested_platforms(env: dict[str, str]) -> list[str]:
    value = env.get("QT_QPA_PLATFORM", "").strip()
    if value:
        # "name:option=value;fallback" -> names in Qt's order of trial
        return [part.split(":", 1)[0].strip() for part in value.split(";") if part.strip()]
    if env.get("WAYLAND_DISPLAY"):
        return ["wayland", "xcb"]
    return ["xcb"]


def _x_display_problem(display: str) -> str:
    if not display:
        return "no X display (DISPLAY is not set)"
    host, _, rest = display.rpartition(":")
    if host and host != "unix":
        return ""  # a remote display (ssh -X, a TCP display): only Qt can tell
    number = rest.split(".", 1)[0]
    if number.isdigit() and not Path(f"/tmp/.X11-unix/X{number}").exists():
        return f"no X server is listening on display {display}"
    return ""


def platform_problem(plugins_dir: Path, env: dict[str, str] | None = None) -> str:
    """Why no requested Qt platform can start here, or "" when one looks usable (or when we
    cannot tell: then Qt decides)."""
    if not sys.platform.startswith("linux"):
        return ""
    env = dict(os.environ) if env is None else env
    problems = []
    for name in _requested_platforms(env):
        plugin = plugins_dir / "platforms" / f"libq{name}.so"
        if not plugin.is_file():
            problems.append(f"Qt has no platform plugin {name!r}")
            continue
        try:
            ctypes.CDLL(str(plugin))
        except OSError as exc:
            missing = str(exc).split(":", 1)[0].strip()
            problems.append(f"Qt's {name!r} plugin cannot load ({missing} is missing)")
            continue
        if name == "xcb":
            trouble = _x_display_problem(env.get("DISPLAY", ""))
        elif name.startswith("wayland"):
            trouble = "" if env.get("WAYLAND_DISPLAY") else "no Wayland display"
        else:
            trouble = ""
        if not trouble:
            return ""
        problems.append(trouble)
    return "; ".join(problems)


def display_error_line(problem: str) -> str:
    """The one line printed instead of Qt's abort."""
    text = " ".join(problem.split())
    return (
        f"opro-gui: cannot open a window: {text}. On a desktop, install Qt's X11 libraries "
        f"(Debian/Ubuntu: sudo apt install {X11_PACKAGES}); on a server, use the `opro` "
        "command, or QT_QPA_PLATFORM=offscreen for a window nobody sees."
    )
