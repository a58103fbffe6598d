"""What the run view writes and draws from a run's data: its one-line status, the random
search's curve (grown step by step, merged with the stored one) and the reference lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opro_gui.services.summary import RunSummary
from opro_gui.services.verdict import run_notes

from .confidence_text import confidence_parts, confidence_warnings

Fmt = Callable[[float | None], str]


def summary_line(s: RunSummary, fmt: Fmt) -> str:
    """The run's status line (the same wording `opro show` uses)."""
    parts = [f"Run {s.id}: {s.status_text}"]  # the one wording (services.status)
    parts.append(f"step {s.steps_completed} of {s.max_steps}")
    if s.best_score is not None:
        parts.append(f"best {fmt(s.best_score)}")
    if s.facts.get("gap_percent") is not None:
        parts.append(f"gap {s.facts['gap_percent']:.2f}%")
    p = s.prompt
    if p is not None and p.best_test_accuracy is not None:
        parts.append(f"test accuracy {fmt(p.best_test_accuracy)}")
    for name, acc in (p.best_transfer_accuracy if p is not None else {}).items():
        parts.append(f"{name} {fmt(acc)}")
    if p is not None and p.baseline is not None and p.baseline.best_train_accuracy is not None:
        parts.append(f"no-trajectory baseline {fmt(p.baseline.best_train_accuracy)}")
    parts += confidence_parts(s)
    return " · ".join(parts)


def warning_lines(s: RunSummary) -> list[str]:
    """The run's verdict for the banner, worded once in services (as `opro show` prints it)."""
    notes = [f"ℹ {n[0].upper()}{n[1:]}." for n in run_notes(s)]
    return [f"⚠ {w}" for w in s.warnings] + confidence_warnings(s) + notes


def live_line(run_id: int | None, step: int, max_steps: int, best: str, gap: float | None) -> str:
    """The status line while a run is going."""
    parts = [f"Run {run_id}: running", f"step {step} of {max_steps}"]
    if best != "-":
        parts.append(f"best {best}")
        if gap is not None:
            parts.append(f"gap {gap:.2f}%")
    return " · ".join(parts)


def columns(points: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    return [s for s, _ in points], [v for _, v in points]


def evaluation_lines(
    s: RunSummary, best_steps: Sequence[int], best_solutions: Sequence[Any], last_step: int
) -> tuple[list[tuple[str, float]], list[int], list[float]]:
    """Held-out results: baselines as lines, evaluated candidates as markers at the step
    where they became the best (the run's last step if they never were)."""
    lines: list[tuple[str, float]] = []
    first_best: dict[str, int] = {}
    for step, sol in zip(best_steps, best_solutions, strict=True):
        first_best.setdefault(str(sol), step)
    steps: list[int] = []
    scores: list[float] = []
    for e in s.prompt.test_evaluations if s.prompt else ():
        if e.test_accuracy is None:
            continue
        if "baseline" in e.label:  # fixed instructions and the equal-budget run
            lines.append((f"{e.label} (test)", float(e.test_accuracy)))
        else:
            steps.append(first_best.get(str(e.instruction), max(0, last_step)))
            scores.append(float(e.test_accuracy))
    return lines, steps, scores


class RandomCurve:
    """The equal-budget random search's best after each step, as it grows during a run.
    It starts where the run starts (the same starting solutions: step 0's best), so it is
    drawn from step 0."""

    def __init__(self) -> None:
        self.start: float | None = None
        self._values: dict[int, float] = {}

    def clear(self) -> None:
        self.start, self._values = None, {}

    def add(self, step: int, value: float | None) -> None:
        if value is not None and step >= 1:
            self._values[step] = float(value)

    def replace(self, values: Sequence[float]) -> None:
        """The stored curve (steps 1..n); later steps already added live are kept."""
        later = {s: v for s, v in self._values.items() if s > len(values)}
        self._values = {i + 1: float(v) for i, v in enumerate(values)} | later

    @property
    def values(self) -> list[float]:
        """Values after steps 1..n (the stored curve's shape)."""
        return [self._values[s] for s in sorted(self._values)]

    def points(self) -> tuple[list[int], list[float]]:
        """(steps, values) to draw: from step 0, as soon as step 0 is known."""
        steps = sorted(self._values)
        head = [0] if self.start is not None else []
        first = [self.start] if self.start is not None else []
        return head + steps, [*first, *(self._values[s] for s in steps)]
