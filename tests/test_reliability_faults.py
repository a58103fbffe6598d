"""`opro run` against a faulty endpoint (20 % 429/500, hangs, drops, garbage): the run completes
or pauses with the reason shown, and what is stored matches exactly what the server served."""

from __future__ import annotations

import json
import random
import re
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openai_server import Faults

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig
from opro_gui.llm.openai_compat import OpenAICompatClient
from opro_gui.services import ProjectSession

SAMPLES = 4
_POINT = re.compile(r"\((\d+)\): \(")


def random_tours(prompt: str, body: dict[str, Any]) -> str:
    """A valid random tour of the instance in the prompt (never the optimum, in practice)."""
    rest = list(range(1, len(_POINT.findall(prompt))))
    random.Random(len(prompt) + random_tours.calls).shuffle(rest)  # type: ignore[attr-defined]
    random_tours.calls += 1  # type: ignore[attr-defined]
    return "Try <trace>" + ",".join(map(str, [0, *rest])) + "</trace>"


random_tours.calls = 0  # type: ignore[attr-defined]


def opro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored(project: Path) -> tuple[list[tuple[int, str]], list[dict[str, Any]]]:
    conn = sqlite3.connect(project)
    conn.row_factory = sqlite3.Row
    steps = [
        (r["step"], r["completions"]) for r in conn.execute("SELECT * FROM step ORDER BY step")
    ]
    calls = [dict(r) for r in conn.execute("SELECT * FROM llm_call ORDER BY id")]
    conn.close()
    return steps, calls


