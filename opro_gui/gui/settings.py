"""Every QSettings key of the app, in one place: profiles, recent files, window layout, theme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "OPRO Studio"
APPLICATION = "OPRO Studio"

# -- keys (nowhere else in the code base) ----------------------------------------------------
KEY_PROFILES = "llm/profiles"  # JSON: name -> EndpointConfig.to_public_dict() + "preset"
KEY_OPTIMIZER_PROFILE = "llm/optimizer_profile"
KEY_SCORER_PROFILE = "llm/scorer_profile"
KEY_RECENT = "files/recent"  # JSON list of paths, newest first
KEY_LAST_DIR = "files/last_dir"
KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAYOUT = "window/layout"  # the named layout last chosen (View ▸ Layout)
KEY_THEME = "appearance/theme"  # "system" | "light" | "dark"
KEY_FIRST_RUN_DONE = "app/first_run_done"

MAX_RECENT = 10
# Never written to settings, whatever a caller passes in.
_SECRET_FIELDS = ("api_key", "key", "secret")


def set_settings_dir(path: str | Path) -> None:
    """Store settings under ``path`` (tests, portable installs)."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(path))


def _store() -> QSettings:
    # INI everywhere: readable, and redirectable with set_settings_dir on every platform.
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def _get_json(key: str, default: Any) -> Any:
    raw = _store().value(key, "")
    if not raw:
        return default
    try:
        return json.loads(str(raw))
    except ValueError:
        return default


def _set_json(key: str, value: Any) -> None:
    s = _store()
    s.setValue(key, json.dumps(value))
    s.sync()


# -- model profiles --------------------------------------------------------------------------
def load_profiles() -> dict[str, dict[str, Any]]:
    """Profile name -> public endpoint dict (plus "preset"). Never holds a key."""
    data = _get_json(KEY_PROFILES, {})
    if not isinstance(data, dict):
        return {}
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}


def save_profiles(profiles: dict[str, dict[str, Any]]) -> None:
    clean = {
        name: {k: v for k, v in prof.items() if k not in _SECRET_FIELDS}
        for name, prof in profiles.items()
    }
    _set_json(KEY_PROFILES, clean)


def role_profile(role: str) -> str:
    """The profile name chosen for ``role`` ("optimizer" or "scorer"); "" when none."""
    key = KEY_OPTIMIZER_PROFILE if role == "optimizer" else KEY_SCORER_PROFILE
    return str(_store().value(key, "") or "")


def set_role_profile(role: str, name: str) -> None:
    key = KEY_OPTIMIZER_PROFILE if role == "optimizer" else KEY_SCORER_PROFILE
    s = _store()
    s.setValue(key, name)
    s.sync()


# -- files -----------------------------------------------------------------------------------
def recent_files() -> list[Path]:
    data = _get_json(KEY_RECENT, [])
    if not isinstance(data, list):
        return []
    return [Path(p) for p in data if isinstance(p, str)]


def add_recent_file(path: str | Path) -> None:
    p = str(Path(path).resolve())
    items = [str(x) for x in recent_files() if str(x) != p]
    _set_json(KEY_RECENT, [p, *items][:MAX_RECENT])


def remove_recent_file(path: str | Path) -> None:
    p = str(Path(path).resolve())
    _set_json(KEY_RECENT, [str(x) for x in recent_files() if str(x) != p])


def last_dir() -> str:
    return str(_store().value(KEY_LAST_DIR, "") or "")


def set_last_dir(path: str | Path) -> None:
    s = _store()
    s.setValue(KEY_LAST_DIR, str(path))
    s.sync()


# -- window and appearance -------------------------------------------------------------------
def save_window_layout(geometry: QByteArray, state: QByteArray) -> None:
    s = _store()
    s.setValue(KEY_GEOMETRY, geometry)
    s.setValue(KEY_STATE, state)
    s.sync()


def window_layout() -> tuple[QByteArray | None, QByteArray | None]:
    s = _store()
    geometry, state = s.value(KEY_GEOMETRY), s.value(KEY_STATE)
    return (
        geometry if isinstance(geometry, QByteArray) else None,
        state if isinstance(state, QByteArray) else None,
    )


def window_layout_name() -> str:
    return str(_store().value(KEY_LAYOUT, "") or "")


def set_window_layout_name(name: str) -> None:
    s = _store()
    s.setValue(KEY_LAYOUT, name)
    s.sync()


def theme() -> str:
    value = str(_store().value(KEY_THEME, "system") or "system")
    return value if value in ("system", "light", "dark") else "system"


def set_theme(value: str) -> None:
    s = _store()
    s.setValue(KEY_THEME, value)
    s.sync()


def first_run_done() -> bool:
    return str(_store().value(KEY_FIRST_RUN_DONE, "false")).lower() == "true"


def set_first_run_done(done: bool = True) -> None:
    s = _store()
    s.setValue(KEY_FIRST_RUN_DONE, "true" if done else "false")
    s.sync()
