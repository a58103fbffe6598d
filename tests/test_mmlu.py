"""MMLU import (file, folder, auto-detection), letter targets, and multiple-choice grading."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from opro_gui.cli import main
from opro_gui.problems.answers import detect_task_type, is_correct, normalize
from opro_gui.problems.datasets import DatasetError, load_dataset
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset
from opro_gui.services import ProjectSession

MMLU_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "MMLU-data" / "test"
ANATOMY = MMLU_DIR / "anatomy_test.csv"

ROWS = (
    "Which of the following describes the cluster of blood capillaries found in each nephron in"
    " the kidney?,Afferent arteriole,Glomerulus,Loop of Henle,Renal pelvis,B\n"
    '"A ""dished face"" profile, often",a,b,c,d,D\n'
    "What is 2+2?,3,4,5,6,B\n"
)
QUESTION_0 = (
    "Which of the following describes the cluster of blood capillaries found in each nephron in"
    " the kidney?\n(A) Afferent arteriole\n(B) Glomerulus\n(C) Loop of Henle\n(D) Renal pelvis"
    "\nWhat's the answer in (A) (B) (C) (D)?"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mmlu_file_headerless_rows_become_reference_questions(tmp_path: Path) -> None:
    path = write(tmp_path, "anatomy_test.csv", ROWS)
    for fmt in ("mmlu", None):  # given, and detected from the layout
        d = load_dataset(path, fmt)
        assert d.fmt == "mmlu" and d.task_type_guess == "choice"
        assert len(d.examples) == 3  # the first question is not read as a header
        assert d.examples[0] == {"input": QUESTION_0, "target": "B"}
        assert d.examples[1]["input"].startswith('A "dished face" profile, often\n(A) a\n')
    spec = spec_from_dataset(load_dataset(path))
    assert spec["task_name"] == "anatomy" and spec["task_type"] == "choice"
    assert len(spec["train_ids"]) == int(0.8 * 3)  # the reference's MMLU train ratio


def test_mmlu_bad_answer_letter_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "Q,a,b,c,d,E\n")
    with pytest.raises(DatasetError, match=r"line 1: the answer 'E' is not the letter"):
        load_dataset(path, "mmlu")


def test_mmlu_folder_concatenates_subjects_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "test"
    folder.mkdir()
    write(folder, "b_test.csv", "Qb,1,2,3,4,A\n")
    write(folder, "a_test.csv", "Qa,1,2,3,4,C\nQa2,1,2,3,4,D\n")
    write(folder, "notes.txt", "ignored")
    d = load_dataset(folder, "mmlu")
    assert [e["target"] for e in d.examples] == ["C", "D", "A"] and d.name == "mmlu"
    with pytest.raises(DatasetError, match="only --format mmlu reads a folder"):
        load_dataset(folder, "csv")


def test_letter_targets_in_user_data_are_multiple_choice() -> None:
    inputs = ["Pick one\n(A) x\n(B) y", "Pick\n(A) u\n(B) v"]
    assert detect_task_type(["A", "b"], inputs) == "choice"
    assert detect_task_type(["(A)", "(B)"]) == "choice"
    assert detect_task_type(["A", "B"], ["no options here", "none"]) == "text"


# Model-style answers to the Glomerulus question (gold B), with the verdict the reference's
# normalisation + _get_accuracy gives (lenient "gold in prediction" on, as for MMLU there).
VERDICTS = [
    ("Glomerulus", True),  # the option text alone
    ("The answer is (B).", True),
    ("B", True),
    ("(B) Glomerulus", True),
    ("The answer is Glomerulus.", True),
    ("Afferent arteriole", False),
    ("The glomerulus, not the loop of Henle", False),  # two options named
    ("Loop of Henle", False),
    ("The answer is (C).", False),
    ("Bowman's capsule", True),  # the reference's lenient rule: "b" occurs in the text
]


@pytest.mark.parametrize(("answer", "correct"), VERDICTS)
def test_grading_matches_the_reference_on_model_style_answers(
    tmp_path: Path, answer: str, correct: bool
) -> None:
    problem = PromptProblem.from_spec(
        spec_from_dataset(load_dataset(write(tmp_path, "a.csv", ROWS)))
    )
    prompt = problem.scorer_prompt("", 0)
    parsed = normalize(answer, "choice")
    assert is_correct(parsed, "B", "choice", prompt=prompt) is correct
    if answer == "Bowman's capsule":  # --strict drops the substring rule
        assert is_correct(parsed, "B", "choice", prompt=prompt, lenient=False) is False


@pytest.mark.skipif(not ANATOMY.exists(), reason="shared MMLU data not present")
def test_cli_imports_every_row_of_a_real_subject_file(tmp_path: Path) -> None:
    out = tmp_path / "m.opro"
    assert main(["new", "prompt", str(out), "--dataset", str(ANATOMY), "--format", "mmlu"]) == 0
    with ANATOMY.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with ProjectSession.open(out, readonly=True) as session:
        problem = session.problem()
        assert isinstance(problem, PromptProblem)
        assert len(problem.examples) == len(rows) == 135
        assert problem.task_type == "choice"
        (gold_b,) = [e for e in problem.examples if "(B) Glomerulus\n" in e["input"]]
        assert gold_b["target"] == "B" and gold_b["input"] == QUESTION_0
