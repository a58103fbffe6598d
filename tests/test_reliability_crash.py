"""SIGKILL trials of `opro run` (bench/crash_trials.py) as a slow test: every trial passes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from toy_problem import ScriptedClient

from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import crash_trials  # noqa: E402


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    results = crash_trials.run_trials(
        6, seed=11, workdir=tmp_path, echo=False, kinds=("tsp", "prompt")
    )
    info = crash_trials.summary(results)
    print("\n" + "\n".join(t.line() for t in results) + f"\n{info}")
    assert info["failed"] == 0, [t.line() for t in results if not t.ok]
    assert info["killed_mid_run"] >= 4  # the kills really landed inside runs
    assert any(t.on_disk >= 5 for t in results)  # and some after several committed steps


def test_trial_checker_detects_a_gap(tmp_path: Path) -> None:
    """The checker the trials rely on fails on a file with a missing step."""
    path = tmp_path / "g.opro"
    with ProjectSession.create(path, "tsp", TSPProblem.generate(14, 0).to_spec()) as s:
        run_id = s.prepare_run(
            RunSettings(max_steps=3, samples_per_step=crash_trials.SAMPLES),
            EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m"),
        )
        answer = crash_trials.random_tour_optimizer
        client = ScriptedClient(lambda prompt, i: answer(prompt, {}))
        for _ in s.engine(run_id, optimizer=client).events():
            pass
    problems: list[str] = []
    assert crash_trials.check_file(path, problems) == 3 and problems == []
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM step WHERE step = 2")
    conn.close()
    crash_trials.check_file(path, problems)
    assert problems and "not contiguous" in problems[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_polite_stop_mid_run_records_cancelled_and_resumes(
    tmp_path: Path, fake_server, sig
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = tmp_path / "s.opro"
    opro = [sys.executable, "-m", "opro_gui"]
    subprocess.run([*opro, "new", "tsp", str(project), "--points", "14"], check=True, env=env)
    with fake_server(crash_trials.random_tour_optimizer, latency=0.02) as srv:
        run = [*opro, "run", str(project), "--steps", "40", "--base-url", srv.base_url]
        proc = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("step 3/"):
                proc.send_signal(sig)
                break
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "run 1 cancelled by the user" in out and "Traceback" not in err
        with ProjectStore.open(project) as store:
            assert store.run(1).status == "cancelled"
            done = store.last_step(1)
            assert [s.step for s in store.steps(1)] == list(range(done + 1)) and done >= 3
        again = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0 and f"continuing after step {done}," in again.stdout
    with ProjectStore.open(project) as store:
        assert [s.step for s in store.steps(1)] == list(range(41))
