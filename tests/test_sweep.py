"""`opro sweep`: a grid of runs in one project, its table equal to `opro show --json`, resumable
after SIGKILL without repeating a completed step; `--datasets` writes one per-task table."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scripted_models import ArithmeticWorld, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.services.sweep import expand_grid, parse_set
from opro_gui.storage import ProjectError

REPO = Path(__file__).resolve().parents[1]


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_grid_expansion_and_set_parsing() -> None:
    key, values = parse_set("samples_per_step=2,4")
    assert (key, values) == ("samples_per_step", [2, 4])
    assert parse_set("task.position=Q_end,A_begin") == ("task.position", ["Q_end", "A_begin"])
    with pytest.raises(ProjectError, match="not a setting a sweep can vary"):
        parse_set("colour=red")
    with pytest.raises(ProjectError, match="expected KEY=V1"):
        parse_set("temperature")
    grid = expand_grid(["a", "b"], [None], [0, 1], [("temperature", [0.5, 1.0])])
    assert len(grid) == 8
    assert grid[0].key() == {
        "optimizer_model": "a", "scorer_model": None, "seed": 0,
        "settings": {"temperature": 0.5}, "task": {},
    }  # fmt: skip
    assert len({json.dumps(p.key(), sort_keys=True) for p in grid}) == 8


def _show(project: Path, capsys) -> dict[int, dict]:
    code, out, _ = opro(capsys, "show", str(project), "--json")
    assert code == 0
    return {r["id"]: r for r in json.loads(out)["runs"]}


def test_sweep_two_models_two_seeds_table_equals_show(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "10", "--seed", "3")[0] == 0
    out_prefix = tmp_path / "table"
    args = [
        "sweep", str(project), "--steps", "3", "--samples", "2", "--optimizer-models",
        "model-a,model-b", "--seeds", "0,1", "--out", str(out_prefix),
    ]  # fmt: skip
    with fake_server(two_opt_optimizer) as srv:
        code, out, err = opro(capsys, *args, "--base-url", srv.base_url)
        assert code == 0, err
        requests = srv.stats.requests
        code, again, err = opro(capsys, *args, "--base-url", srv.base_url)
        assert code == 0, err
        assert srv.stats.requests == requests  # a finished grid makes no request
    assert again.count(": done") == 4
    shown = _show(project, capsys)
    assert sorted(shown) == [1, 2, 3, 4]
    with (tmp_path / "table.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    grid = set()
    for row in rows:
        s = shown[int(row["run_id"])]
        grid.add((row["optimizer_model"], row["seed"]))
        assert float(row["best_score"]) == s["best_score"]
        assert int(row["total_tokens"]) == s["total_tokens"]
        assert float(row["cost_usd"]) == s["cost_usd"]
        assert int(row["steps_completed"]) == s["steps_completed"]
        assert float(row["valid_rate"]) == round(1 - s["invalid_rate"], 4)
        assert row["optimizer_models_reported"] == s["optimizer_model"]
    assert grid == {("model-a", "0"), ("model-a", "1"), ("model-b", "0"), ("model-b", "1")}
    md = (tmp_path / "table.md").read_text()
    for run_id, s in shown.items():
        assert f"| t.opro:{run_id} |" in md
        assert f"| {s['best_score']:.6g} |" in md
    assert "mean ± sd" in md


def test_sweep_killed_mid_grid_finishes_without_repeating_a_step(tmp_path, fake_server) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = tmp_path / "k.opro"
    cli = [sys.executable, "-m", "opro_gui"]
    subprocess.run(
        [*cli, "new", "tsp", str(project), "--points", "12", "--seed", "5"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    with fake_server(two_opt_optimizer, latency=0.05) as srv:
        sweep = [
            *cli, "sweep", str(project), "--steps", "4", "--samples", "2", "--parallel", "1",
            "--optimizer-models", "model-a,model-b", "--seeds", "0,1", "--base-url", srv.base_url,
        ]  # fmt: skip
        proc = subprocess.Popen(sweep, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("run 2: step 1/"):
                break
        else:
            pytest.fail("the sweep ended before its second run got going: " + proc.stderr.read())
        os.kill(proc.pid, signal.SIGKILL)  # now inside run 2's step 2, waiting on the server
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        conn = sqlite3.connect(project)
        before = {
            (r, s): (m, t)
            for r, s, m, t in conn.execute("SELECT run_id, step, meta_prompt, started_at FROM step")
        }
        conn.close()
        assert {r for r, _ in before} == {1, 2}  # run 1 done, run 2 part-way, 3 and 4 not begun
        served = srv.stats.requests
        again = subprocess.run(sweep, capture_output=True, text=True, env=env)
        assert again.returncode == 0, again.stderr
        resumed = srv.stats.requests - served
    assert "run 1 [model-a, seed 0]: done" in again.stdout
    assert "run 2 [model-a, seed 1]: continue" in again.stdout
    conn = sqlite3.connect(project)
    runs = conn.execute("SELECT id, settings FROM run ORDER BY id").fetchall()
    assert [r for r, _ in runs] == [1, 2, 3, 4]  # no grid point got a second run
    points = [json.loads(s)["sweep"] for _, s in runs]
    assert {(p["optimizer_model"], p["seed"]) for p in points} == {
        ("model-a", 0),
        ("model-a", 1),
        ("model-b", 0),
        ("model-b", 1),
    }
    after = {
        (r, s): (m, t)
        for r, s, m, t in conn.execute("SELECT run_id, step, meta_prompt, started_at FROM step")
    }
    for key, value in before.items():
        assert after[key] == value  # completed steps were kept, not redone
    new_steps = set(after) - set(before)
    calls = conn.execute(
        "SELECT run_id, step FROM llm_call WHERE step IS NOT NULL AND cached = 0"
    ).fetchall()
    conn.close()
    # every request the second invocation made belongs to a step that was not on disk before
    assert resumed == sum(1 for c in calls if tuple(c) in new_steps)
    for run_id in (1, 2, 3, 4):
        steps = sorted(s for r, s in after if r == run_id)
        assert steps == list(range(len(steps)))


def test_sweep_across_datasets_writes_one_task_table(tmp_path, fake_server, capsys) -> None:
    data = tmp_path / "tasks"
    data.mkdir()
    examples = ArithmeticWorld.examples(24)
    for name, chunk in (("sums_a", examples[:12]), ("sums_b", examples[12:])):
        (data / f"{name}.jsonl").write_text("\n".join(json.dumps(e) for e in chunk) + "\n")
    (data / "notes.txt").write_text("not a dataset")
    projects = tmp_path / "projects"
    with fake_server(ArithmeticWorld()) as srv:
        code, out, err = opro(
            capsys, "sweep", str(projects), "--datasets", str(data), "--steps", "1",
            "--samples", "2", "--seeds", "0,1", "--optimizer-models", "fake-optimizer",
            "--scorer-models", "fake-scorer", "--evaluate", "--base-url", srv.base_url,
            "--out", str(tmp_path / "bbh"),
        )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in projects.iterdir()) == ["sums_a.opro", "sums_b.opro"]
    with (tmp_path / "bbh.csv").open() as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert [r[0] for r in body] == ["sums_a", "sums_b"]
    assert header[:2] == ["task", "test examples"]
    assert any(h.startswith("baseline: empty") for h in header)
    test_col = header.index("fake-optimizer, scorer fake-scorer: test")
    for task, row in zip(("sums_a", "sums_b"), body, strict=True):
        shown = _show(projects / f"{task}.opro", capsys)
        tests = [r["best_test_accuracy"] for r in shown.values()]
        mean = 100 * sum(tests) / len(tests)
        assert row[test_col].startswith(f"{mean:.1f}")


def test_plan_sweep_stores_task_overrides_and_refuses_a_bad_one(tmp_path, capsys) -> None:
    from opro_gui.core.models import RunSettings
    from opro_gui.llm import EndpointConfig
    from opro_gui.services import ProjectSession

    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(12)) + "\n")
    project = tmp_path / "p.opro"
    assert opro(capsys, "new", "prompt", str(project), "--dataset", str(data))[0] == 0
    endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="opt")
    grid = expand_grid(["opt"], ["sc-a", "sc-b"], [0], [parse_set("task.position=Q_begin,Q_end")])
    with ProjectSession.open(project) as session:
        plan = session.plan_sweep(grid, 3, RunSettings(), endpoint, endpoint)
        assert [p.action for p in plan] == ["new"] * 4
        runs = [session.store.run(p.run_id) for p in plan]
        assert [r.spec_override for r in runs] == [
            {"position": "Q_begin"},
            {"position": "Q_end"},
        ] * 2
        assert [r.scorer["model"] for r in runs] == ["sc-a", "sc-a", "sc-b", "sc-b"]
        assert session.problem(plan[1].run_id).to_spec()["position"] == "Q_end"
        again = session.plan_sweep(grid, 3, RunSettings(), endpoint, endpoint)
        assert [p.run_id for p in again] == [p.run_id for p in plan]  # found, not re-created
        bad = expand_grid(["opt"], [None], [0], [parse_set("task.position=nowhere")])
        with pytest.raises(ValueError):
            session.plan_sweep(bad, 3, RunSettings(), endpoint, endpoint)
        assert len(session.run_ids()) == 4
