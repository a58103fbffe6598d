"""The `opro` command end to end: a real server on 127.0.0.1, the real SDK, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scripted_models import linreg_optimizer, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]


def opro(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def show_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code, out, _ = opro("show", str(path), "--json", capsys=capsys)
    assert code == 0
    return json.loads(out)


def test_tsp_reaches_gap_zero_with_a_two_opt_optimizer(tmp_path, fake_server, capsys) -> None:
    two_opt_optimizer.counter = 0  # type: ignore[attr-defined]  # the same moves in any test order
    project = tmp_path / "t.opro"
    assert opro("new", "tsp", str(project), "--points", "10", "--seed", "1", capsys=capsys)[0] == 0
    with fake_server(two_opt_optimizer) as srv:
        code, out, err = opro(
            "run",
            str(project),
            "--steps",
            "20",
            "--base-url",
            srv.base_url,
            "--model",
            "fake-optimizer",
            capsys=capsys,
        )
    assert code == 0, err
    assert "step 1/20" in out
    data = show_json(project, capsys)
    assert data["kind"] == "tsp"
    (run,) = data["runs"]
    assert run["gap_percent"] == 0.0
    assert run["best_score"] == run["optimal_length"]
    assert run["status"] == "target_reached"
    assert run["found_at_step"] == 9
    assert sorted(run["best_solution"]) == list(range(10))
    assert run["total_tokens"] > 0 and run["steps_completed"] == run["found_at_step"]
    # The equal-budget random search is reported beside the run, and the 2-opt optimizer wins.
    assert (run["random_search_best"], run["optimal_length"]) == (895.0, 610)
    assert run["beats_random_search"] is True


def test_linreg_run_show_fields(tmp_path, fake_server, capsys) -> None:
    linreg_optimizer.counter = 0  # type: ignore[attr-defined]  # the same moves in any test order
    project = tmp_path / "lr.opro"
    assert (
        opro("new", "linreg", str(project), "--w", "15", "--b", "14", "--seed", "0", capsys=capsys)[
            0
        ]
        == 0
    )
    with fake_server(linreg_optimizer) as srv:
        code, out, err = opro(
            "run", str(project), "--steps", "3", "--base-url", srv.base_url, capsys=capsys
        )
    assert code == 0, err
    (run,) = show_json(project, capsys)["runs"]
    assert (run["w_true"], run["b_true"]) == (15, 14)
    assert (run["status"], run["steps_completed"], run["found_at_step"]) == ("completed", 3, None)
    assert run["best_solution"] == [15, 17]


def test_steps_is_a_total_budget_and_new_run_starts_over(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "t.opro"
    opro("new", "tsp", str(project), "--points", "12", "--seed", "3", capsys=capsys)
    with fake_server(lambda p, b: "<trace>0,1,2,3,4,5,6,7,8,9,10,11</trace>") as srv:
        url = ["--base-url", srv.base_url]
        assert opro("run", str(project), "--steps", "2", *url, capsys=capsys)[0] == 0
        assert opro("run", str(project), "--steps", "4", *url, capsys=capsys)[0] == 0
        (run,) = show_json(project, capsys)["runs"]
        assert run["steps_completed"] == 4 and run["status"] == "completed"
        # The run ended: the plan (services.plan, the GUI's too) says so, then starts run 2.
        code, out, _ = opro("run", str(project), "--steps", "4", *url, capsys=capsys)
        assert code == 0
        assert out.splitlines()[0] == (
            "Run 1 already ended (completed: step budget of 4 used) after step 4: "
            "starting run 2, up to step 4"
        )
        code, out, _ = opro("run", str(project), "--steps", "1", "--new-run", *url, capsys=capsys)
        assert code == 0 and out.startswith("New run asked for: starting run 3, up to step 1\n")
    runs = show_json(project, capsys)["runs"]
    assert [r["steps_completed"] for r in runs] == [4, 4, 1]


def test_history_replay_export(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "t.opro"
    opro("new", "tsp", str(project), "--points", "8", "--seed", "2", capsys=capsys)
    with fake_server(two_opt_optimizer) as srv:
        url = ["--base-url", srv.base_url]
        opro("run", str(project), "--steps", "2", "--samples", "3", *url, capsys=capsys)
        code, out, _ = opro("history", str(project), "--step", "1", capsys=capsys)
        assert code == 0
        assert "You are given a list of points with coordinates below:" in out
        assert out.count("=== completion") == 3 and "verdict: " in out
        before = srv.stats.requests
        code, out, _ = opro(
            "replay",
            str(project),
            "--step",
            "1",
            "--samples",
            "2",
            *url,
            "--model",
            "other-model",
            "--no-model-check",  # the fake server does not list it (issue 16: else exit 2)
            capsys=capsys,
        )
        assert code == 0 and "replay 1 of run 1 step 1 with other-model" in out
        assert srv.stats.requests > before and srv.stats.models[-1] == "other-model"
    out_json = tmp_path / "e.json"
    assert (
        opro("export", str(project), "--format", "json", "-o", str(out_json), capsys=capsys)[0] == 0
    )
    data = json.loads(out_json.read_text())
    run = data["runs"][0]
    assert [s["step"] for s in run["steps"]] == [0, 1, 2]
    assert run["steps"][1]["candidates"][0]["status"] in {"scored", "duplicate", "invalid"}
    assert len(run["replays"]) == 1 and run["replays"][0]["endpoint"]["model"] == "other-model"
    out_csv = tmp_path / "e.csv"
    assert (
        opro("export", str(project), "--format", "csv", "-o", str(out_csv), capsys=capsys)[0] == 0
    )
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("run_id,step,index") and len(lines) > 5


def test_one_line_errors(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.opro"
    bad.write_text("not a database")
    code, _, err = opro("show", str(bad), capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and "not a SQLite database" in err
    project = tmp_path / "t.opro"
    opro("new", "tsp", str(project), "--points", "5", capsys=capsys)
    code, _, err = opro("run", str(project), "--steps", "1", capsys=capsys)
    assert code == 2 and "no endpoint" in err
    code, _, err = opro("history", str(project), "--step", "1", capsys=capsys)
    assert code == 2 and "no runs" in err


def test_unreachable_endpoint_pauses_with_reason(tmp_path, capsys) -> None:
    project = tmp_path / "t.opro"
    opro("new", "tsp", str(project), "--points", "11", "--seed", "5", capsys=capsys)
    code, out, err = opro(
        "run",
        str(project),
        "--steps",
        "2",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--max-retries",
        "0",
        "--timeout",
        "2",
        capsys=capsys,
    )
    assert code == 1 and "optimizer request failed" in err
    (run,) = show_json(project, capsys)["runs"]
    assert run["status"] == "paused" and run["steps_completed"] == 0


def test_console_script_runs_as_a_subprocess(tmp_path) -> None:
    project = tmp_path / "s.opro"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opro_gui",
            "new",
            "tsp",
            str(project),
            "--points",
            "6",
            "--seed",
            "4",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert project.exists() and "created" in proc.stdout


def test_token_budget_pauses_then_resumes_after_raise(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "b.opro"
    opro("new", "tsp", str(project), "--points", "12", "--seed", "9", capsys=capsys)
    with fake_server(two_opt_optimizer) as srv:
        url = ["--base-url", srv.base_url, "--samples", "2"]
        code, out, err = opro(
            "run", str(project), "--steps", "30", "--budget-tokens", "600", *url, capsys=capsys
        )
        assert code == 1 and "token budget reached" in err
        (run,) = show_json(project, capsys)["runs"]
        assert run["status"] == "paused" and run["total_tokens"] >= 600
        paused_at = run["steps_completed"]
        # The boundary is the first one past the budget: one step fewer was still under it.
        with ProjectStore.open(project) as store:
            per_step = [
                sum(c.record.total_tokens for c in store.calls(1, s)) for s in range(paused_at + 1)
            ]
        assert sum(per_step[:-1]) < 600 <= sum(per_step)
        code, out, err = opro(
            "run", str(project), "--steps", "30", "--budget-tokens", "100000", *url, capsys=capsys
        )
        assert code == 0, err
        assert f"continuing after step {paused_at}" in out
    (run,) = show_json(project, capsys)["runs"]
    assert run["steps_completed"] > paused_at and run["status"] in ("completed", "target_reached")


def test_running_status_tells_live_from_interrupted(tmp_path, capsys) -> None:
    from opro_gui.services import ProjectSession, StoreSink

    project = tmp_path / "s.opro"
    opro("new", "tsp", str(project), "--points", "6", capsys=capsys)
    with ProjectSession.open(project) as session:
        run_id = session.store.create_run({"max_steps": 3}, {"model": "m", "base_url": "u"}, None)
        StoreSink(session.store, run_id).status_changed("running")  # this process: alive
        assert (
            session.run_summary(run_id).status,
            session.run_summary(run_id).status_reason,
        ) == ("running", "")
        import socket

        dead = 2**22 + 12345  # above the default pid_max: no such process
        session.store.set_status(
            run_id, "running", f"written by process {dead} on {socket.gethostname()}"
        )
        assert session.run_summary(run_id).status == "interrupted"
        session.store.set_status(run_id, "running", f"written by process {dead} on another-host")
        assert session.run_summary(run_id).status == "running"  # cannot check another machine
