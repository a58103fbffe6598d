"""What the GUI's evaluation progress costs: `evaluate` on the test split with and without a
progress callback (which sends the scorer's requests in slices), against the suite's server
answering after a random delay. Prints both times and their ratio (same run, same data).

Usage: ``python bench/evaluate_progress.py [--examples 200] [--delay-ms 10,120] [--repeat 3]``."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402
from scripted_models import ArithmeticWorld  # noqa: E402

from opro_gui.cli import main  # noqa: E402
from opro_gui.services import ProjectSession  # noqa: E402


class SlowWorld(ArithmeticWorld):
    """Answers after a delay drawn uniformly from [low, high] seconds (seeded)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self._rng, self._lock, self.low, self.high = random.Random(7), threading.Lock(), low, high

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        with self._lock:
            delay = self._rng.uniform(self.low, self.high)
        time.sleep(delay)
        return super().__call__(prompt, body)


def trained_project(folder: Path, n: int, url: str) -> Path:
    data = folder / "sums.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in ArithmeticWorld.examples(n)))
    project = folder / "p.opro"
    new = ["new", "prompt", str(project), "--dataset", str(data), "--train-ratio", "0.2"]
    assert main([*new, "--initial", "Solve it.", "--seed", "1"]) == 0
    roles = ["--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer"]
    run = ["run", str(project), "--steps", "2", "--samples", "2", "--base-url", url, *roles]
    assert main(run) == 0
    return project


def timed(project: Path, progress: bool) -> tuple[float, int]:
    reports: list[tuple[int, int]] = []
    with ProjectSession.open(project) as session:
        start = time.perf_counter()
        rows = session.evaluate(
            1, "test", top=3, progress=(lambda d, t: reports.append((d, t))) if progress else None
        )
        elapsed = time.perf_counter() - start
    assert rows and all(r.complete for r in rows)
    return elapsed, len(reports)


def main_() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--delay-ms", default="10,120")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    low, high = (float(x) / 1000 for x in args.delay_ms.split(","))
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(SlowWorld(low, high)) as srv:
        base = trained_project(Path(tmp), args.examples, srv.base_url)
        plain, sliced, reports = [], [], 0
        for i in range(args.repeat):  # fresh copies: the response cache must not answer
            for progress, out in ((False, plain), (True, sliced)):
                copy = Path(tmp) / f"c{i}{int(progress)}.opro"
                shutil.copy(base, copy)
                elapsed, n = timed(copy, progress)
                out.append(elapsed)
                reports = max(reports, n)
    a, b = min(plain), min(sliced)
    ratios = sorted(y / x for x, y in zip(plain, sliced, strict=True))
    print(f"evaluate, no progress:   {a:.2f} s (best of {args.repeat})")
    print(f"evaluate, with progress: {b:.2f} s ({reports} progress reports)")
    print(f"ratio with/without: best {b / a:.2f}, median of pairs {ratios[len(ratios) // 2]:.2f}")


if __name__ == "__main__":
    main_()
