"""How sure we are: bootstrap intervals, the exact McNemar test, gap warnings, spread over seeds."""

from __future__ import annotations

import bisect
import functools
import math
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

#: Resamples per bootstrap interval: enough for the percentile endpoints to sit on the exact
#: quantiles of the bootstrap distribution in the cases we checked (30 of 50: 46–74 %).
BOOTSTRAP_RESAMPLES = 10000
BOOTSTRAP_SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval of an accuracy (fractions in 0..1)."""

    estimate: float
    low: float
    high: float
    n: int

    def to_list(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4)]


def bootstrap_interval(
    correct: Sequence[bool],
    *,
    level: float = LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval | None:
    """Percentile bootstrap interval of the mean of ``correct`` (examples resampled with
    replacement, seeded: the same answers always give the same interval). None when empty."""
    n = len(correct)
    if n == 0:
        return None
    hits = sum(1 for c in correct if c)
    low, high = _bootstrap_bounds(hits, n, level, resamples, seed)
    return Interval(estimate=hits / n, low=low, high=high, n=n)


@functools.lru_cache(maxsize=1024)
def _bootstrap_bounds(
    hits: int, n: int, level: float, resamples: int, seed: int
) -> tuple[float, float]:
    # The number of correct answers among n examples drawn with replacement from n (hits of
    # them correct) is Binomial(n, hits/n): each resample draws that count by inverting its
    # CDF, which is the bootstrap exactly, at a cost that does not grow with n.
    p = hits / n
    cdf, total = [], 0.0
    for k in range(n + 1):
        total += _binomial_pmf(n, k, p)
        cdf.append(total)
    cdf[-1] = 1.0
    rng = random.Random(seed)
    means = sorted(bisect.bisect_left(cdf, rng.random()) / n for _ in range(resamples))
    alpha = (1.0 - level) / 2
    return _percentile(means, alpha), _percentile(means, 1.0 - alpha)


def _binomial_pmf(n: int, k: int, p: float) -> float:
    """P(X = k) for X ~ Bin(n, p), in log space (math.comb overflows a float past n ≈ 1000)."""
    if p <= 0.0 or p >= 1.0:
        return 1.0 if k == (0 if p <= 0.0 else n) else 0.0
    log = (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        + k * math.log(p) + (n - k) * math.log1p(-p)
    )  # fmt: skip
    return math.exp(log)


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile by the nearest-rank rule (a value that occurred, no interpolation)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test of two instructions answered on the same examples."""

    n_pairs: int  # examples both were scored on (a request failed: the pair is left out)
    only_a: int  # b: A right, B wrong
    only_b: int  # c: A wrong, B right
    p_value: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n_pairs": self.n_pairs,
            "only_a_correct": self.only_a,
            "only_b_correct": self.only_b,
            "p_value": self.p_value,
        }


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact p-value from the discordant counts: 2·P(X ≤ min(b, c)), X ~ Bin(b+c, ½),
    capped at 1. Computed with exact fractions, so small cases come out exactly."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts cannot be negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def paired_test(a: dict[int, bool], b: dict[int, bool]) -> McNemar:
    """McNemar on per-example correctness keyed by example id; only shared examples count."""
    shared = sorted(set(a) & set(b))
    only_a = sum(1 for i in shared if a[i] and not b[i])
    only_b = sum(1 for i in shared if b[i] and not a[i])
    return McNemar(len(shared), only_a, only_b, mcnemar_exact(only_a, only_b))


def gap_warning(train: Interval | None, test: Interval | None) -> str | None:
    """A warning when training accuracy is above held-out accuracy by more than the two
    intervals allow (they do not overlap): the instruction may be fitted to the training split."""
    if train is None or test is None or train.low <= test.high:
        return None
    return (
        f"training accuracy {100 * train.estimate:.1f}% (95% CI {100 * train.low:.1f}–"
        f"{100 * train.high:.1f}%, n={train.n}) is above test accuracy {100 * test.estimate:.1f}% "
        f"(95% CI {100 * test.low:.1f}–{100 * test.high:.1f}%, n={test.n}) by more than the "
        "intervals allow: the instruction may be overfitted to the training examples"
    )


@dataclass(frozen=True)
class Spread:
    """Mean ± sample standard deviation of one number over runs (seeds)."""

    n: int
    mean: float
    sd: float | None  # None for a single run

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "mean": round(self.mean, 6),
            "sd": None if self.sd is None else round(self.sd, 6),
        }


def spread(values: Iterable[float | None]) -> Spread | None:
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return None
    return Spread(len(xs), statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None)


def mean_sd_curves(curves: Sequence[Sequence[float | None]]) -> list[dict[str, float | None]]:
    """Per-step mean and sd of several best-so-far curves (seeds); a curve that ended early
    keeps its last value, since best-so-far does not change once a run stops."""
    length = max((len(c) for c in curves), default=0)
    out: list[dict[str, float | None]] = []
    for i in range(length):
        col = [c[min(i, len(c) - 1)] for c in curves if c]
        s = spread(col)
        out.append(
            {"step": i, "mean": None, "sd": None}
            if s is None
            else {
                "step": i,
                "mean": round(s.mean, 6),
                "sd": None if s.sd is None else round(s.sd, 6),
            }
        )
    return out
