"""The ready prompt tasks in tasks/prompt: reproducible, importable, and their answers right."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from opro_gui.problems.datasets import load_dataset
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset

TASK_DIR = Path(__file__).resolve().parents[1] / "tasks" / "prompt"
EXPECTED_TYPES = {
    "multistep_arithmetic": "numeric",
    "boolean_expressions": "boolean",
    "word_sorting": "text",
    "weekday_choice": "choice",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prompt_task_generator", TASK_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_committed_files_match_the_generator(generator: ModuleType, name: str) -> None:
    text = (TASK_DIR / f"{name}.jsonl").read_text(encoding="utf-8")
    assert text == generator.render(generator.generate(name))


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_tasks_import_with_the_right_type(name: str) -> None:
    data = load_dataset(TASK_DIR / f"{name}.jsonl")
    assert data.task_type_guess == EXPECTED_TYPES[name]
    assert len(data.examples) == 120 and not data.warnings
    problem = PromptProblem.from_spec(spec_from_dataset(data))
    assert problem.task_type == EXPECTED_TYPES[name] and len(problem.train_ids) == 24


def _check_answer(name: str, question: str, target: str) -> bool:
    if name == "multistep_arithmetic":
        assert re.fullmatch(r"[-\d\s()+*=]+", question)
        return int(eval(question.rstrip("= "))) == int(target)  # our own generated digits only
    if name == "boolean_expressions":
        assert re.fullmatch(r"(True|False|not|and|or|[()\s])+ is", question)
        return str(eval(question.removesuffix(" is"))) == target
    if name == "word_sorting":
        words = question.split("List: ")[1].split()
        return " ".join(sorted(words)) == target
    m = re.match(
        r"Today is (\w+)\. What day of the week (will it be in|was it) (\d+) days", question
    )
    assert m is not None
    sign = 1 if m.group(2).startswith("will") else -1
    day = (WEEKDAYS.index(m.group(1)) + sign * int(m.group(3))) % 7
    return target == f"({chr(65 + day)})"


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_answers_are_right(name: str) -> None:
    data = load_dataset(TASK_DIR / f"{name}.jsonl")
    wrong = [e for e in data.examples if not _check_answer(name, e["input"], e["target"])]
    assert wrong == []