@pytest.mark.parametrize("seed", [1, 2])
def test_faulty_endpoint_loses_and_double_counts_nothing(
    seed: int, tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "f.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "15", "--seed", str(seed))[0] == 0
    faults = Faults(
        error_rate=0.2,
        hang_rate=0.02,
        drop_rate=0.03,
        garbage_rate=0.03,
        hang_seconds=3.0,
        retry_after=0.0,
        seed=seed,
        script=("429", "hang", "500", "drop", "ok", "garbage", "ok", "429", "ok"),
    )
    with fake_server(random_tours, faults=faults) as srv:
        # Short back-off (stored with the run, as the GUI's endpoint settings would) keeps the
        # test fast; `opro run` then continues the run with the endpoint it finds there.
        endpoint = EndpointConfig(
            base_url=srv.base_url,
            model="fake-optimizer",
            timeout=0.5,
            max_retries=6,
            backoff_base=0.02,
            backoff_max=0.2,
        )
        with ProjectSession.open(project) as session:
            session.prepare_run(RunSettings(max_steps=15, samples_per_step=SAMPLES), endpoint)
        # --no-format-check: the check's request would meet the injected faults as well
        code, out, err = opro(capsys, "run", str(project), "--steps", "15", "--no-format-check")
        stats = srv.stats
        assert stats.statuses[429] and stats.statuses[500] and stats.statuses[0]  # hangs: later
        steps, calls = stored(project)
        if code == 0:
            assert "run 1 completed: step budget of 15 used" in out
            assert [s for s, _ in steps] == list(range(16))
        else:  # paused: the reason is on the console and in the file
            assert code == 1 and "run 1 paused:" in out and "opro: run 1 stopped: " in err
            summary = json.loads(opro(capsys, "show", str(project), "--json")[1])
            assert summary["runs"][0]["status"] == "paused"
            assert summary["runs"][0]["status_reason"] in err

    numbers = [s for s, _ in steps]
    assert numbers == list(range(len(numbers))), "a gap or a repeated step"
    completions = [json.loads(c) for s, c in steps if s > 0]
    assert all(len(c) == SAMPLES for c in completions), "a step was stored incomplete"
    # Exactly what the server served, each once: completions, successful calls, requests.
    assert sum(len(c) for c in completions) == stats.completions_served
    ok = [c for c in calls if not c["error"]]
    assert len(ok) == stats.successes
    assert sum(c["n"] for c in ok) == stats.completions_served
    attempts = sum(1 + c["retries"] for c in calls)
    assert attempts == stats.requests if code == 0 else attempts <= stats.requests
    assert sum(c["retries"] for c in calls) > 0  # the faults really were retried


def test_endpoint_down_mid_run_pauses_with_reason_then_resumes(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p.opro"
    opro(capsys, "new", "tsp", str(project), "--points", "12", "--seed", "4")
    # Healthy for 3 requests, then every request fails: 429s, 500s and hangs past the timeout.
    script = ("ok", "ok", "ok") + ("429", "hang", "500") * 10
    faults = Faults(error_rate=1.0, hang_seconds=2.0, retry_after=0.0, script=script)
    with fake_server(random_tours, faults=faults) as srv:
        endpoint = EndpointConfig(
            base_url=srv.base_url,
            model="m",
            timeout=0.3,
            max_retries=2,
            backoff_base=0.01,
            backoff_max=0.05,
        )
        with ProjectSession.open(project) as session:
            session.prepare_run(RunSettings(max_steps=8, samples_per_step=SAMPLES), endpoint)
        code, out, err = opro(capsys, "run", str(project), "--steps", "8", "--no-format-check")
    assert code == 1 and "run 1 paused: optimizer request failed" in out
    assert "gave up after 2 retries" in err  # the reason, in words, on the console
    steps, _ = stored(project)
    assert [s for s, _ in steps] == [0, 1, 2, 3]
    with fake_server(random_tours) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "8", "--base-url", srv.base_url,
            "--no-format-check",
        )  # fmt: skip
    assert code == 0, err
    assert "continuing after step 3," in out and "step 4/8" in out
    steps, calls = stored(project)
    assert [s for s, _ in steps] == list(range(9))
    assert all(len(json.loads(c)) == SAMPLES for s, c in steps if s > 0)
    assert len([c for c in calls if not c["error"]]) == 8  # one per step, none lost or doubled


JUNK = ["", "<trace>", "<trace>0,1,1,1</trace>", "</trace><trace>", "\x00\x01\ufffd" * 50,
        "<trace>" + ",".join(["9" * 40] * 12) + "</trace>", "[w, b] = [nan, inf]", "x" * 200_000,
        "<trace>0,-1,2,3,4,5,6,7,8,9,10,11</trace>"]  # fmt: skip


@pytest.mark.parametrize("kind", ["tsp", "linreg"])
def test_garbage_completions_are_recorded_as_invalid_and_the_run_goes_on(
    kind: str, tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "g.opro"
    extra = ["--points", "12"] if kind == "tsp" else []
    assert opro(capsys, "new", kind, str(project), *extra)[0] == 0
    junk = iter(JUNK * 10)
    with fake_server(lambda prompt, body: next(junk)) as srv:
        code, out, err = opro(capsys, "run", str(project), "--steps", "3", "--samples", "3",
                              "--base-url", srv.base_url, "--no-format-check")  # fmt: skip
    assert code == 0, err
    assert "run 1 completed" in out
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert run["steps_completed"] == 3 and run["invalid_rate"] == 1.0
    code, out, _ = opro(capsys, "history", str(project), "--step", "2")
    assert code == 0 and out.count("verdict: invalid") == 3 and "reason: " in out


class _CutServer(ThreadingHTTPServer):
    """Answers each odd request with the headers and a third of the body, then hangs up."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests = 0
        self.seen: set[bytes] = set()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server.lock:  # handlers run in parallel: count and decide atomically
                    server.requests += 1
                    # the first attempt of each request is cut, its retry answered whole:
                    # decided per request, so no caller can draw a cut on every attempt
                    cut = request not in server.seen
                    server.seen.add(request)
                body = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "whole answer"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut:
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(body)

        return Handler


def test_response_cut_mid_body_is_retried_and_counted_once() -> None:
    srv = _CutServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
        config = EndpointConfig(base_url=url, model="m", backoff_base=0.01, max_retries=3)
        with OpenAICompatClient(config) as client:
            requests = [LLMRequest(prompt=f"q{i}", n=1, role="optimizer") for i in range(3)]
            results = client.complete(requests)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
    assert [r.texts for r in results] == [("whole answer",)] * 3
    assert all(r.error == "" for r in results)
    calls = [c for r in results for c in r.calls]
    assert srv.requests == sum(1 + c.retries for c in calls) == 6  # one cut, one retry each
    assert sum(c.completion_tokens for c in calls) == 6  # cut answers cost nothing, once each
