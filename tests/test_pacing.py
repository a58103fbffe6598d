"""Adaptive pacing for local servers (issue 16): the server's real parallelism is learned (or
read from llama.cpp's /props) and no request waits in the server's queue on its deadline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opro_gui.cli import main
from opro_gui.llm.pacing import Pacer


def _feed(pacer: Pacer, requests: list[tuple[float, float]]) -> None:
    """Replay requests (sent at, latency) through the pacer's bookkeeping, in answer order."""
    ends = sorted((start + lat, start, lat) for start, lat in requests)
    for i, (end, start, lat) in enumerate(ends):
        waiting = sum(1 for _, s, _ in ends[i:] if s <= end)  # not answered yet, itself too
        sent_with = sum(1 for e, s, _ in ends if s <= start and e >= start)
        pacer._in_flight = waiting
        pacer.release(sent_with, lat, 20, ok=True, timed_out=False, now=end)


def _burst(k: int, slots: int, unit: float, at: float = 0.0) -> list[tuple[float, float]]:
    """k requests sent at once to a server running ``slots`` at a time, ``unit`` s each."""
    return [(at, unit * (i // slots + 1)) for i in range(k)]


@pytest.mark.parametrize(
    ("requests", "limit"),
    [
        # one slot (the server): an n request alone, then 3 top-ups at once
        ([(0.0, 2.0), *_burst(3, 1, 2.0, at=3.0)], 1),
        # four slots: one request alone, then eight at once (four after one unit, four after two)
        ([(0.0, 2.0), *_burst(8, 4, 2.0, at=3.0)], 4),
        # all eight really run at once: nothing to lower
        ([(0.0, 2.0), *_burst(8, 8, 2.0, at=3.0)], 16),
        # a server that runs all sixteen at once on a busy machine: every answer is slower than
        # the one alone, none waits behind another: throughput still grows, nothing to lower
        ([(0.0, 0.4), *[(1.0, 0.5 + 0.01 * i) for i in range(16)]], 16),
        # a fast server (a cloud API, a test double): queueing costs nothing, never adapted
        ([(0.0, 0.01), *_burst(8, 1, 0.01, at=1.0)], 16),
        # no request was ever alone (a burst held until all eight arrived): nothing to compare
        ([(0.01 * i, 0.5 - 0.01 * i) for i in range(8)] * 2, 16),
    ],
)
def test_parallelism_is_learned_from_latency(
    requests: list[tuple[float, float]], limit: int
) -> None:
    pacer = Pacer("http://127.0.0.1:9/v1", 16)
    pacer._probed = True  # no /props to read here
    _feed(pacer, requests)
    assert pacer.limit == limit
    notes = pacer.take_notes()
    assert bool(notes) == (limit != 16) and pacer.take_notes() == []
    if limit != 16:
        assert notes[0].startswith(f"concurrency 16 → {limit} (latency grew")


def test_deadline_follows_the_measured_speed_and_a_timeout_halves_the_limit() -> None:
    pacer = Pacer("http://127.0.0.1:9/v1", 8)
    pacer._probed = True
    assert pacer.deadline(60, 1024, 1) == 60  # nothing measured yet
    _feed(pacer, [(0.0, 4.0)])  # 20 tokens in 4 s: 5 tokens per second
    assert pacer.deadline(60, 1024, 1) == pytest.approx(3 * (4 + 1024 / 5))
    pacer._in_flight = 2
    pacer.release(2, 60.0, 0, ok=False, timed_out=True)
    assert pacer.limit == 4 and "a request timed out" in pacer.take_notes()[0]


def _tsp(tmp_path: Path) -> Path:
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project), "--points", "8"]) == 0
    return project


def _tours(prompt: str, body: dict[str, Any]) -> str:
    return "Here is a new trace: <trace> 0,1,2,3,4,5,6,7 </trace>"


def test_a_one_slot_server_is_paced_with_default_settings(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's server: one request at a time, 2 s each, n ignored; default concurrency
    16 and timeout 60 s."""
    project = _tsp(tmp_path)
    with fake_server(_tours, latency=2.0, max_parallel=1, honor_n=False) as srv:
        args = ["run", str(project), "--steps", "2", "--samples", "4", "--base-url", srv.base_url]
        code = main([*args, "--model", "fake-optimizer"])
        out = capsys.readouterr().out
        assert code == 0
        assert srv.stats.abandoned == 0  # the server never computed an answer for nobody
        assert srv.stats.arrivals[-4:] == [1, 1, 1, 1]  # step 2: one request at a time
    assert "pacing: concurrency 16 → 1 (latency grew with requests in flight" in out
    assert "top-ups (server ignored n)" in out
    assert main(["show", str(project), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["timeouts"] == 0 and run["failed_calls"] == 0 and run["retries"] == 0
    assert run["pacing_notes"][0].startswith("concurrency 16 → 1")
    assert main(["show", str(project)]) == 0
    assert "concurrency 16 → 1" in capsys.readouterr().out


def test_llama_cpp_slots_are_read_before_the_first_request(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tsp(tmp_path)
    with fake_server(_tours, latency=0.3, max_parallel=1, honor_n=False, flavor="llamacpp") as srv:
        args = ["run", str(project), "--steps", "1", "--samples", "3", "--base-url", srv.base_url]
        assert main([*args, "--model", "fake-optimizer", "--no-format-check"]) == 0
        assert srv.stats.arrivals == [1, 1, 1]  # never more than its one slot
        assert srv.stats.abandoned == 0
    assert (
        "pacing: concurrency 16 → 1 (the server reports 1 parallel slot(s))"
        in capsys.readouterr().out
    )


def test_requests_queued_behind_ours_are_not_timed_out(fake_server: Any) -> None:
    """A burst with nothing measured yet (a prompt run's first scoring): six requests at once to
    a one-slot server, 1 s each, 2.5 s timeout. While the server keeps answering ours, those
    queued behind keep their time; without pacing the later ones are timed out and abandoned."""
    from opro_gui.core.ports import LLMRequest
    from opro_gui.llm import EndpointConfig, make_client

    outcomes = {}
    for adaptive in (True, False):
        with fake_server(latency=1.0, max_parallel=1) as srv:
            cfg = EndpointConfig(
                base_url=srv.base_url,
                model="m",
                timeout=2.5,
                max_retries=0,
                concurrency=8,
                adaptive_pacing=adaptive,
            )
            client = make_client(cfg)
            results = client.complete([LLMRequest(prompt=f"q{i}") for i in range(6)])
            client.close()  # type: ignore[attr-defined]
            outcomes[adaptive] = [r.ok for r in results]
    assert outcomes[True] == [True] * 6
    assert not all(outcomes[False])  # the same burst without pacing loses requests
