"""Meta-prompt and scorer-prompt renderings against literal text from OPRO_SPEC.md §2.3–§2.6."""

from __future__ import annotations

from typing import Any

import pytest

from opro_gui.core.models import ExampleRecord, Scored
from opro_gui.problems import prompt_meta as meta
from opro_gui.problems.prompt_opt import PromptProblem

HISTORY = [
    Scored("Let's solve the problem.", 0.605, 0),
    Scored("", 0.571, 0),
    Scored("Let's figure it out!", 0.614, 1),
]
EXEMPLARS = [("What is 2 + 3?", "5"), ("Is 7 prime?", "yes")]

INS_HEADER = (
    "Your task is to generate the instruction <INS>. Below are some previous instructions with "
    "their scores. The score ranges from 0 to 100.\n"
)
INS_HISTORY = (
    "\ntext:\n\nscore:\n57\n"
    "\ntext:\nLet's solve the problem.\nscore:\n60\n"
    "\ntext:\nLet's figure it out!\nscore:\n61\n"
)
INS_FOOTER = (
    "Generate an instruction that is different from all the instructions <INS> above, and has a "
    "higher score than all the instructions <INS> above. The instruction should begin with <INS> "
    "and end with </INS>. The instruction should be concise, effective, and generally applicable "
    "to all problems above."
)
BRACKET_HEADER = (
    "I have some texts along with their corresponding scores. The texts are arranged in ascending "
    "order based on their scores, where higher scores indicate better quality.\n\n"
)
BRACKET_INTRO = (
    "The following exemplars show how to apply your text: you replace <INS> in each input with "
    "your text, then read the input and give an output. We say your output is wrong if your "
    "output is different from the given output, and we say your output is correct if they are "
    "the same. When replacing <INS> with an old piece of text above, we get wrong outputs on the "
    "following inputs.\n\n"
)
BRACKET_FOOTER = (
    "Write your new text that is different from the old ones and has a score as high as "
    "possible. Write the text in square brackets."
)


def render(style: str, position: str, include_qa: bool, exemplars: Any = EXEMPLARS) -> str:
    sections = meta.templates(style, position)
    shown = meta.shown_history(HISTORY, 20, 0.0)
    return meta.render_meta_prompt(
        sections, style, position, include_qa, shown, exemplars, "grade school math"
    )


def test_ins_q_begin_full_text() -> None:
    expected = (
        INS_HEADER
        + INS_HISTORY
        + "\n\nBelow are some problems.\n"
        + "\nProblem:\n<INS>\nWhat is 2 + 3?\n\nGround truth answer:\n5\n"
        + "\nProblem:\n<INS>\nIs 7 prime?\n\nGround truth answer:\nyes\n"
        + "\n\n"
        + INS_FOOTER
    )
    assert render("ins", "Q_begin", False) == expected


def test_ins_a_begin_uses_the_code_start_wording() -> None:
    expected = (
        "Your task is to generate the answer starting sentence <Start>. Below are some previous "
        "starting sentences with their scores. The score ranges from 0 to 100.\n"
        + INS_HISTORY
        + "\n\nBelow are some problems.\n"
        + "\nQ: What is 2 + 3?\nA: <Start>\nGround truth answer:\n5\n"
        + "\nQ: Is 7 prime?\nA: <Start>\nGround truth answer:\nyes\n"
        + "\n\nGenerate a starting sentence that is different from all the <Start> sentences "
        "above, and has a higher score than all the <Start> sentences above. The starting "
        "sentence should begin with <Start> and end with </Start>. The starting sentence should "
        "be concise, effective, and generally applicable to all QA pairs above."
    )
    assert render("ins", "A_begin", True) == expected


def test_bracket_q_end_full_text() -> None:
    expected = (
        BRACKET_HEADER
        + INS_HISTORY
        + "\n\n"
        + BRACKET_INTRO
        + "\ninput:\nWhat is 2 + 3?\n<INS>\n\noutput:\n5\n"
        + "\ninput:\nIs 7 prime?\n<INS>\n\noutput:\nyes\n"
        + "\n\n"
        + BRACKET_FOOTER
    )
    assert render("bracket", "Q_end", False) == expected


