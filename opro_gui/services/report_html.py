"""`opro report`: one self-contained HTML file (inline SVG, inline CSS, no script, nothing
fetched) with the task, curves against baselines, best candidates, the comparison, the
statistics and what is needed to reproduce the runs."""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any

from opro_gui import __version__
from opro_gui.core.models import CandidateStatus
from opro_gui.core.rows import candidate_json

from .compare import HEADERS, compare_sessions, models_reported, run_facts, table_rows, task_hash
from .confidence import seed_spread
from .reports import ReportsMixin
from .svg_plot import PALETTE, HLine, Series, line_chart

#: The sections every report has, in order (id, heading): tests check each is present.
SECTIONS = [
    ("task", "Task"),
    ("curves", "Best score by step"),
    ("best", "Best candidates"),
    ("comparison", "Comparison of runs"),
    ("statistics", "How sure we are"),
    ("reproducibility", "Reproducibility"),
]

#: Run-summary keys drawn as horizontal reference lines when a kind reports them.
REFERENCE_KEYS = {
    "optimal_length": "optimum",
    "nearest_neighbour_length": "nearest neighbour",
    "farthest_insertion_length": "farthest insertion",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;
color:#222;background:#fafafa;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;
margin-top:28px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7}.sub{color:#666}.warn{color:#a40000;font-weight:bold}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}
.chart{border:1px solid #ddd;margin:8px 0}
"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _short(value: Any, width: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def build_report(session: ReportsMixin) -> str:
    """The whole report as one HTML string."""
    kind = session.problem_kind
    project = session.store.project().to_json()
    problem = session.problem()
    summaries = {r: session.run_summary(r).to_json() for r in session.run_ids()}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        # Nothing may load from anywhere: the report is read offline and shared as one file.
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none';"
        " style-src 'unsafe-inline'\">",
        f"<title>OPRO Studio report: {escape(project['name'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(project['name'])}</h1>",
        f"<p class='sub'>{escape(kind.display_name)} · {len(summaries)} run(s) · report made "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by OPRO Studio {__version__}</p>",
    ]
    parts.append(_section("task", _task(kind, problem.summary())))
    parts.append(_section("curves", _curves(session, kind, summaries)))
    parts.append(_section("best", _best(session, kind, summaries)))
    parts.append(_section("comparison", _comparison(session, summaries)))
    parts.append(_section("statistics", _statistics(kind, summaries, session)))
    parts.append(_section("reproducibility", _reproducibility(session, project, summaries)))
    parts.append("</body></html>")
    return "\n".join(parts)


def _section(section_id: str, body: str) -> str:
    heading = dict(SECTIONS)[section_id]
    return f"<section id='{section_id}'><h2>{escape(heading)}</h2>{body}</section>"


def _task(kind: Any, facts: dict[str, Any]) -> str:
    rows = [[k, _short(v, 200)] for k, v in facts.items() if not isinstance(v, list | dict)]
    rows += [[k, _short(v, 200)] for k, v in facts.items() if isinstance(v, list | dict)]
    return (
        f"<p>{escape(kind.display_name)}: the score is the {escape(kind.score_label)}, "
        f"{'higher' if kind.higher_is_better else 'lower'} is better.</p>"
        + _table(["fact", "value"], rows)
    )


def _curves(session: ReportsMixin, kind: Any, summaries: dict[int, dict[str, Any]]) -> str:
    if not summaries:
        return "<p>No runs yet.</p>"
    series, hlines = [], []
    for i, run_id in enumerate(summaries):
        color = PALETTE[i % len(PALETTE)]
        steps = session.store.steps(run_id)
        xs = [float(s.step) for s in steps]
        series.append(Series(f"run {run_id}", xs, [s.best_score for s in steps], color))
        random_curve = session.random_search_curve(run_id)
        if random_curve:
            rx = [float(x) for x in range(1, len(random_curve) + 1)]
            series.append(
                Series(f"run {run_id} random search", rx, list(random_curve), color, dashed=True)
            )
    first = next(iter(summaries.values()))
    grey = ["#444444", "#888888", "#bbbbbb"]
    for j, (key, label) in enumerate(REFERENCE_KEYS.items()):
        if isinstance(first.get(key), int | float):
            hlines.append(HLine(label, float(first[key]), grey[j % len(grey)]))
    # Baselines scored on held-out data (prompt runs after `evaluate`), as the run view shows them.
    evaluated: list[dict[str, Any]] = next(
        (r["test_evaluations"] for r in summaries.values() if r.get("test_evaluations")), []
    )
    latest = {e["label"]: e for e in evaluated if str(e["label"]).startswith("baseline")}
    for j, e in enumerate(latest.values()):
        if e["test_accuracy"] is not None:
            hlines.append(HLine(f"{e['label']} (test)", float(e["test_accuracy"]), grey[j % 3]))
    scale = 100.0 if kind.score_unit == "%" else 1.0
    y_label = kind.score_label + (" (%)" if kind.score_unit == "%" else "")
    chart = line_chart(series, hlines, title="best so far", y_label=y_label, y_scale=scale)
    note = (
        "<p class='sub'>Solid: best score so far of each run. Dashed curves: a random search "
        "given as many evaluations per step as the run made. Dashed lines: baselines.</p>"
    )
    return chart + note


def _best(session: ReportsMixin, kind: Any, summaries: dict[int, dict[str, Any]]) -> str:
    out = []
    problem = session.problem()
    for run_id in summaries:
        scored = [
            candidate_json(c)
            for c in session.store.candidates(run_id)
            if c.status == CandidateStatus.SCORED and c.score is not None
        ]
        sign = -1.0 if kind.higher_is_better else 1.0
        scored.sort(key=lambda c: (sign * c["score"], c["step"], c["index"]))
        rows = [
            [
                rank + 1,
                c["step"],
                kind.format_score(c["score"]),
                _short(problem.format_solution(c["solution"])),
            ]  # fmt: skip
            for rank, c in enumerate(scored[:5])
        ]
        out.append(f"<h3>run {run_id}</h3>" + _table(["rank", "step", "score", "solution"], rows))
    return "".join(out) or "<p>No runs yet.</p>"


def _comparison(session: ReportsMixin, summaries: dict[int, dict[str, Any]]) -> str:
    if not summaries:
        return "<p>No runs yet.</p>"
    if len(summaries) == 1:
        ((run_id, summary),) = summaries.items()
        row = run_facts(session, run_id, summary)
        row["settings"] = {}
        data: dict[str, Any] = {"kind": session.kind, "runs": [row], "seed_groups": []}
    else:
        data = compare_sessions([(session, r) for r in summaries])
    out = _table(HEADERS, table_rows(data))
    fmt = session.problem_kind.format_score
    if data["seed_groups"]:
        out += _seed_chart(session, data["seed_groups"])
    for g in data["seed_groups"]:
        best = g["best_score"] or {}
        out += (
            f"<p>{escape(', '.join(g['refs']))} differ only in seed: best score "
            f"{fmt(best.get('mean'))} ± {fmt(best.get('sd'))} (mean ± sd over {best.get('n')}"
            " runs).</p>"
        )
    return out


def _seed_chart(session: ReportsMixin, groups: list[dict[str, Any]]) -> str:
    """Mean ± sd of the best-so-far curves of runs that differ only in seed."""
    kind = session.problem_kind
    series = []
    for i, g in enumerate(groups):
        color = PALETTE[i % len(PALETTE)]
        pts = [p for p in g["curve"] if p["mean"] is not None]
        xs = [float(p["step"]) for p in pts]
        mean = [p["mean"] for p in pts]
        sd = [p["sd"] or 0.0 for p in pts]
        series.append(Series(f"{g['optimizer_model']} mean", xs, mean, color))
        series.append(Series("± sd", xs, [m + d for m, d in zip(mean, sd, strict=True)], color,
                             dashed=True))  # fmt: skip
        series.append(Series("", xs, [m - d for m, d in zip(mean, sd, strict=True)], color,
                             dashed=True))  # fmt: skip
    scale = 100.0 if kind.score_unit == "%" else 1.0
    return line_chart(
        series, [], title="mean ± sd over seeds", y_label=kind.score_label, y_scale=scale
    )


def _ci(ci: list[float] | None) -> str:
    return "-" if not ci else f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"


def _statistics(kind: Any, summaries: dict[int, dict[str, Any]], session: ReportsMixin) -> str:
    out = []
    for run_id, s in summaries.items():
        if "best_train_accuracy_ci" not in s:
            continue
        out.append(
            f"<h3>run {run_id}</h3><p>best training accuracy {kind.format_score(s['best_score'])}"
            f" (95% bootstrap CI {_ci(s['best_train_accuracy_ci'])})"
            + (
                f"; test accuracy {kind.format_score(s['best_test_accuracy'])} "
                f"(95% CI {_ci(s['best_test_accuracy_ci'])})"
                if s.get("best_test_accuracy") is not None
                else "; not evaluated on held-out data yet (opro evaluate)"
            )
            + "</p>"
        )
        evals = s.get("test_evaluations") or []
        if evals:
            rows = [
                [e["label"], _short(e["instruction"] or "(empty)", 120),
                 kind.format_score(e["train_accuracy"]), _ci(e.get("train_accuracy_ci")),
                 kind.format_score(e["test_accuracy"]), _ci(e.get("test_accuracy_ci")),
                 e["n_examples"]]
                for e in evals
            ]  # fmt: skip
            out.append(
                _table(
                    ["label", "instruction", "train", "train 95% CI", "test", "test 95% CI", "n"],
                    rows,
                )  # fmt: skip
            )
        tests = s.get("paired_tests") or []
        if tests:
            rows = [
                [f"{t['a']} vs {t['b']}", t["n_pairs"], t["only_a_correct"], t["only_b_correct"],
                 f"{t['p_value']:.4g}", "yes" if t["significant"] else "no"]
                for t in tests
            ]  # fmt: skip
            out.append(
                "<p>Exact McNemar test on paired per-example correctness:</p>"
                + _table(
                    [
                        "comparison",
                        "pairs",
                        "only first right",
                        "only second right",
                        "p",
                        "significant at 5%",
                    ],
                    rows,
                )  # fmt: skip
            )
        if s.get("train_test_gap_warning"):
            out.append(f"<p class='warn'>{escape(s['train_test_gap_warning'])}</p>")
    settings = {r: session.store.run(r).settings.to_dict() for r in summaries}
    spread = seed_spread(list(summaries.values()), settings)
    for g in spread:
        best = g["best_score"] or {}
        sd = "-" if best.get("sd") is None else kind.format_score(best["sd"])
        out.append(
            f"<p>Runs {escape(', '.join(str(r) for r in g['runs']))} differ only in seed "
            f"({escape(', '.join(str(x) for x in g['seeds']))}): best score "
            f"{kind.format_score(best.get('mean'))} ± {sd} (mean ± sd, n={best.get('n')}).</p>"
        )
    if not out:
        out.append(
            "<p>Scores of this kind are computed exactly, so a run has no sampling interval; "
            "run several seeds (opro sweep --seeds 0,1,2) to see how much of a result is luck.</p>"
        )
    return "".join(out)


def _reproducibility(
    session: ReportsMixin, project: dict[str, Any], summaries: dict[int, dict[str, Any]]
) -> str:
    rows = [
        ["report made by", f"OPRO Studio {__version__}"],
        ["project created by", f"OPRO Studio {project['created_by_version']}"],
        ["project last written by", f"OPRO Studio {project['app_version']}"],
        ["task and dataset hash (SHA-256)", task_hash(session)],
    ]
    out = [_table(["item", "value"], rows)]
    for run_id in summaries:
        run = session.store.run(run_id).to_json()
        reported = models_reported(session, run_id)
        info = {
            "optimizer": run["optimizer"],
            "scorer": run["scorer"],
            "models reported by the server": reported,
            "settings": run["settings"],
            "task override": run["spec_override"],
            "written by": run["app_version"],
            "forked from": None
            if run["parent_run_id"] is None
            else f"run {run['parent_run_id']} step {run['fork_step']}",
        }
        out.append(
            f"<h3>run {run_id} (seed {escape(str(run['settings'].get('seed')))})</h3>"
            f"<pre>{escape(json.dumps(info, indent=2, ensure_ascii=False, default=str))}</pre>"
        )
    return "".join(out)


def write_report(session: ReportsMixin, out: str | Path) -> Path:
    target = Path(out)
    target.write_text(build_report(session), encoding="utf-8")
    return target


def export_report(project: str | Path, out: str | Path) -> Path:
    """Open ``project`` read-only (in the calling thread) and write its report to ``out``."""
    from . import ProjectSession  # the composed session class lives in the package

    with ProjectSession.open(project, readonly=True) as session:
        return write_report(session, out)
