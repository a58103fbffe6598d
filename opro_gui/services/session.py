"""The project session: every verb of the application on one open project file."""

from __future__ import annotations

from .actions import ActionsMixin
from .baseline import BaselineMixin
from .export import ExportMixin


class ProjectSession(ExportMixin, ActionsMixin, BaselineMixin):
    """An open project file. Not thread-safe: open one session per thread."""
