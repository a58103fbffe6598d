"""Continue or start anew: the one rule the CLI (`opro run`) and the GUI (Run) follow, said
before the run starts.

- No run yet, ``new_run`` asked for, or the task changed since the latest run: a new run.
- The latest run stopped before its end (created, paused, cancelled, failed, interrupted):
  continue it from its last completed step, with the settings given now.
- The latest run used its step budget and more steps are asked for: continue it.
- The latest run ended (step budget used and no more steps asked for, target or optimum
  reached, no improvement): a new run with these settings.
- The latest run is being written by another live process: refuse (nothing is started)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opro_gui.core.models import RunSettings, RunStatus
from opro_gui.storage import ProjectError

from .status import status_text


class PlanAction(StrEnum):
    CONTINUE = "continue"
    NEW = "new"


@dataclass(frozen=True)
class RunPlan:
    """What pressing Run (or `opro run`) will do. ``run_id``: the run continued, or the id the
    new run will get; ``after_step``: the last completed step the run continues after."""

    run_id: int
    action: PlanAction
    message: str
    after_step: int = -1
    previous_run_id: int | None = None

    @property
    def is_new(self) -> bool:
        return self.action is PlanAction.NEW


_CONTINUABLE = {
    RunStatus.CREATED,
    RunStatus.RUNNING,  # only when its process is gone (checked before)
    RunStatus.PAUSED,
    RunStatus.CANCELLED,
    RunStatus.FAILED,
    "interrupted",
}


def decide(
    latest: dict[str, Any] | None,
    next_id: int,
    settings: RunSettings,
    *,
    new_run: bool = False,
    spec_changed: bool = False,
) -> RunPlan:
    """The rule, on plain facts. ``latest``: the latest run's ``id``, ``status`` (as shown:
    "interrupted" for a dead writer), ``status_reason``, ``last_step``, ``settings``,
    ``busy_pid`` (another live process writing it, or None)."""
    new = f"starting run {next_id}, up to step {settings.max_steps}"
    if latest is None:
        return RunPlan(next_id, PlanAction.NEW, new.capitalize())
    rid, status, done = latest["id"], str(latest["status"]), int(latest["last_step"])
    if latest.get("busy_pid"):
        raise ProjectError(
            f"run {rid} is being run by process {latest['busy_pid']} on this computer; "
            "stop it first (or wait for it to finish)"
        )
    if new_run:
        return RunPlan(next_id, PlanAction.NEW, f"New run asked for: {new}", -1, rid)
    if spec_changed:
        why = f"The task changed since run {rid} was made: {new}"
        return RunPlan(next_id, PlanAction.NEW, why, -1, rid)
    was = status_text(status, str(latest.get("status_reason") or ""))
    more = settings.max_steps > done
    if status in _CONTINUABLE or (status == RunStatus.COMPLETED and more):
        if not more:
            what = f"Continuing run {rid} ({was}): step {done} already reaches the budget"
        elif done >= 0:
            what = (
                f"Continuing run {rid} ({was}) after step {done}, up to step {settings.max_steps}"
            )
        else:
            what = f"Continuing run {rid} ({was}) from the start, up to step {settings.max_steps}"
        changed = _changed_settings(latest.get("settings") or {}, settings)
        if changed:
            what += f"; changed settings: {changed}"
        return RunPlan(rid, PlanAction.CONTINUE, what, done, rid)
    why = f"Run {rid} already ended ({was}) after step {done}: {new}"
    return RunPlan(next_id, PlanAction.NEW, why, -1, rid)


def _changed_settings(before: dict[str, Any], now: RunSettings) -> str:
    after = now.to_dict()
    changes = [
        f"{k} {before.get(k)!r} → {v!r}"
        for k, v in after.items()
        if k != "max_steps" and k in before and before.get(k) != v
    ]
    return ", ".join(changes)