def test_bracket_a_begin_with_qa_full_text() -> None:
    expected = (
        BRACKET_HEADER
        + INS_HISTORY
        + "\n\n"
        + BRACKET_INTRO
        + "\ninput:\nQ: What is 2 + 3?\nA: <INS>\noutput:\n5\n"
        + "\ninput:\nQ: Is 7 prime?\nA: <INS>\noutput:\nyes\n"
        + "\n\n"
        + BRACKET_FOOTER
    )
    assert render("bracket", "A_begin", True) == expected


# Exemplar blocks for every remaining style × position × include_qa (first exemplar only).
BLOCKS = [
    ("ins", "Q_end", False, "\nProblem:\nWhat is 2 + 3?\n<INS>\n\nGround truth answer:\n5\n"),
    ("ins", "before_Q", True, "\ninput:\n<INS>\nQ: What is 2 + 3?\nA:\nGround truth answer:\n5\n"),
    ("ins", "Q_begin", True, "\ninput:\nQ: <INS>\nWhat is 2 + 3?\nA:\nGround truth answer:\n5\n"),
    ("ins", "Q_end", True, "\ninput:\nQ: What is 2 + 3?\n<INS>\nA:\nGround truth answer:\n5\n"),
    ("bracket", "Q_begin", False, "\ninput:\n<INS>\nWhat is 2 + 3?\n\noutput:\n5\n"),
    ("bracket", "before_Q", True, "\ninput:\n<INS>\nQ: What is 2 + 3?\nA:\noutput:\n5\n"),
    ("bracket", "Q_begin", True, "\ninput:\nQ: <INS>\nWhat is 2 + 3?\nA:\noutput:\n5\n"),
    ("bracket", "Q_end", True, "\ninput:\nQ: What is 2 + 3?\n<INS>\nA:\noutput:\n5\n"),
]


@pytest.mark.parametrize(("style", "position", "include_qa", "block"), BLOCKS)
def test_exemplar_blocks(style: str, position: str, include_qa: bool, block: str) -> None:
    text = render(style, position, include_qa, EXEMPLARS[:1])
    header, footer = (
        (INS_HEADER, INS_FOOTER) if style == "ins" else (BRACKET_HEADER, BRACKET_FOOTER)
    )
    intro = "Below are some problems.\n" if style == "ins" else BRACKET_INTRO
    assert text == header + INS_HISTORY + "\n\n" + intro + block + "\n\n" + footer


@pytest.mark.parametrize(
    ("position", "phrase"),
    [
        ("Q_begin", "at the beginning of the question"),
        ("Q_end", "at the end of the question"),
        ("A_begin", "at the beginning of the answer"),
    ],
)
def test_text_style_full_text(position: str, phrase: str) -> None:
    expected = (
        f"Create a piece of text {phrase} to enhance the precision in solving diverse grade "
        "school math problems."
        "\n\nPrecision: 57 <TEXT></TEXT>"
        "\n\nPrecision: 60 <TEXT>Let's solve the problem.</TEXT>"
        "\n\nPrecision: 61 <TEXT>Let's figure it out!</TEXT>"
    )
    assert render("text", position, False) == expected


def test_no_exemplars_gives_history_then_footer() -> None:
    assert render("ins", "Q_begin", False, []) == INS_HEADER + INS_HISTORY + "\n\n" + INS_FOOTER


def test_history_top_k_ascending_and_threshold() -> None:
    history = [Scored(f"ins {i}", i / 10, i) for i in range(10)]
    shown = meta.shown_history(history, 3, 0.0)
    assert [h.solution for h in shown] == ["ins 7", "ins 8", "ins 9"]
    assert [h.solution for h in meta.shown_history(history, 5, 0.75)] == ["ins 8", "ins 9"]
    assert meta.display_score(0.625) == 62  # Python rounding of 62.5
    assert meta.display_score(1.0) == 100


def test_text_style_is_capped_at_history_size() -> None:
    spec = {
        "examples": [{"input": f"q{i}", "target": str(i)} for i in range(10)],
        "train_ids": [0, 1, 2],
        "style": "text",
        "task_name": "gsm8k",
    }
    problem = PromptProblem.from_spec(spec)
    history = [Scored(f"T{i}", i / 100, i) for i in range(30)]
    text = problem.render_meta_prompt(history, 5, 20)
    assert text.count("<TEXT>") == 20
    assert "<TEXT>T9</TEXT>" not in text and "<TEXT>T29</TEXT>" in text


