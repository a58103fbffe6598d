"""The project session: every verb of the application on one open project file."""

from __future__ import annotations

from .actions import ActionsMixin
from .baseline import BaselineMixin
from .export import ExportMixin
from .provenance import ProvenanceMixin
from .sweep import SweepMixin


class ProjectSession(ProvenanceMixin, SweepMixin, ExportMixin, ActionsMixin, BaselineMixin):
    """An open project file. Not thread-safe: open one session per thread."""
