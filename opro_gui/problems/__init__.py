"""Problem kinds: TSP, linear regression, prompt optimization. Pure Python, no I/O."""

from __future__ import annotations

from typing import Any

from opro_gui.core.ports import Problem

KINDS = ("tsp", "linreg", "prompt")


def make_problem(kind: str, spec: dict[str, Any]) -> Problem:
    """Rebuild a problem from its kind and JSON spec (as stored in a project file)."""
    if kind == "tsp":
        from .tsp import TSPProblem

        return TSPProblem.from_spec(spec)
    if kind == "linreg":
        from .linear_regression import LinearRegressionProblem

        return LinearRegressionProblem.from_spec(spec)
    if kind == "prompt":
        from .prompt_opt import PromptProblem

        return PromptProblem.from_spec(spec)
    raise ValueError(f"unknown problem kind {kind!r}; expected one of {', '.join(KINDS)}")
