"""Aggregates kept with each step (schema version 3): what summaries and plots read instead of
every candidate and call. Written in the step's transaction; rebuilt from the rows on upgrade."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from opro_gui.core.models import CallRecord

from .rows import amount, count

TABLES = """
CREATE TABLE IF NOT EXISTS run_stats (
    run_id INTEGER PRIMARY KEY REFERENCES run(id),
    last_step INTEGER NOT NULL DEFAULT -1,
    found_at_step INTEGER,
    candidates INTEGER NOT NULL DEFAULT 0,
    evaluations INTEGER NOT NULL DEFAULT 0,
    verdict_order TEXT NOT NULL DEFAULT '',
    random_search REAL,
    random_search_state TEXT
);
CREATE TABLE IF NOT EXISTS step_stats (
    run_id INTEGER NOT NULL REFERENCES run(id),
    step INTEGER NOT NULL,
    candidates INTEGER NOT NULL DEFAULT 0,
    scored INTEGER NOT NULL DEFAULT 0,
    invalid INTEGER NOT NULL DEFAULT 0,
    duplicate INTEGER NOT NULL DEFAULT 0,
    filtered INTEGER NOT NULL DEFAULT 0,
    incomplete INTEGER NOT NULL DEFAULT 0,
    verdict_order TEXT NOT NULL DEFAULT '',
    calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    random_search REAL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS role_stats (
    run_id INTEGER NOT NULL REFERENCES run(id),
    role TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    cached_calls INTEGER NOT NULL DEFAULT 0,
    failed_calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, role)
);
CREATE TABLE IF NOT EXISTS model_pair (
    run_id INTEGER NOT NULL REFERENCES run(id),
    requested TEXT NOT NULL,
    reported TEXT NOT NULL,
    PRIMARY KEY (run_id, requested, reported)
);
"""

#: Verdict columns of ``step_stats``; ``verdict_order`` lists a step's verdicts in the order
#: they first occur (so summaries list them as they always have).
VERDICTS = ("scored", "invalid", "duplicate", "filtered", "incomplete")


def add_step(
    conn: sqlite3.Connection,
    run_id: int,
    step: int,
    counts: dict[str, int],
    random_search: float | None,
) -> None:
    """The verdict counts of one step (the calls columns are added by ``add_calls``)."""
    values = [counts.get(v, 0) for v in VERDICTS]
    conn.execute(
        "INSERT INTO step_stats (run_id, step, candidates, scored, invalid, duplicate, filtered,"
        " incomplete, verdict_order, random_search) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (run_id, step) DO UPDATE SET candidates = excluded.candidates,"
        " scored = excluded.scored, invalid = excluded.invalid,"
        " duplicate = excluded.duplicate, filtered = excluded.filtered,"
        " incomplete = excluded.incomplete, verdict_order = excluded.verdict_order,"
        " random_search = excluded.random_search",
        (run_id, step, sum(values), *values, ",".join(counts), random_search),
    )


def _sane(column: str) -> str:
    """SQL for ``column`` where only a number in [0, 2^53] counts (else 0)."""
    return (
        f"(CASE WHEN typeof({column}) IN ('integer', 'real') AND {column} >= 0"
        f" AND {column} <= 9007199254740992 THEN {column} ELSE 0 END)"
    )


def rebuild(conn: sqlite3.Connection, run_id: int | None = None) -> None:
    """Recompute the aggregates of one run (or all) from its rows, in SQL: used by the upgrade
    from version 2 and after a fork copies steps. Random-search values are left empty; they
    are filled in at the run's next step (and computed when read until then)."""
    where, args = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
    for table in ("run_stats", "step_stats", "role_stats", "model_pair"):
        conn.execute(f"DELETE FROM {table} {where}", args)
    int_step = "typeof(step) = 'integer'"
    cond = f"{where} {'AND' if where else 'WHERE'} {int_step}"
    per_step: dict[tuple[int, int], dict[str, int]] = {}
    for run, step, status, n in conn.execute(
        f"SELECT run_id, step, status, COUNT(*) FROM candidate {cond}"
        " GROUP BY run_id, step, status ORDER BY run_id, step, MIN(idx)",
        args,
    ).fetchall():
        verdict = status if status in VERDICTS else "invalid"
        counts = per_step.setdefault((run, step), {})
        counts[verdict] = counts.get(verdict, 0) + n
    run_order: dict[int, dict[str, None]] = {}
    for (run, step), counts in per_step.items():
        add_step(conn, run, step, counts, None)
        if step > 0:
            run_order.setdefault(run, {}).update(dict.fromkeys(counts))
    conn.execute(
        f"INSERT OR IGNORE INTO step_stats (run_id, step) SELECT run_id, step FROM step {cond}",
        args,
    )
    for run, step, calls, prompt, completion, cost in conn.execute(
        f"SELECT run_id, step, COUNT(*), TOTAL({_sane('prompt_tokens')}),"
        f" TOTAL({_sane('completion_tokens')}), TOTAL({_sane('cost_usd')}) FROM llm_call"
        f" {cond} AND run_id IS NOT NULL GROUP BY run_id, step",
        args,
    ).fetchall():
        conn.execute(
            "UPDATE step_stats SET calls = ?, prompt_tokens = ?, completion_tokens = ?,"
            " cost_usd = ? WHERE run_id = ? AND step = ?",
            (calls, int(prompt), int(completion), cost, run, step),
        )
    conn.execute(
        "INSERT INTO role_stats (run_id, role, calls, cached_calls, failed_calls, prompt_tokens,"
        " completion_tokens, cost_usd) SELECT run_id, role, COUNT(*), TOTAL(cached != 0),"
        f" TOTAL(error != ''), TOTAL({_sane('prompt_tokens')}),"
        f" TOTAL({_sane('completion_tokens')}), TOTAL({_sane('cost_usd')}) FROM llm_call"
        f" {where} {'AND' if where else 'WHERE'} run_id IS NOT NULL"
        " GROUP BY run_id, role ORDER BY run_id, MIN(id)",
        args,
    )
    conn.execute(
        "INSERT OR IGNORE INTO model_pair (run_id, requested, reported) SELECT DISTINCT run_id,"
        " model_requested, model_reported FROM llm_call"
        f" {where} {'AND' if where else 'WHERE'} run_id IS NOT NULL"
        " AND model_reported != '' AND error = '' AND cached = 0",
        args,
    )
    ids = [run_id] if run_id is not None else [r[0] for r in conn.execute("SELECT id FROM run")]
    for rid in ids:
        conn.execute(
            "INSERT INTO run_stats (run_id, last_step, found_at_step, candidates, evaluations)"
            " SELECT ?, (SELECT COALESCE(MAX(step), -1) FROM step WHERE run_id = ?"
            f" AND {int_step}), (SELECT MIN(step) FROM step WHERE run_id = ? AND {int_step}"
            " AND optimal != 0), COALESCE(SUM(candidates), 0),"
            " COALESCE(SUM(scored + incomplete), 0) FROM step_stats WHERE run_id = ?",
            (rid, rid, rid, rid),
        )
        conn.execute(
            "UPDATE run_stats SET verdict_order = ? WHERE run_id = ?",
            (",".join(run_order.get(rid, {})), rid),
        )


