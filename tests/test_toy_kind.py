"""A fourth kind from the test suite alone (tests/toy_kind.py): `opro new/run/show/history/
export` work for it in a CLI subprocess that finds it through $OPRO_KIND_PLUGINS."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import toy_kind

from opro_gui.problems import register_kind, unregister_kind

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture
def onemax() -> Iterator[None]:
    register_kind(toy_kind.KIND)  # for this process (the server's responder lives here)
    toy_kind.flip_optimizer.counter = 0  # type: ignore[attr-defined]
    yield
    unregister_kind("onemax")


def opro(*args: str, plugins: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)])}
    env.pop("OPRO_KIND_PLUGINS", None)
    if plugins:
        env["OPRO_KIND_PLUGINS"] = "toy_kind:KIND"
    return subprocess.run(
        [sys.executable, "-m", "opro_gui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_onemax_new_run_show_history_export(tmp_path: Path, fake_server, onemax) -> None:
    project = tmp_path / "bits.opro"
    made = opro("new", "onemax", str(project), "--bits", "20", "--seed", "0")
    assert made.returncode == 0, made.stderr
    assert made.stdout == f"created {project} (onemax): n_bits=20, optimum=20\n"

    with fake_server(toy_kind.flip_optimizer) as srv:
        ran = opro(
            "run", str(project), "--steps", "30", "--samples", "4", "--base-url", srv.base_url
        )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "Starting run 1, up to step 30"
    # issue 11: which models, and the model check (one request) before any step
    assert lines[1].startswith("models: optimizer gpt-4o-mini at 127.0.0.1:")
    assert lines[2].startswith("model check: the models answer in the task's format (1 request")
    # The best initial string has 4 ones; each step's proposals add exactly one more.
    assert lines[4].startswith("step 0/30  best 4  scored 3/3")
    assert lines[5].startswith("step 1/30  best 5  scored 4/4")
    assert lines[-1] == "run 1 target reached: the optimum was found"

    shown = opro("show", str(project), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["kind"], data["problem"]["n_bits"]) == ("onemax", 20)
    (run,) = data["runs"]
    assert (run["status"], run["stop_cause"], run["status_text"]) == (
        "target_reached",
        "optimum",
        "target reached: the optimum was found",
    )
    assert (run["best_score"], run["best_solution"]) == (20.0, "1" * 20)
    assert (run["found_at_step"], run["steps_completed"], run["ones_missing"]) == (16, 16, 0)
    assert "random_search_best" not in run and "best_test_accuracy" not in run
    # Steps 1-13 have at least 4 zeros to flip; then 3, 2 and 1 distinct strings are left.
    assert run["status_counts"] == {"scored": 13 * 4 + 3 + 2 + 1, "duplicate": 1 + 2 + 3}

    text = opro("show", str(project))
    assert "run 1: target reached, 16 steps, best 20, tokens " in text.stdout

    hist = opro("history", str(project), "--step", "1")
    assert hist.returncode == 0, hist.stderr
    assert "Bit strings of length 20 and how many ones they have:" in hist.stdout
    assert hist.stdout.count("verdict: scored  score: 5") == 4

    out_json, out_csv = tmp_path / "e.json", tmp_path / "e.csv"
    assert opro("export", str(project), "-o", str(out_json)).returncode == 0
    exported = json.loads(out_json.read_text(encoding="utf-8"))
    assert exported["kind"] == "onemax" and len(exported["runs"][0]["steps"]) == 17
    assert opro("export", str(project), "--format", "csv", "-o", str(out_csv)).returncode == 0
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == 3 + 16 * 4
    last = [(r["status"], r["score"]) for r in rows if r["step"] == "16"]
    assert last == [("scored", "20.0")] + [("duplicate", "")] * 3  # one zero left to flip


def test_without_the_plugin_the_kind_is_one_clear_error(tmp_path: Path, onemax) -> None:
    project = tmp_path / "bits.opro"
    assert opro("new", "onemax", str(project)).returncode == 0
    shown = opro("show", str(project), plugins=False)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert shown.stderr == (
        "opro: error: bits.opro: unknown problem kind 'onemax'; expected one of tsp, linreg, "
        "prompt (a plugin may provide it: $OPRO_KIND_PLUGINS)\n"
    )


def test_a_broken_plugin_costs_only_its_own_kind(tmp_path: Path, onemax) -> None:
    project = tmp_path / "bits.opro"
    assert opro("new", "onemax", str(project)).returncode == 0
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)]),
        "OPRO_KIND_PLUGINS": "no_such_module_xyz,toy_kind:NOPE",
    }
    run = [sys.executable, "-m", "opro_gui"]
    helped = subprocess.run([*run, "new", "--help"], capture_output=True, text=True, env=env)
    assert helped.returncode == 0 and "{tsp,linreg,prompt}" in helped.stdout
    shown = subprocess.run([*run, "show", str(project)], capture_output=True, text=True, env=env)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert shown.stderr.startswith(
        "opro: error: bits.opro: unknown problem kind 'onemax'; expected one of tsp, linreg, "
        "prompt ($OPRO_KIND_PLUGINS failed: no_such_module_xyz: ModuleNotFoundError: No module "
        "named 'no_such_module_xyz'; toy_kind:NOPE: AttributeError: "
    )
