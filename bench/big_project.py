"""Long histories: build TSP projects of many steps by repeating recorded steps, then time
`opro show --json`, `history`, `export` and opening against a 100-step baseline.

Usage: ``python bench/big_project.py [--sizes 100,1000,10000] [--million] [--keep DIR]``.
``build_project(path, steps, candidates_per_step)`` is importable (the GUI stall bench uses it)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from toy_problem import ScriptedClient  # noqa: E402

from opro_gui.core.models import RunSettings  # noqa: E402
from opro_gui.llm import EndpointConfig  # noqa: E402
from opro_gui.problems.tsp import TSPProblem  # noqa: E402
from opro_gui.services import ProjectSession  # noqa: E402
from opro_gui.storage import stats_sql  # noqa: E402


def _tour(prompt: str, i: int) -> str:
    order = list(range(10))
    k = 1 + (len(prompt) + i) % 9
    order[1], order[k] = order[k], order[1]
    return f"<trace>{','.join(map(str, order))}</trace>"


def build_project(path: Path, steps: int, candidates_per_step: int = 8) -> Path:
    """A 10-city TSP project whose run 1 has ``steps`` steps of ``candidates_per_step``
    candidates: two steps are run for real, then their rows are repeated through SQL."""
    problem = TSPProblem.generate(10, seed=1)
    with ProjectSession.create(path, "tsp", problem.to_spec()) as s:
        endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m")
        rid = s.prepare_run(
            RunSettings(max_steps=1, samples_per_step=8, stop_at_optimum=False, seed=0), endpoint
        )
        for _ in s.engine(rid, optimizer=ScriptedClient(_tour)).events():
            pass
        conn = s.store.conn
        step = conn.execute("SELECT * FROM step WHERE run_id = 1 AND step = 1").fetchone()
        cand = conn.execute(
            "SELECT run_id, step, idx, completion_index, solution, text, key, status, reason,"
            " score FROM candidate WHERE run_id = 1 AND step = 1 ORDER BY idx LIMIT 1"
        ).fetchone()
        call = conn.execute("SELECT * FROM llm_call WHERE run_id = 1 AND step = 1").fetchone()
        with conn:
            for n in range(2, steps + 1):
                conn.execute("INSERT INTO step VALUES (?,?,?,?,?,?,?,?,?)", (1, n, *step[2:]))
                conn.executemany(
                    "INSERT INTO candidate (run_id, step, idx, completion_index, solution,"
                    " text, key, status, reason, score) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [(1, n, i, i % 8, *cand[4:]) for i in range(candidates_per_step)],
                )
                conn.execute(
                    "INSERT INTO llm_call VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (1, n, *call[3:]),
                )
            # The run as if it had been asked for all those steps (its budget, its reason).
            conn.execute(
                "UPDATE run SET status = 'completed', status_reason = ?,"
                " settings = json_set(settings, '$.max_steps', ?) WHERE id = 1",
                (f"step budget of {steps} used", steps),
            )
            # The aggregates the app keeps with each step, as if the steps had been written
            # one by one (random-search values included).
            stats_sql.rebuild(conn, 1)
            budget = s.store.scored_per_step(1)
            curve, state = problem.random_search_resume(None, budget, 0)
            conn.executemany(
                "UPDATE step_stats SET random_search = ? WHERE run_id = 1 AND step = ?",
                [(v, i + 1) for i, v in enumerate(curve)],
            )
            conn.execute(
                "UPDATE run_stats SET random_search = ?, random_search_state = ? WHERE run_id = 1",
                (curve[-1], json.dumps({**state, "step": steps})),
            )
    return path


def _timed(cmd: list[str], repeat: int = 3) -> tuple[float, float]:
    """Best wall seconds of ``repeat`` runs of one `opro` command, each in a fresh process,
    and its peak RSS in MB (the machine is shared: the minimum is the least disturbed)."""
    walls, peak = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.Popen([str(Path(sys.executable).with_name("opro")), *cmd],
                                stdout=subprocess.DEVNULL)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        walls.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}")
        peak = max(peak, usage.ru_maxrss)
    return min(walls), peak / 1024


def measure(path: Path, steps: int) -> dict[str, float]:
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        with ProjectSession.open(path, readonly=True) as s:
            s.run_summary(1)
            s.random_search_curve(1)  # what the score plot adds to the summary
        walls.append(time.perf_counter() - t)
    out = {"open+summary_s": min(walls)}
    out["show_json_s"], out["show_rss_mb"] = _timed(["show", str(path), "--json"])
    out["history_s"], _ = _timed(["history", str(path), "--step", str(steps // 2)])
    out["export_csv_s"], _ = _timed(["export", str(path), "--format", "csv",
                                     "-o", str(path.with_suffix(".csv"))], repeat=1)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 candidate rows")
    ap.add_argument("--keep", type=Path)
    ap.add_argument(
        "--gui",
        action="store_true",
        help="then open each project in the app (bench/gui_open_big.py): longest event-loop "
        "stall, time to plot and summary",
    )
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="opro-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    plan = [(int(n), 8) for n in args.sizes.split(",")]
    if args.million:
        plan.append((1000, 1000))
    base: dict[str, float] | None = None
    for steps, per in plan:
        path = folder / f"tsp-{steps}x{per}.opro"
        t = time.perf_counter()
        if not path.exists():  # with --keep, projects built before are reused
            build_project(path, steps, per)
        built = time.perf_counter() - t
        m = measure(path, steps)
        base = base or m
        ratios = "  ".join(f"{k} {v:.3f} (x{v / base[k]:.2f})" for k, v in m.items())
        print(f"{steps} steps x {per} candidates (built in {built:.1f} s): {ratios}", flush=True)
    if args.gui:
        gui = [sys.executable, str(REPO / "bench" / "gui_open_big.py"), "--keep", str(folder)]
        for steps, per in plan:
            gui += ["--only", str(steps * per)]
        subprocess.run(gui, check=False)


if __name__ == "__main__":
    main()
