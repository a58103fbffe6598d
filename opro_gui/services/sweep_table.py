"""The per-task table of a sweep across datasets, shaped like the paper's per-task BBH table:
one row per task, the baselines' test accuracy, then each configuration's accuracy (mean ± sd
over seeds)."""

from __future__ import annotations

import json
from typing import Any

from . import stats


def _config_of(row: dict[str, Any]) -> str:
    """A run's configuration without its seed: what the columns of the table are."""
    parts = [row["optimizer_model"] or "-"]
    if row["scorer_model"]:
        parts.append(f"scorer {row['scorer_model']}")
    point = {
        k: v
        for k, v in row["settings"].items()
        if k not in ("seed", "optimizer.model", "scorer.model")
    }
    parts += [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in point.items()]
    return ", ".join(parts)


def _pct(s: stats.Spread | None) -> str:
    if s is None:
        return "-"
    sd = "" if s.sd is None else f" ± {100 * s.sd:.1f}"
    return f"{100 * s.mean:.1f}{sd}"


def task_table(per_task: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """``per_task``: task name → the comparison of its sweep's runs (``compare_sessions``).
    Cells are accuracies in percent; "mean ± sd" where several seeds ran."""
    configs: list[str] = []
    baselines: list[str] = []
    cells: dict[str, dict[str, dict[str, list[float | None]]]] = {}
    base_cells: dict[str, dict[str, float | None]] = {}
    n_test: dict[str, int | None] = {}
    for task, comparison in per_task.items():
        cells[task] = {}
        base_cells[task] = {}
        for row in comparison["runs"]:
            config = _config_of(row)
            if config not in configs:
                configs.append(config)
            cell = cells[task].setdefault(config, {"train": [], "test": []})
            cell["train"].append(row["best_score"])
            cell["test"].append(row["test_accuracy"])
            for e in row.get("test_evaluations") or []:
                if str(e["label"]).startswith("baseline"):
                    name = e["label"] + (f" ({row['scorer_model']})" if row["scorer_model"] else "")
                    if name not in baselines:
                        baselines.append(name)
                    base_cells[task][name] = e["test_accuracy"]
                    n_test[task] = e["n_examples"]
    headers = ["task", "test examples", *(f"{b}: test" for b in baselines)]
    for c in configs:
        headers += [f"{c}: train", f"{c}: test"]
    rows = []
    for task in per_task:
        row = [task, str(n_test.get(task) or "-")]
        for b in baselines:
            acc = base_cells[task].get(b)
            row.append("-" if acc is None else f"{100 * acc:.1f}")
        for c in configs:
            cell = cells[task].get(c, {"train": [], "test": []})
            row += [_pct(stats.spread(cell["train"])), _pct(stats.spread(cell["test"]))]
        rows.append(row)
    return headers, rows
