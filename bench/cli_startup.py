"""Benchmark of the command line's own cost: `opro --version` against `python -c pass`, and
`opro run --steps 1` on a prompt task (8 candidates x 100 examples, 200 ms per request,
concurrency 64) from process start to exit against the ideal wall time.

Run: ``python bench/cli_startup.py [--quick]``. Prints figures; asserts nothing. The test
server runs in a child process (as a real server would not share our GIL).

Ideal wall time of the run: every request takes the server's latency and at most
``concurrency`` are in flight, so each batch of requests costs ceil(count / concurrency)
rounds of latency: step 0 scores the initial instruction (1 x 100 requests), step 1 asks the
optimizer once (8 samples, one round) and scores 8 x 100."""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

LATENCY = 0.2
CONCURRENCY = 64
CANDIDATES = 8
EXAMPLES = 100


def _responder() -> Any:
    count = {"n": 0}

    def respond(prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            count["n"] += 1  # distinct instructions: all 8 samples are scored
            return f"<INS>Add the two numbers carefully, variant {count['n']}.</INS>"
        return "The answer is 7."

    return respond


def _serve(latency: float, conn: Connection) -> None:
    from openai_server import FakeOpenAIServer

    with FakeOpenAIServer(_responder(), latency=latency) as srv:
        conn.send(srv.base_url)
        conn.recv()  # until the parent says stop


def _timed(cmd: list[str], repeat: int) -> float:
    """Median wall time of ``cmd`` from process start to exit."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _opro() -> list[str]:
    exe = shutil.which("opro")
    return [exe] if exe else [sys.executable, "-m", "opro_gui"]


def _project(path: Path) -> None:
    from opro_gui.services import ProjectSession

    examples = [{"input": f"Compute {i} + {i + 3}.", "target": str(2 * i + 3)} for i in range(200)]
    spec = {
        "kind": "prompt",
        "task_name": "sums",
        "task_type": "numeric",
        "examples": examples,
        "train_ids": list(range(EXAMPLES)),
        "test_ids": list(range(EXAMPLES, 200)),
        "initial_instructions": ["Let's solve the problem."],
    }
    ProjectSession.create(path, "prompt", spec).close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    repeat = 3 if args.quick else 7

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start: {load} on {os.cpu_count()} CPUs (figures grow with it)")
    base = _timed([sys.executable, "-c", "pass"], repeat)
    version = _timed([*_opro(), "--version"], repeat)
    print(f"python -c pass:   {base:.3f} s (median of {repeat})")
    print(f"opro --version:   {version:.3f} s  ({version / base:.2f}x python -c pass)")
    # What a run must import whatever we do: the official SDK (httpx, pydantic and ~700 model
    # classes) and numpy (the paper's exemplar and history sampling).
    sdk = _timed([sys.executable, "-c", "import openai, numpy"], repeat)
    print(f"import openai, numpy alone: {sdk:.3f} s (median of {repeat})")

    rounds = math.ceil(EXAMPLES / CONCURRENCY) + 1 + math.ceil(CANDIDATES * EXAMPLES / CONCURRENCY)
    ideal = rounds * LATENCY
    conn, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(LATENCY, child), daemon=True)
    server.start()
    base_url = str(conn.recv())
    runs: list[float] = []
    unchecked: list[float] = []  # the same run with --no-model-check (no /models, no probe)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OPENAI_API_KEY": "sk-bench"}
        for i in range(2 if args.quick else 3):
            for extra, into in (([], runs), (["--no-model-check"], unchecked)):
                project = Path(tmp) / f"p{i}{len(extra)}.opro"
                _project(project)
                cmd = [*_opro(), "run", str(project), "--steps", "1", "--base-url", base_url]
                cmd += ["--concurrency", str(CONCURRENCY), "--optimizer-model", "fake-optimizer"]
                cmd += ["--scorer-model", "fake-scorer", *extra]
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                into.append(time.perf_counter() - t0)
                if proc.returncode != 0:
                    err = proc.stderr.strip()[:300]
                    print(f"  WARNING: opro run exited {proc.returncode}: {err}")
    conn.send("stop")
    server.join(10)
    wall = statistics.median(runs)
    print(
        f"opro run --steps 1 (prompt, {CANDIDATES} candidates x {EXAMPLES} examples, "
        f"{LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY}): {wall:.2f} s, process start to "
        f"exit (median of {len(runs)})"
    )
    print(f"  ideal wall time: {rounds} rounds x {LATENCY:g} s = {ideal:.2f} s")
    print(f"  ratio: {wall / ideal:.2f}x ideal (target <= 1.3x)")
    floor = ideal + sdk
    print(
        f"  against ideal + the SDK import ({floor:.2f} s, the least any run with the official "
        f"SDK can take here): {wall / floor:.2f}x; what is left is our own start-up, the model "
        f"check and the client's CPU per request: {wall - floor:.2f} s"
    )
    bare = statistics.median(unchecked)
    print(
        f"  the same run with --no-model-check (no GET /models, no format probe): {bare:.2f} s "
        f"= {bare / ideal:.2f}x ideal; the model check costs {wall - bare:.2f} s"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at end: {load}")


if __name__ == "__main__":
    main()
