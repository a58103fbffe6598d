"""The `.opro` project file: one SQLite database per project, written with sqlite-utils."""

from .project_store import ProjectCache, ProjectError, ProjectStore

__all__ = ["ProjectCache", "ProjectError", "ProjectStore"]
