"""Read and write one `.opro` project file. The storage package is the only code that speaks SQL."""

from __future__ import annotations

from .batches import BatchesMixin
from .extras import ExtrasMixin, ProjectCache
from .project_models import ProjectModelsMixin
from .rows import ProjectError

__all__ = ["ProjectCache", "ProjectError", "ProjectStore"]


class ProjectStore(ExtrasMixin, BatchesMixin, ProjectModelsMixin):
    """One open connection to a project file. Use one store per thread."""
