"""The linear-regression problem kind: noisy data, meta-prompt, [w, b] parsing, integer optimum."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ParsedCandidate, Scored, ScoreResult, Solution
from opro_gui.core.ports import LLMClient

from .local_scoring import STRICT_KEY, score_each
from .tsp import fill_template, top_history
from .tsp_solvers import resume_state, save_state

_TEMPLATE_FILE = Path(__file__).with_name("templates") / "linear_regression.txt"
_SPAN_RE = re.compile(r"\[(.*?)\]")
_N_STARTS = 5
_START_RANGE = (10, 20)  # inclusive, both coordinates (OPRO_SPEC §4.8)
_MAX_ABS = 1e12  # larger proposals would overflow the loss; rejected at parse time
#: |w_true|, |b_true| at most this: y = w·x + b (x up to 50) then keeps the unit noise far
#: above float64 rounding (at 1e21 the rounding step is ~8e6 and the optimum is garbage).
COEF_LIMIT = 10**9
DATA_LIMIT = 1e11  # custom x and y, for the same reason
_SEARCH = 50.0  # the integer-optimum box never extends further than this from (w*, b*)

FloatArray = npt.NDArray[np.float64]


@functools.cache
def default_template() -> str:
    """The paper's linear-regression meta-prompt (OPRO_SPEC §2.1) with ``{history}``."""
    return _TEMPLATE_FILE.read_text(encoding="utf-8").removesuffix("\n")


