"""`opro new prompt` options for the paper's presets and §5.3 settings (light: no numpy)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_prompt_options", "options_from_args"]


# `opro new prompt` option -> spec key, for the §5.3 settings and the scoring switches.
_OPTION_KEYS = (
    ("order", "order"),
    ("score_format", "score_format"),
    ("score_buckets", "score_buckets"),
    ("exemplars", "exemplar_count"),
    ("exemplar_criterion", "criterion"),
    ("exemplar_placement", "exemplar_placement"),
    ("score_threshold", "score_threshold"),
    ("boxed", "boxed"),
    ("extract_again", "extract_again"),
    ("lenient", "lenient_substring"),
)


def options_from_args(
    args: argparse.Namespace, dataset_name: str, warn: Callable[[str], None]
) -> dict[str, Any]:
    """Spec options from ``--preset`` and the §5.3 flags (flags win over the preset)."""
    options: dict[str, Any] = {}
    if getattr(args, "preset", None):
        from .prompt_presets import preset_options

        options, warning = preset_options(args.preset, dataset_name)
        if warning:
            warn(warning)
    for opt, key in _OPTION_KEYS:
        value = getattr(args, opt, None)
        if value is not None:
            options[key] = value
    return options


def add_prompt_options(p: argparse.ArgumentParser) -> None:
    """The paper's §5.3 meta-prompt settings and scoring switches (defaults: the paper's)."""
    g = p.add_argument_group("meta-prompt and scoring (paper defaults unless given)")
    g.add_argument("--preset", help="a configuration of the paper (README lists them)")
    g.add_argument("--order", choices=["ascending", "descending", "random"],
                   help="order of past instructions (ascending: best last)")  # fmt: skip
    g.add_argument("--score-format", choices=["rounded", "bucketed", "none"],
                   help="scores as 0-100 (rounded), 0-N (bucketed) or not shown")  # fmt: skip
    g.add_argument("--score-buckets", type=int, help="N for --score-format bucketed (20)")
    g.add_argument("--exemplars", type=int, help="exemplars per meta-prompt (3)")
    g.add_argument("--exemplar-criterion",
                   choices=["random", "constant", "accumulative_most_frequent",
                            "current_most_frequent"], help="how exemplars are chosen (random)")  # fmt: skip
    g.add_argument("--exemplar-placement", choices=["after", "before"],
                   help="exemplars after the instructions (the paper) or before them")  # fmt: skip
    g.add_argument("--score-threshold", type=float,
                   help="hide instructions scoring below this (0; the reference 0.3 for GPT)")  # fmt: skip
    g.add_argument("--boxed", action=argparse.BooleanOptionalAction,
                   help="read \\boxed{} answers (the reference: with GPT scorers)")  # fmt: skip
    g.add_argument("--extract-again", action=argparse.BooleanOptionalAction,
                   help="second-round answer extraction (off)")  # fmt: skip
    g.add_argument("--lenient", action=argparse.BooleanOptionalAction,
                   help="count gold-in-answer as correct for non-numeric tasks (on)")  # fmt: skip
    g.add_argument("--strict", dest="lenient", action="store_false",
                   help="same as --no-lenient")  # fmt: skip
