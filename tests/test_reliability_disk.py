"""Disk trouble: a full disk or a file-size limit mid-run pauses the run with the reason and
corrupts nothing; a read-only location gives a clear message and leaves the file untouched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_reliability_faults import random_tours

from opro_gui.cli import main
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]


def opro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def steps_of(project: Path) -> list[int]:
    with ProjectStore.open(project, readonly=True) as store:
        assert store.integrity_ok()
        return [s.step for s in store.steps(1)]


def _sudo(*cmd: str) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs of our own (needs mount rights; skipped without them)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or not _sudo("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)):
        pytest.skip("cannot mount a small tmpfs here")
    yield where
    _sudo("umount", "-l", str(where))


def fill(folder: Path, leave_bytes: int) -> Path:
    """Fill the file system holding ``folder`` until ``leave_bytes`` remain free."""
    st = os.statvfs(folder)
    filler = folder / "filler.bin"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave_bytes))
    return filler


def test_disk_full_mid_run_pauses_with_reason_and_resumes(
    small_disk: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_disk / "full.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "25", "--seed", "1")[0] == 0
    filler = fill(small_disk, 192 * 1024)  # each step also updates its run's aggregates
    with fake_server(random_tours) as srv:
        url = ["--base-url", srv.base_url]
        code, out, err = opro(capsys, "run", str(project), "--steps", "60", "--samples", "8", *url)
        assert code == 1, out
        assert "paused: could not save step" in out and "disk is full" in err
        done = steps_of(project)
        assert done == list(range(len(done))) and len(done) >= 2  # some steps, then the wall
        filler.unlink()  # the user frees space and carries on
        code, out, err = opro(capsys, "run", str(project), "--steps", "60", *url)
    assert code == 0, err
    assert f"continuing after step {done[-1]}," in out
    assert steps_of(project) == list(range(61))


def test_file_size_limit_mid_run_pauses_and_nothing_is_corrupted(
    tmp_path: Path, fake_server
) -> None:
    """`ulimit -f` (RLIMIT_FSIZE, SIGXFSZ ignored) in a real `opro run` process: writes fail
    with EFBIG part-way through, exactly like a quota running out."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    project = tmp_path / "quota.opro"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "opro_gui",
            "new",
            "tsp",
            str(project),
            "--points",
            "25",
            "--seed",
            "2",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    limit_kb = project.stat().st_size // 1024 + 48
    with fake_server(random_tours) as srv:
        run = f"{sys.executable} -m opro_gui run {project} --steps 25 --base-url {srv.base_url}"
        proc = subprocess.run(
            ["bash", "-c", f"trap '' XFSZ; ulimit -f {limit_kb}; exec {run}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "paused: could not save step" in proc.stdout, proc.stdout
        assert "Traceback" not in proc.stderr
        done = steps_of(project)
        assert done == list(range(len(done))) and len(done) >= 2
        again = subprocess.run(run.split(), capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"continuing after step {done[-1]}," in again.stdout
    assert steps_of(project) == list(range(26))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only_location_clear_message_and_file_untouched(
    small_disk: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_disk / "ro.opro"
    with fake_server(random_tours) as srv:
        url = ["--base-url", srv.base_url]
        assert opro(capsys, "new", "tsp", str(project), "--points", "9")[0] == 0
        assert opro(capsys, "run", str(project), "--steps", "2", *url)[0] == 0
        before = _digest(project)
        assert _sudo("mount", "-o", "remount,ro", str(small_disk))
        try:
            code, out, err = opro(capsys, "run", str(project), "--steps", "5", *url)
            assert code == 2 and err.startswith("opro: error: ") and err.count("\n") == 1
            assert "cannot write to" in err and "readonly" in err.replace("read-only", "readonly")
            # Reading still works: show, history and an export to a writable place.
            assert opro(capsys, "show", str(project))[0] == 0
            assert opro(capsys, "history", str(project), "--step", "1")[0] == 0
            code, _, err = opro(capsys, "export", str(project), "-o", str(small_disk / "x.json"))
            assert code == 2 and "cannot write" in err and err.count("\n") == 1
        finally:
            assert _sudo("mount", "-o", "remount,rw", str(small_disk))
    assert _digest(project) == before
    assert not Path(f"{project}-wal").exists()
    assert steps_of(project) == [0, 1, 2]


def test_immutable_file_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """chattr +i: even root cannot write; SQLite silently opens such files read-only."""
    project = tmp_path / "i.opro"
    opro(capsys, "new", "tsp", str(project), "--points", "6")
    if not _sudo("chattr", "+i", str(project)):
        pytest.skip("chattr +i not supported here")
    try:
        code, _, err = opro(
            capsys, "run", str(project), "--steps", "2", "--base-url", "http://127.0.0.1:9/v1"
        )
        assert code == 2 and "cannot write to" in err and err.count("\n") == 1
    finally:
        _sudo("chattr", "-i", str(project))
    conn = sqlite3.connect(project)
    assert conn.execute("SELECT COUNT(*) FROM run").fetchone()[0] == 0
    conn.close()


def test_crashed_wal_mode_project_on_read_only_media_still_opens(
    small_disk: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed mid-way leaves the file in WAL mode; copied without its -wal/-shm onto a
    read-only share, it must still show and export (it used to say "damaged")."""
    project = small_disk / "wal.opro"
    with fake_server(random_tours) as srv:
        opro(capsys, "new", "tsp", str(project), "--points", "8")
        assert opro(capsys, "run", str(project), "--steps", "2", "--base-url", srv.base_url)[0] == 0
    conn = sqlite3.connect(project)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"  # persists in file
    conn.close()
    assert not Path(f"{project}-wal").exists() and not Path(f"{project}-shm").exists()
    assert _sudo("mount", "-o", "remount,ro", str(small_disk))
    try:
        code, out, err = opro(capsys, "show", str(project), "--json")
        assert code == 0, err
        assert '"steps_completed": 2' in out
        assert opro(capsys, "export", str(project), "-o", str(small_disk.parent / "w.json"))[0] == 0
    finally:
        assert _sudo("mount", "-o", "remount,rw", str(small_disk))


def test_full_disk_new_export_and_save_as_leave_no_partial_files(
    small_disk: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_disk / "p.opro"
    with fake_server(random_tours) as srv:
        opro(capsys, "new", "tsp", str(project), "--points", "30")
        assert (
            opro(capsys, "run", str(project), "--steps", "15", "--base-url", srv.base_url)[0] == 0
        )
    filler = fill(small_disk, 16 * 1024)
    before = {p.name for p in small_disk.iterdir()}
    code, _, err = opro(capsys, "new", "tsp", str(small_disk / "n.opro"), "--points", "200")
    assert code == 2 and "disk is full" in err.replace("No space left on device", "disk is full")
    for fmt in ("json", "csv"):
        code, _, err = opro(capsys, "export", str(project), "--format", fmt, "-o",
                            str(small_disk / f"e.{fmt}"))  # fmt: skip
        assert code == 2 and "cannot write" in err and err.count("\n") == 1
    with ProjectSession.open(project) as session, pytest.raises(ProjectError, match="cannot save"):
        session.save_as(small_disk / "copy.opro")
    assert {p.name for p in small_disk.iterdir()} == before  # nothing half-made
    filler.unlink()
    assert opro(capsys, "export", str(project), "-o", str(small_disk / "e.json"))[0] == 0
    assert steps_of(project) == list(range(16))
