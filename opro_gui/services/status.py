"""Every user-facing word about a run's status and why it stopped, made from the enums in one
table (the CLI and the GUI both print these; nothing recognises a stop by its text)."""

from __future__ import annotations

from dataclasses import dataclass

from opro_gui.core.models import RunStatus, StopCause


@dataclass(frozen=True)
class StopWording:
    """What to tell the user about one stop cause."""

    headline: str  # a short phrase: "token budget reached"
    advice: str  # what to do next ("" when nothing is needed)
    by_user: bool = False  # the user asked for it: report it, never as a problem
    attention: bool = False  # the run stopped on its own and needs the user (dialog, stderr)


_CONTINUE = "Continue it with `opro run` (or Run in the app): it resumes where it stopped."

STOP_WORDING: dict[StopCause, StopWording] = {
    StopCause.NONE: StopWording("", ""),
    StopCause.STEP_BUDGET: StopWording(
        "step budget used",
        "A larger --steps (or Max steps in the app) continues it; --new-run starts another.",
    ),
    StopCause.TARGET: StopWording("target score reached", ""),
    StopCause.OPTIMUM: StopWording("the optimum was found", ""),
    StopCause.PATIENCE: StopWording("no improvement for the patience window", ""),
    StopCause.USER_PAUSE: StopWording("paused by the user", _CONTINUE, by_user=True),
    StopCause.USER_CANCEL: StopWording("stopped by the user", _CONTINUE, by_user=True),
    StopCause.BUDGET_TOKENS: StopWording(
        "token budget reached",
        "Raise the budget (tokens: the OPRO settings in the app, or --budget-tokens), then "
        "continue the run (Run, or `opro run`).",
        attention=True,
    ),
    StopCause.BUDGET_USD: StopWording(
        "cost budget reached",
        "Raise the budget (dollars: the OPRO settings in the app, or --budget-usd), then "
        "continue the run (Run, or `opro run`).",
        attention=True,
    ),
    StopCause.OPTIMIZER_FAILED: StopWording(
        "the optimizer model did not answer",
        "Check the server address, key and model (Model settings ▸ Test connection in the "
        "app), then continue the run where it stopped (`opro run`, or Run).",
        attention=True,
    ),
    StopCause.SCORER_FAILED: StopWording(
        "the scorer model did not answer",
        "Check the scorer's server address, key and model (Model settings ▸ Test connection in "
        "the app), then continue the run where it stopped (`opro run`, or Run).",
        attention=True,
    ),
    StopCause.OPTIMIZER_UNPARSEABLE: StopWording(
        "the optimizer's answers could not be parsed",
        "The model may not follow the format; try a larger model or check the model name "
        "(Model settings in the app, --optimizer-model), then continue the run (`opro run`, "
        "or Run). --pause-after-unparseable sets how many such steps pause it (0: never).",
        attention=True,
    ),
    StopCause.SCORER_ALL_ZERO: StopWording(
        "the scorer got every answer wrong",
        "The model may not follow the format; try a larger model or check the model name "
        "(the scorer's model in Model settings, --scorer-model), then continue the run "
        "(`opro run`, or Run). --pause-after-zero-score sets how many such steps pause it "
        "(0: never).",
        attention=True,
    ),
    StopCause.DISK: StopWording(
        "the project file could not be written",
        "Check the disk space and the file's permissions, then continue the run (`opro run`, "
        "or Run).",
        attention=True,
    ),
    StopCause.ERROR: StopWording(
        "an unexpected error stopped it",
        "Continue the run where it stopped (`opro run`, or Run); if it happens again, please "
        "report it.",
        attention=True,
    ),
    StopCause.INTERRUPTED: StopWording("the process running it stopped", _CONTINUE, attention=True),
}

STATUS_LABELS: dict[str, str] = {
    RunStatus.CREATED: "not started",
    RunStatus.RUNNING: "running",
    RunStatus.COMPLETED: "completed",
    RunStatus.TARGET_REACHED: "target reached",
    RunStatus.NO_IMPROVEMENT: "no improvement",
    RunStatus.PAUSED: "paused",
    RunStatus.CANCELLED: "cancelled",
    RunStatus.FAILED: "failed",
    "interrupted": "interrupted",
}


def wording(cause: StopCause | str) -> StopWording:
    try:
        return STOP_WORDING[StopCause(cause)]
    except ValueError:
        return STOP_WORDING[StopCause.ERROR]


def status_label(status: str) -> str:
    return STATUS_LABELS.get(str(status), str(status).replace("_", " "))


def status_text(status: str, reason: str = "") -> str:
    """The one wording of a run's status, everywhere (`opro run`, `opro show`, the GUI):
    "paused: token budget reached: …", "cancelled by the user" (not "cancelled: cancelled…")."""
    label = status_label(status)
    if not reason:
        return label
    if reason.startswith(label):
        return reason
    return f"{label}: {reason}"


def needs_attention(cause: StopCause | str) -> bool:
    """True when the run stopped on its own in a way the user has to act on."""
    return wording(cause).attention


def is_user_stop(cause: StopCause | str) -> bool:
    return wording(cause).by_user


def stop_message(cause: StopCause | str, reason: str, last_step: int) -> str:
    """What happened, that nothing is lost, and what to do (the GUI's dialog, CLI stderr)."""
    w = wording(cause)
    kept = f"Every completed step is saved (last step {last_step})."
    text = reason or w.headline
    return f"{text}\n\n{kept} {w.advice}".rstrip()
