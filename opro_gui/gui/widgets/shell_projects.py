"""New-project kinds and the example projects (TSP, linear regression, a prompt task), created
on demand in the user's data folder from the shipped presets."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths

from opro_gui.paths import tasks_dir
from opro_gui.problems import get_kind
from opro_gui.services import ProjectSession

EXAMPLES: dict[str, tuple[str, str]] = {
    # file stem -> (menu label, kind); example_catalog() adds the shipped prompt tasks
    "tsp-10-seed1": ("Travelling salesman, 10 cities (seed 1)", "tsp"),
    "tsp-sample-12": ("Travelling salesman, 12-city TSPLIB sample", "tsp"),
    "linreg-w15-b14": ("Linear regression, w = 15, b = 14", "linreg"),
    "prompt-small-task": ("Prompt optimization, small task", "prompt"),
}
PROMPT_PREFIX = "prompt-task-"


def _prompt_files() -> list[Path]:
    try:
        return sorted((tasks_dir() / "prompt").glob("*.jsonl"))
    except FileNotFoundError:
        return []


def example_catalog() -> dict[str, tuple[str, str]]:
    """Every example the Examples menu offers: stem -> (label, kind)."""
    catalog = dict(EXAMPLES)
    if not _tsp_sample():
        catalog.pop("tsp-sample-12")
    for f in _prompt_files():
        catalog[PROMPT_PREFIX + f.stem] = (
            f"Prompt optimization: {f.stem.replace('_', ' ')}",
            "prompt",
        )
    return catalog


def _tsp_sample() -> Path | None:
    try:
        f = tasks_dir() / "tsp_sample_12.tsp"
    except FileNotFoundError:
        return None
    return f if f.is_file() else None


def user_examples_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".opro-studio") / "examples"


def default_spec(kind: str) -> dict[str, Any]:
    """A ready task definition for a new project of ``kind`` (the GUI registry may prefer a
    shipped preset to the kind's own default)."""
    from ..kinds import gui_kind

    make = gui_kind(kind).default_spec
    return make() if make is not None else get_kind(kind).default_spec()


def prompt_spec(only: str | None = None) -> dict[str, Any]:
    """A shipped prompt task (tasks/prompt/<only>.jsonl, else the first) or a small
    arithmetic set when none ships."""
    for f in _prompt_files():
        if only is not None and f.stem != only:
            continue
        try:
            from opro_gui.problems.datasets import load_dataset

            ds = load_dataset(f)
            return {"kind": "prompt", "task_name": f.stem, "examples": list(ds.examples)}
        except Exception:  # a broken preset must not break File ▸ New
            continue
    rng = random.Random(7)
    examples = []
    for _ in range(40):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        examples.append(
            {
                "input": f"Sam has {a} apples and buys {b} more. How many apples does Sam have now?",
                "target": str(a + b),
            }
        )
    return {"kind": "prompt", "task_name": "apples", "examples": examples, "seed": 0}


def ensure_example(stem: str, folder: Path | None = None) -> Path:
    """The example project ``stem``, created in ``folder`` (user data) if not there yet."""
    label, kind = example_catalog()[stem]
    folder = folder or user_examples_dir()
    path = folder / f"{stem}.opro"
    if not path.exists():
        spec = _preset_spec(stem) or _example_spec(stem, kind)
        ProjectSession.create(path, kind, spec, name=label).close()
    return path


def _example_spec(stem: str, kind: str) -> dict[str, Any]:
    if stem.startswith(PROMPT_PREFIX):
        return prompt_spec(stem.removeprefix(PROMPT_PREFIX))
    sample = _tsp_sample()
    if stem == "tsp-sample-12" and sample is not None:
        from opro_gui.problems.tsp import TSPProblem
        from opro_gui.problems.tsp_files import parse_tsplib

        name, points = parse_tsplib(sample.read_text(encoding="utf-8"))
        return TSPProblem.from_points(points, name=name).to_spec()
    return default_spec(kind)


def _preset_spec(stem: str) -> dict[str, Any] | None:
    """A task definition from tasks/examples/<stem>.json when the preset ships."""
    try:
        f = tasks_dir() / "examples" / f"{stem}.json"
    except FileNotFoundError:
        return None
    if not f.is_file():
        return None
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    spec = data.get("spec", data) if isinstance(data, dict) else None
    return spec if isinstance(spec, dict) else None
