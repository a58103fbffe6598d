"""Why proposals were rejected, in categories that tell the model's failures from ours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from opro_gui.core.models import REPAIRED_PREFIX

#: Who a rejection is owed to: the model wrote no usable answer, or our (strict) parser
#: refused an answer that robust parsing would have read.
MODEL, PARSER = "model", "parser"

STRICT_REJECTED = "usable answer refused by strict reference parsing"

# (words every reason of the category holds, category). The problem kinds word their reasons;
# this table groups them — first match wins. Shared by all kinds (their words do not overlap).
_CATEGORIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("strict reference parsing",), STRICT_REJECTED),
    (("no <trace> tag",), "no <trace> answer"),
    (("no [w, b] pair",), "no [w, b] answer"),
    (("only the placeholder",), "only the [w, b] placeholder"),
    (("no <TEXT>",), "no <TEXT> answer"),
    (("no </trace>",), "unfinished <trace> (cut off?)"),
    (("empty trace",), "not numbers"),
    (("is not a node number",), "not numbers"),
    (("is not a number",), "not numbers"),
    (("is not a finite number",), "not numbers"),
    (("is too large",), "not numbers"),
    (("expected 2 numbers",), "not a pair of numbers"),
    (("expected", "nodes"), "wrong number of nodes"),
    (("out of range",), "node out of range"),
    (("repeats node",), "repeated node"),
    (("does not start at node 0",), "does not start at node 0"),
)


def categorize(reason: str) -> tuple[str, str]:
    """(category, MODEL or PARSER) of one invalid candidate's reason."""
    for words, category in _CATEGORIES:
        if all(w in reason for w in words):
            return category, PARSER if category == STRICT_REJECTED else MODEL
    return "other", MODEL


def breakdown(reasons: Iterable[str]) -> dict[str, int]:
    """Invalid candidates per category, most frequent first."""
    counts = Counter(categorize(r)[0] for r in reasons)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def is_repaired(reason: str) -> bool:
    """True for a scored candidate whose answer robust parsing repaired."""
    return reason.startswith(REPAIRED_PREFIX)
