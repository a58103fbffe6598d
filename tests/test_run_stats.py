"""Run aggregates kept with each step (schema 3): equal to what the rows say, read without
touching candidates or calls, and back-filled when an older file is upgraded."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from test_fuzz_project_files import _tour
from toy_problem import ScriptedClient

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems import make_problem
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore, schema


def _pair(prompt: str, i: int) -> str:
    return f"[w, b] = [{(len(prompt) + 3 * i) % 20}, {i}]" if i % 4 else "nothing"


def build(path: Path, kind: str, steps: int = 5) -> Path:
    """A run of ``steps`` steps, a fork of it continued for two more, a replay."""
    spec = (
        TSPProblem.generate(7, seed=1).to_spec()
        if kind == "tsp"
        else make_problem("linreg", {"w_true": 3, "b_true": 5, "seed": 2}).to_spec()
    )
    answer = _tour if kind == "tsp" else _pair
    with ProjectSession.create(path, kind, spec) as s:
        endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m")
        settings = RunSettings(max_steps=steps, samples_per_step=4, stop_at_optimum=False, seed=3)
        rid = s.prepare_run(settings, endpoint)
        for _ in s.engine(rid, optimizer=ScriptedClient(answer)).events():
            pass
        s.replay(rid, 1, client=ScriptedClient(answer))
        fork = s.fork(rid, 2, replace(settings, max_steps=steps + 2))
        for _ in s.engine(fork, optimizer=ScriptedClient(lambda p, i: answer(p + "x", i))).events():
            pass
    return path


@pytest.mark.parametrize("kind", ["tsp", "linreg"])
def test_aggregates_equal_a_recount_of_the_rows(tmp_path: Path, kind: str) -> None:
    path = build(tmp_path / "p.opro", kind)
    with ProjectSession.open(path, readonly=True) as s:
        for run_id in s.run_ids():
            kept = s.store.run_stats(run_id)
            recount = s.store._computed_stats(run_id)
            budget = s.store.scored_per_step(run_id)
            assert list(recount.scored_per_step) == budget
            assert replace(kept, random_search=None, random_search_state=None) == replace(
                recount, scored_per_step=()
            )
            curve = s.problem(run_id).random_search_curve(budget, 3)  # type: ignore[attr-defined]
            assert kept.random_search == curve[-1]  # computed step by step at write time
            assert s.random_search_curve(run_id) == curve
            assert s.store.random_search_values(run_id) == curve  # every step has its value


def test_a_summary_reads_no_candidate_and_no_call(tmp_path: Path) -> None:
    path = build(tmp_path / "p.opro", "tsp")
    with ProjectSession.open(path, readonly=True) as s:
        s.problem(1)
        statements: list[str] = []
        s.store.conn.set_trace_callback(statements.append)
        summary = s.run_summary(2)
        curve = s.random_search_curve(2)
        s.store.conn.set_trace_callback(None)
    assert summary.steps_completed == 7 and len(curve) == 7
    assert statements and not [q for q in statements if "FROM candidate" in q]
    assert not [q for q in statements if "FROM llm_call" in q]


def make_version_1(path: Path) -> None:
    """The file as version 1 wrote it: no aggregate tables, no stop_cause column."""
    conn = sqlite3.connect(path)
    for table in ("run_stats", "step_stats", "role_stats", "model_pair"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE run DROP COLUMN stop_cause")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def show(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["show", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_version_1_file_upgrades_with_its_aggregates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build(tmp_path / "old.opro", "tsp")
    expected = show(path, capsys)
    make_version_1(path)
    before = path.read_bytes()
    assert show(path, capsys) == expected  # read-only: upgraded in memory, file untouched
    assert path.read_bytes() == before
    with ProjectStore.open(path) as store:  # writable: upgraded in place, aggregates filled
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        for run_id in store.run_ids():
            kept = store.run_stats(run_id)
            assert kept.random_search is None  # filled in by the run's next step
            recount = replace(store._computed_stats(run_id), scored_per_step=())
            assert replace(kept, random_search_state=None) == recount
    assert show(path, capsys) == expected
    code = main(["run", str(path), "--steps", "9", "--base-url", "http://127.0.0.1:9/v1",
                 "--max-retries", "0"])  # fmt: skip
    capsys.readouterr()
    assert code != 0  # nothing answers on port 9: the run pauses, the file stays whole
    after = show(path, capsys)["runs"]
    assert after[0] == expected["runs"][0]
    changed = {"status", "status_reason", "status_text", "stop_cause", "max_steps"}
    assert {k: v for k, v in after[1].items() if k not in changed} == {
        k: v for k, v in expected["runs"][1].items() if k not in changed
    }
    with ProjectStore.open(path, readonly=True) as store:
        assert store.run_stats(2) == store.run_stats(2)  # readable; the stats row is whole
