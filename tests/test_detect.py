"""Local model servers found and named by their answers, not their ports (issue 16)."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from opro_gui.cli import main
from opro_gui.llm import detect
from opro_gui.services.servers import find_local_servers

FLAVORS = {
    "ollama": detect.OLLAMA,
    "lmstudio": detect.LMSTUDIO,
    "llamacpp": detect.LLAMACPP,
    "llama-cpp-python": detect.LLAMACPP_PY,
    "vllm": detect.VLLM,
    "": detect.GENERIC,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_server_is_named_by_its_answers(fake_server: Any) -> None:
    servers = {
        flavor: fake_server(
            flavor=flavor, models=(f"{flavor or 'generic'}-model",), max_parallel=3
        ).start()
        for flavor in FLAVORS
    }
    dead = _free_port()
    ports = [srv.port for srv in servers.values()] + [dead]
    found = {s.base_url: s for s in find_local_servers(ports)}
    assert len(found) == len(FLAVORS)  # the closed port is skipped
    for flavor, srv in servers.items():
        s = found[srv.base_url]
        assert s.name == FLAVORS[flavor], flavor
        assert s.models == (f"{flavor or 'generic'}-model",)
        assert s.slots == (3 if flavor == "llamacpp" else None)
    assert found[servers["llamacpp"].base_url].config("m").concurrency == 3
    assert all(srv.stats.requests == 0 for srv in servers.values())  # GETs only, nothing generated


def test_keyed_and_foreign_servers(fake_server: Any) -> None:
    keyed = fake_server(require_key="sk-local").start()
    foreign = fake_server(models=None).start()  # answers HTTP, but not /v1/models
    (s,) = find_local_servers([keyed.port, foreign.port])
    assert s.base_url == keyed.base_url and s.needs_key and "asks for a key" in s.notes
    with pytest.raises(ValueError, match="only this machine"):
        detect.detect_servers([80], host="192.0.2.1")


def test_openai_base_url_port_is_among_the_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:4321/v1")
    assert detect.candidate_ports() == [11434, 1234, 8080, 8000, 4321]
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")  # not this machine
    assert detect.candidate_ports([5]) == [11434, 1234, 8080, 8000, 5]


def test_opro_models_lists_what_it_found(
    fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    a = fake_server(flavor="llama-cpp-python", models=("/models/qwen.gguf",)).start()
    b = fake_server(flavor="ollama", models=("qwen2.5:1.5b", "llama3:latest")).start()
    assert main(["models", "--only", "--port", str(a.port), "--port", str(b.port)]) == 0
    out = capsys.readouterr().out
    assert f"llama-cpp-python at {a.base_url}" in out and "  /models/qwen.gguf" in out
    assert f"Ollama at {b.base_url}" in out and "  llama3:latest" in out
    assert main(["models", "--only", "--port", str(b.port), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["name"] == "Ollama" and entry["models"] == ["qwen2.5:1.5b", "llama3:latest"]
