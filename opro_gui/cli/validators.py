"""argparse ``type=`` checks of the CLI's own options; the generic ones live in core.argtypes."""

from __future__ import annotations

import argparse

from opro_gui.core.argtypes import (
    finite,
    float_range,
    int_range,
    non_negative,
    positive,
    seconds,
    seed,
)
from opro_gui.llm.config import url_problem

__all__ = [
    "base_url",
    "finite",
    "float_range",
    "int_range",
    "non_negative",
    "positive",
    "seconds",
    "seed",
]


def base_url(text: str) -> str:
    """An http(s) URL without a user name or password in it."""
    problem = url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
