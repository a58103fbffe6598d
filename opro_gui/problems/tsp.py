"""The travelling-salesman problem kind: instances, meta-prompt, tour parsing, scoring."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ParsedCandidate, Scored, ScoreResult, Solution
from opro_gui.core.ports import LLMClient

from . import tsp_solvers as solvers
from .local_scoring import STRICT_KEY, score_each

_TEMPLATE_FILE = Path(__file__).with_name("templates") / "tsp.txt"
_INT_RE = re.compile(r"[+-]?[0-9]+")
_N_STARTS = 5
_SNIPPET_CHARS = 200

Point = tuple[float, float]


@functools.cache
def default_template() -> str:
    """The paper's TSP meta-prompt (OPRO_SPEC §2.2) with ``{points}`` and ``{history}``."""
    return _TEMPLATE_FILE.read_text(encoding="utf-8").removesuffix("\n")


def fill_template(template: str, **values: str) -> str:
    """Replace ``{name}`` placeholders; any other braces a user typed are left alone."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def format_coordinate(value: float) -> str:
    """How a coordinate appears in the meta-prompt. Integral values (every generated instance)
    are shown as integers, as in the paper; non-integral imported coordinates (TSPLIB, CSV) are
    shown with at most two decimals — distances and lengths always use the exact values."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _clean_number(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"coordinate {value!r} is not a finite number")
    return int(number) if number.is_integer() else number


def top_history(history: Sequence[Scored], size: int, key: Any) -> list[Scored]:
    """The best ``size`` distinct entries (lowest score; ties: earlier step, then key), worst
    first. Keys are computed only for the leading entries, so a long run stays cheap per step."""
    if size <= 0:
        return []
    chosen: dict[str, Scored] = {}
    last: tuple[float, int] | None = None
    for entry in sorted(history, key=lambda e: (e.score, e.step)):
        rank = (entry.score, entry.step)
        if len(chosen) >= size and rank != last:
            break  # every later entry ranks below the ones kept (ties settled by key below)
        k = key(entry.solution)
        if k not in chosen:
            chosen[k] = entry
            last = rank
    ranked = sorted(chosen.items(), key=lambda kv: (kv[1].score, kv[1].step, kv[0]))
    return [entry for _, entry in reversed(ranked[:size])]


