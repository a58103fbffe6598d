"""The OpenAI-compatible client against the loopback test server, through the real SDK."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from openai_server import FakeOpenAIServer

from opro_gui.core.ports import LLMClient, LLMRequest
from opro_gui.llm import EndpointConfig, make_client
from opro_gui.llm.openai_compat import OpenAICompatClient


def echo(prompt: str, body: dict[str, Any]) -> str:
    return f"answer to {prompt}"


def config(srv: FakeOpenAIServer, **kw: Any) -> EndpointConfig:
    kw.setdefault("model", "fake-scorer")
    kw.setdefault("timeout", 5.0)
    kw.setdefault("backoff_base", 0.01)
    return EndpointConfig(base_url=srv.base_url, **kw)


def client(srv: FakeOpenAIServer, **kw: Any) -> OpenAICompatClient:
    role = kw.pop("role", "scorer")
    c = make_client(config(srv, **kw), role=role)
    assert isinstance(c, OpenAICompatClient)
    return c


def test_make_client_satisfies_protocol(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server().start()
    with client(srv) as c:
        assert isinstance(c, LLMClient)
        assert c.model == "fake-scorer"


def test_requests_really_overlap_and_results_keep_order(
    fake_server: type[FakeOpenAIServer],
) -> None:
    gate = threading.Barrier(8, timeout=10)

    def blocking_echo(prompt: str, body: dict[str, Any]) -> str:
        gate.wait()  # passes only when 8 requests are inside the server at once
        return f"answer to {prompt}"

    srv = fake_server(blocking_echo).start()
    reqs = [LLMRequest(prompt=f"q{i}") for i in range(32)]
    with client(srv, concurrency=8) as c:
        results = c.complete(reqs)
    assert [r.texts for r in results] == [(f"answer to q{i}",) for i in range(32)]
    assert all(r.ok for r in results)
    assert srv.stats.max_in_flight == 8
    assert srv.stats.requests == 32


def test_call_record_fields(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, report_model="fake-scorer-2024-01-01").start()
    with client(srv, role="optimizer") as c:
        (res,) = c.complete([LLMRequest(prompt="one two three", role="replay")])
        (res2,) = c.complete([LLMRequest(prompt="x")])
    call = res.call
    assert call.role == "replay"  # an explicit request role wins
    assert res2.call.role == "optimizer"  # the default request role gives the client's
    assert call.model_requested == "fake-scorer"
    assert call.model_reported == "fake-scorer-2024-01-01"
    assert call.prompt_tokens == 3 and call.completion_tokens == 5
    assert call.retries == 0 and not call.cached and not call.error
    assert call.cost_usd == 0.0  # loopback is free
    assert call.base_url == srv.base_url
    assert call.latency_s >= 0
    assert res.calls == (call,)


def test_native_n_is_one_request(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, honor_n=True, record_bodies=True).start()
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=4, temperature=1.0)])
        assert not c.ignores_n
    assert res.ok and len(res.texts) == 4
    assert srv.stats.requests == 1
    assert srv.stats.bodies[0]["n"] == 4
    assert len(res.calls) == 1 and res.call.n == 4


def test_server_ignoring_n_is_topped_up_and_remembered(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, honor_n=False, record_bodies=True).start()
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=4, temperature=1.0)])
        assert res.ok and len(res.texts) == 4
        assert srv.stats.requests == 4  # 1 with n=4 that got one choice, then 3 top-ups
        assert len(res.calls) == 4
        assert c.ignores_n
        (res,) = c.complete([LLMRequest(prompt="p", n=3, temperature=1.0)])
    assert res.ok and len(res.texts) == 3
    assert srv.stats.requests == 7  # learned: straight to 3 parallel requests
    assert all("n" not in b for b in srv.stats.bodies[4:])


def test_parallel_mode_never_sends_n(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, record_bodies=True).start()
    with client(srv, n_mode="parallel") as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=3, temperature=1.0)])
    assert len(res.texts) == 3 and srv.stats.requests == 3
    assert all("n" not in b for b in srv.stats.bodies)


def test_native_mode_reports_short_answers(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, honor_n=False).start()
    with client(srv, n_mode="native") as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=3, temperature=1.0)])
    assert len(res.texts) == 1 and srv.stats.requests == 1
    assert "1 of n=3" in res.error


def test_completion_mode_and_request_body(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, record_bodies=True).start()
    with client(srv, mode="completion", max_tokens=77) as c:
        (res,) = c.complete([LLMRequest(prompt="Q: 1+1\nA:", stop=("\n",), max_tokens=0)])
    body = srv.stats.bodies[0]
    assert res.texts == ("answer to Q: 1+1\nA:",)
    assert body["prompt"] == "Q: 1+1\nA:" and body["stop"] == ["\n"]
    assert body["max_tokens"] == 77  # a request without its own value takes the endpoint's
    assert "messages" not in body


def test_chat_body_uses_request_max_tokens(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, record_bodies=True).start()
    with client(srv, max_tokens=77) as c:
        c.complete([LLMRequest(prompt="hi", max_tokens=12, temperature=0.5)])
    body = srv.stats.bodies[0]
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 12 and body["temperature"] == 0.5


def test_loopback_without_key_uses_dummy(
    fake_server: type[FakeOpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    srv = fake_server(echo, require_key="sk-no-key").start()
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert res.ok


def test_remote_without_key_fails_clearly_without_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    cfg = EndpointConfig(base_url="https://api.example.com/v1", model="gpt-4o")
    with OpenAICompatClient(cfg) as c:
        results = c.complete([LLMRequest(prompt="p"), LLMRequest(prompt="q")])
    assert [r.ok for r in results] == [False, False]
    assert results[0].error.startswith("no API key: set $OPENAI_API_KEY")
    assert results[0].texts == ()


def test_empty_batch(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server().start()
    with client(srv) as c:
        assert c.complete([]) == []
    assert srv.stats.requests == 0


def test_server_refusing_n_gets_parallel_requests(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, reject_n=True).start()
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=3, temperature=1.0)])
        assert res.ok and len(res.texts) == 3
        assert srv.stats.requests == 4 and srv.stats.statuses[400] == 1
        assert len(res.calls) == 4 and "HTTP 400" in res.calls[0].error  # kept for the record
        assert c.ignores_n
        (res,) = c.complete([LLMRequest(prompt="p", n=2, temperature=1.0)])
    assert res.ok and srv.stats.requests == 6 and srv.stats.statuses[400] == 1


def test_other_bad_requests_are_not_mistaken_for_n(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, reject_n=True).start()
    with client(srv, n_mode="native") as c:
        (res,) = c.complete([LLMRequest(prompt="p", n=3, temperature=1.0)])
    assert not res.ok and "HTTP 400" in res.error and srv.stats.requests == 1


def test_other_model_answering_is_said_once(
    fake_server: type[FakeOpenAIServer], caplog: pytest.LogCaptureFixture
) -> None:
    srv = fake_server(echo, report_model="llama-3-8b").start()
    with client(srv) as c:
        results = c.complete([LLMRequest(prompt="a"), LLMRequest(prompt="b")])
        c.complete([LLMRequest(prompt="c")])
    assert all(r.call.model_reported == "llama-3-8b" for r in results)
    warnings = [r for r in caplog.records if "answered as 'llama-3-8b'" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


def test_workers_end_when_an_unclosed_client_is_dropped(
    fake_server: type[FakeOpenAIServer],
) -> None:
    srv = fake_server(echo).start()
    before = set(threading.enumerate())
    c = client(srv, concurrency=3)
    c.complete([LLMRequest(prompt="p")])
    workers = [t for t in set(threading.enumerate()) - before if t.name.startswith("opro-llm")]
    assert len(workers) == 3
    del c
    gc.collect()
    for t in workers:
        t.join(10)
    assert not any(t.is_alive() for t in workers)


def test_one_client_serves_several_callers_at_once(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    out: dict[int, list[tuple[str, ...]]] = {}
    with client(srv, concurrency=4) as c:

        def caller(k: int) -> None:
            out[k] = [
                r.texts for r in c.complete([LLMRequest(prompt=f"{k}-{i}") for i in range(10)])
            ]

        threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert out == {k: [(f"answer to {k}-{i}",) for i in range(10)] for k in range(4)}
    assert srv.stats.max_in_flight <= 4  # the limit holds across callers


def test_a_bug_in_a_worker_becomes_an_error_result(
    fake_server: type[FakeOpenAIServer], caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenLimiter:
        @property
        def active(self) -> bool:
            raise RuntimeError("boom")

    srv = fake_server(echo).start()
    with client(srv) as c:
        c.limiter = BrokenLimiter()  # type: ignore[assignment]
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert not res.ok and res.error == "internal error: RuntimeError: boom"
    assert "internal error in the LLM client" in caplog.text
    assert srv.stats.requests == 0
