"""Part files an earlier version left behind (``NAME.part``, which does not say whose it is):
removed on the next open of, or export into, their folder — only when OPRO Studio wrote them,
they have not changed for an hour and no process has them open — with one line saying so."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from opro_gui.cli import main
from opro_gui.storage import ProjectStore, leftovers, schema

HOURS = 3600.0


def _aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _export_part(path: Path, csv: bool = False, age: float = 2 * HOURS) -> Path:
    head = "run_id,step,score\n1,0,0.5\n" if csv else '{\n "format": "opro-studio-export",\n'
    path.write_text(head, encoding="utf-8")
    return _aged(path, age)


def _save_as_part(path: Path, age: float = 2 * HOURS) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    Path(f"{path}-journal").write_bytes(b"\0" * 512)
    return _aged(path, age)


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "p.opro"
    assert main(["new", "tsp", str(path), "--points", "6"]) == 0
    capsys.readouterr()
    return path


def test_old_part_files_of_ours_are_removed_on_the_next_export_into_the_folder(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = project.parent
    gone = [_export_part(folder / "e.json.part"), _export_part(folder / "e.csv.part", csv=True)]
    fresh = _export_part(folder / "now.json.part", age=60)  # an old version may be writing it
    firefox = folder / "film.mkv.part"  # not ours: never touched
    firefox.write_bytes(b"\x1aE\xdf\xa3 half a download")
    _aged(firefox, 2 * HOURS)
    held = _export_part(folder / "held.json.part")
    with held.open("rb"):  # a process (this one) has it open
        assert main(["export", str(project), "--format", "json", "-o", str(folder / "x.json")]) == 0
    said = [r.getMessage() for r in caplog.records if r.name == leftovers.__name__]
    assert sorted(said) == sorted(
        f"removed {p}, left by an export or Save As that did not finish" for p in gone
    )
    assert not any(p.exists() for p in gone)
    assert fresh.exists() and firefox.exists() and held.exists()
    assert (folder / "x.json").exists()


def test_an_old_save_as_part_and_its_journal_go_when_a_project_in_the_folder_opens(
    project: Path,
) -> None:
    part = _save_as_part(project.parent / "copy.opro.part")
    other_db = project.parent / "notes.db.part"  # a SQLite file, but not a project
    sqlite3.connect(other_db).execute("CREATE TABLE t (x)").connection.commit()
    _aged(other_db, 2 * HOURS)
    ProjectStore.open(project, readonly=True).close()
    assert not part.exists() and not Path(f"{part}-journal").exists()
    assert other_db.exists()


def test_without_proc_an_old_part_file_waits_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leftovers, "_held_open", lambda _p: None)  # no /proc to look at
    hours = _export_part(tmp_path / "a.json.part", age=2 * HOURS)
    days = _export_part(tmp_path / "b.json.part", age=2 * 24 * HOURS)
    assert leftovers.sweep(tmp_path) == [days]
    assert hours.exists()


def test_held_open_sees_an_open_file(tmp_path: Path) -> None:
    path = _export_part(tmp_path / "h.json.part")
    assert leftovers._held_open(path) is False
    with path.open("rb"):
        assert leftovers._held_open(path) is True
