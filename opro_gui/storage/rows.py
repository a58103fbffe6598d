"""Conversions between stored rows and values, and the one error type of the storage layer.

Every value read from a file passes through one of the checks below where its row is built, so
no later layer meets a score stored as text, a list where a string belongs or JSON nested
100,000 deep. The rule per value: a number or flag that is not one is read as "unknown" (None,
0 or False); text that is not text is shown as text; JSON that is malformed, nested deeper than
``MAX_DEPTH`` or larger than its cap is a ProjectError (one line naming what is damaged)."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any

from opro_gui.core.models import CallRecord, RunSettings, Totals, setting_problem
from opro_gui.core.text import one_line, storable

#: Deepest nesting accepted in any JSON value of a project (ours never exceed 4).
MAX_DEPTH = 64
#: Largest JSON text decoded for settings, endpoints and the task definition.
MAX_CONFIG_CHARS = 16_000_000
#: Largest JSON text decoded for completions, solutions and replays.
MAX_DATA_CHARS = 256_000_000
#: Largest count or token number believed (2^53: exact in a float, beyond any real usage).
MAX_COUNT = 2**53


class ProjectError(Exception):
    """A project file cannot be used; the message is one line a user can act on."""

    def __init__(self, message: object = "", *args: object) -> None:
        # One line whatever went into it: SQLite quotes a damaged schema's SQL, newlines too.
        super().__init__(one_line(str(message)), *args)


def to_json(value: Any) -> str:
    # storable: half an emoji that slipped past the boundaries must not make a row unsavable.
    return storable(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > MAX_DEPTH:
                return False
            items = v.values() if isinstance(v, dict) else v
            stack.extend((x, d + 1) for x in items if isinstance(x, dict | list))
    return True


def from_json(text: Any, what: str, limit: int = MAX_DATA_CHARS) -> Any:
    """Decode one stored JSON text (None stays None); damage is a ProjectError."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):  # a number stored where JSON text belongs
        raise ProjectError(f"corrupt project file: {what} is not JSON text")
    if len(text) > limit:
        raise ProjectError(f"corrupt project file: {what} is larger than {limit:,} characters")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ProjectError(f"corrupt project file: {what} is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"corrupt project file: {what} is not valid JSON ({exc})") from None
    # Nesting needs an opening bracket per level: a text with few of them (counted in C) is
    # shallow enough without walking the decoded value.
    if text.count("[") + text.count("{") > MAX_DEPTH and not _depth_ok(value):
        raise ProjectError(f"corrupt project file: {what} is nested deeper than {MAX_DEPTH}")
    return value


def json_object(text: Any, what: str, limit: int = MAX_CONFIG_CHARS) -> dict[str, Any] | None:
    """A stored JSON object, or None when absent or of another shape (a list, a number)."""
    value = from_json(text, what, limit)
    return value if isinstance(value, dict) else None


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def number(v: Any) -> float | None:
    """A finite number, or None (text, bytes, NaN, infinity, NULL)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, int):
        return float(v) if abs(v) < 2**63 else None
    return v if math.isfinite(v) else None


def count(v: Any) -> int:
    """A whole number >= 0 (token counts, retries, n); anything else counts as 0."""
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        return 0
    return v if 0 <= v <= MAX_COUNT else 0


def whole(v: Any) -> int | None:
    """A whole number (ids, step numbers), or None."""
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        v = int(v)
    return v if isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**63 else None


def amount(v: Any) -> float:
    """A finite amount >= 0 (seconds, dollars); anything else is 0."""
    x = number(v)
    return x if x is not None and x >= 0 else 0.0


def flag(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v and v != 0


def text(v: Any) -> str:
    """Text as stored; bytes (a BLOB) shown with replacement characters, numbers as digits."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


def texts(value: Any) -> tuple[str, ...]:
    """A decoded JSON list of texts (completions); other shapes become texts or nothing."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        return ()
    return tuple(v if isinstance(v, str) else to_json(v) for v in value)


_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "max_steps": (int,),
    "samples_per_step": (int,),
    "temperature": (int, float),
    "max_tokens": (int,),
    "seed": (int,),
    "history_size": (int,),
    "target_score": (int, float),
    "patience": (int,),
    "stop_at_optimum": (bool,),
    "budget_tokens": (int,),
    "budget_usd": (int, float),
    "pause_after_unparseable": (int,),
    "pause_after_zero_score": (int,),
    "baseline": (bool,),
}
_AT_LEAST = {"max_steps": 0, "samples_per_step": 1, "max_tokens": 1, "history_size": 1,
             "patience": 0, "budget_tokens": 0, "budget_usd": 0, "temperature": 0,
             "pause_after_unparseable": 0, "pause_after_zero_score": 0}  # fmt: skip


def settings_from(value: Any) -> RunSettings:
    """Run settings from their stored JSON; a value of the wrong type or out of range falls
    back to its default (the CLI and the GUI re-check whatever the user sets next)."""
    if not isinstance(value, dict):
        return RunSettings()
    kept: dict[str, Any] = {}
    for f in fields(RunSettings):
        v = value.get(f.name)
        want = _SETTING_TYPES[f.name]
        if v is None or isinstance(v, bool) != (bool in want) or not isinstance(v, want):
            if v is None and f.name in value and f.default is None:
                kept[f.name] = None
            continue
        if _out_of_range(f.name, v) or setting_problem(f.name, v):
            continue
        kept[f.name] = v
    return RunSettings(**kept)


def _out_of_range(name: str, v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return not math.isfinite(v) or v < _AT_LEAST.get(name, -math.inf) or abs(v) >= 2**63


def call_from_row(c: dict[str, Any]) -> CallRecord:
    return CallRecord(
        role=text(c["role"]),
        model_requested=text(c["model_requested"]),
        model_reported=text(c["model_reported"]),
        prompt_tokens=count(c["prompt_tokens"]),
        completion_tokens=count(c["completion_tokens"]),
        latency_s=amount(c["latency_s"]),
        retries=count(c["retries"]),
        cached=flag(c["cached"]),
        error=text(c["error"]),
        n=count(c["n"]),
        cost_usd=amount(c["cost_usd"]),
        base_url=text(c["base_url"]),
    )


def totals_of(calls: list[CallRecord]) -> Totals:
    """Usage totals of call records."""
    totals = Totals()
    for c in calls:
        totals.add(c)
    return totals
