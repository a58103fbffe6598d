"""What the project document tells the views: one frozen dataclass per fact (Spyder's naming,
past tense), so a view keeps what it was given and nobody changes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opro_gui.core.events import StepCompleted
from opro_gui.core.models import RunSettings, Scored
from opro_gui.core.ports import Problem
from opro_gui.services.pages import RunHeader, RunPoints
from opro_gui.services.summary import RunSummary


@dataclass(frozen=True)
class ProjectOpened:
    """Sent at once when a project opens: every view forgets the previous project."""

    path: Path
    name: str
    kind: str
    spec: dict[str, Any]
    runs: tuple[RunHeader, ...]
    run_id: int | None  # the run shown first (the latest, unless asked otherwise)
    run_settings: RunSettings


@dataclass(frozen=True)
class ProjectLoaded:
    """The problem instance and its facts (baselines, optimum...), read in the background."""

    path: Path
    problem: Problem
    facts: dict[str, Any]
    reference: float | None  # the score a gap is measured against (the TSP optimum)


@dataclass(frozen=True)
class RunSelected:
    """Sent at once when another run is shown; its data follows in ``RunLoaded``."""

    run_id: int | None
    header: RunHeader | None


@dataclass(frozen=True)
class RunLoaded:
    run_id: int
    header: RunHeader
    problem: Problem  # a forked run may carry its own template or settings
    facts: dict[str, Any]
    reference: float | None
    settings: RunSettings
    points: RunPoints


@dataclass(frozen=True)
class PreviewLoaded:
    """The top of the run's history: what the optimizer would see next."""

    run_id: int
    history: tuple[Scored, ...]
    step: int
    history_size: int


@dataclass(frozen=True)
class SummaryLoaded:
    run_id: int
    summary: RunSummary


@dataclass(frozen=True)
class CurveLoaded:
    """The equal-budget random search's best after each step (last of a run's reads), and the
    (step, best so far) of the run's equal-budget no-trajectory baseline, if it has one."""

    run_id: int
    random_curve: tuple[float, ...]
    baseline_curve: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class StepAppended:
    run_id: int
    event: StepCompleted


@dataclass(frozen=True)
class RunsChanged:
    runs: tuple[RunHeader, ...]


@dataclass(frozen=True)
class ProjectClosed:
    path: Path


@dataclass(frozen=True)
class LoadFailed:
    message: str
    fatal: bool = False  # the project could not be opened at all (and was closed)


@dataclass(frozen=True)
class PagesChecked:
    """The background read has read every page of the file: it is whole."""

    path: Path


@dataclass(frozen=True)
class UpgradeStarted:
    """The file has an older schema: it is being upgraded in the background (then opened)."""

    path: Path