def upgrade(conn: sqlite3.Connection) -> None:
    """Version 2 → 3: create the aggregate tables and fill them from the existing rows."""
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    rebuild(conn)


def add_calls(
    conn: sqlite3.Connection, run_id: int, step: int | None, calls: Sequence[CallRecord]
) -> None:
    """Add served calls to their run's totals by role (one addition per call, in order, so
    the sums equal those of the rows) and, for a step's calls, to the step's totals."""
    tokens = [0, 0, 0.0]
    for c in calls:
        prompt, completion, cost = (
            count(c.prompt_tokens),
            count(c.completion_tokens),
            amount(c.cost_usd),
        )
        conn.execute(
            "INSERT INTO role_stats (run_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (run_id, c.role),
        )
        conn.execute(
            "UPDATE role_stats SET calls = calls + 1, cached_calls = cached_calls + ?,"
            " failed_calls = failed_calls + ?, prompt_tokens = prompt_tokens + ?,"
            " completion_tokens = completion_tokens + ?, cost_usd = cost_usd + ?"
            " WHERE run_id = ? AND role = ?",
            (int(c.cached), int(bool(c.error)), prompt, completion, cost, run_id, c.role),
        )
        if c.model_reported and not c.error and not c.cached:
            conn.execute(
                "INSERT OR IGNORE INTO model_pair VALUES (?, ?, ?)",
                (run_id, c.model_requested, c.model_reported),
            )
        tokens[0] += prompt
        tokens[1] += completion
        tokens[2] += cost
    if step is not None and calls:
        conn.execute(
            "UPDATE step_stats SET calls = calls + ?, prompt_tokens = prompt_tokens + ?,"
            " completion_tokens = completion_tokens + ?, cost_usd = cost_usd + ?"
            " WHERE run_id = ? AND step = ?",
            (len(calls), *tokens, run_id, step),
        )


def add_run_step(
    conn: sqlite3.Connection,
    run_id: int,
    step: int,
    counts: dict[str, int],
    optimal: bool,
    random_search: tuple[Sequence[float], str] | None,
) -> None:
    """Fold one written step into its run's aggregates (``random_search``: the values after
    the last steps up to this one, and the state to continue from; None when not known)."""
    values = list(random_search[0]) if random_search else []
    add_step(conn, run_id, step, counts, values[-1] if values else None)
    first = step - len(values) + 1
    conn.executemany(  # values of earlier steps (a fork's copied steps, an upgraded file)
        "UPDATE step_stats SET random_search = ? WHERE run_id = ? AND step = ?"
        " AND random_search IS NULL",
        [(v, run_id, first + i) for i, v in enumerate(values[:-1])],
    )
    conn.execute("INSERT INTO run_stats (run_id) VALUES (?) ON CONFLICT DO NOTHING", (run_id,))
    if step > 0:
        (old,) = conn.execute(
            "SELECT verdict_order FROM run_stats WHERE run_id = ?", (run_id,)
        ).fetchone()
        order = dict.fromkeys(v for v in str(old).split(",") if v)
        order.update(dict.fromkeys(counts))
        conn.execute(
            "UPDATE run_stats SET verdict_order = ? WHERE run_id = ?", (",".join(order), run_id)
        )
    n = sum(counts.values())
    evaluated = counts.get("scored", 0) + counts.get("incomplete", 0)
    conn.execute(
        "UPDATE run_stats SET last_step = MAX(last_step, ?), found_at_step ="
        " COALESCE(found_at_step, ?), candidates = candidates + ?, evaluations ="
        " evaluations + ?, random_search = ?, random_search_state = ? WHERE run_id = ?",
        (
            step,
            step if optimal else None,
            n,
            evaluated,
            values[-1] if values else None,
            random_search[1] if random_search else None,
            run_id,
        ),
    )
