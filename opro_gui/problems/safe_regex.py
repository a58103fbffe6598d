"""Patterns from shared files, matched in linear time (RE2): no pattern can hang scoring."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

_MAX_PATTERN = 10_000  # characters; RE2 also caps each compiled pattern's memory


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> tuple[Any, str]:
    """(compiled pattern or None, why not)."""
    import re2  # google-re2: guarantees time linear in the text, whatever the pattern

    if len(pattern) > _MAX_PATTERN:
        return None, f"longer than {_MAX_PATTERN:,} characters"
    options = re2.Options()
    options.log_errors = False  # the reason is returned, not printed on stderr
    try:
        return re2.compile(pattern, options), ""
    except Exception as exc:  # re2.error; its message may be bytes
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return None, str(detail)


def pattern_problem(pattern: str) -> str:
    """Why ``pattern`` cannot be used ("" when it can): RE2 has no backreferences or
    lookarounds, which are exactly what makes other engines take exponential time."""
    compiled, why = _compile(pattern)
    if compiled is not None:
        return ""
    return f"{why} (regex mode uses RE2: no backreferences such as \\1, no lookarounds)"


def search(pattern: str, text: str) -> bool:
    """True when ``pattern`` is found in ``text``; an unusable pattern never matches."""
    compiled, _ = _compile(pattern)
    return compiled is not None and compiled.search(text) is not None


def check_patterns(targets: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the first target that is not a usable pattern."""
    for i, target in enumerate(targets, start=1):
        why = pattern_problem(target)
        if why:
            raise ValueError(f"the target of example {i} is not a usable pattern: {why}")
