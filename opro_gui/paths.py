"""Locates the shipped resources/ and tasks/ folders: source checkout, installed wheel or frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Environment overrides, mainly for packagers who install the data elsewhere (e.g. /usr/share).
RESOURCES_ENV = "OPRO_STUDIO_RESOURCES"
TASKS_ENV = "OPRO_STUDIO_TASKS"

_PACKAGE_DIR = Path(__file__).resolve().parent

APP_ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)


def _frozen_root() -> Path | None:
    """The PyInstaller bundle's data folder (``sys._MEIPASS``), or None when not frozen."""
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        return Path(meipass)
    return None


def _candidates(name: str, env: str) -> list[Path]:
    """Places to look for the top-level folder ``name``, most specific first."""
    found: list[Path] = []
    override = os.environ.get(env)
    if override:
        found.append(Path(override))
    frozen = _frozen_root()
    if frozen is not None:
        found.append(frozen / name)
    # Wheels map resources/ -> opro_gui/_resources and tasks/ -> opro_gui/_tasks (pyproject).
    found.append(_PACKAGE_DIR / f"_{name}")
    # A source checkout: the folder sits beside the package. The pyproject.toml check keeps an
    # unrelated site-packages/resources from being mistaken for ours.
    repo = _PACKAGE_DIR.parent
    if (repo / "pyproject.toml").is_file():
        found.append(repo / name)
    return found


def _locate(name: str, env: str) -> Path:
    tried = _candidates(name, env)
    for path in tried:
        if path.is_dir():
            return path
    looked = ", ".join(str(p) for p in tried)
    raise FileNotFoundError(f"OPRO Studio's {name}/ folder was not found (looked in: {looked})")


def resources_dir() -> Path:
    """The folder holding icons, app metadata and stylesheets."""
    return _locate("resources", RESOURCES_ENV)


def tasks_dir() -> Path:
    """The folder holding example projects and problem presets."""
    return _locate("tasks", TASKS_ENV)


def icons_dir() -> Path:
    return resources_dir() / "icons"


def app_icon_path(size: int | None = None) -> Path:
    """The application icon: the SVG when ``size`` is None, else the PNG rendered at that size."""
    if size is None:
        return icons_dir() / "opro-studio.svg"
    if size not in APP_ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {APP_ICON_SIZES}")
    return icons_dir() / f"opro-studio-{size}.png"


def app_icon_paths() -> list[Path]:
    """Every PNG size of the application icon, smallest first (for building a QIcon)."""
    return [app_icon_path(s) for s in APP_ICON_SIZES]
