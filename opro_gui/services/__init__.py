"""Application services shared by the CLI and the GUI: open a project, run, inspect, replay,
fork, evaluate, export. Plain Python; the GUI calls it from worker threads."""

from __future__ import annotations

from opro_gui.storage import ProjectError

from .actions import ActionsMixin
from .base import StoreSink
from .export import ExportMixin
from .sweep import SweepMixin

__all__ = ["ProjectError", "ProjectSession", "StoreSink"]


class ProjectSession(SweepMixin, ExportMixin, ActionsMixin):
    """An open project file. Not thread-safe: open one session per thread."""
