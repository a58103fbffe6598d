"""SIGKILL during `opro evaluate`, an export and a Save As (issue 12 item 11): no cached answer
outlives the unrecorded calls that paid for it, and part files are swept on the next start."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opro_gui.cli import main

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
OPRO = [sys.executable, "-m", "opro_gui"]


def _counts(path: Path) -> tuple[int, int]:
    """(cached answers, recorded calls) in the file."""
    conn = sqlite3.connect(path)
    try:
        cached = conn.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]
        calls = conn.execute("SELECT COUNT(*) FROM llm_call WHERE cached = 0").fetchone()[0]
    finally:
        conn.close()
    return int(cached), int(calls)


def _answer(prompt: str, body: dict[str, Any]) -> str:
    if float(body.get("temperature") or 0) > 0:
        return "<INS>Say yes.</INS>"
    return "yes"


@pytest.fixture
def prompt_project(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    data = tmp_path / "d.csv"
    data.write_text("input,target\n" + "".join(f"q{i},yes\n" for i in range(20)), "utf-8")
    path = tmp_path / "p.opro"
    assert main(["new", "prompt", str(path), "--dataset", str(data)]) == 0
    srv = fake_server(_answer).start()
    run = ["run", str(path), "--steps", "1", "--samples", "1", "--base-url", srv.base_url]
    assert main([*run, "--no-model-check"]) == 0
    capsys.readouterr()
    return path, srv.base_url


# The child is killed right after the scorer's third answer went into the response cache,
# before the evaluation (and the calls that paid for those answers) is written.
KILL_AFTER_THREE_ANSWERS = (
    "import os, sys\n"
    "from opro_gui.storage import extras\n"
    "real, kept = extras.ProjectCache.put, []\n"
    "def put(self, key, value):\n"
    "    real(self, key, value)\n"
    "    kept.append(key)\n"
    "    if len(kept) == 3:\n"
    "        os.kill(os.getpid(), 9)\n"
    "extras.ProjectCache.put = put\n"
    "from opro_gui.cli import main\n"
    "main(sys.argv[1:])\n"
)


def test_sigkill_during_evaluate_leaves_no_answer_that_was_not_paid_for(
    prompt_project: tuple[Path, str], fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path, base_url = prompt_project
    before = _counts(path)
    cmd = [sys.executable, "-c", KILL_AFTER_THREE_ANSWERS, "evaluate", str(path),
           "--base-url", base_url, "--no-model-check"]  # fmt: skip
    proc = subprocess.run(cmd, env=ENV, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _counts(path) == before  # the cached answers died with the unrecorded calls

    paid = fake_server(_answer).start()
    assert main(["evaluate", str(path), "--base-url", paid.base_url, "--no-model-check"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    cached, calls = _counts(path)
    # Every answer the evaluation used was asked again and recorded: none came free from cache.
    assert paid.stats.requests == calls - before[1] > 0
    assert cached - before[0] == paid.stats.requests


# The child process is killed at a chosen point of its own work: just before the part file is
# renamed into place (Save As), or while the CSV export is writing its rows.
KILL_BEFORE_RENAME = (
    "import os, pathlib, sys\n"
    "pathlib.Path.replace = lambda self, target: os.kill(os.getpid(), 9)\n"
    "from opro_gui.services import ProjectSession\n"
    "with ProjectSession.open(sys.argv[1]) as s:\n"
    "    s.save_as(sys.argv[2])\n"
)
KILL_WHILE_WRITING_ROWS = (
    "import os, sys\n"
    "import opro_gui.services.export as e\n"
    "e.safe_cells = lambda *cells: os.kill(os.getpid(), 9)\n"
    "from opro_gui.services import ProjectSession\n"
    "with ProjectSession.open(sys.argv[1]) as s:\n"
    "    s.export(sys.argv[2], 'csv')\n"
)


@pytest.mark.parametrize(
    ("script", "target"),
    [(KILL_BEFORE_RENAME, "copy.opro"), (KILL_WHILE_WRITING_ROWS, "e.csv")],
    ids=["save-as", "export"],
)
def test_sigkill_during_save_as_or_export_is_swept_on_the_next_start(
    prompt_project: tuple[Path, str], script: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = prompt_project
    folder = path.parent
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path), str(folder / target)],
        env=ENV, capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = sorted(p.name for p in folder.iterdir() if ".opro-part" in p.name)
    assert left and all(n.startswith(f"{target}.") for n in left), left
    assert not (folder / target).exists()
    assert main(["show", str(path)]) == 0  # the next start, in that folder
    assert not [p for p in folder.iterdir() if ".opro-part" in p.name]
