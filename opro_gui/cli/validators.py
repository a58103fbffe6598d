"""argparse ``type=`` checks: every option is checked before anything is written, by name."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from opro_gui.llm.config import url_problem

INT64_MAX = 2**63 - 1  # SQLite stores 64-bit integers; anything larger cannot be saved


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, not {text!r}")
    return value


def int_range(low: int, high: int = INT64_MAX) -> Callable[[str], int]:
    """A whole number within ``low..high``."""

    def check(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            bound = f"at least {low}" if high == INT64_MAX else f"within {low}..{high}"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {value}")
        return value

    check.__name__ = "whole number"
    return check


def float_range(
    low: float, high: float = math.inf, *, low_open: bool = False
) -> Callable[[str], float]:
    """A finite number within ``low..high`` (``low`` itself excluded when ``low_open``)."""

    def check(text: str) -> float:
        value = _number(text)
        if value < low or (low_open and value == low) or value > high:
            if high == math.inf:
                bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            else:
                bound = f"within {low:g}..{high:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {text}")
        return value

    check.__name__ = "number"
    return check


def finite(text: str) -> float:
    return _number(text)


def seed(text: str) -> int:
    value = _whole(text)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError("must fit in 64 bits")
    return value


def base_url(text: str) -> str:
    """An http(s) URL without a user name or password in it."""
    problem = url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


positive = int_range(1)
non_negative = int_range(0)


def seconds(text: str) -> float:
    """A positive, finite number of seconds (``nan``, ``inf``, 0 and negatives refused)."""
    return float_range(0, 1e6, low_open=True)(text)


def coefficient(text: str) -> int:
    """A linear-regression ``w`` or ``b``: a whole number within the problem's limits."""
    from opro_gui.problems.linear_regression import COEF_LIMIT  # numpy: only when used

    return int_range(-COEF_LIMIT, COEF_LIMIT)(text)
