"""Problem kinds: TSP, linear regression, prompt optimization. Pure Python, no I/O.

Every question about a kind goes to its descriptor (``get_kind(name)``, see ``kinds``)."""

from __future__ import annotations

from .kinds import (
    ProblemKind,
    ScorerLoad,
    get_kind,
    kind_names,
    kinds,
    make_problem,
    register_kind,
    unregister_kind,
)

#: The kinds that ship (plugins may add more: ``kinds()``).
KINDS = ("tsp", "linreg", "prompt")

__all__ = [
    "KINDS",
    "ProblemKind",
    "ScorerLoad",
    "get_kind",
    "kind_names",
    "kinds",
    "make_problem",
    "register_kind",
    "unregister_kind",
]
