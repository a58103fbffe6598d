"""A 1,000-step run in one process against a 0-latency local server, memory sampled every 100.

Usage: ``python bench/long_run_memory.py [--steps 1000] [--every 100] [--tracemalloc]``.
The engine runs in this process through the services layer (as the GUI's worker drives it);
the OpenAI-compatible server runs in a child process so its bookkeeping is not measured. The
optimizer proposes random valid tours of a 20-point TSP instance, so the run never stops early.
Prints one line per sample and a JSON summary; exit code 1 if RSS grew by more than
``--bound-mb`` (default 50) between the first sample and the last.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

BOUND_MB = 50.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Sample:
    step: int
    rss_mb: float
    traced_mb: float | None  # Python allocations still alive (tracemalloc), when enabled
    seconds: float


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


def serve() -> None:
    """Child process: run the server, print its base URL, stop when stdin closes."""
    from crash_trials import random_tour_optimizer
    from openai_server import FakeOpenAIServer

    with FakeOpenAIServer(random_tour_optimizer) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()


def measure(steps: int = 1000, every: int = 100, trace: bool = False) -> list[Sample]:
    from opro_gui.core.events import RunFinished, StepCompleted
    from opro_gui.core.models import RunSettings
    from opro_gui.llm import EndpointConfig
    from opro_gui.problems.tsp import TSPProblem
    from opro_gui.services import ProjectSession

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench"), str(REPO / "tests")]),
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None and server.stdin is not None
    base_url = server.stdout.readline().strip()
    samples: list[Sample] = []
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="opro-long-") as tmp:
            problem = TSPProblem.generate(20, seed=3)
            session = ProjectSession.create(Path(tmp) / "long.opro", "tsp", problem.to_spec())
            try:
                settings = RunSettings(max_steps=steps, samples_per_step=8)
                endpoint = EndpointConfig(base_url=base_url, model="fake-optimizer")
                run_id = session.prepare_run(settings, endpoint)
                if trace:
                    tracemalloc.start()
                final = None
                for event in session.run(run_id):
                    if isinstance(event, StepCompleted) and event.record.step % every == 0:
                        gc.collect()
                        traced = tracemalloc.get_traced_memory()[0] / 2**20 if trace else None
                        samples.append(
                            Sample(
                                event.record.step,
                                round(rss_mb(), 2),
                                None if traced is None else round(traced, 2),
                                round(time.monotonic() - started, 1),
                            )
                        )
                    elif isinstance(event, RunFinished):
                        final = event
                if final is None or final.last_step != steps:
                    raise RuntimeError(f"the run did not reach step {steps}: {final}")
            finally:
                session.close()
                if trace:
                    tracemalloc.stop()
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return samples


def growth_mb(samples: list[Sample], first_step: int = 100) -> float:
    """RSS at the last sample minus RSS at ``first_step`` (warm-up excluded)."""
    base = next(s.rss_mb for s in samples if s.step >= first_step)
    return samples[-1].rss_mb - base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--bound-mb", type=float, default=BOUND_MB)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    samples = measure(args.steps, args.every, args.tracemalloc)
    for s in samples:
        traced = "" if s.traced_mb is None else f"  traced {s.traced_mb:7.2f} MB"
        print(f"step {s.step:5d}  rss {s.rss_mb:7.2f} MB{traced}  t {s.seconds:6.1f} s")
    growth = growth_mb(samples)
    print(
        json.dumps(
            {
                "steps": args.steps,
                "rss_growth_after_step_100_mb": round(growth, 2),
                "bound_mb": args.bound_mb,
                "samples": [asdict(s) for s in samples],
            }
        )
    )
    return 0 if growth < args.bound_mb else 1


if __name__ == "__main__":
    sys.exit(main())
