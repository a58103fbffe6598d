"""The `.opro` project file: one SQLite database per project, written with sqlite-utils.

``ProjectStore`` and ``ProjectCache`` load sqlite-utils on first use (a fast `opro --version`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rows import ProjectError, totals_of

if TYPE_CHECKING:
    from .project_store import ProjectCache, ProjectStore

__all__ = ["ProjectCache", "ProjectError", "ProjectStore", "totals_of"]


def __getattr__(name: str) -> Any:
    if name in ("ProjectCache", "ProjectStore"):
        from . import project_store

        return getattr(project_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