class TSPProblem:
    """A Euclidean TSP instance. The score of a tour is its length truncated to an integer
    (OPRO_SPEC §4.7): the paper shows and compares integer lengths, so history, optimum
    check and gap all use the same integers."""

    kind = "tsp"
    higher_is_better = False
    default_history_size = 10
    worst_score: float | None = None

    def __init__(
        self,
        points: Sequence[Sequence[float]],
        *,
        name: str = "",
        seed: int = 0,
        template: str | None = None,
        optimum: dict[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        if any(len(p) != 2 for p in points):
            raise ValueError("every point needs exactly two coordinates (x, y)")
        pts = [(_clean_number(p[0]), _clean_number(p[1])) for p in points]
        if len(pts) < 3:
            raise ValueError(f"a TSP instance needs at least 3 points, got {len(pts)}")
        if int(seed) < 0:
            raise ValueError("seed must be a non-negative integer")
        self.points: list[Point] = pts
        self.name = name or f"tsp-{len(pts)}"
        self.seed = int(seed)
        self.custom_template = template
        self.strict = bool(strict)  # strict_reference_parsing: the reference's parse rules
        self._dist = solvers.distance_matrix(pts)
        self._optimum: tuple[float, list[int], bool] | None = None
        if optimum is not None:
            self._optimum = self._check_optimum(optimum)

    # ----------------------------------------------------------------- construction
    @classmethod
    def generate(cls, n: int, seed: int, name: str = "") -> TSPProblem:
        """``n`` points with integer coordinates uniform in [-100, 100] (seeded)."""
        if n < 3:
            raise ValueError(f"a TSP instance needs at least 3 points, got {n}")
        rng = np.random.default_rng(seed)
        xy = rng.integers(-100, 101, size=(n, 2))
        return cls(xy.tolist(), name=name or f"random-{n}-seed{seed}", seed=seed)

    @classmethod
    def from_points(
        cls, points: Sequence[Sequence[float]], name: str = "", seed: int = 0
    ) -> TSPProblem:
        return cls(points, name=name, seed=seed)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> TSPProblem:
        if spec.get("kind", cls.kind) != cls.kind:
            raise ValueError(f"not a TSP spec: kind {spec.get('kind')!r}")
        return cls(
            spec["points"],
            name=str(spec.get("name", "")),
            seed=int(spec.get("seed", 0)),
            template=spec.get("template"),
            optimum=spec.get("optimum"),
            strict=bool(spec.get(STRICT_KEY, False)),
        )

    def to_spec(self) -> dict[str, Any]:
        """Everything needed to rebuild the instance, including the (cached) optimum."""
        length, tour, exact = self.optimum()
        spec: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "seed": self.seed,
            "points": [[x, y] for x, y in self.points],
            "optimum": {"length": length, "tour": list(tour), "exact": exact},
        }
        if self.custom_template is not None:
            spec["template"] = self.custom_template
        if self.strict:
            spec[STRICT_KEY] = True
        return spec

    def _check_optimum(self, cached: dict[str, Any]) -> tuple[float, list[int], bool] | None:
        """Accept a cached optimum only if its tour is valid here; recompute its length."""
        tour = [int(i) for i in cached.get("tour", [])]
        if self.validation_error(tour) is not None:
            return None
        exact = bool(cached.get("exact", False)) and self.n <= solvers.EXACT_MAX_N
        return solvers.tour_length(self._dist, tour), tour, exact

    # ----------------------------------------------------------------- facts
    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def template(self) -> str:
        """The meta-prompt template in use (user-edited or the paper's)."""
        return self.custom_template if self.custom_template is not None else default_template()

    def exact_length(self, tour: Sequence[int]) -> float:
        return solvers.tour_length(self._dist, tour)

    def length(self, tour: Sequence[int]) -> int:
        """The integer length shown to the optimizer and used as the score."""
        return solvers.truncate_length(self.exact_length(tour))

    def optimum(self) -> tuple[float, list[int], bool]:
        """(exact length, tour, exact?) — Held–Karp for small n, LKH beyond; computed once."""
        if self._optimum is None:
            self._optimum = solvers.solve(self._dist)
        length, tour, exact = self._optimum
        return length, list(tour), exact

    def optimal_tour(self) -> list[int]:
        return self.optimum()[1]

    def optimal_length(self) -> int:
        """Integer length of the optimum (or of the best known tour when not exact)."""
        return solvers.truncate_length(self.optimum()[0])

    def gap_percent(self, length: float) -> float:
        """(L − L*) / L* × 100 against the integer optimum (or best known) length."""
        best = self.optimal_length()
        if best == 0:
            return 0.0 if length <= 0 else math.inf
        return (float(length) - best) / best * 100.0

    def nearest_neighbour_tour(self) -> list[int]:
        return solvers.nearest_neighbour(self._dist)

    def farthest_insertion_tour(self) -> list[int]:
        return solvers.farthest_insertion(self._dist)

    def summary(self) -> dict[str, Any]:
        nn = self.length(self.nearest_neighbour_tour())
        fi = self.length(self.farthest_insertion_tour())
        _, _, exact = self.optimum()
        best = self.optimal_length()
        return {
            "kind": self.kind,
            "name": self.name,
            "n": self.n,
            "seed": self.seed,
            "nearest_neighbour": nn,
            "farthest_insertion": fi,
            "nearest_neighbour_gap_percent": self.gap_percent(nn),
            "farthest_insertion_gap_percent": self.gap_percent(fi),
            "optimal_length": best if exact else None,
            "best_known_length": best,
            "optimal_is_exact": exact,
            "optimum_solver": "held-karp" if exact else "lkh (elkai)",
        }

    # ----------------------------------------------------------------- OPRO hooks
    def initial_solutions(self) -> list[Solution]:
        """Five distinct random tours from node 0 (fewer when n is tiny), seeded by ``seed``."""
        rng = np.random.default_rng([self.seed, 1])
        wanted = min(_N_STARTS, math.factorial(self.n - 1))
        tours: list[list[int]] = []
        while len(tours) < wanted:
            tour = solvers.random_tour(self.n, rng)
            if tour not in tours:
                tours.append(tour)
        return list(tours)

    def meta_prompt_ingredients(
        self, history: Sequence[Scored], step: int, history_size: int
    ) -> tuple[list[Scored], list[int]]:
        """The history entries ``render_meta_prompt`` shows, in order (no exemplars)."""
        return top_history(history, history_size, self.dedup_key), []

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        points = ", ".join(
            f"({i}): ({format_coordinate(x)}, {format_coordinate(y)})"
            for i, (x, y) in enumerate(self.points)
        )
        entries, _ = self.meta_prompt_ingredients(history, step, history_size)
        shown = "\n\n".join(
            f"<trace> {self.format_solution(e.solution)} </trace>\nlength:\n{int(e.score)}"
            for e in entries
        )
        return fill_template(self.template, points=points, history=shown)

    def parse(self, completion: str) -> list[ParsedCandidate]:
        """At most one tour per completion (OPRO_SPEC §3). Robust by default: every
        ``<trace>…</trace>`` is tried and the first valid tour kept; a valid cycle that starts
        elsewhere is rotated to start at node 0 (``repair`` says what was done). With
        ``strict`` the reference rule holds: only the first ``<trace>``, which must start at 0."""
        first: ParsedCandidate | None = None
        pos = 0
        while (found := self._read_trace(completion, pos)) is not None:
            cand, pos = found
            if first is None:
                first = cand
            if self.strict or cand.solution is not None:
                break
        if first is None:
            return [ParsedCandidate(None, "no <trace> tag", _snippet(completion))]
        if self.strict:
            if first.solution is not None and first.repair:
                rejected = "does not start at node 0 (a valid cycle; strict reference parsing)"
                return [ParsedCandidate(None, rejected, first.text)]
            if first.solution is None and not self._parsed_robustly(completion):
                return [first]
            if first.solution is None:
                why = f"{first.reason} (a later <trace> holds a tour; strict reference parsing)"
                return [ParsedCandidate(None, why, first.text)]
            return [first]
        if first.solution is not None or cand.solution is None:
            return [first]
        note = "used a later <trace> (the first was not a tour: " + first.reason + ")"
        return [replace(cand, repair="; ".join(filter(None, [note, cand.repair])))]

    def _parsed_robustly(self, completion: str) -> bool:
        pos = 0
        while (found := self._read_trace(completion, pos)) is not None:
            cand, pos = found
            if cand.solution is not None:
                return True
        return False

    def _read_trace(self, completion: str, pos: int) -> tuple[ParsedCandidate, int] | None:
        """The ``<trace>`` at or after ``pos`` read as a tour, and where to look next."""
        start = completion.find("<trace>", pos)
        if start < 0:
            return None
        after = start + len("<trace>")
        end = completion.find("</trace>", start)
        if end < 0:
            why = "no </trace> after <trace>"
            return ParsedCandidate(None, why, _snippet(completion[start:])), after
        snippet = completion[start : end + len("</trace>")]
        parts = [p.strip() for p in completion[after:end].split(",")]
        parts = [p for p in parts if p]
        if not parts:
            return ParsedCandidate(None, "empty trace", snippet), after
        for part in parts:
            if not _INT_RE.fullmatch(part):
                why = f"{_short(part)!r} is not a node number"
                return ParsedCandidate(None, why, snippet), after
        tour = [int(p) for p in parts]
        repair = ""
        if tour and tour[0] != 0 and 0 in tour:
            at = tour.index(0)
            rotated = tour[at:] + tour[:at]
            if self.validation_error(rotated) is None:
                tour, repair = rotated, f"rotated to start at node 0 (it started at {parts[0]})"
        reason = self.validation_error(tour)
        if reason is not None:
            return ParsedCandidate(None, reason, snippet), after
        return ParsedCandidate(tour, "", snippet, repair), after

    def validation_error(self, tour: Any) -> str | None:
        """Why ``tour`` is not a valid tour of this instance, or None. Negative node numbers
        are rejected (the reference code accepted them through Python's negative indexing)."""
        if not isinstance(tour, list | tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in tour
        ):
            return "not a list of node numbers"
        if len(tour) != self.n:
            return f"expected {self.n} nodes, got {len(tour)}"
        for node in tour:
            if not 0 <= node < self.n:
                return f"node {node} out of range"
        seen: set[int] = set()
        for node in tour:
            if node in seen:
                return f"repeats node {node}"
            seen.add(node)
        if tour[0] != 0:
            return "does not start at node 0"
        return None

    def dedup_key(self, solution: Solution) -> str:
        return ",".join(str(int(i)) for i in solution)

    def filter_reason(self, solution: Solution) -> str | None:
        return None

    def score(
        self,
        solutions: Sequence[Solution],
        scorer: LLMClient | None = None,
        cancel: CancelToken | None = None,
    ) -> list[ScoreResult]:
        return score_each(
            solutions, self.validation_error, lambda tour: float(self.length(tour)), cancel
        )

    def format_solution(self, solution: Solution) -> str:
        return self.dedup_key(solution)

    def is_optimal(self, solution: Solution, score: float) -> bool:
        """Integer length at most the optimum's (or the best known, when not exact)."""
        return score <= self.optimal_length()

    # ----------------------------------------------------------------- comparison
    def random_search_curve(self, evals_per_step: Sequence[int], seed: int) -> list[float]:
        """Best integer length after each step of an equal-budget random search from the same
        starting tours: per step, half uniformly random tours, half random 2-swaps of the best
        (see ``tsp_solvers.random_search`` for the exact split)."""
        rng = np.random.default_rng(seed)
        return solvers.random_search(
            self.initial_solutions(), evals_per_step, rng, lambda t: float(self.length(t))
        )

    def random_search_resume(
        self, state: dict[str, Any] | None, evals_per_step: Sequence[int], seed: int
    ) -> tuple[list[float], dict[str, Any]]:
        """``random_search_curve`` continued from ``state`` (None: from the start): the next
        values and the state after them. Feeding the budget step by step gives exactly the
        curve of the whole budget. A state that does not fit raises ValueError."""
        rng = np.random.default_rng(seed)

        def evaluate(tour: Sequence[int]) -> float:
            return float(self.length(tour))

        if state is None:
            starts = self.initial_solutions()
            values = [evaluate(t) for t in starts]
            first = int(np.argmin(values))
            tour, best = list(starts[first]), values[first]
        else:
            tour, best = solvers.resume_state(rng, state, seed)
            if self.validation_error(tour) is not None:
                raise ValueError("the random search's tour does not fit this task")
        curve, tour, best = solvers.random_search_steps(tour, best, evals_per_step, rng, evaluate)
        return curve, solvers.save_state(rng, seed, tour, best)


def _snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "…"


def _short(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def load_tsp_file(path: str | Path) -> TSPProblem:
    """Import a TSPLIB (``NODE_COORD_SECTION``, EUC_2D) or CSV file of points. Raises
    ``ValueError`` naming the file and line for malformed input."""
    from .tsp_files import parse_csv_points, parse_tsplib

    file = Path(path)
    text = file.read_text(encoding="utf-8-sig")
    try:
        if file.suffix.lower() == ".tsp" or "NODE_COORD_SECTION" in text.upper():
            name, points = parse_tsplib(text)
        else:
            name, points = "", parse_csv_points(text)
    except ValueError as exc:
        raise ValueError(f"{file.name}: {exc}") from None
    return TSPProblem(points, name=name or file.stem)
