"""Conversions between stored rows and values, and the one error type of the storage layer."""

from __future__ import annotations

import json
import math
from typing import Any

from opro_gui.core.models import CallRecord, Totals
from opro_gui.core.text import storable


class ProjectError(Exception):
    """A project file cannot be used; the message is one line a user can act on."""


def to_json(value: Any) -> str:
    # storable: half an emoji that slipped past the boundaries must not make a row unsavable.
    return storable(json.dumps(value, ensure_ascii=False, allow_nan=False))


def from_json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"corrupt project file: {what} is not valid JSON ({exc})") from None


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def call_from_row(c: dict[str, Any]) -> CallRecord:
    return CallRecord(
        role=c["role"],
        model_requested=c["model_requested"],
        model_reported=c["model_reported"],
        prompt_tokens=c["prompt_tokens"],
        completion_tokens=c["completion_tokens"],
        latency_s=c["latency_s"],
        retries=c["retries"],
        cached=bool(c["cached"]),
        error=c["error"],
        n=c["n"],
        cost_usd=c["cost_usd"],
        base_url=c["base_url"],
    )


def totals_of(call_rows: list[dict[str, Any]]) -> Totals:
    """Usage totals of ``llm_call`` rows (as returned by ``calls``)."""
    totals = Totals()
    for c in call_rows:
        totals.add(call_from_row(c))
    return totals
