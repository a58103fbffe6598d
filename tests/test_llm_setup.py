"""Endpoint setup: config round trip, presets, model listing, connection test, keys, prices."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.errors import PasswordDeleteError
from openai_server import FakeOpenAIServer

from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig, estimate_cost, estimate_run, price_for
from opro_gui.llm.openai_compat import OpenAICompatClient
from opro_gui.llm.presets import (
    PRESETS,
    Preset,
    detect_local_servers,
    list_models,
    model_mismatch,
    preset,
    test_connection,
)
from opro_gui.llm.secrets import delete_key, get_key, resolve_key, scrub, set_key

# -- config -------------------------------------------------------------------------------


def test_config_public_dict_round_trip_has_no_key() -> None:
    cfg = EndpointConfig(
        base_url="https://api.openai.com/v1", model="gpt-4o", keyring_profile="work", rpm=60
    )
    data = cfg.to_public_dict()
    json.dumps(data)  # JSON-able
    assert not any("sk-" in str(v) for v in data.values())
    assert EndpointConfig.from_dict({**data, "api_key": "sk-leak", "future_field": 1}) == cfg


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        EndpointConfig(base_url="http://x/v1", model="m", concurrency=0)
    with pytest.raises(ValueError, match="mode"):
        EndpointConfig(base_url="http://x/v1", model="m", mode="edit")
    with pytest.raises(ValueError, match="n_mode"):
        EndpointConfig(base_url="http://x/v1", model="m", n_mode="sometimes")


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:11434/v1", True),
        ("http://localhost:8080/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://192.168.1.20:8000/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://8.8.8.8/v1", False),
    ],
)
def test_is_local(url: str, local: bool) -> None:
    assert EndpointConfig(base_url=url, model="m").is_local is local


# -- presets, list_models, test_connection, detection ---------------------------------------


def test_presets_cover_the_common_servers() -> None:
    names = {p.name for p in PRESETS}
    assert names == {
        "OpenAI", "Azure OpenAI", "Ollama", "LM Studio", "vLLM", "llama-cpp-python",
        "llama.cpp server", "OpenRouter", "Groq", "Together",
    }  # fmt: skip
    ports = {p.name: p.base_url.rsplit(":", 1)[-1] for p in PRESETS if p.local}
    assert ports == {
        "Ollama": "11434/v1",
        "LM Studio": "1234/v1",
        "vLLM": "8000/v1",
        "llama-cpp-python": "8000/v1",  # same port as vLLM: llm.detect tells them apart
        "llama.cpp server": "8080/v1",
    }
    assert all(p.base_url.startswith("http://127.0.0.1") for p in PRESETS if p.local)
    cfg = preset("ollama").config("llama3", concurrency=4)
    assert cfg.base_url == "http://127.0.0.1:11434/v1" and cfg.concurrency == 4


def test_list_models(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(models=("b-model", "a-model")).start()
    assert list_models(EndpointConfig(base_url=srv.base_url, model="a-model")) == [
        "a-model",
        "b-model",
    ]


def test_connection_ok_and_model_check(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server().start()
    ok, msg, models = test_connection(EndpointConfig(base_url=srv.base_url, model="fake-scorer"))
    assert ok and "2 models" in msg and models == ["fake-optimizer", "fake-scorer"]
    ok, msg, _ = test_connection(EndpointConfig(base_url=srv.base_url, model="gpt-9"))
    assert ok and "'gpt-9' is not among" in msg


def test_connection_wrong_key_is_clear(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(require_key="sk-right-key-000000", echo_key_in_errors=True).start()
    cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer")
    ok, msg, models = test_connection(cfg, api_key="sk-wrong-key-111111")
    assert not ok and models == []
    assert msg.startswith("wrong API key") and "sk-wrong-key-111111" not in msg
    assert test_connection(cfg, api_key="sk-right-key-000000")[0]


def test_connection_refused_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    ok, msg, _ = test_connection(
        EndpointConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m"), timeout=2
    )
    assert not ok and "connection to" in msg and "failed" in msg
    monkeypatch.delenv("OPENAI_API_KEY")
    ok, msg, _ = test_connection(EndpointConfig(base_url="https://api.example.com/v1", model="m"))
    assert not ok and msg.startswith("no API key")


def test_detect_local_servers_probes_only_loopback(
    fake_server: type[FakeOpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = fake_server().start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    candidates = (
        Preset("Here", srv.base_url, "X_KEY", True),
        Preset("Dead", f"http://127.0.0.1:{dead_port}/v1", "X_KEY", True),
        Preset("LAN", "http://192.0.2.1:8000/v1", "X_KEY", True),  # never probed: not loopback
        Preset("Cloud", "https://api.openai.com/v1", "X_KEY", False),
    )
    probed: list[str] = []
    real = http.client.HTTPConnection

    def spy(host: str, *args: Any, **kw: Any) -> http.client.HTTPConnection:
        probed.append(host)
        return real(host, *args, **kw)

    monkeypatch.setattr(http.client, "HTTPConnection", spy)
    found = detect_local_servers(timeout=0.3, presets=candidates)
    assert probed == ["127.0.0.1", "127.0.0.1"]
    assert [p.name for p in found] == ["Here"] and found[0].base_url == srv.base_url
    assert srv.stats.requests == 0  # GET /models is not counted as a completion


@pytest.mark.parametrize(
    ("requested", "reported", "mismatch"),
    [
        ("gpt-4o", "gpt-4o-2024-08-06", False),
        ("gpt-4o-2024-08-06", "gpt-4o", False),
        ("gpt-3.5-turbo", "gpt-3.5-turbo-0125", False),
        ("llama3", "llama3:latest", False),
        ("openai/gpt-4o", "gpt-4o", False),
        ("gpt-4o", "", False),
        ("gpt-4o", "gpt-4o-mini", True),
        ("gpt-4", "gpt-4.1", True),
        ("gpt-3.5-turbo", "gpt-3.5-turbo-instruct", True),
        ("llama3", "mistral", True),
    ],
)
def test_model_mismatch(requested: str, reported: str, mismatch: bool) -> None:
    assert model_mismatch(requested, reported) is mismatch


# -- secrets ------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("none")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_keyring_set_get_delete(memory_keyring: MemoryKeyring) -> None:
    set_key("work", "sk-from-keyring-123456")
    assert memory_keyring.store == {("opro-studio", "work"): "sk-from-keyring-123456"}
    assert get_key("work") == "sk-from-keyring-123456"
    assert delete_key("work") is True
    assert delete_key("work") is False and get_key("work") is None


def test_key_precedence(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    set_key("work", "sk-ring")
    monkeypatch.setenv("MY_KEY", "sk-env")
    assert resolve_key("MY_KEY", "work", explicit="sk-explicit") == "sk-explicit"
    assert resolve_key("MY_KEY", "work") == "sk-env"
    monkeypatch.delenv("MY_KEY")
    assert resolve_key("MY_KEY", "work") == "sk-ring"
    assert resolve_key("MY_KEY", "") is None


def test_client_takes_key_from_keyring(
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    fake_server: type[FakeOpenAIServer],
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    set_key("lab", "sk-lab-key-abcdef123")
    srv = fake_server(require_key="sk-lab-key-abcdef123").start()
    cfg = EndpointConfig(base_url=srv.base_url, model="m", keyring_profile="lab")
    with OpenAICompatClient(cfg) as c:
        (res,) = c.complete([LLMRequest(prompt="p")])
    assert res.ok


def test_without_keyring_backend_get_is_none() -> None:
    assert get_key("anything") is None  # the suite's null backend


def test_scrub() -> None:
    assert scrub("bad key sk-abcdefgh12345678 given", None) == "bad key sk-*** given"
    assert scrub("token=hunter2hunter2", "hunter2hunter2") == "token=***"
    assert scrub("nothing secret", "sk-x") == "nothing secret"


# -- pricing ------------------------------------------------------------------------------


def test_price_lookup_longest_prefix_and_local_free() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_for("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_for("openai/gpt-4.1-mini") == (0.40, 1.60)
    assert price_for("gpt-4o", "http://127.0.0.1:8000/v1") == (0.0, 0.0)
    assert price_for("some-unknown-model") is None
    assert estimate_cost(
        "gpt-4o", "https://api.openai.com/v1", 1_000_000, 100_000
    ) == pytest.approx(3.5)
    assert estimate_cost("llama3", "http://localhost:11434/v1", 10**6, 10**6) == 0.0


def test_config_price_overrides_table(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server().start()
    cfg = EndpointConfig(
        base_url=srv.base_url, model="m", price_in_per_mtok=1e6, price_out_per_mtok=2e6
    )
    with OpenAICompatClient(cfg) as c:
        (res,) = c.complete([LLMRequest(prompt="one two three")])
    # the server counts 3 prompt tokens and 1 completion token ("ok")
    assert res.call.cost_usd == pytest.approx(3 * 1.0 + 1 * 2.0)


def test_estimate_run() -> None:
    opt = EndpointConfig(base_url="https://api.openai.com/v1", model="gpt-4o")
    scorer = EndpointConfig(base_url="https://api.openai.com/v1", model="gpt-4o-mini")
    est = estimate_run(
        steps=10,
        optimizer=opt,
        meta_prompt_chars=4000,  # 1000 tokens
        samples_per_step=8,
        optimizer_completion_tokens=100,
        scorer=scorer,
        scorer_requests_per_step=800,
        scorer_prompt_chars=400,  # 100 tokens
        scorer_completion_tokens=10,
        initial_scorer_requests=100,
    )
    assert est.optimizer_calls == 80 and est.scorer_calls == 8100 and est.calls == 8180
    assert est.prompt_tokens == 80 * 1000 + 8100 * 100
    assert est.completion_tokens == 80 * 100 + 8100 * 10
    assert est.optimizer_cost_usd == pytest.approx((80_000 * 2.5 + 8_000 * 10) / 1e6)
    assert est.scorer_cost_usd == pytest.approx((810_000 * 0.15 + 81_000 * 0.6) / 1e6)
    assert est.priced and "8,180 calls" in est.summary()
    native = estimate_run(steps=10, optimizer=opt, meta_prompt_chars=4000, native_n=True)
    assert native.optimizer_calls == 10 and native.scorer_calls == 0


def test_estimate_run_flags_unpriced_models() -> None:
    opt = EndpointConfig(base_url="https://api.example.com/v1", model="mystery-1")
    est = estimate_run(steps=1, optimizer=opt, meta_prompt_chars=100)
    assert not est.priced and est.cost_usd == 0.0 and "unpriced" in est.summary()
