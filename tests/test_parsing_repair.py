"""Robust answer parsing (issue 16): every tag tried, cycles rotated, repairs recorded; the
project setting strict_reference_parsing restores the reference's rules exactly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from opro_gui.cli import main
from opro_gui.problems import reasons
from opro_gui.problems.linear_regression import LinearRegressionProblem
from opro_gui.problems.prompt_opt import PromptProblem
from opro_gui.problems.tsp import TSPProblem

ECHO = (
    "Here is a new trace that starts with '<trace>' and ends with '</trace>': "
    "<trace> 0,2,3,8,7,4,5,9,1,6 </trace>"
)
EXAMPLES = [{"input": f"{i}+{i}?", "target": str(2 * i)} for i in range(6)]
FROM_3 = "<trace>3,1,2,0,4,5,6,7,8,9</trace>"  # a valid cycle that starts at node 3


def test_tsp_every_trace_is_tried_and_cycles_are_rotated() -> None:
    p = TSPProblem.generate(10, seed=0)
    (echo,) = p.parse(ECHO)
    assert echo.solution == [0, 2, 3, 8, 7, 4, 5, 9, 1, 6]
    assert echo.repair == (
        "used a later <trace> (the first was not a tour: \"' and ends with '\" is not a node "
        "number)"
    )
    (rotated,) = p.parse(FROM_3)
    assert rotated.solution == [0, 4, 5, 6, 7, 8, 9, 3, 1, 2]
    assert rotated.repair == "rotated to start at node 0 (it started at 3)"
    (plain,) = p.parse("<trace>0,1,2,3,4,5,6,7,8,9</trace>")
    assert plain.repair == "" and plain.solution == list(range(10))


def test_tsp_strict_reference_parsing_rejects_both() -> None:
    p = TSPProblem.from_spec({**TSPProblem.generate(10, seed=0).to_spec(), reasons_key(): True})
    assert p.strict and TSPProblem.from_spec(p.to_spec()).strict
    (echo,) = p.parse(ECHO)
    (rotated,) = p.parse(FROM_3)
    assert echo.solution is None and rotated.solution is None
    assert reasons.categorize(echo.reason) == (reasons.STRICT_REJECTED, reasons.PARSER)
    assert reasons.categorize(rotated.reason) == (reasons.STRICT_REJECTED, reasons.PARSER)


def reasons_key() -> str:
    from opro_gui.problems.local_scoring import STRICT_KEY

    return STRICT_KEY


def test_linreg_and_instructions_try_every_span() -> None:
    (pair,) = LinearRegressionProblem(15, 14).parse("[3, 4] then [x, y]")
    assert pair.solution == [3, 4] and pair.repair.startswith("used an earlier [3, 4]")
    (strict,) = LinearRegressionProblem(15, 14, strict=True).parse("[3, 4] then [x, y]")
    assert strict.solution is None
    spec: dict[str, Any] = {"examples": EXAMPLES, "style": "ins", "train_ratio": 0.5}
    text = "Close with </INS>. My answer: <INS>Add carefully.</INS>"
    (ins,) = PromptProblem(spec).parse(text)
    assert ins.solution == "Add carefully." and ins.repair
    (ref,) = PromptProblem({**spec, reasons_key(): True}).parse(text)
    assert ref.solution == "" and ref.repair == ""  # the reference reads nothing here


def _answers() -> Any:
    cycle = itertools.cycle([ECHO, FROM_3])
    return lambda prompt, body: next(cycle)


@pytest.mark.parametrize("strict", [False, True])
def test_a_run_scores_repaired_answers_or_rejects_them_strictly(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str], strict: bool
) -> None:
    project = tmp_path / "t.opro"
    new = ["new", "tsp", str(project), "--points", "10", "--seed", "0"]
    assert main(new + (["--strict-reference-parsing"] if strict else [])) == 0
    with fake_server(_answers()) as srv:
        args = ["run", str(project), "--steps", "1", "--samples", "2", "--base-url", srv.base_url]
        assert main([*args, "--no-format-check"]) == 0  # strict parsing reads none of them
    capsys.readouterr()
    assert main(["show", str(project), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert main(["show", str(project)]) == 0
    text = capsys.readouterr().out
    if strict:
        assert run["status_counts"] == {"invalid": 2}
        assert run["invalid_reasons"] == {reasons.STRICT_REJECTED: 2}
        assert run["invalid_by"] == {"model": 0, "parser": 2}
        assert run["repaired"] == 0
        assert "2 rejected proposals were usable answers refused by strict" in text
    else:
        assert run["status_counts"] == {"scored": 2}
        assert run["invalid_reasons"] == {} and run["repaired"] == 2
        assert "answers repaired by robust parsing and scored: 2" in text
        assert main(["history", str(project), "--step", "1"]) == 0
        hist = capsys.readouterr().out
        assert "reason: repaired: used a later <trace>" in hist
        assert "reason: repaired: rotated to start at node 0 (it started at 3)" in hist
