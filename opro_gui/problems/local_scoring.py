"""Scoring for problems whose objective is computed here (TSP, linear regression)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ScoreResult, Solution

#: The project setting that restores the reference code's answer parsing exactly.
STRICT_KEY = "strict_reference_parsing"


def score_each(
    solutions: Sequence[Solution],
    invalid_reason: Callable[[Solution], str | None],
    objective: Callable[[Solution], float],
    cancel: CancelToken | None = None,
) -> list[ScoreResult]:
    """One ScoreResult per solution: the objective, or the reason the solution is invalid."""
    results: list[ScoreResult] = []
    for solution in solutions:
        if cancel is not None:
            cancel.raise_if_cancelled()
        reason = invalid_reason(solution)
        results.append(
            ScoreResult(None, error=reason)
            if reason is not None
            else ScoreResult(objective(solution))
        )
    return results
