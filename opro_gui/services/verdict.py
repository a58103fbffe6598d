"""The verdict on a run — the warnings `opro show` prints and the GUI's banner shows, made once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from opro_gui.core.models import CallRecord
from opro_gui.problems import reasons

#: Above this share of unparseable proposals the model, not the method, is the likely problem.
INVALID_RATE_WARNING = 0.5
_SHOWN_CATEGORIES = 4


def parse_facts(cands: list[dict[str, Any]]) -> dict[str, Any]:
    """The run summary's parsing facts: invalid reasons by category, who they are owed to,
    and how many scored answers robust parsing repaired (initial solutions not counted)."""
    invalid = [c["reason"] for c in cands if c["step"] > 0 and c["status"] == "invalid"]
    owed = Counter(reasons.categorize(r)[1] for r in invalid)
    return {
        "invalid_reasons": reasons.breakdown(invalid),
        "invalid_by": {reasons.MODEL: owed[reasons.MODEL], reasons.PARSER: owed[reasons.PARSER]},
        "repaired": sum(
            1 for c in cands if c["status"] == "scored" and reasons.is_repaired(c["reason"] or "")
        ),
    }


def transport_facts(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Retries, timeouts and n top-ups of a run's LLM calls (from the stored call records)."""
    per_step: Counter[int] = Counter(
        int(c["step"]) for c in calls if c["role"] == "optimizer" and c["step"] is not None
    )
    return {
        "retries": sum(int(c["retries"]) for c in calls),
        "timeouts": sum(
            1
            for c in calls
            if "timed out" in (c["error"] or "") or "too slowly" in (c["error"] or "")
        ),
        "top_up_calls": sum(k - 1 for k in per_step.values() if k > 1),
    }


def run_warnings(s: dict[str, Any]) -> list[str]:
    """Everything a user should be told about a run summary, one sentence each."""
    out: list[str] = []
    rate = s.get("invalid_rate")
    if rate is not None and rate > INVALID_RATE_WARNING:
        text = (
            f"{rate:.0%} of the optimizer's proposals could not be parsed. The model, not the "
            "method, is the likely problem: try a stronger optimizer model or check the raw "
            "completions in the history."
        )
        if s.get("invalid_reasons"):
            text += " Reasons: " + reasons_line(s) + "."
        out.append(text)
    parser_owed = (s.get("invalid_by") or {}).get(reasons.PARSER, 0)
    if parser_owed:
        out.append(
            f"{parser_owed} rejected proposals were usable answers refused by "
            "strict_reference_parsing (the reference code's rules); robust parsing would read them."
        )
    if s.get("model_mismatch"):
        out.append(
            "The server answered with another model than requested: "
            f"{', '.join(s['model_mismatch'])} (asked for {s.get('optimizer_model')})."
        )
    ended = s.get("status") not in ("running", "created")
    if ended and s.get("beats_random_search") is False and s.get("found_at_step") is None:
        out.append(
            "The optimizer did no better than a random search with the same number of "
            f"evaluations (best {s.get('best_score'):g} vs random search "
            f"{s.get('random_search_best'):g})."
        )
    transport = transport_line(s)
    if transport:
        out.append(f"Transport: {transport}.")
    return out


def run_notes(s: dict[str, Any]) -> list[str]:
    """Facts worth a line beside the warnings: why proposals were invalid, what was repaired."""
    out: list[str] = []
    if s.get("invalid_reasons"):
        owed = s.get("invalid_by") or {}
        out.append(
            f"invalid proposals {sum(s['invalid_reasons'].values())}: {reasons_line(s)} "
            f"(owed to the model: {owed.get(reasons.MODEL, 0)}, "
            f"to strict parsing: {owed.get(reasons.PARSER, 0)})"
        )
    if s.get("repaired"):
        out.append(f"answers repaired by robust parsing and scored: {s['repaired']}")
    return out


def reasons_line(s: dict[str, Any]) -> str:
    """ "12 no <trace> answer, 5 wrong number of nodes, …" for the most frequent categories."""
    items = list((s.get("invalid_reasons") or {}).items())
    shown = [f"{k} {name}" for name, k in items[:_SHOWN_CATEGORIES]]
    rest = sum(k for _, k in items[_SHOWN_CATEGORIES:])
    return ", ".join(shown + ([f"{rest} other"] if rest else []))


def transport_line(s: dict[str, Any]) -> str:
    """Retries, timeouts, top-ups and failed calls, or "" when none happened."""
    parts = []
    for key, label in (
        ("retries", "retries"),
        ("timeouts", "timed-out requests"),
        ("failed_calls", "failed requests"),
        ("top_up_calls", "top-up requests (the server ignored n)"),
    ):
        if s.get(key):
            parts.append(f"{s[key]} {label}")
    for note in s.get("pacing_notes") or []:
        parts.append(str(note))
    return ", ".join(parts)


def step_transport(calls: Sequence[CallRecord]) -> str:
    """One step's retries, timeouts and top-ups for its progress line ("" when none)."""
    retries = sum(c.retries for c in calls)
    timeouts = sum(1 for c in calls if "timed out" in c.error or "too slowly" in c.error)
    top_ups = max(0, sum(1 for c in calls if c.role == "optimizer") - 1)
    parts = [
        f"{k} {label}"
        for k, label in (
            (retries, "retries"),
            (timeouts, "timeouts"),
            (top_ups, "top-ups (server ignored n)"),
        )
        if k
    ]
    return ", ".join(parts)
