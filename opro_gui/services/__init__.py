"""Application services shared by the CLI and the GUI: open a project, run, inspect, replay,
fork, evaluate, export. Plain Python; the GUI calls it from worker threads."""

from __future__ import annotations

from opro_gui.storage import ProjectError

from .actions import ActionsMixin
from .base import StoreSink
from .baseline import BaselineMixin
from .export import ExportMixin

__all__ = ["ProjectError", "ProjectSession", "StoreSink"]


class ProjectSession(ExportMixin, ActionsMixin, BaselineMixin):
    """An open project file. Not thread-safe: open one session per thread."""
