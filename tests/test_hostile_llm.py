"""The LLM client against a malicious server: drip, oversize, surrogates, usage, echoed keys."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hostile_server import LONE_SURROGATE, HostileServer, Hostility

from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig
from opro_gui.llm.openai_compat import OpenAICompatClient

KEY = "sk-planted-SECRET-0123456789abcdef"

MakeServer = Callable[..., HostileServer]


@pytest.fixture
def hostile() -> Iterator[MakeServer]:
    started: list[HostileServer] = []

    def make(hostility: Hostility, **kw: Any) -> HostileServer:
        srv = HostileServer(hostility, **kw).start()
        started.append(srv)  # type: ignore[arg-type]
        return srv  # type: ignore[return-value]

    yield make
    for srv in started:
        srv.stop()


def client(srv: HostileServer, **kw: Any) -> OpenAICompatClient:
    kw.setdefault("timeout", 5.0)
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("backoff_max", 0.01)
    cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer", **kw)
    return OpenAICompatClient(cfg, api_key=KEY, role="scorer", seed=1)


def test_slow_drip_ends_at_the_deadline_and_is_not_retried(hostile: MakeServer) -> None:
    srv = hostile(Hostility(drip_bytes_per_s=20))  # each read is quick; the whole is not
    with client(srv, timeout=0.5, max_retries=3) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert not res.ok
    assert res.error == "the server sent its answer too slowly: not complete after 0.5 s"
    assert res.call.retries == 0 and srv.stats.requests == 1


def test_oversized_answer_is_cut_off(hostile: MakeServer) -> None:
    srv = hostile(Hostility(oversize_bytes=10_000_000))
    with client(srv, max_retries=3) as c:
        (res,) = c.complete([LLMRequest(prompt="p", max_tokens=16)])
    assert not res.ok and res.texts == ()
    assert res.error == "the server's answer is larger than 2.0 MB"
    assert srv.stats.requests == 1


def test_answer_within_the_cap_passes(hostile: MakeServer) -> None:
    srv = hostile(Hostility(oversize_bytes=100_000))
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", max_tokens=16)])
    assert res.ok and res.texts == ("x" * 100_000,)


def test_lone_surrogates_are_replaced(hostile: MakeServer) -> None:
    srv = hostile(Hostility(surrogate=True))
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert res.ok and res.texts == ("ok\ufffd",)
    assert res.call.model_reported == "fake-scorer\ufffd"
    assert LONE_SURROGATE not in res.texts[0]
    res.texts[0].encode("utf-8")  # would raise with a lone surrogate


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 1e30, "completion_tokens": 1}, (4 * 1 + 4096, 1)),
        ({"prompt_tokens": 2**64, "completion_tokens": 2**63}, (4 * 1 + 4096, 16 + 4096)),
        ({"prompt_tokens": -5_000_000_000, "completion_tokens": -25}, (1, 1)),
        ({"prompt_tokens": "many", "completion_tokens": None}, (1, 1)),
        ({"prompt_tokens": float("nan"), "completion_tokens": 3.0}, (1, 3)),
    ],
)
def test_impossible_usage_is_replaced(
    hostile: MakeServer,
    caplog: pytest.LogCaptureFixture,
    usage: dict[str, Any],
    expected: tuple[int, int],
) -> None:
    srv = hostile(Hostility(usage=usage))
    with caplog.at_level(logging.WARNING), client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", max_tokens=16)])
    assert res.ok
    assert (res.call.prompt_tokens, res.call.completion_tokens) == expected
    assert "impossible usage" in caplog.text


def test_plausible_usage_is_kept(hostile: MakeServer) -> None:
    srv = hostile(Hostility(usage={"prompt_tokens": 7, "completion_tokens": 9}))
    with client(srv) as c:
        (res,) = c.complete([LLMRequest(prompt="p", max_tokens=16)])
    assert (res.call.prompt_tokens, res.call.completion_tokens) == (7, 9)


@pytest.mark.parametrize(
    "hostility",
    [
        Hostility(echo_key_in_error=172),  # the key starts 28 characters before a 200 cut
        Hostility(echo_key_in_error=290),  # the key straddles the 300-character message cut
        Hostility(echo_key_as_model=True),
        Hostility(echo_key_in_completion=True),
    ],
)
def test_an_echoed_key_never_comes_back(
    hostile: MakeServer, caplog: pytest.LogCaptureFixture, hostility: Hostility
) -> None:
    srv = hostile(hostility)
    with caplog.at_level(logging.DEBUG), client(srv, max_retries=0) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert srv.stats.auth_headers == [f"Bearer {KEY}"]  # the server really had the key
    everything = repr(res) + caplog.text
    for i in range(len(KEY) - 8):
        assert KEY[i : i + 9] not in everything, KEY[i : i + 9]


def test_a_silent_server_is_not_asked_again_once_the_grace_is_used(
    fake_server: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_server import Faults

    from opro_gui.llm import openai_compat

    monkeypatch.setattr(openai_compat, "TIMEOUT_GRACE_S", 0.0)  # as if --timeout were > 5 s
    srv = fake_server(faults=Faults(hang_rate=1.0, hang_seconds=30)).start()
    cfg = EndpointConfig(base_url=srv.base_url, model="m", timeout=0.3, max_retries=5)
    with OpenAICompatClient(cfg, api_key=KEY) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert res.error == "timed out after 0.3 s" and res.call.retries == 0
    assert srv.stats.requests == 1


class _StopArrivesAfterTheCheck:
    """A cancel token whose Stop lands between the call's last look and its send."""

    def __init__(self) -> None:
        self.looks = 0

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks > 1

    def wait(self, seconds: float) -> bool:
        return self.cancelled


def test_a_call_stopped_under_it_ends_cancelled_and_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stop closes the client while calls are queued behind slow ones (the pacer hands them a
    place as the broken calls give theirs back). Such a call meets a closed client; it ends as
    "cancelled", not as a warning that the server failed (found by bench/stop_latency.py)."""
    cfg = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=3)
    c = OpenAICompatClient(cfg, api_key="sk-test-0000000000")
    c.close()
    token = _StopArrivesAfterTheCheck()
    with caplog.at_level(logging.INFO):
        outcome = c._attempts(c._make_job(LLMRequest(prompt="p")), 1, token)  # type: ignore[arg-type]
    assert outcome.record.error == "cancelled" and outcome.record.retries == 0
    assert token.looks == 2 and not caplog.records
