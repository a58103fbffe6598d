"""1,000 steps in one process against a 0-latency server: resident memory stays bounded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import long_run_memory  # noqa: E402

#: The promise: after warm-up (step 100), RSS grows by less than this over the next 900 steps.
BOUND_MB = long_run_memory.BOUND_MB


@pytest.mark.slow
def test_thousand_steps_rss_growth_is_bounded() -> None:
    samples = long_run_memory.measure(steps=1000, every=100)
    print("\n" + "\n".join(f"step {s.step}: rss {s.rss_mb} MB" for s in samples))
    assert [s.step for s in samples] == list(range(0, 1001, 100))
    assert long_run_memory.growth_mb(samples) < BOUND_MB
