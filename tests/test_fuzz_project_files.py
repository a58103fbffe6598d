"""Hypothesis fuzzing of the project-file loader: damaged bytes and hostile field values in a
real project give a ProjectError (one line) or load — never another exception."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from test_fuzz_parsers import SIZES, TOKENS, fuzz
from toy_problem import ScriptedClient

from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.problems.tsp import TSPProblem
from opro_gui.services import ProjectError, ProjectSession


def _tour(prompt: str, i: int) -> str:
    order = [0, 1, 2, 3, 4, 5, 6]
    k = 1 + (len(prompt) + i) % 6
    order[1], order[k] = order[k], order[1]
    return f"<trace>{','.join(map(str, order))}</trace>" if i % 3 else "no tour, sorry"


def build_template(path: Path) -> bytes:
    """A real project: one TSP run of 3 steps, a replay and every table in use."""
    problem = TSPProblem.generate(7, seed=1)
    with ProjectSession.create(path, "tsp", problem.to_spec()) as s:
        endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m")
        run_id = s.prepare_run(RunSettings(max_steps=3, samples_per_step=3), endpoint)
        for _ in s.engine(run_id, optimizer=ScriptedClient(_tour)).events():
            pass
        s.replay(run_id, 1, client=ScriptedClient(_tour))
        s.store.conn.execute(
            "INSERT INTO response_cache VALUES ('k', '{\"texts\": [\"a\"]}', 0)"
        ).connection.commit()
    return path.read_bytes()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_template(tmp_path_factory.mktemp("tpl") / "t.opro")


def load_everything(path: Path) -> None:
    """What `opro show`, `opro export` and the GUI's project view read."""
    for readonly in (True, False):
        try:
            session = ProjectSession.open(path, readonly=readonly)
        except ProjectError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        try:
            session.summary()
            session.export_dict()
        except ProjectError as exc:
            assert str(exc) and "\n" not in str(exc)
        finally:
            session.close()


# -- damaged bytes --------------------------------------------------------------------------
def _damage(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for where, value in edits:
        buf[where % len(buf)] = value
    return bytes(buf[:cut] if cut is not None else buf)


damages = st.tuples(
    st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), min_size=1, max_size=8),
    st.none() | st.integers(0, 2**16),
)


@pytest.mark.parametrize("n", SIZES)
def test_damaged_project_bytes_give_project_errors(n: int, template: bytes, tmp_path: Path) -> None:
    path = tmp_path / "d.opro"

    def prop(args: tuple[list[tuple[int, int]], int | None]) -> None:
        path.write_bytes(_damage(template, *args))
        for extra in ("-wal", "-shm", "-journal"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        load_everything(path)

    fuzz("project_bytes", damages, prop, n)


# -- hostile field values -------------------------------------------------------------------
COLUMNS = {
    "project": ["name", "kind", "spec", "app_version", "created_at", "updated_at"],
    "run": ["settings", "optimizer", "scorer", "status", "status_reason", "parent_run_id",
            "fork_step", "spec_override", "created_at"],
    "step": ["step", "meta_prompt", "completions", "best_score", "best_solution", "optimal",
             "started_at", "finished_at"],
    "candidate": ["step", "idx", "completion_index", "solution", "text", "key", "status",
                  "reason", "score"],
    "llm_call": ["role", "model_requested", "model_reported", "prompt_tokens",
                 "completion_tokens", "latency_s", "retries", "cached", "error", "n", "cost_usd",
                 "step"],
    "replay": ["endpoint", "meta_prompt", "completions", "candidates", "step"],
    "example_result": ["prompt", "raw_answer", "correct", "example_id"],
}  # fmt: skip
SQLISH = ["'; DROP TABLE step; --", "\" OR 1=1 --", "x'); DELETE FROM run; --",
          "ATTACH DATABASE '/tmp/pwn.db' AS p", "__import__('os').system('touch /tmp/pwned')",
          "cos\nsystem\n(S'touch /tmp/pwned'\ntR.", "{\"kind\": \"tsp\"}", "[]", "{}", "null",
          "NaN", "[1, 2, 3]", "{\"points\": \"x\"}", "\"tsp\"", "1e999"]  # fmt: skip
values = st.one_of(
    st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.binary(max_size=20),
    st.text(max_size=50), st.sampled_from(SQLISH + TOKENS),
    st.integers(1, 3).map(lambda k: "x" * (10**k * 50)),
    st.lists(st.sampled_from(SQLISH), max_size=3).map(str),
)  # fmt: skip
edits = st.lists(
    st.sampled_from([(t, c) for t, cs in COLUMNS.items() for c in cs]).flatmap(
        lambda tc: st.tuples(st.just(tc[0]), st.just(tc[1]), values)
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.parametrize("n", SIZES)
def test_hostile_field_values_give_project_errors(n: int, template: bytes, tmp_path: Path) -> None:
    path = tmp_path / "h.opro"

    def prop(changes: list[tuple[str, str, Any]]) -> None:
        path.write_bytes(template)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA ignore_check_constraints = ON")
        for table, column, value in changes:
            with contextlib.suppress(sqlite3.IntegrityError), conn:  # NOT NULL still holds
                conn.execute(f"UPDATE {table} SET {column} = ?", (value,))
        conn.close()
        load_everything(path)
        # Nothing in a project is ever executed: the SQL-looking text stayed text.
        assert not Path("/tmp/pwned").exists() and not Path("/tmp/pwn.db").exists()

    fuzz("project_fields", edits, prop, n)


def test_a_damaged_schema_is_reported_on_one_line(
    template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite quotes a mangled table definition, newlines and all ("malformed database schema
    … unrecognized token"): the one-line promise holds for the session and for `opro show`.
    Found by the damaged-bytes fuzzer (hypothesis seed 1: one byte set to "[")."""
    from opro_gui.cli import main

    path = tmp_path / "schema.opro"
    path.write_bytes(template)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'response_cache', '[response_cache') WHERE name = 'response_cache'"
    )
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError) as caught:
        ProjectSession.open(path)
    message = str(caught.value)
    assert "malformed database schema (response_cache)" in message and "\n" not in message
    assert "[response_cache ( key TEXT PRIMARY KEY," in message  # SQL's layout, on one line
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("opro: error: ") and err.count("\n") == 1, err


def test_a_project_error_is_one_line_whatever_it_is_given() -> None:
    assert str(ProjectError("a\nb\tc")) == "a\\nb\\tc"
