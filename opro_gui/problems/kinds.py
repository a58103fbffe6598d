"""Problem-kind descriptors and their registry: everything the app asks about a kind, once.

A descriptor is light to import (no numpy): it loads its problem class only when asked for a
problem. Kinds from outside the package register with ``register_kind``; a process picks up
plugin kinds named in ``$OPRO_KIND_PLUGINS`` (``module`` or ``module:attr``, comma-separated)
the first time the registry is read."""

from __future__ import annotations

import argparse
import importlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opro_gui.core.ports import Problem

PLUGINS_ENV = "OPRO_KIND_PLUGINS"


@dataclass(frozen=True)
class ScorerLoad:
    """What a kind asks of the scorer model, for ``opro estimate``."""

    requests_per_step: int = 0
    initial_requests: int = 0
    prompt_chars: int = 0
    prompt_tokens: int = 0  # per request, by ``core.tokens.approx_tokens``
    answer_tokens: int = 0  # expected completion tokens of one scorer answer


class ProblemKind:
    """One problem kind. Subclass it, set the class attributes, override what differs."""

    name: str = ""
    display_name: str = ""
    #: True when candidates are scored by a model (the run needs a scorer endpoint).
    needs_scorer: bool = False
    higher_is_better: bool = False
    score_label: str = "score"
    score_unit: str = ""
    #: What one candidate is called in menus and messages ("Copy best instruction").
    solution_noun: str = "solution"
    #: The run summary reports a random search given the same number of evaluations per step.
    has_random_search: bool = False
    #: Resuming rebuilds the per-example scorer answers of the history (prompt exemplars).
    needs_records_on_resume: bool = False
    #: Held-out evaluation (``opro evaluate``, the GUI's test evaluation) applies.
    supports_evaluation: bool = False
    #: The keys of ``problem.summary()`` that ``opro new`` and ``opro show`` print, in order.
    fact_keys: tuple[str, ...] = ()
    #: Help line of ``opro new <kind>``.
    cli_help: str = ""

    # -- scores ----------------------------------------------------------------------------
    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than score ``b``."""
        return a > b if self.higher_is_better else a < b

    def best_score(self, scores: Sequence[float]) -> float | None:
        if not scores:
            return None
        return max(scores) if self.higher_is_better else min(scores)

    def format_score(self, score: float | None) -> str:
        """The one way a score of this kind is written for a person ("-" for none)."""
        if score is None:
            return "-"
        return format_number(score)

    def format_difference(self, delta: float) -> str:
        """A change of score with its sign, in the score's unit ("+4.0 points" for accuracy)."""
        sign = "+" if delta > 0 else "-" if delta < 0 else "±"
        return sign + format_number(abs(delta))

    def reference_score(self, problem: Problem) -> float | None:
        """The score a gap is measured against (the TSP optimum), or None."""
        return None

    def gap_percent(self, score: float | None, reference: float | None) -> float | None:
        if score is None or not reference:
            return None
        return round((score - reference) / reference * 100, 4)

    # -- problems and facts ----------------------------------------------------------------
    def problem_from_spec(self, spec: dict[str, Any]) -> Problem:
        raise NotImplementedError

    def default_spec(self) -> dict[str, Any]:
        """A ready task definition for a new project of this kind."""
        raise NotImplementedError

    def facts_line(self, facts: dict[str, Any]) -> str:
        """The one-line description of a problem's static facts (``opro new``, ``opro show``)."""
        return ", ".join(f"{k}={facts[k]}" for k in self.fact_keys if facts.get(k) is not None)

    def summary_facts(
        self, problem: Problem, best_score: float | None, found_at_step: int | None
    ) -> dict[str, Any]:
        """The kind's own keys of a run summary (``show --json`` / export keep them)."""
        return {}

    def scorer_load(self, problem: Problem, samples_per_step: int) -> ScorerLoad:
        return ScorerLoad()

    def optimizer_answer_tokens(self, problem: Problem) -> int:
        """Expected completion tokens of one optimizer sample before a run has measured any:
        a sentence or two around the answer (a 1.5B model wrote 34–55 on TSP and LR)."""
        return 45

    # -- `opro new` ------------------------------------------------------------------------
    def add_cli_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Options of ``opro new <kind> OUT`` (OUT is added by the caller)."""

    def spec_from_args(
        self, args: argparse.Namespace, warn: Callable[[str], None]
    ) -> dict[str, Any]:
        """The task definition ``opro new`` creates from its parsed options."""
        return self.default_spec()


def format_number(value: float) -> str:
    """Integers with thousands separators; other values to four significant digits."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


# -- the registry ---------------------------------------------------------------------------
_REGISTRY: dict[str, ProblemKind] = {}
#: Why plugins named in $OPRO_KIND_PLUGINS could not be loaded (shown with an unknown kind).
PLUGIN_ERRORS: list[str] = []
_loaded = False


def register_kind(kind: ProblemKind) -> ProblemKind:
    """Add (or replace) a kind. Returns it, so a module can write ``KIND = register_kind(...)``."""
    if not kind.name or not kind.name.isidentifier():
        raise ValueError(f"a kind needs an identifier-like name, got {kind.name!r}")
    _load()  # the built-ins first, whoever registers first
    _REGISTRY[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    _REGISTRY.pop(name, None)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import builtin_kinds

    for kind in builtin_kinds.BUILTIN:
        _REGISTRY.setdefault(kind.name, kind)
    for entry in filter(None, (e.strip() for e in os.environ.get(PLUGINS_ENV, "").split(","))):
        module_name, _, attr = entry.partition(":")
        try:  # a broken plugin costs its own kind, never the built-ins (or `opro --help`)
            module = importlib.import_module(module_name)
            if attr:  # a descriptor (or a factory of one); a bare module registers on import
                obj = getattr(module, attr)
                register_kind(obj if isinstance(obj, ProblemKind) else obj())
        except Exception as exc:
            PLUGIN_ERRORS.append(f"{entry}: {type(exc).__name__}: {exc}")


def kinds() -> list[ProblemKind]:
    """Every registered kind, built-ins first."""
    _load()
    return list(_REGISTRY.values())


def kind_names() -> list[str]:
    return [k.name for k in kinds()]


def get_kind(name: str) -> ProblemKind:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        hint = (
            f"${PLUGINS_ENV} failed: {'; '.join(PLUGIN_ERRORS)}"
            if PLUGIN_ERRORS
            else f"a plugin may provide it: ${PLUGINS_ENV}"
        )
        raise ValueError(
            f"unknown problem kind {name!r}; expected one of {', '.join(_REGISTRY)} ({hint})"
        ) from None


def make_problem(kind: str, spec: dict[str, Any]) -> Problem:
    """Rebuild a problem from its kind and JSON spec (as stored in a project file)."""
    return get_kind(kind).problem_from_spec(spec)
