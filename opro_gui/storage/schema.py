"""Schema of the project file, its version and the upgrade steps from older versions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from opro_gui.core.models import stop_cause_from_text

from . import stats_sql

#: ``PRAGMA user_version`` of files this code writes.
SCHEMA_VERSION = 7
#: ``PRAGMA application_id``: "OPRO" in ASCII, so `file` and we can tell our files apart.
APPLICATION_ID = 0x4F50524F

TABLES = """
CREATE TABLE IF NOT EXISTS project (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    app_version TEXT NOT NULL,
    created_by_version TEXT NOT NULL,
    models TEXT
);
CREATE TABLE IF NOT EXISTS example (
    id INTEGER PRIMARY KEY,
    input TEXT NOT NULL,
    target TEXT NOT NULL,
    extra TEXT
);
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    settings TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    scorer TEXT,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    stop_cause TEXT NOT NULL DEFAULT '',
    parent_run_id INTEGER REFERENCES run(id),
    fork_step INTEGER,
    spec_override TEXT,
    app_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS step (
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    meta_prompt TEXT NOT NULL,
    completions TEXT NOT NULL,
    best_score REAL,
    best_solution TEXT,
    optimal INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS candidate (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    completion_index INTEGER NOT NULL,
    solution TEXT,
    text TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    score REAL,
    UNIQUE (run_id, step, idx)
);
CREATE INDEX IF NOT EXISTS candidate_run_step ON candidate(run_id, step);
-- The leaderboard (a run's best N candidates) reads N rows of this, not the whole run.
CREATE INDEX IF NOT EXISTS candidate_run_score ON candidate(run_id, score, step, idx)
    WHERE status = 'scored' AND score IS NOT NULL;
CREATE TABLE IF NOT EXISTS evaluation (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES run(id),
    split TEXT NOT NULL,
    label TEXT NOT NULL,
    solution TEXT,
    text TEXT NOT NULL,
    score REAL,
    complete INTEGER NOT NULL,
    train_score REAL,
    n_examples INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS example_result (
    id INTEGER PRIMARY KEY,
    candidate_id INTEGER REFERENCES candidate(id),
    evaluation_id INTEGER REFERENCES evaluation(id),
    example_id INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    raw_answer TEXT NOT NULL,
    parsed_answer TEXT NOT NULL,
    correct INTEGER,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS example_result_candidate ON example_result(candidate_id);
CREATE INDEX IF NOT EXISTS example_result_evaluation ON example_result(evaluation_id);
CREATE TABLE IF NOT EXISTS replay (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    created_at REAL NOT NULL,
    endpoint TEXT NOT NULL,
    meta_prompt TEXT NOT NULL,
    completions TEXT NOT NULL,
    candidates TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_call (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES run(id),
    step INTEGER,
    replay_id INTEGER REFERENCES replay(id),
    evaluation_id INTEGER REFERENCES evaluation(id),
    role TEXT NOT NULL,
    model_requested TEXT NOT NULL,
    model_reported TEXT NOT NULL,
    base_url TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    retries INTEGER NOT NULL,
    cached INTEGER NOT NULL,
    error TEXT NOT NULL,
    n INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_call_run ON llm_call(run_id, step);
CREATE TABLE IF NOT EXISTS ingredient (
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    position INTEGER NOT NULL,
    candidate_id INTEGER REFERENCES candidate(id),
    example_id INTEGER,
    PRIMARY KEY (run_id, step, position)
);
CREATE TABLE IF NOT EXISTS response_cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


#: Version 5: each evaluator's verdict per scorer answer; what people did to a run (added,
#: starred or excluded candidates, by step); scorer requests sent through a batch API.
VERSION_5_TABLES = """
CREATE TABLE IF NOT EXISTS example_verdict (
    id INTEGER PRIMARY KEY,
    result_id INTEGER NOT NULL REFERENCES example_result(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    weight REAL NOT NULL,
    score REAL,
    reason TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL DEFAULT '',
    agrees INTEGER
);
CREATE INDEX IF NOT EXISTS example_verdict_result ON example_verdict(result_id);
CREATE TABLE IF NOT EXISTS human_action (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    action TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    solution TEXT,
    candidate_id INTEGER REFERENCES candidate(id),
    candidate_key TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    applied_step INTEGER
);
CREATE INDEX IF NOT EXISTS human_action_run ON human_action(run_id, step);
CREATE TABLE IF NOT EXISTS llm_batch (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    base_url TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    requests INTEGER NOT NULL DEFAULT 0,
    input_file_id TEXT NOT NULL DEFAULT '',
    batch_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    output TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_batch_fingerprint ON llm_batch(fingerprint);
"""


def _add_people_and_verdicts(conn: sqlite3.Connection) -> None:
    conn.executescript(VERSION_5_TABLES)


def _add_project_models(conn: sqlite3.Connection) -> None:
    """Version 6: the project's own optimizer and scorer endpoints (no keys); older files
    have none until a run or Model settings stores them (their latest run's are used)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(project)")}
    if "models" not in columns:
        conn.execute("ALTER TABLE project ADD COLUMN models TEXT")


def _add_stop_cause(conn: sqlite3.Connection) -> None:
    """Version 2 stores why each run stopped; older runs get it from their recorded wording."""
    conn.execute("ALTER TABLE run ADD COLUMN stop_cause TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT id, status, status_reason FROM run").fetchall()
    for run_id, status, reason in rows:
        cause = stop_cause_from_text(str(status), str(reason or ""))
        conn.execute("UPDATE run SET stop_cause = ? WHERE id = ?", (str(cause), run_id))


def _add_ingredients(conn: sqlite3.Connection) -> None:
    """Version 4 records what each step's meta-prompt contained (history entries by candidate
    id, exemplars by example id); steps written before have none."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ingredient (run_id INTEGER NOT NULL REFERENCES run(id),"
        " step INTEGER NOT NULL, position INTEGER NOT NULL,"
        " candidate_id INTEGER REFERENCES candidate(id), example_id INTEGER,"
        " PRIMARY KEY (run_id, step, position))"
    )


def _add_score_index(conn: sqlite3.Connection) -> None:
    """Version 7: the leaderboard's index (a run's scored candidates by score); building it
    reads the candidates once."""
    conn.execute(
        "CREATE INDEX IF NOT EXISTS candidate_run_score ON candidate(run_id, score, step, idx)"
        " WHERE status = 'scored' AND score IS NOT NULL"
    )


#: UPGRADES[v] turns a version-v file into version v+1.
UPGRADES: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _add_stop_cause,
    2: stats_sql.upgrade,  # version 3: aggregates kept with each step
    3: _add_ingredients,  # version 4: what each meta-prompt contained
    4: _add_people_and_verdicts,  # version 5: verdicts, people's actions, batch jobs
    5: _add_project_models,  # version 6: the project's own models
    6: _add_score_index,  # version 7: the leaderboard's index
}

#: Upgrades that add only an index: a file waiting for them reads the same without them, so
#: opening it to read needs no private upgraded copy (only slower queries).
INDEX_ONLY: frozenset[int] = frozenset({6})


def only_indexes_missing(version: int) -> bool:
    """A file of ``version`` lacks nothing but indexes of this version's schema."""
    return set(range(version, SCHEMA_VERSION)) <= INDEX_ONLY


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(TABLES + stats_sql.TABLES + VERSION_5_TABLES)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def upgrade(conn: sqlite3.Connection, version: int) -> None:
    """Apply one upgrade step per old version, in order, each in its own transaction."""
    while version < SCHEMA_VERSION:
        with conn:
            UPGRADES[version](conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
