"""Application services shared by the CLI and the GUI: open a project, run, inspect, replay,
fork, evaluate, export. Plain Python; the GUI calls it from worker threads.

``ProjectSession`` and ``StoreSink`` load the storage and model layers on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opro_gui.storage import ProjectError

from .summary import ProjectSummary, RunSummary

if TYPE_CHECKING:
    from .actions import EvaluationResult, ReplayResult
    from .base import StoreSink
    from .session import ProjectSession

__all__ = [
    "EvaluationResult",
    "ProjectError",
    "ProjectSession",
    "ProjectSummary",
    "ReplayResult",
    "RunSummary",
    "StoreSink",
]


def __getattr__(name: str) -> Any:
    if name == "ProjectSession":
        from .session import ProjectSession

        return ProjectSession
    if name == "StoreSink":
        from .base import StoreSink

        return StoreSink
    if name in ("EvaluationResult", "ReplayResult"):
        from . import actions

        return getattr(actions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
