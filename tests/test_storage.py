"""The project file: steps written per transaction, reopened, resumed, rejected when hostile."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from test_engine import halving
from toy_problem import ScriptedClient, ToyProblem

from opro_gui.core.engine import Engine
from opro_gui.core.models import ExampleRecord, RunSettings, ScoreResult
from opro_gui.services import StoreSink
from opro_gui.storage import ProjectCache, ProjectError, ProjectStore
from opro_gui.storage.pages import top_texts
from opro_gui.storage.schema import SCHEMA_VERSION


def new_store(tmp_path: Path) -> ProjectStore:
    return ProjectStore.create(tmp_path / "p.opro", "toy", ToyProblem().to_spec())


def run_toy(store: ProjectStore, run_id: int, max_steps: int) -> Engine:
    problem = ToyProblem()
    state = store.load_state(run_id, problem.higher_is_better, with_records=False)
    settings = RunSettings(max_steps=max_steps, samples_per_step=2, stop_at_optimum=False)
    engine = Engine(
        problem, ScriptedClient(halving), None, settings, StoreSink(store, run_id), state
    )
    engine.run()
    return engine


def test_create_reopen_and_version_stamps(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.close()
    with ProjectStore.open(tmp_path / "p.opro") as s:
        assert s.kind == "toy"
        assert s.spec() == {"target": 42, "start": [0, 100]}
        assert s.project().app_version
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_examples_round_trip_in_their_own_table(tmp_path: Path) -> None:
    spec = {
        "x": 1,
        "examples": [{"input": "q1", "target": "a1"}, {"input": "ü", "target": "2", "id": "k"}],
    }
    with ProjectStore.create(tmp_path / "d.opro", "prompt", spec) as s:
        assert s.spec() == spec
        assert s.conn.execute("SELECT COUNT(*) FROM example").fetchone()[0] == 2


def test_steps_persist_and_resume_continues_without_gap(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    run_id = store.create_run({"max_steps": 3}, {"model": "m"}, None)
    first = run_toy(store, run_id, 3)
    store.close()
    store = ProjectStore.open(tmp_path / "p.opro")
    state = store.load_state(run_id, False, with_records=False)
    assert state.last_step == 3
    assert state.seen_keys == first.state.seen_keys
    assert sorted(h.score for h in state.history) == sorted(h.score for h in first.state.history)
    assert state.totals.tokens == first.state.totals.tokens > 0
    run_toy(store, run_id, 6)
    steps = [s.step for s in store.steps(run_id)]
    assert steps == [0, 1, 2, 3, 4, 5, 6]
    cands = store.candidates(run_id)
    assert len({(c.step, c.index) for c in cands}) == len(cands)
    assert store.integrity_ok()


def test_step_detail_has_exact_prompt_and_completions(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    run_id = store.create_run({}, {"model": "m"}, None)
    engine = run_toy(store, run_id, 1)
    detail = store.step_detail(run_id, 1)
    assert detail is not None
    assert detail.meta_prompt == engine.problem.render_meta_prompt(
        [h for h in engine.state.history if h.step == 0], 1, 5
    )
    assert len(detail.completions) == 2
    assert {c.status for c in detail.candidates} <= {"scored", "duplicate"}
    assert detail.calls[0].record.role == "optimizer"
    assert store.step_detail(run_id, 99) is None


def test_example_records_and_evaluations(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    run_id = store.create_run({}, {"model": "m"}, None)
    recs = (
        ExampleRecord(0, "p0", "raw0", "1", True),
        ExampleRecord(1, "p1", "", "", None, error="HTTP 500"),
    )
    eval_id = store.add_evaluation(
        run_id,
        "test",
        "top-1",
        "Be brief.",
        "Be brief.",
        ScoreResult(1.0, complete=False, records=recs),
        0.5,
    )
    assert store.records(evaluation_id=eval_id) == list(recs)
    (ev,) = store.evaluations(run_id)
    assert ev.score == 1.0 and not ev.complete and ev.n_examples == 2


def test_cache_round_trip(tmp_path: Path) -> None:
    cache = ProjectCache(new_store(tmp_path))
    assert cache.get("k") is None
    cache.put("k", '{"texts": ["a"]}')
    assert cache.get("k") == '{"texts": ["a"]}'


def test_save_as_is_one_self_contained_file(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.enable_wal()
    run_id = store.create_run({}, {"model": "m"}, None)
    run_toy(store, run_id, 2)
    target = tmp_path / "copy.opro"
    store.save_as(target)
    assert not (tmp_path / "copy.opro-wal").exists()
    with ProjectStore.open(target) as copy:
        assert [s.step for s in copy.steps(run_id)] == [0, 1, 2]


def test_fork_copies_steps_up_to_the_fork_point(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    run_id = store.create_run({}, {"model": "m"}, None)
    run_toy(store, run_id, 3)
    new_id = store.create_run({}, {"model": "m"}, None, parent_run_id=run_id, fork_step=1)
    store.copy_steps(run_id, new_id, 1)
    assert [s.step for s in store.steps(new_id)] == [0, 1]
    assert len(store.candidates(new_id)) == len(
        [c for c in store.candidates(run_id) if c.step <= 1]
    )
    assert [s.step for s in store.steps(run_id)] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a SQLite database"),
        (b"hello, I am a text file" * 10, "not a SQLite database"),
        (b"SQLite format 3\x00" + b"\x00" * 100, "damaged"),
    ],
)
def test_hostile_files_give_one_line_reasons(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.opro"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match=message) as err:
        ProjectStore.open(path)
    assert "\n" not in str(err.value)


def test_foreign_sqlite_newer_and_truncated_files(tmp_path: Path) -> None:
    other = tmp_path / "other.opro"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ProjectError, match="not an OPRO Studio project"):
        ProjectStore.open(other)

    store = new_store(tmp_path)
    store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(ProjectError, match="newer OPRO Studio"):
        ProjectStore.open(tmp_path / "p.opro")

    store = ProjectStore.create(tmp_path / "t.opro", "toy", {"a": "x" * 20000})
    store.close()
    data = (tmp_path / "t.opro").read_bytes()
    (tmp_path / "t.opro").write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectError):
        s = ProjectStore.open(tmp_path / "t.opro")
        s.spec()
        s.steps(1)


def test_missing_file_and_existing_target(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such project file"):
        ProjectStore.open(tmp_path / "nope.opro")
    new_store(tmp_path).close()
    with pytest.raises(ProjectError, match="already exists"):
        new_store(tmp_path)


def _candidates(store: ProjectStore, run_id: int, scores: list[float | None]) -> None:
    """Raw candidate rows, 8 a step, some invalid (no score)."""
    store.conn.executemany(
        "INSERT INTO candidate (run_id, step, idx, completion_index, text, status, score)"
        " VALUES (?, ?, ?, 0, ?, ?, ?)",
        [
            (run_id, i // 8, i % 8, f"s{i}", "scored" if s is not None else "invalid", s)
            for i, s in enumerate(scores)
        ],
    )
    store.conn.commit()


def test_leaderboard_reads_equal_one_sorted_query_whatever_the_ties(tmp_path: Path) -> None:
    """The top N is read through the score index in a few rows (issue 10: a leaderboard
    that sorted all of a 1,000,000-candidate run froze the window 0.5 s on open); its
    rows are those of the plain query, in both directions, with heavy ties and small runs."""
    store = new_store(tmp_path)
    rng = random.Random(7)
    runs = {
        "ties": [rng.choice([1.0, 2.0, 2.0, 3.0, None]) for _ in range(2_000)],
        "distinct": [rng.random() for _ in range(300)],
        "few": [5.0, None, 4.0],
        "empty": [],
    }
    ids = {name: store.create_run({}, {"model": "m"}, None) for name in runs}
    for name, scores in runs.items():
        _candidates(store, ids[name], scores)
    plan = store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT step FROM candidate WHERE run_id = 1 AND status = 'scored'"
        " AND score IS NOT NULL AND score = 2.0 ORDER BY step, idx LIMIT 3"
    ).fetchall()
    assert "candidate_run_score" in str(plan) and "TEMP B-TREE" not in str(plan)
    for name, run_id in ids.items():
        for higher in (True, False):
            order = "DESC" if higher else "ASC"
            for limit in (0, 1, 3, 10, 2_500):
                plain = store.conn.execute(
                    "SELECT step, idx, score, solution, text FROM candidate WHERE run_id = ?"
                    " AND status = 'scored' AND score IS NOT NULL"
                    f" ORDER BY score {order}, step, idx LIMIT ?",
                    (run_id, limit),
                ).fetchall()
                assert top_texts(store.conn, run_id, limit, higher) == plain, (name, limit)
    store.close()


def test_a_version_6_file_reads_without_its_new_index_and_upgrades_on_write(
    tmp_path: Path,
) -> None:
    """Version 7 only adds the leaderboard's index: opening a version-6 file to read uses it as
    it is (no private upgraded copy of a big file); opening it to write adds the index."""
    store = new_store(tmp_path)
    _candidates(store, store.create_run({}, {"model": "m"}, None), [3.0, 1.0, 2.0])
    store.conn.executescript("DROP INDEX candidate_run_score; PRAGMA user_version = 6;")
    store.close()
    path = tmp_path / "p.opro"
    with ProjectStore.open(path, readonly=True) as s:
        assert s.conn.execute("PRAGMA database_list").fetchone()[2] == str(path)  # not a copy
        assert [r[2] for r in top_texts(s.conn, 1, 3, higher_is_better=False)] == [1.0, 2.0, 3.0]
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 6
    with ProjectStore.open(path) as s:
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        names = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
        assert "candidate_run_score" in names


def test_a_version_6_file_that_cannot_be_written_opens_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On read-only media a version-6 file lacks only the leaderboard's index: it opens (to
    write, as the app opens a project) without it, and the app does not try to upgrade it
    first (an upgrade that cannot be written would be asked for again and again)."""
    from opro_gui.services import pages
    from opro_gui.storage.opening import upgraded

    store = new_store(tmp_path)
    store.conn.executescript("DROP INDEX candidate_run_score; PRAGMA user_version = 6;")
    store.close()
    path = tmp_path / "p.opro"
    assert pages.needs_upgrade(path)  # writable: upgraded in the background first
    monkeypatch.setattr(pages.os, "access", lambda p, mode: False)
    assert not pages.needs_upgrade(path)
    ro = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)  # writes fail, as on such media
    conn = upgraded(ro, 6, readonly=False)
    assert conn is ro and conn.execute("SELECT kind FROM project").fetchone() == ("toy",)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 6
    conn.close()
