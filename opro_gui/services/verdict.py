"""The verdict on a run — the warnings `opro show` prints and the GUI's banner shows, made once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opro_gui.core.models import CallRecord
from opro_gui.problems import reasons

if TYPE_CHECKING:
    from .summary import Checks, RunSummary

#: Above this share of unparseable proposals the model, not the method, is the likely problem.
INVALID_RATE_WARNING = 0.5
_SHOWN_CATEGORIES = 4


def checks(counts: dict[str, Any], pacing_notes: Sequence[Any]) -> Checks:
    """A run's parsing and transport facts from ``store.verdict_counts``: invalid reasons by
    category and by whom they are owed to (the model, or strict parsing)."""
    from .summary import Checks

    by_category: Counter[str] = Counter()
    owed: Counter[str] = Counter()
    for reason, k in counts["invalid_reasons"]:
        category, who = reasons.categorize(reason)
        by_category[category] += k
        owed[who] += k
    return Checks(
        invalid_reasons=dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
        invalid_by={reasons.MODEL: owed[reasons.MODEL], reasons.PARSER: owed[reasons.PARSER]},
        repaired=int(counts["repaired"]),
        retries=int(counts["retries"]),
        timeouts=int(counts["timeouts"]),
        top_up_calls=int(counts["top_up_calls"]),
        pacing_notes=tuple(str(n) for n in pacing_notes),
    )


def run_warnings(s: RunSummary) -> list[str]:
    """Everything a user should be told about a run, one sentence each."""
    out: list[str] = []
    c = s.checks
    rate = s.invalid_rate
    if rate is not None and rate > INVALID_RATE_WARNING:
        text = (
            f"{rate:.0%} of the optimizer's proposals could not be parsed. The model, not the "
            "method, is the likely problem: try a stronger optimizer model or check the raw "
            "completions in the history."
        )
        if c is not None and c.invalid_reasons:
            text += " Reasons: " + reasons_line(c) + "."
        out.append(text)
    parser_owed = c.invalid_by.get(reasons.PARSER, 0) if c is not None else 0
    if parser_owed:
        out.append(
            f"{parser_owed} rejected proposals were usable answers refused by "
            "strict_reference_parsing (the reference code's rules); robust parsing would read them."
        )
    if s.model_mismatch:
        out.append(
            "The server answered with another model than requested: "
            f"{', '.join(s.model_mismatch)} (asked for {s.optimizer_model})."
        )
    rs = s.random_search
    ended = s.status not in ("running", "created")
    if ended and rs is not None and rs.beats is False and s.found_at_step is None:
        out.append(
            "The optimizer did no better than a random search with the same number of "
            f"evaluations (best {s.best_score:g} vs random search {rs.best:g})."
        )
    transport = transport_line(s)
    if transport:
        out.append(f"Transport: {transport}.")
    return out


def run_notes(s: RunSummary) -> list[str]:
    """Facts worth a line beside the warnings: why proposals were invalid, what was repaired."""
    c = s.checks
    if c is None:
        return []
    out: list[str] = []
    if c.invalid_reasons:
        out.append(
            f"invalid proposals {sum(c.invalid_reasons.values())}: {reasons_line(c)} "
            f"(owed to the model: {c.invalid_by.get(reasons.MODEL, 0)}, "
            f"to strict parsing: {c.invalid_by.get(reasons.PARSER, 0)})"
        )
    if c.repaired:
        out.append(f"answers repaired by robust parsing and scored: {c.repaired}")
    return out


def reasons_line(c: Checks) -> str:
    """ "12 no <trace> answer, 5 wrong number of nodes, …" for the most frequent categories."""
    items = list(c.invalid_reasons.items())
    shown = [f"{k} {name}" for name, k in items[:_SHOWN_CATEGORIES]]
    rest = sum(k for _, k in items[_SHOWN_CATEGORIES:])
    return ", ".join(shown + ([f"{rest} other"] if rest else []))


def transport_line(s: RunSummary) -> str:
    """Retries, timeouts, top-ups, failed calls and pacing changes, or "" when none happened."""
    c = s.checks
    counts = [
        (c.retries if c else 0, "retries"),
        (c.timeouts if c else 0, "timed-out requests"),
        (s.usage.failed_calls, "failed requests"),
        (c.top_up_calls if c else 0, "top-up requests (the server ignored n)"),
    ]
    parts = [f"{k} {label}" for k, label in counts if k]
    parts += list(c.pacing_notes) if c else []
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
