"""A run pauses itself when its models produce nothing usable for N steps in a row (issue 11
item 2): no parseable proposal, or the scorer getting every answer wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripted_models import ArithmeticWorld, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.core.models import RunSettings, StopCause
from opro_gui.services.status import needs_attention, wording
from opro_gui.storage import ProjectStore
from opro_gui.storage.rows import settings_from


def opro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def garbage(prompt: str, body: dict[str, Any]) -> str:
    return "Sure! Here is a short poem about travelling instead."


def optimizer_requests(srv: Any) -> list[dict[str, Any]]:
    return [b for b in srv.stats.bodies if b.get("model") == "fake-optimizer"]


def new_tsp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "8", "--seed", "2")[0] == 0
    return project


def test_garbage_optimizer_pauses_after_three_steps_and_resume_continues(
    tmp_path, fake_server, capsys
) -> None:
    project = new_tsp(tmp_path, capsys)
    url = ["--model", "fake-optimizer", "--samples", "2", "--no-format-check"]
    with fake_server(garbage, record_bodies=True) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "20", "--base-url", srv.base_url, *url
        )
        requests = optimizer_requests(srv)
    assert code == 1
    assert "step 3/20" in out and "step 4/20" not in out
    assert "no parseable proposal from the optimizer for 3 steps in a row (steps 1-3)" in out
    assert "try a larger model or check the model name" in err
    # Exactly three steps' worth of optimizer calls reached the server: 2 samples per step.
    assert sum(int(b.get("n", 1)) for b in requests) == 3 * 2
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert (run["status"], run["stop_cause"], run["steps_completed"]) == (
        "paused",
        "optimizer_unparseable",
        3,
    )
    shown = opro(capsys, "show", str(project))[1]
    assert "paused: no parseable proposal from the optimizer for 3 steps in a row" in shown
    with ProjectStore.open(project) as store:
        statuses = {c.status for c in store.candidates(1) if c.step > 0}
    assert statuses == {"invalid"}

    # Continuing with a model that follows the format goes on past step 3 to the end.
    two_opt_optimizer.counter = 0  # type: ignore[attr-defined]
    with fake_server(two_opt_optimizer) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "6", "--base-url", srv.base_url, *url
        )
    assert code == 0, err
    assert "continuing after step 3" in out and "step 4/6" in out
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert run["stop_cause"] in ("step_budget", "optimum") and run["steps_completed"] > 3


def test_the_count_is_settable_and_zero_turns_it_off(tmp_path, fake_server, capsys) -> None:
    project = new_tsp(tmp_path, capsys)
    args = ["--model", "fake-optimizer", "--samples", "1", "--no-format-check"]
    with fake_server(garbage, record_bodies=True) as srv:
        code, out, _ = opro(
            capsys, "run", str(project), "--steps", "9", "--base-url", srv.base_url,
            "--pause-after-unparseable", "2", *args,
        )  # fmt: skip
        assert code == 1 and "for 2 steps in a row (steps 1-2)" in out
        assert len(optimizer_requests(srv)) == 2
        # Off: the same garbage runs to the step budget; the setting is stored with the run.
        code, out, _ = opro(
            capsys, "run", str(project), "--steps", "6", "--base-url", srv.base_url,
            "--pause-after-unparseable", "0", *args,
        )  # fmt: skip
        assert code == 0 and "step 6/6" in out
        assert len(optimizer_requests(srv)) == 6
    with ProjectStore.open(project) as store:
        run = store.run(1)
    assert run.settings.pause_after_unparseable == 0


def test_negative_counts_are_refused_with_one_line(tmp_path, capsys) -> None:
    project = new_tsp(tmp_path, capsys)
    code, _, err = opro(
        capsys, "run", str(project), "--steps", "3", "--pause-after-zero-score", "-1"
    )
    assert code != 0
    assert err.strip().splitlines() == [
        "opro: error: --pause-after-zero-score must be 0 (off) or more steps"
    ]
    with pytest.raises(ValueError, match="pause_after_unparseable"):
        RunSettings(pause_after_unparseable=-1)
    # A stored value out of range falls back to the default.
    kept = settings_from({"pause_after_unparseable": -4, "pause_after_zero_score": 5})
    assert (kept.pause_after_unparseable, kept.pause_after_zero_score) == (3, 5)


class WrongScorer(ArithmeticWorld):
    """A capable optimizer, and a scorer that answers every question wrongly."""

    def __init__(self) -> None:
        super().__init__()
        self.scorer_prompts = 0

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            return super().__call__(prompt, body)
        self.scorer_prompts += 1
        return "The answer is banana."


def test_prompt_run_with_a_scorer_getting_everything_wrong_pauses(
    tmp_path, fake_server, capsys
) -> None:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(12)) + "\n")
    project = tmp_path / "p.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project), "--dataset", str(data), "--train-ratio", "0.5",
        "--initial", "Solve it.", "--seed", "1",
    )  # fmt: skip
    assert code == 0, err
    world = WrongScorer()
    with fake_server(world) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "10", "--samples", "2",
            "--base-url", srv.base_url, "--optimizer-model", "fake-optimizer",
            "--scorer-model", "fake-scorer", "--pause-after-zero-score", "2",
            "--no-format-check",  # the model check would stop it before step 1 (issue 11)
        )  # fmt: skip
    assert code == 1
    assert "step 2/10" in out and "step 3/10" not in out
    assert (
        "every scored candidate got the worst possible score (0) for 2 steps in a row "
        "(steps 1-2): the scorer got nothing right" in err
    )
    assert "try a larger model or check the model name" in err
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert (run["status"], run["stop_cause"], run["steps_completed"]) == (
        "paused",
        "scorer_all_zero",
        2,
    )
    assert run["best_score"] == 0.0
    with ProjectStore.open(project) as store:
        scores = {c.score for c in store.candidates(1) if c.status == "scored"}
    assert scores == {0.0}


def test_both_causes_have_wording_that_asks_for_attention() -> None:
    for cause in (StopCause.OPTIMIZER_UNPARSEABLE, StopCause.SCORER_ALL_ZERO):
        w = wording(cause)
        assert needs_attention(cause) and w.headline
        assert "try a larger model or check the model name" in w.advice
