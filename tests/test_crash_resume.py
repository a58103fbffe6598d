"""SIGKILL mid-step, then run again: the run continues from its last completed step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from scripted_models import two_opt_optimizer

from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]


def _opro(*args: str) -> list[str]:
    return [sys.executable, "-m", "opro_gui", *args]


def test_sigkill_mid_step_then_resume_has_no_gap_or_duplicate(tmp_path, fake_server) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = tmp_path / "k.opro"
    subprocess.run(
        _opro("new", "tsp", str(project), "--points", "12", "--seed", "7"),
        check=True,
        env=env,
        capture_output=True,
    )

    def slow_random(prompt: str, body: dict) -> str:
        return two_opt_optimizer(prompt, body)

    with fake_server(slow_random, latency=0.05) as srv:
        run = _opro(
            "run", str(project), "--steps", "8", "--samples", "2", "--base-url", srv.base_url
        )
        proc = subprocess.Popen(
            run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("step 2/"):
                break
        # The process is now inside step 3, waiting on the server: kill it without warning.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL

        shown = subprocess.run(
            _opro("show", str(project), "--json"),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        (run_info,) = json.loads(shown.stdout)["runs"]
        assert run_info["status"] == "interrupted", run_info  # not "running": its process is gone
        assert "continues it" in run_info["status_reason"]

        with ProjectStore.open(project) as store:
            assert store.integrity_ok()
            done = store.last_step(1)
            assert done >= 2
            rows_before = store.candidates(1)

        again = subprocess.run(run, capture_output=True, text=True, env=env)
        assert again.returncode == 0, again.stderr
        assert f"continuing after step {done}" in again.stdout

    with ProjectStore.open(project) as store:
        steps = [s.step for s in store.steps(1)]
        final = store.last_step(1)
        assert steps == list(range(final + 1))
        cands = store.candidates(1)
        assert len({(c.step, c.index) for c in cands}) == len(cands)
        # What was on disk before the kill is unchanged.
        assert [c for c in cands if c.step <= done] == rows_before
        assert store.integrity_ok()
