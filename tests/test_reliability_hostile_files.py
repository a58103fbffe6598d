"""Hostile project files: truncated, wrong or newer schema, not SQLite, huge or SQL-looking
fields, embedded triggers — a one-line message and no traceback; nothing in a file is run."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import random
import sqlite3
import threading
from pathlib import Path

import pytest
from toy_problem import ScriptedClient

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.storage import schema

PACKAGE = Path(__file__).resolve().parents[1] / "opro_gui"
SQLISH = "x'); DROP TABLE step; -- \" OR 1=1; ATTACH DATABASE 'pwn.db' AS p; {__class__}"


def opro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], path: Path, *words: str) -> str:
    """`opro show` and `opro run` both refuse ``path`` with one line naming ``words``."""
    for cmd in (
        ["show", str(path)],
        ["run", str(path), "--steps", "1", "--base-url", "http://127.0.0.1:9/v1"],
    ):
        code, out, err = opro(capsys, *cmd)
        assert code == 2 and out == "" and err.startswith("opro: error: ") and err.count("\n") == 1
        assert "Traceback" not in err and all(w in err for w in words), err
    with pytest.raises(ProjectError):
        ProjectSession.open(path, readonly=True)
    return err


def make_project(path: Path, text: str = "", steps: int = 2) -> Path:
    """A real TSP project; ``text`` goes into every text the app stores."""
    problem = TSPProblem.generate(6, seed=1)
    spec = {**problem.to_spec(), "name": f"tsp {text}"}
    if text:
        spec["template"] = problem.template + f"\n{text}"

    def answer(prompt: str, i: int) -> str:
        k = (i + len(prompt)) % 5
        tour = [0, *range(1, 6)[k:], *range(1, 6)[:k]]
        return f"{text} <trace>{','.join(map(str, tour))}</trace> {text}"

    with ProjectSession.create(path, "tsp", spec, name=f"name {text}") as s:
        endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model=f"m {text}")
        run_id = s.prepare_run(
            RunSettings(max_steps=steps, samples_per_step=3, stop_at_optimum=False), endpoint
        )
        for _ in s.engine(run_id, optimizer=ScriptedClient(answer, model=f"m {text}")).events():
            pass
        s.store.set_status(run_id, "paused", text)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("keep", [0, 15, 100, 1024, 4096, "half", "all-but-one"])
def test_truncated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], keep: object) -> None:
    data = make_project(tmp_path / "full.opro").read_bytes()
    cut = {"half": len(data) // 2, "all-but-one": len(data) - 1}.get(str(keep), keep)
    path = tmp_path / "cut.opro"
    path.write_bytes(data[: int(cut)])  # type: ignore[call-overload]
    refused(capsys, path, "cut.opro")


@pytest.mark.parametrize(
    "version, words",
    [(schema.SCHEMA_VERSION + 1, ["newer OPRO Studio", "update"]), (10**6, ["newer"]),
     (0, ["unknown schema version 0"]), (-5, ["unknown schema version -5"])],
)  # fmt: skip
def test_wrong_or_newer_schema_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int, words: list[str]
) -> None:
    path = make_project(tmp_path / "v.opro")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    before = digest(path)
    refused(capsys, path, *words)
    assert digest(path) == before  # nothing was "upgraded" or written


@pytest.mark.parametrize(
    "content",
    [b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"PK\x03\x04" + b"z" * 200, b"SQLite format 2\0",
     b'{"kind": "tsp"}', b"SQLite format 3\x00" + random.Random(1).randbytes(5000)],
    ids=["empty", "png", "zip", "sqlite2", "json", "sqlite-header-then-noise"],
)  # fmt: skip
def test_files_that_are_not_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "not.opro"
    path.write_bytes(content)
    refused(capsys, path, "not.opro")


def test_foreign_sqlite_folder_and_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.opro"
    sqlite3.connect(other).execute("CREATE TABLE project (x)").connection.commit()
    refused(capsys, other, "not an OPRO Studio project")
    folder = tmp_path / "dir.opro"
    folder.mkdir()
    refused(capsys, folder, "folder")
    fifo = tmp_path / "pipe.opro"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            ProjectSession.open(fifo)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion below
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)  # a hang guard, not a speed requirement
    if worker.is_alive():  # unblock the reader so the thread can end
        with open(fifo, "wb"):
            pass
    assert outcome and isinstance(outcome[0], ProjectError) and "regular file" in str(outcome[0])


def test_a_mangled_table_is_damage_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project(tmp_path / "m.opro")
    conn = sqlite3.connect(path)
    conn.executescript("ALTER TABLE candidate RENAME COLUMN score TO scrore;")
    conn.close()
    refused(capsys, path, "damaged", "candidate")


def test_embedded_triggers_and_views_are_refused_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project(tmp_path / "t.opro")
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TRIGGER fake_scores AFTER INSERT ON candidate BEGIN"
        " UPDATE candidate SET score = 0 WHERE id = new.id; DELETE FROM step; END;"
        "CREATE VIEW v AS SELECT * FROM step;"
    )
    conn.close()
    before = digest(path)
    refused(capsys, path, "triggers or views", "fake_scores")
    assert digest(path) == before


def test_huge_and_sql_looking_fields_round_trip_as_plain_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project(tmp_path / "s.opro", text=SQLISH)
    huge = "A" * 5_000_000
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE step SET meta_prompt = ? WHERE step = 1", (huge + SQLISH,))
        conn.execute("UPDATE candidate SET text = ?, reason = ? WHERE id = 1", (huge, SQLISH))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    code, out, err = opro(capsys, "show", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["name"] == f"name {SQLISH}" and data["runs"][0]["status_reason"] == SQLISH
    assert data["runs"][0]["optimizer_model"] == f"m {SQLISH}"
    code, out, _ = opro(capsys, "history", str(path), "--step", "1")
    assert code == 0 and out.count(SQLISH) >= 3 and huge in out
    assert opro(capsys, "export", str(path), "-o", str(tmp_path / "e.json"))[0] == 0
    exported = json.loads((tmp_path / "e.json").read_text())
    step1 = exported["runs"][0]["steps"][1]
    assert step1["meta_prompt"] == huge + SQLISH and SQLISH in step1["completions"][0]
    with ProjectSession.open(path) as s:
        assert s.problem().template.endswith(SQLISH)  # {__class__} was not formatted
        assert {r[0] for r in s.store.conn.execute("SELECT name FROM sqlite_master")} == tables
        assert [st.step for st in s.store.steps(1)] == [0, 1, 2]
    assert not (tmp_path / "pwn.db").exists() and not Path("pwn.db").exists()


FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "yaml", "jsonpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
# The one module that imports by name: the kind plugins of the user's own OPRO_KIND_PLUGINS
# environment variable, never file content (a project file only names a registered kind). The
# lazy loaders of slow libraries (llm/__init__.py, cli/parser.py) import fixed names statically.
LAZY_LOADERS = ("problems/kinds.py",)


def test_no_code_path_can_execute_file_content() -> None:
    """Nothing outside the GUI shell and the about box imports dynamically, and nothing at all
    unpickles or evals: a project is data (JSON text in SQLite), never code."""
    offenders = []
    for file in PACKAGE.rglob("*.py"):
        rel = file.relative_to(PACKAGE).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            if FORBIDDEN_MODULES & set(names):
                offenders.append(f"{rel}: imports {names}")
            if "importlib" in names and not rel.startswith(("gui/", "about.py", *LAZY_LOADERS)):
                offenders.append(f"{rel}: imports importlib")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
                and rel != "about.py"  # imports its fixed list of version modules
            ):
                offenders.append(f"{rel}:{node.lineno}: calls {node.func.id}")
            if isinstance(node, ast.Attribute) and node.attr in (
                "enable_load_extension",
                "load_extension",
            ):
                offenders.append(f"{rel}:{node.lineno}: loads SQLite extensions")
    assert offenders == []


@pytest.mark.parametrize("name", ["run #1.opro", "what?.opro", "a%20b.opro", "naïve ü 中.opro"])
def test_awkward_file_names_open_read_only_without_stray_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    path = make_project(folder / name)
    for cmd in (["show", str(path)], ["history", str(path), "--step", "1"],
                ["export", str(path), "-o", str(tmp_path / "e.json")]):  # fmt: skip
        code, _, err = opro(capsys, *cmd)
        assert code == 0, err
    assert [p.name for p in folder.iterdir()] == [name]  # no "run " or "what" beside it


def test_schema_with_bytes_that_are_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzzer: SQLite's own error message then holds invalid UTF-8."""
    path = make_project(tmp_path / "u.opro")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET name = CAST(X'72658081' AS TEXT),"
        " sql = CAST(X'435245415445205441424C4520808182' AS TEXT) WHERE name = 'replay'"
    )
    conn.commit()
    conn.close()
    refused(capsys, path, "damaged")


def test_a_damaged_row_page_is_one_message_when_read_and_a_write_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read-only opens check the header and every table but the row tables (bounded: the
    same cost for a million candidates); a damaged candidate page is then reported by the
    read that meets it. A writable open still reads every page first."""
    path = make_project(tmp_path / "d.opro", steps=3)
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'candidate'").fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root[0] - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))
    with ProjectSession.open(path, readonly=True) as s:  # bounded: the row table is not read
        assert s.run_ids() == [1]
    before = digest(path)
    for cmd in (
        ["export", str(path), "--format", "csv", "-o", str(tmp_path / "out.csv")],
        ["history", str(path), "--step", "1"],
        ["show", str(path)],  # the verdicts are counted from the candidate rows
        ["run", str(path), "--steps", "1", "--base-url", "http://127.0.0.1:9/v1"],  # full check
    ):
        code, out, err = opro(capsys, *cmd)
        assert code == 2 and err.startswith("opro: error: ") and err.count("\n") == 1, err
        assert "damaged" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()
    assert digest(path) == before
