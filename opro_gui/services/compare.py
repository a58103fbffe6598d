"""Runs side by side: the facts of each run, the settings that differ, best-so-far curves by
step and by tokens spent, and the comparison table as text, Markdown and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opro_gui.problems import get_kind
from opro_gui.storage import ProjectError

from . import stats
from .reports import ReportsMixin


def task_hash(session: ReportsMixin) -> str:
    """SHA-256 of the task definition with its embedded dataset (key order does not matter):
    two projects with the same hash ran the same task on the same data."""
    spec = session.store.spec()
    text = json.dumps({"kind": session.kind, "spec": spec}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def models_reported(session: ReportsMixin, run_id: int) -> dict[str, list[str]]:
    """The model names the server answered with, per role (failed calls left out)."""
    out: dict[str, set[str]] = {}
    for role, model in session.store.conn.execute(
        "SELECT DISTINCT role, model_reported FROM llm_call"
        " WHERE run_id = ? AND error = '' AND model_reported != ''",
        (run_id,),
    ):
        out.setdefault(role, set()).add(model)
    return {role: sorted(models) for role, models in sorted(out.items())}


def run_curves(session: ReportsMixin, run_id: int) -> dict[str, list[Any]]:
    """Best score after each completed step, with the tokens spent up to the end of that step
    (optimizer and scorer calls of the run; evaluations and replays are not part of it)."""
    tokens_at: dict[int, int] = {}
    for step, tokens in session.store.conn.execute(
        "SELECT step, SUM(prompt_tokens + completion_tokens) FROM llm_call"
        " WHERE run_id = ? AND step IS NOT NULL GROUP BY step",
        (run_id,),
    ):
        tokens_at[int(step)] = int(tokens or 0)
    steps, best, tokens = [], [], []
    spent = 0
    for s in session.store.steps(run_id):
        spent += tokens_at.get(s.step, 0)
        steps.append(s.step)
        best.append(s.best_score)
        tokens.append(spent)
    return {"step": steps, "best": best, "tokens": tokens}


def run_facts(
    session: ReportsMixin, run_id: int, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One row of a comparison: the numbers `opro show --json` gives, plus where the best was
    reached, the valid-proposal rate, the models the server reported and the curves."""
    s = summary if summary is not None else session.run_summary(run_id).to_json()
    run = session.store.run(run_id).to_json()
    curves = run_curves(session, run_id)
    best = s["best_score"]
    best_step = next(
        (st for st, b in zip(curves["step"], curves["best"], strict=True) if b == best), None
    )
    tokens_to_best = (
        curves["tokens"][curves["step"].index(best_step)] if best_step is not None else None
    )
    invalid = s.get("invalid_rate")
    reported = models_reported(session, run_id)
    return {
        "ref": f"{session.path.name}:{run_id}",
        "project": str(session.path),
        "run_id": run_id,
        "status": s["status"],
        "optimizer_model": s["optimizer_model"],
        "scorer_model": s["scorer_model"],
        "optimizer_models_reported": reported.get("optimizer", []),
        "scorer_models_reported": reported.get("scorer", []),
        "best_score": best,
        "best_solution": s["best_solution"],
        "best_step": best_step,
        "tokens_to_best": tokens_to_best,
        "steps_completed": s["steps_completed"],
        "total_tokens": s["total_tokens"],
        "cost_usd": s["cost_usd"],
        "valid_rate": None if invalid is None else round(1.0 - invalid, 4),
        "test_accuracy": s.get("best_test_accuracy"),
        "test_accuracy_ci": s.get("best_test_accuracy_ci"),
        "train_accuracy_ci": s.get("best_train_accuracy_ci"),
        "test_evaluations": s.get("test_evaluations"),
        "all_settings": _flat_settings(run),
        "curve": curves,
    }


