"""argparse ``type=`` checks (whole numbers and finite numbers in a range), shared by the CLI
and the problem kinds' ``opro new`` options: argparse names the option in the message."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

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


positive = int_range(1)
non_negative = int_range(0)


def seconds(text: str) -> float:
    """A positive, finite number of seconds (``nan``, ``inf``, 0 and negatives refused)."""
    return float_range(0, 1e6, low_open=True)(text)
