"""Hostile project files through the real entry points: `opro show` (text and JSON), `history`,
`export` (JSON and CSV, read back as bytes), `evaluate`, `replay` and `run` in-process, and the
GUI's open. Each either works or exits with one `opro: error:` line — never a traceback."""

from __future__ import annotations

import _thread
import contextlib
import faulthandler
import functools
import json
import os
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from test_fuzz_parsers import fuzz
from test_fuzz_project_files import build_template, edits

import opro_gui.cli
from opro_gui.cli import main

#: No endpoint is ever reached: port 9 (discard) on loopback refuses at once, and no retries.
OFFLINE = ["--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0", "--timeout", "1"]
DEEP = "[" * 100_000 + "]" * 100_000
#: The values the issue names, always in the mix: text or bytes scores, a list solution,
#: JSON nested 100,000 deep, settings of the wrong type, a token count as text, a list override.
NAMED = [
    [("candidate", "score", "0.5")],
    [("candidate", "score", b"\x00\xff")],
    [("step", "best_score", "abc")],
    [("candidate", "solution", "[[[1]]]")],
    [("step", "best_solution", '["a", {"b": [1, 2]}]')],
    [("project", "spec", DEEP)],
    [("run", "settings", DEEP)],
    [("run", "settings", '{"history_size": "x", "max_steps": -3, "temperature": "hot"}')],
    [("llm_call", "prompt_tokens", "twelve")],
    [("llm_call", "completion_tokens", 1e30)],
    [("llm_call", "cost_usd", -5.0)],
    [("run", "spec_override", "[1, 2, 3]")],
    [("run", "status", "exploded")],
    [("candidate", "status", "weird")],
    [("step", "completions", '{"not": "a list"}')],
    [("replay", "candidates", '[1, "x", {"score": "y"}]')],
    [("candidate", "step", "seven")],
    [("run_stats", "random_search_state", DEEP)],
    [("run_stats", "last_step", "many"), ("run_stats", "random_search", "low")],
    [("step_stats", "verdict_order", b"\xff,scored"), ("step_stats", "scored", -4)],
    [("role_stats", "prompt_tokens", "x"), ("role_stats", "cost_usd", 1e308)],
    [("model_pair", "reported", b"\x00")],
]
cases = st.one_of(st.sampled_from(NAMED), edits)
#: Cases per slow run (10,000; ``OPRO_SLOW_FUZZ_CASES`` runs fewer, e.g. for a quick look).
SLOW = int(os.environ.get("OPRO_SLOW_FUZZ_CASES", "10000"))
#: A command still running after this long is a hang (a generous guard, not a timing check:
#: the slowest command of a case takes well under a second, and the offline endpoint refuses
#: at once). The watchdog then interrupts it and fails the test; if the interrupt cannot get
#: through (stuck in C code), it dumps every thread's stack and ends the process.
HANG_S = float(os.environ.get("OPRO_FUZZ_HANG_S", "60"))
#: Seconds spent per command over a test (printed after a fuzz run: where a case's time goes).
SPENT: dict[str, float] = defaultdict(float)


class Watchdog:
    """Fails a command that runs longer than ``HANG_S``, naming the command and the case."""

    def __init__(self) -> None:
        self.fired: str | None = None

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        def fire() -> None:
            self.fired = what
            print(f"\nfuzz watchdog: no answer after {HANG_S:g} s from {what}", file=sys.__stderr__)
            _thread.interrupt_main()  # the CLI answers it with "opro: interrupted"

        timer = threading.Timer(HANG_S, fire)
        timer.daemon = True
        faulthandler.dump_traceback_later(HANG_S + 30, exit=True, file=sys.__stderr__)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            faulthandler.cancel_dump_traceback_later()
        if self.fired is not None:
            pytest.fail(f"hang: {self.fired} ran past {HANG_S:g} s")


