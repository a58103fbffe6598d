"""Untrusted regex targets never hang scoring; one Ctrl-C ends a step waiting on a slow scorer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from opro_gui.problems.answers import is_correct
from opro_gui.problems.safe_regex import pattern_problem
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]
OPRO = [sys.executable, "-m", "opro_gui"]
EVIL = "(a+)+b"  # exponential for backtracking engines: 30 a's would take hours


def test_a_catastrophic_pattern_is_answered_at_once() -> None:
    assert is_correct("a" * 30, EVIL, mode="regex") is False
    assert is_correct("a" * 100_000 + "b", EVIL, mode="regex") is True
    assert is_correct("the answer is 42.", r"\b42\b", mode="regex") is True


def test_patterns_re2_cannot_run_are_named_and_never_match() -> None:
    assert "no backreferences" in pattern_problem(r"(a)\1")
    assert "no backreferences" in pattern_problem(r"a(?=b)")
    assert pattern_problem(r"\d+") == ""
    assert is_correct("aa", r"(a)\1", mode="regex") is False


def _dataset(tmp_path: Path, target: str) -> Path:
    data = tmp_path / "d.csv"
    rows = "".join(f'"q{i}","{target}"\n' for i in range(8))
    data.write_text("input,target\n" + rows, encoding="utf-8")
    return data


def test_opro_new_refuses_a_pattern_re2_cannot_run(tmp_path: Path) -> None:
    data = _dataset(tmp_path, r"(a)\1")
    out = tmp_path / "r.opro"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [*OPRO, "new", "prompt", str(out), "--dataset", str(data), "--task-type", "regex"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("opro: error: the target of example 1 is not a usable pattern")
    assert len(proc.stderr.splitlines()) == 1 and not out.exists()


def _regex_project(tmp_path: Path, env: dict[str, str]) -> Path:
    out = tmp_path / "r.opro"
    data = _dataset(tmp_path, EVIL)
    cmd = [*OPRO, "new", "prompt", str(out), "--dataset", str(data), "--task-type", "regex"]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return out


def test_a_regex_project_scores_a_hostile_answer_and_finishes(tmp_path: Path, fake_server) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = _regex_project(tmp_path, env)

    def answer(prompt: str, body: dict[str, Any]) -> str:
        return "<INS>Answer.</INS>" if body["model"] == "opt" else "a" * 30

    with fake_server(answer) as srv:
        cmd = [*OPRO, "run", str(project), "--steps", "1", "--base-url", srv.base_url,
               "--optimizer-model", "opt", "--scorer-model", "sc", "--no-model-check", "--samples", "1"]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "step 1/1  best 0.0%" in proc.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT])
def test_one_ctrl_c_ends_a_step_waiting_on_a_slow_scorer(
    tmp_path: Path, fake_server, sig: int
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    project = _regex_project(tmp_path, env)
    arrived, release = threading.Event(), threading.Event()

    def answer(prompt: str, body: dict[str, Any]) -> str:
        if body["model"] == "opt":
            return "<INS>Answer.</INS>"
        arrived.set()
        release.wait(120)  # a scorer that takes minutes
        return "a" * 30

    with fake_server(answer) as srv:
        cmd = [*OPRO, "run", str(project), "--steps", "3", "--base-url", srv.base_url,
               "--optimizer-model", "opt", "--scorer-model", "sc", "--no-model-check", "--timeout", "600"]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)  # fmt: skip
        try:
            assert arrived.wait(120), "the scorer was never asked"
            proc.send_signal(sig)  # once
            out, err = proc.communicate(timeout=60)  # a hang guard, not a timing assertion
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled by the user" in out and "Traceback" not in err
    with ProjectStore.open(project) as store:
        assert store.run(1).status == "cancelled"


def test_evaluate_on_a_shared_regex_project_neither_hangs_nor_crashes(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shared regex-mode project: `opro evaluate` scores 30 `a`s against `(a+)+b` and ends;
    the same file edited by hand to a pattern RE2 cannot run is refused with one line."""
    import sqlite3

    from opro_gui.cli import main

    data = tmp_path / "d.csv"
    data.write_text("input,target\n" + "".join(f'"q{i}","{EVIL}"\n' for i in range(10)), "utf-8")
    project = tmp_path / "r.opro"
    assert (
        main(["new", "prompt", str(project), "--dataset", str(data), "--task-type", "regex"]) == 0
    )

    def answer(prompt: str, body: dict[str, Any]) -> str:
        return "<INS>Answer.</INS>" if body["model"] == "opt" else "a" * 30

    srv = fake_server(answer).start()
    run = ["run", str(project), "--steps", "1", "--samples", "1", "--base-url", srv.base_url,
           "--optimizer-model", "opt", "--scorer-model", "sc", "--no-model-check"]  # fmt: skip
    assert main(run) == 0
    capsys.readouterr()
    evaluate = ["evaluate", str(project), "--base-url", srv.base_url, "--scorer-model", "sc",
                "--no-model-check"]  # fmt: skip
    assert main(evaluate) == 0
    capsys.readouterr()
    with ProjectStore.open(project, readonly=True) as store:
        scored = store.evaluations(1)
    assert scored and all((e.score, e.complete) == (0.0, True) for e in scored)  # none matched

    conn = sqlite3.connect(project)
    conn.execute("UPDATE example SET target = ?", (r"(a)\1",))  # a backreference
    conn.commit()
    conn.close()
    assert main(evaluate) == 2
    err = capsys.readouterr().err
    assert err.startswith("opro: error: ") and err.count("\n") == 1, err
    assert "not a usable pattern" in err
