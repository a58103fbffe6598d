"""SIGKILL trials of `opro run` (bench/crash_trials.py) as a slow test: every trial passes."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from toy_problem import ScriptedClient

from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import crash_trials  # noqa: E402


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    results = crash_trials.run_trials(6, seed=11, workdir=tmp_path, echo=False)
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
