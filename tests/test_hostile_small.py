"""Issue 12's smaller breaks: busy vs damaged, a live writer, cache vs spend, odd keys, errors."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer

from opro_gui.cli import main
from opro_gui.core.models import CallRecord, RunSettings
from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig
from opro_gui.llm.openai_compat import OpenAICompatClient
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectCache, ProjectError, ProjectStore, busy

URL = "http://127.0.0.1:9/v1"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.opro"
    ProjectStore.create(path, "tsp", TSPProblem.generate(6, 0).to_spec()).close()
    return path


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process of this machine that is alive (another `opro run`, as far as a mark says)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)  # fmt: skip
    yield proc.pid
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_locked_project_is_busy_not_damaged(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(busy, "WAIT_S", 0.1)
    holder = sqlite3.connect(project, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    try:
        with pytest.raises(ProjectError) as err:
            ProjectStore.open(project).close()
        assert str(err.value).startswith("p.opro is busy: another program")
        assert "damaged" not in str(err.value)
        assert main(["show", str(project)]) == 2
        assert "p.opro is busy" in capsys.readouterr().err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ProjectStore.open(project).close()  # and once released it opens


def test_a_busy_message_names_the_writer(project: Path, live_pid: int) -> None:
    with ProjectSession.open(project) as s:
        run_id = s.prepare_run(RunSettings(max_steps=2), EndpointConfig(URL, "m"))
        mark = f"written by process {live_pid} on {socket.gethostname()}"
        s.store.set_status(run_id, "running", mark)
        err = busy.busy_error(project, s.store.conn)
    assert str(err) == (
        f"p.opro is busy: run 1 (process {live_pid} on {socket.gethostname()}) is writing it; "
        "try again once it has finished"
    )


def test_a_second_run_leaves_a_live_writers_run_alone(project: Path, live_pid: int) -> None:
    mark = f"written by process {live_pid} on {socket.gethostname()}"
    with ProjectSession.open(project) as s:
        run_id = s.prepare_run(RunSettings(max_steps=2), EndpointConfig(URL, "m"))
        s.store.set_status(run_id, "running", mark)
    with ProjectSession.open(project) as s, pytest.raises(ProjectError) as err:
        s.prepare_run(RunSettings(max_steps=3), EndpointConfig(URL, "m"))
    assert f"run 1 is being run by process {live_pid} on this computer" in str(err.value)
    with ProjectStore.open(project) as store:
        run = store.run(1)
        assert (run.status, run.status_reason, run.settings.max_steps) == (
            "running",
            mark,
            2,
        )


def test_a_dead_writers_run_is_continued(project: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    with ProjectSession.open(project) as s:
        run_id = s.prepare_run(RunSettings(max_steps=2), EndpointConfig(URL, "m"))
        mark = f"written by process {int(gone.stdout)} on {socket.gethostname()}"
        s.store.set_status(run_id, "running", mark)
        assert s.prepare_run(RunSettings(max_steps=3), EndpointConfig(URL, "m")) == run_id


def test_cached_answers_are_kept_only_with_the_calls_that_paid_for_them(project: Path) -> None:
    store = ProjectStore.open(project)
    cache = ProjectCache(store)
    cache.put("k1", "answer")
    assert cache.get("k1") == "answer"  # usable at once by this process
    store.close()  # killed before the step / evaluation was written
    with ProjectStore.open(project) as store:
        assert ProjectCache(store).get("k1") is None  # so nobody gets it for free later
        run_id = store.create_run(
            RunSettings().to_dict(), EndpointConfig(URL, "m").to_public_dict(), None
        )
        cache = ProjectCache(store)
        cache.put("k2", "answer")
        endpoint = EndpointConfig(URL, "m").to_public_dict()
        store.add_replay(run_id, 0, endpoint, "p", ("answer",), (), (CallRecord("replay", "m"),))
    with ProjectStore.open(project) as store:
        assert ProjectCache(store).get("k2") == "answer"


def test_a_key_no_header_can_carry_is_reported_and_never_sent(
    fake_server: type[FakeOpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = fake_server().start()
    monkeypatch.setenv("OPRO_TEST_KEY", "sk-abc\u2013def")  # an en dash pasted from a web page
    cfg = EndpointConfig(srv.base_url, "m", api_key_env="OPRO_TEST_KEY", max_retries=3)
    with OpenAICompatClient(cfg) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert res.error == (
        "the API key from $OPRO_TEST_KEY contains the character U+2013, which an HTTP header "
        "cannot carry (a typographic dash or quote pasted with it?); set it again"
    )
    assert srv.stats.requests == 0 and res.call.retries == 0


def test_a_not_null_failure_is_not_blamed_on_another_window(project: Path) -> None:
    err = busy.integrity_error(project, sqlite3.IntegrityError("NOT NULL constraint failed: x.y"))
    assert "another" not in str(err) and "refused a value (NOT NULL constraint failed" in str(err)
    dup = busy.integrity_error(project, sqlite3.IntegrityError("UNIQUE constraint failed: step"))
    assert "another OPRO Studio window or `opro run` is writing" in str(dup)


def test_stored_settings_out_of_range_fall_back_to_defaults(project: Path) -> None:
    import json

    with ProjectSession.open(project) as s:
        run_id = s.prepare_run(RunSettings(max_steps=2), EndpointConfig(URL, "m"))
    bad = {"max_steps": 2, "temperature": 3.0, "samples_per_step": 5000, "rpm": -1, "seed": 7}
    conn = sqlite3.connect(project)
    with conn:
        conn.execute("UPDATE run SET settings = ? WHERE id = ?", (json.dumps(bad), run_id))
    conn.close()
    with ProjectSession.open(project, readonly=True) as s:
        got = s.run_settings(run_id)
    assert (got.max_steps, got.temperature, got.samples_per_step, got.seed) == (2, 1.0, 8, 7)
