"""The equal-budget baseline of a prompt run: the same optimizer without the scored trajectory,
exactly as many scored instructions per step as OPRO, reported beside the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.services import ProjectSession


class BaselineWorld(ArithmeticWorld):
    """ArithmeticWorld, plus: a meta-prompt with no scored instructions (the baseline's) gets
    a fresh instruction per call, so the baseline can always fill its budget; every third
    one repeats an earlier one, so the baseline must ask again to reach the budget."""

    def __init__(self) -> None:
        super().__init__()
        self.baseline_prompts: list[str] = []

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")) and "score:" not in prompt:
            self.baseline_prompts.append(prompt)
            k = len(self.baseline_prompts)
            k = k - 1 if k % 3 == 0 else k  # a duplicate of the previous proposal
            return f"<INS>Add the numbers, attempt {k}.</INS>"
        return super().__call__(prompt, body)


def test_baseline_run_matches_the_budget_and_is_reported(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    world = BaselineWorld()
    with fake_server(world) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "2", "--samples", "3", "--baseline",
            *roles(srv.base_url),
        )  # fmt: skip
    assert code == 0, err
    assert out.count("  baseline (run 2) step ") == 3  # steps 0..2, each after OPRO's
    with ProjectSession.open(project, readonly=True) as session:
        assert session.run_ids() == [1]  # the baseline belongs to run 1, it is not a run of its own
        base = session.baseline_run_id(1)
        assert base == 2
        opro_counts, base_counts = session.sent_per_step(1), session.sent_per_step(2)
        assert opro_counts == base_counts and sum(opro_counts.values()) > 0
        curve = session.baseline_curve(1)
        assert [s for s, _ in curve] == [0, 1, 2]
        detail = session.store.step_detail(2, 2)
        assert detail is not None
        meta = detail.meta_prompt
    # The baseline's meta-prompt has the task and exemplars, never the scored trajectory.
    assert "score:" not in meta and "Below are some problems." in meta
    assert meta.startswith("Your task is to generate the instruction <INS>.\n\n")
    data = json.loads(opro(capsys, "show", str(project), "--json")[1])
    (run,) = data["runs"]
    assert run["baseline_run_id"] == 2
    assert (
        run["scored_instructions"]
        == run["baseline_scored_instructions"]
        == sum(opro_counts.values())
    )
    assert run["baseline_best_train_accuracy"] == curve[-1][1]
    assert run["best_train_accuracy"] is not None and run["baseline_total_tokens"] > 0
    text = opro(capsys, "show", str(project))[1]
    assert f"no-trajectory baseline {100 * curve[-1][1]:.1f}% (run 2, " in text
    assert opro(capsys, "history", str(project), "--run", "2", "--step", "1")[0] == 0
    export = tmp_path / "e.json"
    assert opro(capsys, "export", str(project), "-o", str(export))[0] == 0
    runs = json.loads(export.read_text())["runs"]
    assert [r["spec_override"] for r in runs] == [None, {"trajectory": False, "baseline_of": 1}]
    with fake_server(world) as srv:
        code, out, err = opro(capsys, "evaluate", str(project), *roles(srv.base_url))
    assert code == 0, err
    assert "equal-budget baseline: train" in out
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert run["baseline_best_test_accuracy"] is not None
    assert run["best_test_accuracy"] is not None


def test_baseline_off_by_default(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    with fake_server(ArithmeticWorld()) as srv:
        code, out, _ = opro(capsys, "run", str(project), "--steps", "1", *roles(srv.base_url))
    assert code == 0 and "baseline" not in out
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert run["baseline_run_id"] is None and run["baseline_best_train_accuracy"] is None


def test_baseline_continues_with_the_run_and_can_be_turned_off(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    world = BaselineWorld()
    with fake_server(world) as srv:
        args = ["--samples", "2", *roles(srv.base_url)]
        assert opro(capsys, "run", str(project), "--steps", "1", "--baseline", *args)[0] == 0
        code, out, _ = opro(capsys, "run", str(project), "--steps", "2", *args)  # stays on
        assert code == 0 and "  baseline (run 2) step 2/2" in out
        code, out, _ = opro(capsys, "run", str(project), "--steps", "3", "--no-baseline", *args)
        assert code == 0 and "baseline" not in out
    with ProjectSession.open(project, readonly=True) as session:
        assert [s for s, _ in session.baseline_curve(1)] == [0, 1, 2]
        counts = session.sent_per_step(1)
        assert session.sent_per_step(2) == {s: n for s, n in counts.items() if s <= 2}


def test_baseline_is_refused_where_there_is_none(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripted_models import two_opt_optimizer

    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "6")[0] == 0
    with fake_server(two_opt_optimizer) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "1", "--baseline", "--base-url", srv.base_url
        )
    assert code == 0 and "warning: --baseline is ignored" in err and "baseline (run" not in out
    with ProjectSession.open(project, readonly=True) as session:
        assert session.store.run_ids() == [1]
