"""How long a hostile endpoint can hold a request: silence, slow drip and flood vs the deadline.

Run: ``python bench/hostile_endpoint.py [--timeout 3]``. Prints, for each attack, the seconds a
request took to end and the ratio to ``--timeout`` (and to the same request against a healthy
server, measured in the same run); asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from hostile_server import HostileServer, Hostility  # noqa: E402
from openai_server import Faults  # noqa: E402

from opro_gui.core.ports import LLMRequest  # noqa: E402
from opro_gui.llm import EndpointConfig  # noqa: E402
from opro_gui.llm.openai_compat import OpenAICompatClient  # noqa: E402


def one_request(
    hostility: Hostility, timeout: float, retries: int, silent: bool = False
) -> tuple[float, str, int]:
    faults = Faults(hang_rate=1.0, hang_seconds=600) if silent else None
    with HostileServer(hostility, faults=faults) as srv:
        cfg = EndpointConfig(
            base_url=srv.base_url, model="m", timeout=timeout, max_retries=retries,
            backoff_base=0.5,
        )  # fmt: skip
        with OpenAICompatClient(cfg, api_key="sk-bench-0000000000") as client:
            t0 = time.perf_counter()
            (res,) = client.complete([LLMRequest(prompt="p", max_tokens=64)])
            took = time.perf_counter() - t0
        return took, res.error or "ok", srv.stats.requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--retries", type=int, default=5)
    args = ap.parse_args()
    cases = [
        ("healthy", Hostility(), False),
        ("silent", Hostility(), True),
        ("drip 1 byte/s", Hostility(drip_bytes_per_s=1), False),
        ("drip 20 bytes/s", Hostility(drip_bytes_per_s=20), False),
        ("flood 50 MB", Hostility(oversize_bytes=50_000_000), False),
    ]
    base = None
    print(f"--timeout {args.timeout:g} s, --max-retries {args.retries}")
    for name, hostility, silent in cases:
        took, outcome, sent = one_request(hostility, args.timeout, args.retries, silent)
        base = base or took
        print(
            f"{name:16s} {took:7.2f} s  {took / args.timeout:5.2f}x timeout  "
            f"{took / base:8.1f}x healthy  requests sent {sent}  -> {outcome[:70]}"
        )


if __name__ == "__main__":
    main()
