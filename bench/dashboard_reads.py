"""What the run dashboard reads per live step, on a project of 300 steps x 16 samples: the
headline figures (``run_figures``, every step) and the leaderboard's top 10 (``leaderboard``,
only when a step may change it), against the meta-prompt preview's ``history_top`` read in the
same run as the baseline.

    python bench/dashboard_reads.py [--steps 300] [--samples 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def median_ms(fn: Callable[[], object], repeat: int = 31) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--samples", type=int, default=16)
    args = ap.parse_args()
    from gui_helpers import make_tsp_project

    from opro_gui.services import ProjectSession, pages

    path = Path(tempfile.mkdtemp(prefix="opro-dash-")) / "big.opro"
    make_tsp_project(path, n_points=20, steps=args.steps, samples=args.samples)
    with ProjectSession.open(path, readonly=True) as s:
        total = pages.candidate_count(s, 1)
        base = median_ms(lambda: pages.history_top(s, 1, False))
        figures = median_ms(lambda: pages.run_figures(s, 1, args.steps // 2))
        board = median_ms(lambda: pages.leaderboard(s, 1, 10))
    print(f"{total} candidates; baseline history_top: {base:.2f} ms")
    print(f"run_figures (every step): {figures:.2f} ms = {figures / base:.2f}x the baseline")
    print(f"leaderboard top 10: {board:.2f} ms = {board / base:.2f}x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