def _commands(path: Path, out: Path) -> list[list[str]]:
    p = str(path)
    return [
        ["show", p],
        ["show", p, "--json"],
        ["history", p, "--step", "1"],
        ["export", p, "--format", "json", "-o", str(out / "e.json")],
        ["export", p, "--format", "csv", "-o", str(out / "e.csv")],
        ["evaluate", p, *OFFLINE],
        ["replay", p, "--step", "1", "--samples", "1", *OFFLINE],
        ["run", p, "--steps", "4", *OFFLINE],
    ]


def plant(template: bytes, path: Path, changes: list[tuple[str, str, Any]]) -> None:
    path.write_bytes(template)
    for extra in ("-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    for table, column, value in changes:
        with contextlib.suppress(sqlite3.IntegrityError), conn:  # NOT NULL still holds
            conn.execute(f"UPDATE {table} SET {column} = ?", (value,))
    conn.close()


def check_cli(
    path: Path, out: Path, capsys: pytest.CaptureFixture[str], case: object = None
) -> None:
    watchdog = Watchdog()
    for cmd in _commands(path, out):
        began = time.perf_counter()
        with watchdog.guard(f"opro {' '.join(cmd[:3])} on case {case!r:.2000}"):
            code = main(cmd)  # an exception escaping here is the bug the fuzzer looks for
        SPENT[" ".join(c for c in cmd[:4] if c != str(path))] += time.perf_counter() - began
        stdout, err = capsys.readouterr()
        assert "Traceback" not in err + stdout, (cmd, err)
        if code == 2:
            assert err.startswith("opro: error: ") and err.count("\n") == 1, (cmd, err)
        if code == 0 and cmd[1:3] == [str(path), "--json"]:
            json.loads(stdout)
        if code == 0 and cmd[0] == "export":
            data = Path(cmd[-1]).read_bytes()  # written whole: parses back
            if cmd[3] == "json":
                json.loads(data)
            else:
                assert data.decode("utf-8").startswith("run_id,step,")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_template(tmp_path_factory.mktemp("tpl") / "t.opro")


@pytest.fixture(scope="module", autouse=True)
def _quick_commands() -> Iterator[None]:
    """Leave out the per-command work that no file can change, which was two thirds of a
    case's time: building the argument parser (the same parser, built once) and loading the
    certificate store for each client the offline endpoint gets (loaded once)."""
    import httpx2._transports.default as transports

    parser = opro_gui.cli.build_parser()
    make_ssl = transports.create_ssl_context

    @functools.cache
    def ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        return make_ssl(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(opro_gui.cli, "build_parser", lambda: parser)
        mp.setattr(transports, "create_ssl_context", ssl_context)
        yield
    if SPENT:
        total = sum(SPENT.values())
        print(f"\nseconds per command over this module ({total:.1f} s in all):")
        for name, spent in sorted(SPENT.items(), key=lambda kv: -kv[1]):
            print(f"  {spent:8.1f} s  {100 * spent / total:4.1f} %  {name}")


@pytest.mark.parametrize("n", [60, pytest.param(SLOW, marks=pytest.mark.slow)])
def test_hostile_files_through_every_cli_entry_point(
    n: int, template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, out = tmp_path / "h.opro", tmp_path / "out"
    out.mkdir()

    def prop(changes: list[tuple[str, str, Any]]) -> None:
        plant(template, path, changes)
        check_cli(path, out, capsys, changes)

    fuzz("cli_entry_points", cases, prop, n)


@pytest.mark.parametrize("changes", NAMED, ids=[f"{c[0][0]}.{c[0][1]}" for c in NAMED])
def test_each_named_hostile_value_through_the_cli(
    changes: list[tuple[str, str, Any]],
    template: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, out = tmp_path / "h.opro", tmp_path / "out"
    out.mkdir()
    plant(template, path, changes)
    check_cli(path, out, capsys, changes)


def test_deep_json_in_the_spec_is_one_clear_line(
    template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.opro"
    plant(template, path, [("project", "spec", DEEP)])
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("opro: error: ") and "nested too deeply" in err, err


def test_wrong_typed_values_are_read_safely(
    template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A score stored as text, a token count as text, settings of the wrong type and a list
    as the run's template override: `show --json` still works and reports safe values."""
    path = tmp_path / "odd.opro"
    plant(
        template,
        path,
        [
            ("step", "best_score", "abc"),
            ("role_stats", "prompt_tokens", "twelve"),
            ("run", "settings", '{"history_size": "x", "max_steps": 5}'),
            ("run", "spec_override", "[1, 2]"),
        ],
    )
    assert main(["show", str(path), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["best_score"] is None and run["max_steps"] == 5
    assert run["prompt_tokens"] == 0  # every role's prompt_tokens total was "twelve"


# -- the GUI's open --------------------------------------------------------------------------
@pytest.fixture
def gui_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from opro_gui.gui import main_window, settings

    shown: list[str] = []
    monkeypatch.setattr(
        main_window.QMessageBox, "warning", lambda _p, t, text, *a: shown.append(f"{t}: {text}")
    )
    settings.set_settings_dir(tmp_path / "settings")
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.shown_messages = shown
    return win


def check_gui_open(qtbot: Any, win: Any, path: Path, case: object = None) -> None:
    """Open ``path`` offscreen: it opens (and its summary arrives) or one message says why —
    at once, or from the background read (the window then closes the project again)."""
    before = len(win.shown_messages)
    with Watchdog().guard(f"the GUI's open of case {case!r:.2000}"):
        opened = win.open_project(path)
    if opened:
        qtbot.waitUntil(
            lambda: not win.document.is_loading and not win.run_view.analysis_pending,
            timeout=30_000,
        )
        later = win.shown_messages[before:]
        assert len(later) <= 1, later
        if later:
            assert win.document.path is None and "Traceback" not in later[0]
    else:
        assert len(win.shown_messages) == before + 1
        assert "Traceback" not in win.shown_messages[-1]


@pytest.mark.parametrize("changes", NAMED, ids=[f"{c[0][0]}.{c[0][1]}" for c in NAMED])
def test_gui_opens_each_named_hostile_value(
    changes: list[tuple[str, str, Any]],
    template: bytes,
    tmp_path: Path,
    qtbot: Any,
    gui_window: Any,
) -> None:
    path = tmp_path / "h.opro"
    plant(template, path, changes)
    check_gui_open(qtbot, gui_window, path)


@pytest.mark.parametrize("n", [40, pytest.param(SLOW, marks=pytest.mark.slow)])
def test_gui_open_of_hostile_files(
    n: int, template: bytes, tmp_path: Path, qtbot: Any, gui_window: Any
) -> None:
    def prop(changes: list[tuple[str, str, Any]]) -> None:
        path = tmp_path / f"h{len(gui_window.shown_messages)}.opro"
        gui_window.document.close()
        plant(template, path, changes)
        check_gui_open(qtbot, gui_window, path, changes)

    fuzz("gui_open", cases, prop, n)


def test_stored_solutions_the_task_cannot_use_are_not_shown_again(
    template: bytes, tmp_path: Path
) -> None:
    """A tour replaced by nested lists stays in the file, is left out of the history a resumed
    run shows the optimizer, and the run continues."""
    from test_fuzz_project_files import _tour
    from toy_problem import ScriptedClient

    from opro_gui.services import ProjectSession

    path = tmp_path / "odd.opro"
    plant(template, path, [("candidate", "solution", "[[[1]]]")])
    with ProjectSession.open(path) as s:
        run_id = s.latest_run_id()
        assert run_id is not None
        before = s.store.last_step(run_id)
        endpoint = {"model": "m", "base_url": "http://127.0.0.1:9/v1"}
        s.store.update_run_config(run_id, {"max_steps": before + 1}, endpoint, None)
        engine = s.engine(run_id, optimizer=ScriptedClient(_tour))
        assert engine.state.history == []
        for _ in engine.events():
            pass
        assert s.store.last_step(run_id) == before + 1
        assert s.store.candidates(run_id, 1)[0].solution == [[[1]]]  # the file is unchanged
