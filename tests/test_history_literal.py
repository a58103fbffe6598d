"""`opro history` prints the TSP and LR meta-prompts exactly as OPRO_SPEC.md §2.1/§2.2 word them.

The expected texts below are literal; the numbers in them were checked independently (the TSP
lengths are recomputed here from the coordinates)."""

from __future__ import annotations

import math
import re
from pathlib import Path

from opro_gui.cli import main

SEVEN = [(0, 0), (40, -30), (-25, 60), (70, 20), (-50, -45), (15, 85), (-80, 10)]

TSP_EXPECTED = """\
You are given a list of points with coordinates below:
(0): (0, 0), (1): (40, -30), (2): (-25, 60), (3): (70, 20), (4): (-50, -45), (5): (15, 85), (6): (-80, 10).

Below are some previous traces and their lengths. The traces are arranged in descending order based on their lengths, where lower values are better.

<trace> 0,6,2,4,3,5,1 </trace>
length:
652

<trace> 0,2,5,4,1,3,6 </trace>
length:
638

<trace> 0,4,5,3,1,2,6 </trace>
length:
622

<trace> 0,4,1,5,2,6,3 </trace>
length:
620

<trace> 0,1,3,2,4,6,5 </trace>
length:
589

Give me a new trace that is different from all traces above, and has a length lower than any of the above. The trace should traverse all points exactly once. The trace should start with '<trace>' and end with </trace>."""

LR_EXPECTED = """\
Now you will help me minimize a function with two input variables w, b. I have some (w, b) pairs and the function values at those points. The pairs are arranged in descending order based on their function values, where lower values are better.

input:
w=20, b=16
value:
1094731

input:
w=19, b=10
value:
643605

input:
w=12, b=20
value:
344656

input:
w=13, b=18
value:
153734

input:
w=15, b=19
value:
1227

Give me a new (w, b) pair that is different from all pairs above, and has a function value lower than any of the above. Do not write code. The output must end with a pair [w, b], where w and b are numerical values."""


def meta_prompt_of_step_1(project: Path, answer: str, fake_server, capsys) -> str:
    with fake_server(lambda p, b: answer) as srv:
        assert (
            main(
                ["run", str(project), "--steps", "1", "--samples", "1", "--base-url", srv.base_url]
            )
            == 0
        )
        sent = srv.stats.prompts[0]
    capsys.readouterr()
    assert main(["history", str(project), "--step", "1"]) == 0
    out = capsys.readouterr().out
    printed = out.split("=== run 1, step 1: meta-prompt as sent ===\n", 1)[1]
    printed = printed.split("\n=== completion 1 of 1 ===", 1)[0]
    assert printed == sent, "history must print exactly what was sent"
    return printed


def test_tsp_meta_prompt_word_for_word(tmp_path, fake_server, capsys) -> None:
    csv = tmp_path / "seven.csv"
    csv.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in SEVEN))
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project), "--import", str(csv)]) == 0
    text = meta_prompt_of_step_1(project, "<trace>0,1,3,5,2,6,4</trace>", fake_server, capsys)
    assert text == TSP_EXPECTED
    for trace, length in re.findall(r"<trace> ([\d,]+) </trace>\nlength:\n(\d+)", text):
        tour = [int(t) for t in trace.split(",")]
        exact = sum(math.dist(SEVEN[tour[i]], SEVEN[tour[i - 1]]) for i in range(len(tour)))
        assert int(exact) == int(length)


def test_linreg_meta_prompt_word_for_word(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "lr.opro"
    assert main(["new", "linreg", str(project), "--w", "15", "--b", "14", "--seed", "0"]) == 0
    text = meta_prompt_of_step_1(project, "my answer: [16, 13]", fake_server, capsys)
    assert text == LR_EXPECTED
