"""Progress of a run, as plain values the engine yields (the GUI re-emits them as signals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import StepRecord, StopCause, Totals


@dataclass(frozen=True)
class RunStarted:
    first_step: int
    max_steps: int


@dataclass(frozen=True)
class StepStarted:
    step: int
    meta_prompt: str


@dataclass(frozen=True)
class StepCompleted:
    record: StepRecord
    totals: dict[str, Any]
    improved: bool


@dataclass(frozen=True)
class RunFinished:
    status: str  # a RunStatus value
    reason: str
    last_step: int
    totals: dict[str, Any]
    cause: StopCause = StopCause.NONE  # why it stopped; wording: services.status


@dataclass(frozen=True)
class BaselineStepCompleted:
    """A step of a run's equal-budget comparison run (its own run ``run_id``), made right
    after the main run's step of the same number."""

    run_id: int
    record: StepRecord
    totals: dict[str, Any]


Event = RunStarted | StepStarted | StepCompleted | RunFinished | BaselineStepCompleted

__all__ = [
    "BaselineStepCompleted",
    "Event",
    "RunFinished",
    "RunStarted",
    "StepCompleted",
    "StepStarted",
    "StopCause",
    "Totals",
]
