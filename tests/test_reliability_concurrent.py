"""Two `opro run` processes on the same run at once (the GUI and a terminal, say): the file
stays consistent, no step is stored twice, and the loser stops with a reason."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from test_reliability_faults import random_tours

from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]


def test_two_writers_on_one_run_never_duplicate_a_step(tmp_path: Path, fake_server) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = tmp_path / "two.opro"
    opro = [sys.executable, "-m", "opro_gui"]
    subprocess.run([*opro, "new", "tsp", str(project), "--points", "12"], check=True, env=env)
    with fake_server(random_tours, latency=0.01) as srv:
        run = [*opro, "run", str(project), "--steps", "15", "--samples", "2", "--base-url",
               srv.base_url]  # fmt: skip
        subprocess.run([*run[:-4], "--steps", "1", *run[-4:]], check=True, env=env,
                       capture_output=True)  # fmt: skip
        procs = [subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env) for _ in range(2)]  # fmt: skip
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    errors = "".join(err for _, _, err in results)
    assert "Traceback" not in errors
    assert codes[0] == 0 or "already" in errors, results
    if codes[1] != 0:  # the loser says why, in one line: refused at the start (2), or stopped
        assert codes[1] in (1, 2), errors  # when its first step collided (1)
        assert "another" in errors or "is being run by process" in errors, errors
    with ProjectStore.open(project) as store:
        assert store.integrity_ok()
        steps = [s.step for s in store.steps(1)]
        assert steps == list(range(16))
        keys = [(c.step, c.index) for c in store.candidates(1)]
        assert len(keys) == len(set(keys))


def test_reading_while_a_run_writes_always_sees_whole_steps(tmp_path: Path, fake_server) -> None:
    """The GUI (or `opro show`) reads the file while `opro run` commits steps to it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = tmp_path / "rw.opro"
    opro = [sys.executable, "-m", "opro_gui"]
    subprocess.run([*opro, "new", "tsp", str(project), "--points", "12"], check=True, env=env)
    with fake_server(random_tours, latency=0.005) as srv:
        proc = subprocess.Popen([*opro, "run", str(project), "--steps", "25", "--base-url",
                                 srv.base_url], stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # read after each committed step, while the next is written
            if not line.startswith("step "):
                continue
            with ProjectSession.open(project, readonly=True) as session:
                run = session.summary().runs[0]
                steps = session.store.steps(1)
                for s in steps[1:]:
                    assert len(session.step_detail(1, s.step).completions) == 8
            assert [s.step for s in steps] == list(range(len(steps)))
            seen.append(run.steps_completed)
        assert proc.wait(timeout=120) == 0
    assert seen == sorted(seen) and seen[-1] == 25 and len(seen) == 26


def test_a_run_starts_while_another_connection_is_mid_write(tmp_path: Path) -> None:
    """A sweep's runs share one file: one run's session may start (switch the file to WAL) while
    another connection, the file in rollback mode, is in the middle of a write. SQLite refuses
    the switch at once ("locked", without waiting as a write would); the start must wait for
    the writer instead of failing with "busy". Seen as a flaky `opro sweep` in the suite."""
    project = tmp_path / "p.opro"
    ProjectSession.create(project, "tsp", TSPProblem.generate(6, seed=1).to_spec()).close()
    holder = sqlite3.connect(project, isolation_level=None)
    assert holder.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    holder.execute("BEGIN")
    holder.execute("UPDATE project SET updated_at = updated_at")  # a write in progress
    tries: list[str] = []

    def traced(sql: str) -> None:
        if sql.upper().startswith("PRAGMA JOURNAL_MODE = WAL"):
            tries.append(sql)
            if len(tries) == 2:  # refused once: now the other writer commits
                holder.execute("COMMIT")

    with ProjectStore.open(project) as store:
        store.conn.set_trace_callback(traced)
        store.enable_wal()
        store.conn.set_trace_callback(None)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    holder.close()
    assert len(tries) >= 2  # the first try was refused, as SQLite does