class LinearRegressionProblem:
    """Fit y = w·x + b to 50 noisy points with integer (w, b); the score is the sum of squared
    residuals (lower is better), shown to the optimizer truncated to an integer.

    Stopping: the reference code stops when (w_true, b_true) is proposed, but the noise can
    make another integer pair fit the data better. We stop on the integer pair that minimises
    the loss (``is_optimal``) and report both in ``summary()``."""

    kind = "linreg"
    higher_is_better = False
    default_history_size = 20
    worst_score: float | None = None

    def __init__(
        self,
        w_true: int,
        b_true: int,
        seed: int = 0,
        *,
        x: Sequence[float] | None = None,
        y: Sequence[float] | None = None,
        template: str | None = None,
        name: str = "",
        strict: bool = False,
    ) -> None:
        if int(seed) < 0:
            raise ValueError("seed must be a non-negative integer")
        for name, value in (("w", w_true), ("b", b_true)):
            if not -COEF_LIMIT <= int(value) <= COEF_LIMIT:
                raise ValueError(
                    f"{name} must be within -{COEF_LIMIT:,}..{COEF_LIMIT:,} (beyond that the "
                    f"data's noise is lost to floating-point rounding), not {value}"
                )
        self.w_true = int(w_true)
        self.b_true = int(b_true)
        self.seed = int(seed)
        self.name = name or f"linreg-w{self.w_true}-b{self.b_true}-seed{self.seed}"
        self.custom_template = template
        self.strict = bool(strict)  # strict_reference_parsing: the reference's parse rules
        xs = np.arange(1, 51, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
        if y is None:
            noise = np.random.default_rng(self.seed).normal(0.0, 1.0, size=xs.size)
            ys = self.w_true * xs + self.b_true + noise
        else:
            ys = np.asarray(y, dtype=np.float64)
        if xs.ndim != 1 or xs.shape != ys.shape or xs.size < 2:
            raise ValueError("x and y must be equally long lists of at least 2 numbers")
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise ValueError("x and y must be finite numbers")
        if np.ptp(xs) == 0:
            raise ValueError("x must not be constant")
        if np.abs(xs).max() > DATA_LIMIT or np.abs(ys).max() > DATA_LIMIT:
            raise ValueError(f"x and y must be within ±{DATA_LIMIT:g}")
        self._x = xs
        self._y = ys
        self._optimum: tuple[int, int, float] | None = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> LinearRegressionProblem:
        if spec.get("kind", cls.kind) != cls.kind:
            raise ValueError(f"not a linear-regression spec: kind {spec.get('kind')!r}")
        return cls(
            int(spec["w_true"]),
            int(spec["b_true"]),
            int(spec.get("seed", 0)),
            x=spec.get("x"),
            y=spec.get("y"),
            template=spec.get("template"),
            name=str(spec.get("name", "")),
            strict=bool(spec.get(STRICT_KEY, False)),
        )

    def to_spec(self) -> dict[str, Any]:
        """Parameters plus the data itself (so numpy's generator streams may change freely)."""
        spec: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "w_true": self.w_true,
            "b_true": self.b_true,
            "seed": self.seed,
            "x": self._x.tolist(),
            "y": self._y.tolist(),
        }
        if self.custom_template is not None:
            spec["template"] = self.custom_template
        if self.strict:
            spec[STRICT_KEY] = True
        return spec

    # ----------------------------------------------------------------- facts
    @property
    def template(self) -> str:
        return self.custom_template if self.custom_template is not None else default_template()

    def data(self) -> tuple[FloatArray, FloatArray]:
        """(x, y) copies, for plotting."""
        return self._x.copy(), self._y.copy()

    def loss(self, w: Any, b: Any) -> Any:
        """Sum of squared residuals; ``w`` and ``b`` broadcast (scalars give a float, arrays an
        array — e.g. a meshgrid for a contour plot)."""
        wa = np.asarray(w, dtype=np.float64)
        ba = np.asarray(b, dtype=np.float64)
        resid = self._y - (wa[..., None] * self._x + ba[..., None])
        out = np.sum(resid * resid, axis=-1)
        return float(out) if out.ndim == 0 else out

    def least_squares(self) -> tuple[float, float]:
        """The real-valued minimiser (w*, b*)."""
        design = np.column_stack([self._x, np.ones_like(self._x)])
        sol = np.linalg.lstsq(design, self._y, rcond=None)[0]
        return float(sol[0]), float(sol[1])

    def integer_optimum(self) -> tuple[int, int, float]:
        """(w, b, loss) of the integer pair with the lowest loss, found provably.

        The loss is a convex quadratic: L(z) = L(z*) + (z − z*)ᵀ A (z − z*) with A = XᵀX and
        z* the least-squares solution. The rounded z* bounds the optimum's excess by
        R = L(round z*) − L(z*), so every better integer pair lies in the ellipse
        (z − z*)ᵀ A (z − z*) ≤ R, whose bounding box is |z_i − z*_i| ≤ sqrt(R · (A⁻¹)_ii).
        We score every integer pair in that box (widened by one for rounding safety)."""
        if self._optimum is None:
            w_star, b_star = self.least_squares()
            design = np.column_stack([self._x, np.ones_like(self._x)])
            inv = np.linalg.inv(design.T @ design)
            excess = self.loss(round(w_star), round(b_star)) - self.loss(w_star, b_star)
            excess = max(float(excess), 0.0)
            rw = math.sqrt(excess * inv[0, 0]) + 1
            rb = math.sqrt(excess * inv[1, 1]) + 1
            # Ill-conditioned custom data could ask for a huge box: search at most ±SEARCH.
            rw, rb = min(rw, _SEARCH), min(rb, _SEARCH)
            ws = np.arange(math.floor(w_star - rw), math.ceil(w_star + rw) + 1)
            bs = np.arange(math.floor(b_star - rb), math.ceil(b_star + rb) + 1)
            grid_w, grid_b = np.meshgrid(ws, bs, indexing="ij")
            losses = np.array(
                [[self.loss(int(w), int(b)) for b in bs] for w in ws], dtype=np.float64
            )
            i = int(np.argmin(losses))
            self._optimum = (
                int(grid_w.flat[i]),
                int(grid_b.flat[i]),
                float(losses.flat[i]),
            )
        return self._optimum

    def summary(self) -> dict[str, Any]:
        w_opt, b_opt, loss_opt = self.integer_optimum()
        w_ls, b_ls = self.least_squares()
        return {
            "kind": self.kind,
            "name": self.name,
            "w_true": self.w_true,
            "b_true": self.b_true,
            "seed": self.seed,
            "n_points": int(self._x.size),
            "optimum_w": w_opt,
            "optimum_b": b_opt,
            "optimum_loss": loss_opt,
            "true_loss": self.loss(self.w_true, self.b_true),
            "optimum_is_true": (w_opt, b_opt) == (self.w_true, self.b_true),
            "least_squares_w": w_ls,
            "least_squares_b": b_ls,
        }

    # ----------------------------------------------------------------- OPRO hooks
    def initial_solutions(self) -> list[Solution]:
        """Five distinct integer pairs uniform in [10, 20]², seeded by ``seed``."""
        rng = np.random.default_rng([self.seed, 1])
        low, high = _START_RANGE
        pairs: list[list[int]] = []
        while len(pairs) < _N_STARTS:
            pair = [int(v) for v in rng.integers(low, high + 1, size=2)]
            if pair not in pairs:
                pairs.append(pair)
        return list(pairs)

    def meta_prompt_ingredients(
        self, history: Sequence[Scored], step: int, history_size: int
    ) -> tuple[list[Scored], list[int]]:
        """The history entries ``render_meta_prompt`` shows, in order (no exemplars)."""
        return top_history(history, history_size, self.dedup_key), []

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        entries, _ = self.meta_prompt_ingredients(history, step, history_size)
        shown = "\n\n".join(
            f"input:\n{self.format_solution(e.solution)}\nvalue:\n{int(e.score)}" for e in entries
        )
        return fill_template(self.template, history=shown)

    def parse(self, completion: str) -> list[ParsedCandidate]:
        """At most one pair per completion (OPRO_SPEC §3): scan ``[...]`` spans from last to
        first, skip an echo of the literal "[w, b]" (no "=" but a "w" or "b"), read a span as
        two comma-separated numbers (text after "=" if any), rounded to integers. The reference
        reads only the first such span (``strict``); by default every span is tried, last to
        first, and the first readable one is kept (``repair`` says so)."""
        spans = _SPAN_RE.findall(completion)
        chosen = [s for s in reversed(spans) if "=" in s or ("w" not in s and "b" not in s)]
        if not chosen:
            reason = "only the placeholder [w, b], no numbers" if spans else "no [w, b] pair"
            return [ParsedCandidate(None, reason, _snippet(completion))]
        first = _read_pair(chosen[0])
        if first.solution is not None:
            return [first]
        later = next((c for c in map(_read_pair, chosen[1:]) if c.solution is not None), None)
        if later is None:
            return [first]
        if self.strict:
            why = f"{first.reason} (an earlier [w, b] holds a pair; strict reference parsing)"
            return [replace(first, reason=why)]
        note = f"used an earlier {later.text} (the last span was not a pair: {first.reason})"
        return [replace(later, repair=note)]

    def validation_error(self, solution: Any) -> str | None:
        if (
            not isinstance(solution, list | tuple)
            or len(solution) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in solution)
        ):
            return "not an integer pair [w, b]"
        return None

    def dedup_key(self, solution: Solution) -> str:
        return f"{int(solution[0])},{int(solution[1])}"

    def filter_reason(self, solution: Solution) -> str | None:
        return None

    def score(
        self,
        solutions: Sequence[Solution],
        scorer: LLMClient | None = None,
        cancel: CancelToken | None = None,
    ) -> list[ScoreResult]:
        return score_each(
            solutions, self.validation_error, lambda pair: self.loss(pair[0], pair[1]), cancel
        )

    def format_solution(self, solution: Solution) -> str:
        return f"w={int(solution[0])}, b={int(solution[1])}"

    def is_optimal(self, solution: Solution, score: float) -> bool:
        """The pair is the integer optimum (or ties with it)."""
        w_opt, b_opt, loss_opt = self.integer_optimum()
        return self.dedup_key(solution) == f"{w_opt},{b_opt}" or score <= loss_opt

    # ----------------------------------------------------------------- comparison
    def random_search_curve(
        self, evals_per_step: Sequence[int], seed: int, radius: int = 2
    ) -> list[float]:
        """Equal-budget random search from the same five starting pairs (not counted): step s
        evaluates exactly ``evals_per_step[s]`` random integer neighbours (w + dw, b + db),
        dw, db uniform in [−radius, radius], not both 0, of the best pair known at the start of
        the step. Returns the best loss after each step."""
        return self.random_search_resume(None, evals_per_step, seed, radius)[0]

    def random_search_resume(
        self,
        state: dict[str, Any] | None,
        evals_per_step: Sequence[int],
        seed: int,
        radius: int = 2,
    ) -> tuple[list[float], dict[str, Any]]:
        """``random_search_curve`` continued from ``state`` (None: from the start): the next
        values and the state after them (see ``TSPProblem.random_search_resume``)."""
        rng = np.random.default_rng(seed)
        if state is None:
            starts = self.initial_solutions()
            losses = [self.loss(w, b) for w, b in starts]
            first = int(np.argmin(losses))
            best_pair, best = list(starts[first]), float(losses[first])
        else:
            best_pair, best = resume_state(rng, state, seed)
            if len(best_pair) != 2 or not all(isinstance(v, int) for v in best_pair):
                raise ValueError("the random search's pair does not fit this task")
        curve: list[float] = []
        for k in evals_per_step:
            step_best = best_pair
            for _ in range(int(k)):
                dw, db = 0, 0
                while dw == 0 and db == 0:
                    dw, db = (int(v) for v in rng.integers(-radius, radius + 1, size=2))
                pair = [best_pair[0] + dw, best_pair[1] + db]
                value = self.loss(pair[0], pair[1])
                if value < best:
                    best, step_best = value, pair
            best_pair = step_best
            curve.append(best)
        return curve, save_state(rng, seed, best_pair, best)


def _read_pair(span: str) -> ParsedCandidate:
    """One ``[...]`` span's text read as an integer pair, or why it is not one."""
    snippet = f"[{span}]"
    values: list[float] = []
    for part in span.split(","):
        text = part.rpartition("=")[2].strip()
        try:
            value = float(text)
        except ValueError:
            return ParsedCandidate(None, f"{text[:20]!r} is not a number", snippet)
        if not math.isfinite(value):
            return ParsedCandidate(None, f"{text!r} is not a finite number", snippet)
        if abs(value) > _MAX_ABS:
            return ParsedCandidate(None, f"{text[:20]} is too large", snippet)
        values.append(value)
    if len(values) != 2:
        return ParsedCandidate(None, f"expected 2 numbers, got {len(values)}", snippet)
    return ParsedCandidate([round(values[0]), round(values[1])], "", snippet)


def _snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 200 else text[:200] + "…"
