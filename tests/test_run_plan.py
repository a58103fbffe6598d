"""The one continue-or-new rule (services.plan) and the one status wording (services.status)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from opro_gui.core.models import RunSettings, StopCause, stop_cause_from_text
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.services.plan import PlanAction, decide
from opro_gui.services.status import (
    STOP_WORDING,
    is_user_stop,
    needs_attention,
    status_text,
    stop_message,
)

SIX = RunSettings(max_steps=6)


def latest(status: str, last_step: int = 3, reason: str = "", **extra: object) -> dict:
    return {"id": 1, "status": status, "status_reason": reason, "last_step": last_step,
            "settings": RunSettings(max_steps=4).to_dict(), "busy_pid": None, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("run", "settings", "kw", "action", "message"),
    [
        (None, SIX, {}, "new", "Starting run 2, up to step 6"),
        (latest("paused", 3, "paused by the user"), SIX, {}, "continue",
         "Continuing run 1 (paused by the user) after step 3, up to step 6"),
        (latest("cancelled", 3, "cancelled by the user"), SIX, {}, "continue",
         "Continuing run 1 (cancelled by the user) after step 3, up to step 6"),
        (latest("failed", 2, "KeyError: 'x'"), SIX, {}, "continue",
         "Continuing run 1 (failed: KeyError: 'x') after step 2, up to step 6"),
        (latest("interrupted", 3, "the process running it stopped"), SIX, {}, "continue",
         "Continuing run 1 (interrupted: the process running it stopped) after step 3, "
         "up to step 6"),
        (latest("created", -1), SIX, {}, "continue",
         "Continuing run 1 (not started) from the start, up to step 6"),
        (latest("completed", 4, "step budget of 4 used"), SIX, {}, "continue",
         "Continuing run 1 (completed: step budget of 4 used) after step 4, up to step 6"),
        (latest("completed", 4, "step budget of 4 used"), RunSettings(max_steps=4), {}, "new",
         "Run 1 already ended (completed: step budget of 4 used) after step 4: starting run 2, "
         "up to step 4"),
        (latest("target_reached", 3, "the optimum was found"), SIX, {}, "new",
         "Run 1 already ended (target reached: the optimum was found) after step 3: starting "
         "run 2, up to step 6"),
        (latest("no_improvement", 5, "no improvement for 2 steps"), SIX, {}, "new",
         "Run 1 already ended (no improvement for 2 steps) after step 5: "
         "starting run 2, up to step 6"),
        (latest("paused", 3), SIX, {"new_run": True}, "new",
         "New run asked for: starting run 2, up to step 6"),
        (latest("paused", 3), SIX, {"spec_changed": True}, "new",
         "The task changed since run 1 was made: starting run 2, up to step 6"),
        (latest("paused", 3), RunSettings(max_steps=6, temperature=0.5), {}, "continue",
         "Continuing run 1 (paused) after step 3, up to step 6; changed settings: "
         "temperature 1.0 → 0.5"),
    ],
)  # fmt: skip
def test_the_rule(
    run: dict | None, settings: RunSettings, kw: dict, action: str, message: str
) -> None:
    plan = decide(run, 2, settings, **kw)
    assert (plan.action, plan.message) == (action, message)
    assert plan.run_id == (1 if action == "continue" else 2)
    assert plan.after_step == (run["last_step"] if action == "continue" else -1)  # type: ignore[index]


def test_a_run_another_live_process_writes_is_refused() -> None:
    with pytest.raises(ProjectError, match="run 1 is being run by process 4242 on this computer"):
        decide(latest("running", 3, busy_pid=4242), 2, SIX)


def test_session_plans_and_carries_out(tmp_path: Path) -> None:
    from opro_gui.llm import EndpointConfig

    endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m")
    with ProjectSession.create(
        tmp_path / "p.opro", "tsp", {"points": [[0, 0], [1, 0], [0, 1]]}
    ) as s:
        first = s.plan_run(SIX)
        assert (first.action, first.run_id, first.message) == (
            "new",
            1,
            "Starting run 1, up to step 6",
        )
        assert s.start_planned(first, SIX, endpoint) == 1
        s.store.set_status(1, "paused", "paused by the user", StopCause.USER_PAUSE)
        again = s.plan_run(RunSettings(max_steps=8))
        assert (again.action, again.run_id) == (PlanAction.CONTINUE, 1)
        assert s.prepare_run(RunSettings(max_steps=8), endpoint) == 1
        assert s.run_settings(1).max_steps == 8  # continuing takes the settings given now
        s.store.set_status(1, "target_reached", "the optimum was found", StopCause.OPTIMUM)
        assert s.prepare_run(RunSettings(max_steps=8), endpoint) == 2
        assert s.run_ids() == [1, 2]


# -- wording -----------------------------------------------------------------------------------
def test_status_text_is_one_wording() -> None:
    assert status_text("completed", "step budget of 4 used") == "completed: step budget of 4 used"
    assert status_text("cancelled", "cancelled by the user") == "cancelled by the user"
    assert status_text("paused", "paused by the user") == "paused by the user"
    assert status_text("target_reached", "") == "target reached"
    assert status_text("created") == "not started"


def test_every_cause_has_wording_and_user_stops_need_no_attention() -> None:
    assert set(STOP_WORDING) == set(StopCause)
    assert [c for c in StopCause if is_user_stop(c)] == [
        StopCause.USER_PAUSE,
        StopCause.USER_CANCEL,
    ]
    assert [c for c in StopCause if needs_attention(c)] == [
        StopCause.BUDGET_TOKENS, StopCause.BUDGET_USD, StopCause.OPTIMIZER_FAILED,
        StopCause.SCORER_FAILED, StopCause.OPTIMIZER_UNPARSEABLE, StopCause.SCORER_ALL_ZERO,
        StopCause.DISK, StopCause.ERROR, StopCause.INTERRUPTED,
    ]  # fmt: skip
    assert stop_message(StopCause.DISK, "could not save step 3: disk full", 2) == (
        "could not save step 3: disk full\n\nEvery completed step is saved (last step 2). Check "
        "the disk space and the file's permissions, then continue the run (`opro run`, or Run)."
    )
    assert needs_attention("a-cause-from-a-newer-version") is not False  # unknown: an error


@pytest.mark.parametrize(
    ("status", "reason", "cause"),
    [
        ("paused", "token budget reached: 153 of 1 tokens used", StopCause.BUDGET_TOKENS),
        ("paused", "cost budget reached: $0.1 of $0.05", StopCause.BUDGET_USD),
        ("paused", "optimizer request failed: 401", StopCause.OPTIMIZER_FAILED),
        ("paused", "scorer requests failed for every candidate of step 2: x", StopCause.SCORER_FAILED),
        ("paused", "could not save step 4: disk full", StopCause.DISK),
        ("paused", "paused by the user", StopCause.USER_PAUSE),
        ("cancelled", "cancelled by the user", StopCause.USER_CANCEL),
        ("target_reached", "target score 0.9 reached", StopCause.TARGET),
        ("target_reached", "the optimum was found", StopCause.OPTIMUM),
        ("completed", "step budget of 3 used", StopCause.STEP_BUDGET),
        ("no_improvement", "no improvement for 2 steps", StopCause.PATIENCE),
        ("failed", "KeyError: 1", StopCause.ERROR),
        ("running", "", StopCause.NONE),
    ],
)  # fmt: skip
def test_causes_of_version_1_files(status: str, reason: str, cause: StopCause) -> None:
    assert stop_cause_from_text(status, reason) is cause


def test_an_interrupted_run_reads_the_same_in_show_and_the_summary(tmp_path: Path, capsys) -> None:
    from opro_gui.cli import main

    project = tmp_path / "s.opro"
    assert main(["new", "tsp", str(project), "--points", "6"]) == 0
    dead = 2**22 + 12345  # above the default pid_max: no such process
    with ProjectSession.open(project) as session:
        run_id = session.store.create_run({"max_steps": 3}, {"model": "m", "base_url": "u"}, None)
        session.store.set_status(
            run_id, "running", f"written by process {dead} on {socket.gethostname()}"
        )
        summary = session.run_summary(run_id)
    assert (summary.status, summary.stop_cause) == ("interrupted", "interrupted")
    assert summary.status_text == (
        "interrupted: the process running it stopped; `opro run` (or Run) continues it"
    )
    capsys.readouterr()
    assert main(["show", str(project)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("  run 1: interrupted, 0 steps")
    assert lines[4] == "    " + summary.status_text


def test_a_version_1_file_gets_its_stop_causes_and_read_only_opens_never_write(
    tmp_path: Path,
) -> None:
    import sqlite3

    from opro_gui.storage import ProjectStore
    from opro_gui.storage.schema import SCHEMA_VERSION

    path = tmp_path / "old.opro"
    with ProjectSession.create(path, "tsp", {"points": [[0, 0], [1, 0], [0, 1]]}) as s:
        for status, reason in [("paused", "cost budget reached: $1 of $1"), ("completed", "x")]:
            rid = s.store.create_run({"max_steps": 3}, {"model": "m", "base_url": "u"}, None)
            s.store.set_status(rid, status, reason)  # as version 1 wrote it: no cause
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE run DROP COLUMN stop_cause")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with ProjectStore.open(path, readonly=True) as store:
        assert [store.run(r).stop_cause for r in (1, 2)] == ["budget_usd", "step_budget"]
    assert path.read_bytes() == before  # upgraded in memory only
    with ProjectStore.open(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        stored = store.conn.execute("SELECT stop_cause FROM run ORDER BY id").fetchall()
    assert stored == [("budget_usd",), ("step_budget",)]
