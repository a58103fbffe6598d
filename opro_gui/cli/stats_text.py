"""Wording of the statistics in `opro show` and `opro evaluate`: intervals, paired tests, spread."""

from __future__ import annotations

from typing import Any

from opro_gui.problems import get_kind


def ci_text(ci: list[float] | None) -> str:
    return "-" if not ci else f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"


def paired_line(t: dict[str, Any]) -> str:
    verdict = "a real difference" if t["significant"] else "not distinguishable from chance"
    return (
        f"paired test {t['a']} vs {t['b']} ({t['split']}, exact McNemar, n={t['n_pairs']}): "
        f"only {t['a']} right {t['only_a_correct']}, only {t['b']} right "
        f"{t['only_b_correct']}, p = {t['p_value']:.4g} — {verdict} at the 5% level"
    )


def confidence_lines(run: dict[str, Any]) -> list[str]:
    """The statistics lines of one run in `opro show` (prompt runs; nothing for other kinds)."""
    out = []
    if run.get("best_train_accuracy_ci"):
        line = f"train accuracy 95% CI {ci_text(run['best_train_accuracy_ci'])}"
        if run.get("best_test_accuracy_ci"):
            line += f", test accuracy 95% CI {ci_text(run['best_test_accuracy_ci'])}"
        out.append(line)
    out.extend(paired_line(t) for t in run.get("paired_tests") or [])
    if run.get("train_test_gap_warning"):
        out.append(f"warning: {run['train_test_gap_warning']}")
    return out


def spread_line(kind: str, group: dict[str, Any]) -> str:
    best = group["best_score"] or {}
    sd = best.get("sd")
    fmt = get_kind(kind).format_score
    spread = fmt(best.get("mean")) + ("" if sd is None else f" ± {fmt(sd)}")
    runs = ", ".join(str(r) for r in group["runs"])
    return (
        f"runs {runs} differ only in seed ({', '.join(str(s) for s in group['seeds'])}): "
        f"best score {spread} (mean ± sd over {best.get('n')} runs)"
    )
