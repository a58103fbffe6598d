"""`opro estimate` (issues 16 and 13): offline, a range, unknown prices said, requests counted
as the run makes them, and figures that learn from the run's own steps."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from opro_gui.cli import main
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore

SAMPLES = 4


def _est(project: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["estimate", str(project), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_estimate_runs_offline_prints_a_range_and_names_unpriced_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project)]) == 0
    capsys.readouterr()
    assert main(["estimate", str(project), "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert out.count("steps:") == 1 and out.startswith("estimate for 20 more steps: 20 calls (20 ")
    assert re.search(r"tokens \([\d,]+–[\d,]+\)", out) and re.search(r"\(\$[\d.]+–\$[\d.]+\)", out)
    est = _est(project, capsys, "--steps", "20")
    assert est["optimizer_calls"] == 20  # one request with n samples per step, not 160
    lo, hi = est["range"]["total_tokens"]
    assert lo < est["total_tokens"] < hi
    priced = _est(project, capsys, "--steps", "20", "--model", "gpt-4o")
    assert priced["priced"] and priced["cost_usd"] > 0 and priced["unpriced_models"] == []
    assert main(["estimate", str(project), "--steps", "20", "--model", "my-model"]) == 0
    out = capsys.readouterr().out
    assert "cost unknown: no price for my-model" in out and "$0.00" not in out


# -- answers modelled on what a real small model wrote (issue 16's test session) -------------
def tsp_answers(seed: int = 0) -> Any:
    rng = random.Random(seed)

    def answer(prompt: str, body: dict[str, Any]) -> str:
        tour = [0, *rng.sample(range(1, 10), 9)]
        return (  # verbatim shape of Qwen2.5-1.5B's answers
            "Here is a new trace that starts with '<trace>' and ends with '</trace>': "
            f"<trace> {','.join(map(str, tour))} </trace>"
        )

    return answer


def linreg_answers(seed: int = 0) -> Any:
    rng = random.Random(seed)

    def answer(prompt: str, body: dict[str, Any]) -> str:
        w, b = rng.randint(5, 25), rng.randint(5, 25)
        return (
            "Looking at the pairs above, the value gets lower as w and b move towards the "
            f"best pair. A new pair that should give a lower value is [{w}, {b}]."
        )

    return answer


WORDS = [
    "solve",
    "the",
    "problem",
    "step",
    "by",
    "step",
    "carefully",
    "check",
    "each",
    "number",
    "then",
    "answer",
]


def prompt_answers(seed: int = 0) -> Any:
    rng = random.Random(seed)

    def answer(prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14)))
            return f"Here is a new instruction: <INS>{words.capitalize()}.</INS>"
        m = re.search(r"Compute (\d+) \+ (\d+)\.", prompt)
        a, b = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        steps = " ".join(
            f"Step {i}: we keep the running total of {a} and {b} in mind and check it again, "
            "making sure no digit is lost when carrying over to the next column."
            for i in range(1, 6)
        )
        total = a + b + a % 2  # wrong on odd a, whatever the instruction: none reaches 100 %
        return (
            f"Let's think step by step. We need to add {a} and {b}. {steps} So {a} + {b} = {total}."
        )

    return answer


def _new(kind: str, tmp_path: Path) -> Path:
    project = tmp_path / f"{kind}.opro"
    if kind == "prompt":
        data = tmp_path / "sums.jsonl"
        rows = [
            {
                "input": f"Compute {i * 7 % 90 + 3} + {i * 5 % 70 + 5}.",
                "target": str(i * 7 % 90 + 3 + i * 5 % 70 + 5),
            }
            for i in range(12)
        ]
        data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        assert (
            main(["new", "prompt", str(project), "--dataset", str(data), "--train-ratio", "0.5"])
            == 0
        )
    else:
        assert main(["new", kind, str(project)]) == 0
    return project


def _spent(project: Path, steps: range) -> int:
    with ProjectStore.open(project) as store:
        return sum(
            c.record.prompt_tokens + c.record.completion_tokens
            for s in steps
            for c in store.calls(1, s)
        )


ANSWERS = {"tsp": tsp_answers, "linreg": linreg_answers, "prompt": prompt_answers}
FIGURES: dict[str, tuple[int, int, int, int]] = {}


@pytest.mark.parametrize("kind", ["tsp", "linreg", "prompt"])
def test_fresh_and_learned_estimates_match_what_the_run_spends(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    project = _new(kind, tmp_path)
    with fake_server(
        ANSWERS[kind](), token_count="pieces", models=("fake-optimizer", "fake-scorer")
    ) as srv:
        url = ["--base-url", srv.base_url, "--samples", str(SAMPLES)]
        roles = ["--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer"]
        fresh = _est(project, capsys, "--steps", "2", *url, *roles)
        run = ["run", str(project), *url, *roles]
        assert main([*run, "--steps", "2"]) == 0
        fresh_actual = _spent(project, range(0, 3))
        learned = _est(project, capsys, "--steps", "1", *url, *roles)
        assert learned["basis"] == "the run's last 2 step(s)"
        assert main([*run, "--steps", "3"]) == 0, capsys.readouterr()
        third = _spent(project, range(3, 4))
        assert third, capsys.readouterr().out
    capsys.readouterr()
    print(
        f"{kind}: fresh {fresh['total_tokens']} vs {fresh_actual}; next {learned['total_tokens']} vs {third}"
    )
    assert abs(learned["total_tokens"] - third) <= 0.2 * third
    assert abs(fresh["total_tokens"] - fresh_actual) <= 0.2 * fresh_actual
    lo, hi = fresh["range"]["total_tokens"]
    assert lo <= fresh_actual <= hi


def test_estimate_prices_the_models_the_project_runs_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimate is for what `opro run` would do next: the project's own models (issue 11
    made them the project's), not its latest run's or the defaults."""
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project)]) == 0
    with ProjectSession.open(project) as s:
        s.set_project_models(EndpointConfig(base_url="https://api.example.com/v1", model="m-x"))
    est = _est(project, capsys, "--steps", "5")
    assert est["unpriced_models"] == ["m-x"] and not est["priced"]
    assert _est(project, capsys, "--steps", "5", "--model", "gpt-4o")["priced"]  # flag wins