def _flat_settings(run: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in (run["settings"] or {}).items():
        if key != "sweep":  # the grid point a sweep ran: its values are the settings themselves
            flat[key] = value
    for role in ("optimizer", "scorer"):
        for key, value in (run[role] or {}).items():
            flat[f"{role}.{key}"] = value
    for key, value in (run["spec_override"] or {}).items():
        flat[f"task.{key}"] = value
    return flat


def compare_sessions(pairs: Sequence[tuple[ReportsMixin, int]]) -> dict[str, Any]:
    """Compare runs, each given as (open session, run id). All must be of one problem kind."""
    if len(pairs) < 2:
        raise ProjectError("compare needs at least two runs")
    kinds = {session.kind for session, _ in pairs}
    if len(kinds) > 1:
        detail = ", ".join(f"{session.path.name} is {session.kind}" for session, _ in pairs)
        raise ProjectError(
            f"cannot compare runs of different problem kinds ({detail}); compare runs of one task"
        )
    kind = kinds.pop()
    session0 = pairs[0][0]
    rows, hashes = [], {}
    summaries: dict[tuple[str, int], dict[str, Any]] = {}
    for session, run_id in pairs:
        key = (str(session.path), run_id)
        summaries[key] = summaries.get(key) or session.run_summary(run_id).to_json()
        rows.append(run_facts(session, run_id, summaries[key]))
        hashes[str(session.path)] = task_hash(session)
    differ = _differing([r["all_settings"] for r in rows])
    for r in rows:
        r["settings"] = {k: r["all_settings"].get(k) for k in differ}
    warnings = []
    if len(set(hashes.values())) > 1:
        warnings.append(
            "the projects hold different task definitions or data (task hashes differ): "
            "scores are not directly comparable"
        )
    return {
        "kind": kind,
        "higher_is_better": session0.problem().higher_is_better,
        "differing_settings": differ,
        "task_hashes": hashes,
        "warnings": warnings,
        "runs": rows,
        "seed_groups": _seed_groups(rows),
    }


def _differing(settings: list[dict[str, Any]]) -> list[str]:
    keys = sorted({k for s in settings for k in s})
    return [k for k in keys if len({json.dumps(s.get(k), sort_keys=True) for s in settings}) > 1]


def _seed_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs that differ only in their seed: mean ± sd of the best score and of the curves."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        cond = {k: v for k, v in r["all_settings"].items() if k != "seed"}
        key = json.dumps(
            [cond, r["optimizer_model"], r["scorer_model"]], sort_keys=True, default=str
        )
        groups.setdefault(key, []).append(r)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        best = stats.spread(m["best_score"] for m in members)
        out.append(
            {
                "refs": [m["ref"] for m in members],
                "optimizer_model": members[0]["optimizer_model"],
                "scorer_model": members[0]["scorer_model"],
                "best_score": best.to_dict() if best else None,
                "curve": stats.mean_sd_curves([m["curve"]["best"] for m in members]),
            }
        )
    return out


def compare_paths(refs: Sequence[str]) -> dict[str, Any]:
    """Compare ``A.opro[:RUN]`` references; a project without ``:RUN`` brings all its runs."""
    from . import ProjectSession  # the composed session class lives in the package

    sessions: dict[Path, ProjectSession] = {}
    pairs: list[tuple[ReportsMixin, int]] = []
    try:
        for text in refs:
            path, run_id = parse_ref(text)
            key = path.resolve()
            if key not in sessions:
                sessions[key] = ProjectSession.open(path, readonly=True)
            session = sessions[key]
            ids = session.run_ids()
            if run_id is not None and run_id not in ids:
                raise ProjectError(f"{path.name} has no run {run_id} (runs: {ids or 'none'})")
            if not ids:
                raise ProjectError(f"{path.name} has no runs yet")
            for i in [run_id] if run_id is not None else ids:
                if (session, i) not in pairs:
                    pairs.append((session, i))
        return compare_sessions(pairs)
    finally:
        for session in sessions.values():
            session.close()


def parse_ref(text: str) -> tuple[Path, int | None]:
    """``A.opro`` or ``A.opro:3`` (a file whose own name ends in ``:3`` wins if it exists)."""
    path = Path(text)
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and not path.exists():
        return Path(head), int(tail)
    return path, None


# -- the table --------------------------------------------------------------------------------

HEADERS = [
    "run",
    "optimizer (reported)",
    "scorer (reported)",
    "settings that differ",
    "best",
    "step of best",
    "tokens to best",
    "valid proposals",
    "$",
    "test accuracy",
]


def score_text(kind: str, score: float | None) -> str:
    return get_kind(kind).format_score(score)


def table_rows(comparison: dict[str, Any]) -> list[list[str]]:
    kind = comparison["kind"]
    out = []
    for r in comparison["runs"]:
        reported_opt = ", ".join(r["optimizer_models_reported"]) or "-"
        reported_sc = ", ".join(r["scorer_models_reported"]) or "-"
        settings = "; ".join(f"{k}={_value(v)}" for k, v in r["settings"].items()) or "-"
        test = "-"
        if r["test_accuracy"] is not None:
            test = f"{100 * r['test_accuracy']:.1f}%"
            if r.get("test_accuracy_ci"):
                lo, hi = r["test_accuracy_ci"]
                test += f" ({100 * lo:.1f}–{100 * hi:.1f})"
        out.append(
            [
                r["ref"],
                f"{r['optimizer_model']} ({reported_opt})",
                "-"
                if not r["scorer_model"] and reported_sc == "-"
                else f"{r['scorer_model']} ({reported_sc})",
                settings,
                score_text(kind, r["best_score"]),
                "-" if r["best_step"] is None else str(r["best_step"]),
                "-" if r["tokens_to_best"] is None else str(r["tokens_to_best"]),
                "-" if r["valid_rate"] is None else f"{100 * r['valid_rate']:.1f}%",
                f"{r['cost_usd']:.4f}",
                test,
            ]
        )
    return out


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def to_markdown(headers: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_csv(headers: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue()


def csv_rows(comparison: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The table with raw numbers (for spreadsheets): one column per fact."""
    differ = comparison["differing_settings"]
    headers = [
        "project", "run_id", "optimizer_model", "optimizer_models_reported", "scorer_model",
        "scorer_models_reported", *differ, "best_score", "best_step", "tokens_to_best",
        "steps_completed", "total_tokens", "valid_rate", "cost_usd", "test_accuracy",
    ]  # fmt: skip
    rows = []
    for r in comparison["runs"]:
        rows.append(
            [
                r["project"],
                r["run_id"],
                r["optimizer_model"],
                " ".join(r["optimizer_models_reported"]),
                r["scorer_model"] or "",
                " ".join(r["scorer_models_reported"]),
                *(_value(r["settings"].get(k)) for k in differ),
                r["best_score"],
                r["best_step"],
                r["tokens_to_best"],
                r["steps_completed"],
                r["total_tokens"],
                r["valid_rate"],
                r["cost_usd"],
                r["test_accuracy"],
            ]  # fmt: skip
        )
    return headers, rows
