"""Completions are numbered from 1 in the app, as `opro history` numbers them (issue 11 item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_models import two_opt_optimizer

from opro_gui.cli import main
from opro_gui.gui.widgets.replay import answers_text
from opro_gui.gui.widgets.step_detail import VERDICT_COLUMNS, completions_text
from opro_gui.services import ProjectSession


def test_step_detail_and_replay_number_completions_like_the_cli(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    two_opt_optimizer.counter = 0  # type: ignore[attr-defined]
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project), "--points", "8", "--seed", "3"]) == 0
    with fake_server(two_opt_optimizer) as srv:
        url = ["--base-url", srv.base_url, "--model", "fake-optimizer", "--samples", "2"]
        assert main(["run", str(project), "--steps", "1", *url]) == 0
    capsys.readouterr()
    assert main(["history", str(project), "--step", "1"]) == 0
    cli = [line for line in capsys.readouterr().out.splitlines() if "completion" in line]
    with ProjectSession.open(project, readonly=True) as session:
        detail = session.step_detail(1, 1).to_json()
    gui = [line for line in completions_text(detail["completions"]).splitlines() if "──" in line]
    assert cli == ["=== completion 1 of 2 ===", "=== completion 2 of 2 ==="]
    assert gui == ["──── completion 1 of 2 ────", "──── completion 2 of 2 ────"]
    (column,) = [c for c in VERDICT_COLUMNS if c.key == "completion_index"]
    shown = [column.fmt(c["completion_index"]) for c in detail["candidates"]]
    assert shown == ["1", "2"]
    assert column.fmt(-1) == "initial"  # step 0's initial solutions come from no completion
    replay = {"completions": detail["completions"], "candidates": detail["candidates"]}
    verdicts = answers_text(replay).split("──── verdicts ────")[1].strip().splitlines()
    assert [v.split("]")[0] for v in verdicts] == ["[1", "[2"]
