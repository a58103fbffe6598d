"""How sure the run dashboard says a prompt run's accuracies are (from the typed summary)."""

from __future__ import annotations

from opro_gui.services.summary import RunSummary


def _ci(ci: list[float] | None) -> str:
    return "" if not ci else f" (95% CI {100 * ci[0]:.1f}–{100 * ci[1]:.1f}%)"


def confidence_parts(s: RunSummary) -> list[str]:
    """Summary-line pieces: the intervals and the paired tests against the baselines."""
    if s.prompt is None:
        return []
    c = s.prompt.confidence
    out = []
    if c.get("best_train_accuracy_ci"):
        out.append("train" + _ci(c["best_train_accuracy_ci"]))
    if c.get("best_test_accuracy_ci"):
        out.append("test" + _ci(c["best_test_accuracy_ci"]))
    for t in c.get("paired_tests") or []:
        out.append(f"vs {t['b']}: p = {t['p_value']:.3g}")
    return out


def confidence_warnings(s: RunSummary) -> list[str]:
    warning = s.prompt.confidence.get("train_test_gap_warning") if s.prompt else None
    return [f"⚠ {warning[0].upper()}{warning[1:]}."] if warning else []