def test_template_override_and_unknown_braces_kept() -> None:
    spec = {
        "examples": [{"input": "{ [ ( } ]", "target": "]"}],
        "train_ids": [0],
        "templates": {"footer": "Now write {n} things."},
    }
    problem = PromptProblem.from_spec(spec)
    text = problem.render_meta_prompt([Scored("a", 0.5, 0)], 1, 20)
    assert text.endswith("\n\nNow write {n} things.")
    assert "\nProblem:\n<INS>\n{ [ ( } ]\n" in text


SCORER_PROMPTS = [
    ("before_Q", True, "Solve it.", "Solve it.\nQ: What is 2 + 3?\n\nA:"),
    ("before_Q", True, "", "Q: What is 2 + 3?\n\nA:"),
    ("Q_begin", True, "Solve it.", "Q: Solve it.\nWhat is 2 + 3?\n\nA:"),
    ("Q_begin", True, "", "Q: What is 2 + 3?\n\nA:"),
    ("Q_end", True, "Solve it.", "Q: What is 2 + 3?\nSolve it.\n\nA:"),
    ("Q_end", True, "", "Q: What is 2 + 3?\n\nA:"),
    ("A_begin", True, "Let's think.", "Q: What is 2 + 3?\n\nA: Let's think."),
    ("A_begin", True, "", "Q: What is 2 + 3?\n\nA:"),
    ("Q_begin", False, "Solve it.", "Solve it.\nWhat is 2 + 3?"),
    ("Q_begin", False, "", "What is 2 + 3?"),
    ("Q_end", False, "Solve it.", "What is 2 + 3?\nSolve it."),
    ("Q_end", False, "", "What is 2 + 3?"),
]


@pytest.mark.parametrize(("position", "include_qa", "instruction", "expected"), SCORER_PROMPTS)
def test_scorer_prompt_per_position(
    position: str, include_qa: bool, instruction: str, expected: str
) -> None:
    assert meta.scorer_prompt("What is 2 + 3?", instruction, position, include_qa) == expected


def test_second_round_prompt() -> None:
    got = meta.second_round_prompt("Q: x\n\nA:", " It is 4.\nQ: next one")
    assert got == "Q: x\n\nA: It is 4. So the final answer is"


def _wrong(entry: str, score: float, wrong: list[int], ids: range) -> Scored:
    records = tuple(ExampleRecord(i, "", "", "", i not in wrong) for i in ids)
    return Scored(entry, score, 0, records)


def test_exemplar_criteria() -> None:
    train = list(range(0, 40, 2))
    import numpy as np

    expected = sorted(np.random.RandomState(4).choice(train, 3, replace=False).tolist())
    assert meta.select_exemplars("random", train, [], 5) == expected  # reference: seed(i_step)
    assert meta.select_exemplars("random", train, [], 5, seed=7) == meta.select_exemplars(
        "random", train, [], 5, seed=7
    )
    constant = meta.select_exemplars("constant", train, [], 1)
    assert constant == meta.select_exemplars("constant", train, [], 9)
    ids = range(0, 40, 2)
    history = [_wrong("a", 0.5, [4, 10], ids), _wrong("b", 0.6, [4], ids)]
    assert meta.select_exemplars("accumulative_most_frequent", train, history, 3) == [4, 10]
    many = [*history, _wrong("c", 0.7, [2, 6, 8], ids)]
    picked = meta.select_exemplars("accumulative_most_frequent", train, many, 3)
    assert len(picked) == 3 and set(picked) <= {2, 4, 6, 8, 10}
    # current: only the shown entries count; 4 is wrong twice -> fewer than 3 at max -> top 3,
    # most-wrong first and ties in the reference's order: a set {2, 6, 8} iterates 8, 2, 6.
    assert meta.select_exemplars("current_most_frequent", train, many, 2) == [4, 10, 8]
    shown_one = meta.select_exemplars("current_most_frequent", train, many, 2, history_size=1)
    assert shown_one == [2, 6, 8]
    assert meta.select_exemplars("current_most_frequent", train, [], 2) == []
    assert meta.select_exemplars("random", train, [], 2, count=0) == []
