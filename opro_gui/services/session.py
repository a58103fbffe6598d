"""The project session: every verb of the application on one open project file."""

from __future__ import annotations

from .actions import ActionsMixin
from .baseline import BaselineMixin
from .batch_eval import BatchEvalMixin
from .export import ExportMixin
from .people import JudgeReplayMixin, PeopleMixin
from .project_models import ProjectModelsMixin
from .provenance import ProvenanceMixin
from .sweep import SweepMixin


class ProjectSession(
    ProvenanceMixin,
    SweepMixin,
    ExportMixin,
    BatchEvalMixin,
    ActionsMixin,
    BaselineMixin,
    PeopleMixin,
    JudgeReplayMixin,
    ProjectModelsMixin,
):
    """An open project file. Not thread-safe: open one session per thread."""
