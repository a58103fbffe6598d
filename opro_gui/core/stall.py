"""Stop rules read from the steps themselves: pause when the models stop producing anything usable."""

from __future__ import annotations

from dataclasses import dataclass

from .models import CandidateStatus, RunSettings, StepRecord, StopCause


@dataclass
class StallWatch:
    """Counts optimization steps in a row that show a model is not doing its job.

    - *unparseable*: no candidate of the step parsed (every one is invalid, or there are none);
    - *all worst*: something was scored and every scored candidate got the problem's
      ``worst_score`` (prompts: 0 % accuracy, the scorer got every question wrong). A step in
      which nothing was scored breaks this count. Problems without a ``worst_score`` (TSP,
      linear regression) never trigger it.

    The engine pauses only while steps remain: on the budget's last step the run completes
    as usual (pausing there would save nothing). Counts start at zero in each engine session, so continuing a paused run always gets N more
    steps before the same rule pauses it again. N = 0 turns a rule off.
    """

    settings: RunSettings
    worst_score: float | None
    unparseable: int = 0
    all_worst: int = 0

    def observe(self, record: StepRecord) -> tuple[StopCause, str] | None:
        """Fold in a completed step; the cause and reason to pause now, or None."""
        if record.step <= 0:
            return None
        cands = record.candidates
        if all(c.status is CandidateStatus.INVALID for c in cands):
            self.unparseable += 1
        else:
            self.unparseable = 0
        scored = [c for c in cands if c.status is CandidateStatus.SCORED and c.score is not None]
        worst = bool(scored) and all(c.score == self.worst_score for c in scored)
        self.all_worst = self.all_worst + 1 if worst and self.worst_score is not None else 0
        n = self.settings.pause_after_unparseable
        if n and self.unparseable >= n:
            return (
                StopCause.OPTIMIZER_UNPARSEABLE,
                f"no parseable proposal from the optimizer for {n} steps in a row "
                f"(steps {record.step - n + 1}-{record.step})",
            )
        n = self.settings.pause_after_zero_score
        if n and self.all_worst >= n:
            return (
                StopCause.SCORER_ALL_ZERO,
                f"every scored candidate got the worst possible score ({self.worst_score:g}) "
                f"for {n} steps in a row (steps {record.step - n + 1}-{record.step}): the "
                "scorer got nothing right",
            )
        return None


def all_incomplete(record: StepRecord) -> bool:
    """True when candidates were sent to the scorer and every one came back incomplete."""
    judged = [
        c
        for c in record.candidates
        if c.status in (CandidateStatus.SCORED, CandidateStatus.INCOMPLETE)
    ]
    return bool(judged) and all(c.status is CandidateStatus.INCOMPLETE for c in judged)


def incomplete_reason(record: StepRecord) -> str:
    errors = [c.reason for c in record.candidates if c.status is CandidateStatus.INCOMPLETE]
    return f"scorer requests failed for every candidate of step {record.step}: {errors[0]}"
