"""New-project kinds and the example projects (TSP, linear regression, a prompt task), created
on demand in the user's data folder from the shipped presets."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths

from opro_gui.paths import tasks_dir
from opro_gui.services import ProjectSession

KIND_LABELS = {
    "tsp": "Travelling salesman (TSP)",
    "linreg": "Linear regression",
    "prompt": "Prompt optimization",
}

EXAMPLES: dict[str, tuple[str, str]] = {
    # file stem -> (menu label, kind)
    "tsp-10-seed1": ("Travelling salesman, 10 cities (seed 1)", "tsp"),
    "linreg-w15-b14": ("Linear regression, w = 15, b = 14", "linreg"),
    "prompt-small-task": ("Prompt optimization, small task", "prompt"),
}


def user_examples_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".opro-studio") / "examples"


def default_spec(kind: str) -> dict[str, Any]:
    """A ready task definition for a new project of ``kind``."""
    if kind == "tsp":
        from opro_gui.problems.tsp import TSPProblem

        return TSPProblem.generate(10, 1).to_spec()
    if kind == "linreg":
        from opro_gui.problems.linear_regression import LinearRegressionProblem

        return LinearRegressionProblem(15, 14, seed=0).to_spec()
    if kind == "prompt":
        return _prompt_spec()
    raise ValueError(f"unknown kind {kind!r}")


def _prompt_spec() -> dict[str, Any]:
    """The first shipped prompt task (tasks/prompt/*.jsonl) or a small arithmetic set."""
    try:
        files = sorted((tasks_dir() / "prompt").glob("*.jsonl"))
    except FileNotFoundError:
        files = []
    for f in files:
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
                "input": f"Sam has {a} apples and buys {b} more. How many apples "
                f"does Sam have now?",
                "target": str(a + b),
            }
        )
    return {"kind": "prompt", "task_name": "apples", "examples": examples, "seed": 0}


def shipped_examples() -> list[Path]:
    """Ready projects in tasks/examples (``*.opro``), if the packagers shipped any."""
    try:
        folder = tasks_dir() / "examples"
    except FileNotFoundError:
        return []
    return sorted(folder.glob("*.opro")) if folder.is_dir() else []


def ensure_example(stem: str, folder: Path | None = None) -> Path:
    """The example project ``stem``, created in ``folder`` (user data) if not there yet."""
    label, kind = EXAMPLES[stem]
    folder = folder or user_examples_dir()
    path = folder / f"{stem}.opro"
    if not path.exists():
        spec = _preset_spec(stem) or default_spec(kind)
        ProjectSession.create(path, kind, spec, name=label).close()
    return path


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
