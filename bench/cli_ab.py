"""`opro run --steps 1` of bench/cli_startup.py, this tree against another one in the same
minutes (the machine's speed drifts: only an A/B alternating run by run says what a change did).

Run: ``git archive REV | tar -x -C /tmp/before && python bench/cli_ab.py --before /tmp/before``.
Each tree runs `python -m opro_gui` from its own folder, on a project made by its own code, with
and without the model check, against one test server (this tree's) in a child process. Prints
medians; asserts nothing."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import cli_startup as cs  # noqa: E402

MAKE = (
    "import sys; sys.path.insert(0, 'bench'); from pathlib import Path; import cli_startup as cs; "
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the other tree's folder")
    ap.add_argument("--runs", type=int, default=4, help="runs of each variant")
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "this tree": REPO}
    conn, child = mp.Pipe()
    server = mp.get_context("spawn").Process(
        target=cs._serve, args=(cs.LATENCY, child), daemon=True
    )
    server.start()
    url = str(conn.recv())
    walls: dict[tuple[str, str], list[float]] = {
        (t, c): [] for t in trees for c in ("check", "no check")
    }
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for name, root in trees.items():
                for label, extra in (("check", []), ("no check", ["--no-model-check"])):
                    project = Path(tmp) / f"{i}-{name}-{label}.opro".replace(" ", "_")
                    env = {**os.environ, "PYTHONPATH": str(root), "OPENAI_API_KEY": "sk-bench"}
                    code = MAKE + f"cs._project(Path({str(project)!r}))"
                    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)
                    cmd = [sys.executable, "-m", "opro_gui", "run", str(project), "--steps", "1",
                           "--base-url", url, "--concurrency", str(cs.CONCURRENCY),
                           "--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer",
                           *extra]  # fmt: skip
                    t0 = time.perf_counter()
                    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
                    walls[(name, label)].append(time.perf_counter() - t0)
                    if proc.returncode != 0:
                        print(f"  WARNING: {name} exited {proc.returncode}: {proc.stderr[-300:]}")
    conn.send("stop")
    server.join(10)
    ideal = 16 * cs.LATENCY
    for (name, label), values in walls.items():
        med = statistics.median(values)
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:>10} {label:>8}: {med:.2f} s = {med / ideal:.2f}x ideal ({shown})")
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
