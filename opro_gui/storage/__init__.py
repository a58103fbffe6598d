"""The `.opro` project file: one SQLite database per project, written with sqlite-utils."""

from .project_store import ProjectCache, ProjectError, ProjectStore
from .rows import totals_of

__all__ = ["ProjectCache", "ProjectError", "ProjectStore", "totals_of"]
