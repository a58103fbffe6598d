"""Adaptive pacing against a one-slot local server: timeouts, abandoned answers and wall time
with pacing on and off, measured in the same run (the suite's test server; no model needed).

    python bench/local_pacing.py [--latency 0.5] [--timeout 2.5] [--steps 4] [--samples 8]

Each "step" sends one request with n samples to a server that ignores n and answers one request
at a time (like llama.cpp with one slot on a CPU), so the client tops up with n-1 more at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def trial(adaptive: bool, args: argparse.Namespace) -> dict[str, float]:
    from openai_server import FakeOpenAIServer

    from opro_gui.core.ports import LLMRequest
    from opro_gui.llm import EndpointConfig, make_client

    with FakeOpenAIServer(latency=args.latency, max_parallel=1, honor_n=False) as srv:
        cfg = EndpointConfig(
            base_url=srv.base_url,
            model="m",
            timeout=args.timeout,
            max_retries=2,
            backoff_base=0.05,
            adaptive_pacing=adaptive,
        )
        client = make_client(cfg)
        start = time.monotonic()
        timeouts = failed = 0
        for step in range(args.steps):
            (res,) = client.complete([LLMRequest(prompt=f"step {step}", n=args.samples)])
            failed += int(not res.ok)
            timeouts += sum("timed out" in c.error or "too slowly" in c.error for c in res.calls)
        wall = time.monotonic() - start
        getattr(client, "close", lambda: None)()
        time.sleep(args.latency * args.samples)  # let the server finish what it still holds
        return {
            "wall_s": wall,
            "failed_requests": failed,
            "timed_out_calls": timeouts,
            "abandoned_answers": srv.stats.abandoned,
            "requests_served": srv.stats.requests,
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.5)
    p.add_argument("--timeout", type=float, default=2.5)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--samples", type=int, default=8)
    args = p.parse_args()
    off, on = trial(False, args), trial(True, args)
    print(f"{'':20s}{'pacing off':>12s}{'pacing on':>12s}")
    for key in off:
        print(f"{key:20s}{off[key]:12.2f}{on[key]:12.2f}")
    print(f"wall time ratio on/off: {on['wall_s'] / off['wall_s']:.2f}")


if __name__ == "__main__":
    main()
