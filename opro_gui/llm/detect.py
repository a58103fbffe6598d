"""Find model servers on this machine and name each by its answers, not by its port."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .config import EndpointConfig, is_loopback_url

#: The usual ports: Ollama, LM Studio, llama.cpp's llama-server, llama-cpp-python and vLLM.
USUAL_PORTS = (11434, 1234, 8080, 8000)
_MAX_BODY = 1_000_000

# What each program answers (checked in this order; the first that fits names the server).
OLLAMA, LMSTUDIO, LLAMACPP, LLAMACPP_PY, VLLM = (
    "Ollama",
    "LM Studio",
    "llama.cpp server",
    "llama-cpp-python",
    "vLLM",
)
GENERIC = "OpenAI-compatible server"
_NOTES = {
    OLLAMA: "ignores n: completions are requested one by one",
    LMSTUDIO: "no key needed",
    LLAMACPP: "ignores n; parallel slots set with --parallel",
    LLAMACPP_PY: "ignores n and answers any model name by echoing it",
    VLLM: "honours n; key only if started with --api-key",
    GENERIC: "",
}


@dataclass(frozen=True)
class DetectedServer:
    name: str  # which program, from its answers
    base_url: str
    models: tuple[str, ...] = ()
    slots: int | None = None  # parallel slots the server reports (llama.cpp), if any
    needs_key: bool = False
    notes: str = ""
    evidence: tuple[str, ...] = field(default=())  # what identified it

    def config(self, model: str, **overrides: Any) -> EndpointConfig:
        fields: dict[str, Any] = {"base_url": self.base_url, "api_key_env": ""}
        if self.slots:
            fields["concurrency"] = self.slots
        fields.update(overrides)
        return EndpointConfig(model=model, **fields)


def candidate_ports(extra: Iterable[int] = ()) -> list[int]:
    """The usual ports, the port of a loopback ``$OPENAI_BASE_URL``, and ``extra``."""
    ports = list(USUAL_PORTS)
    env = os.environ.get("OPENAI_BASE_URL", "")
    if env and is_loopback_url(env):
        parts = urlsplit(env)
        ports.append(parts.port or (443 if parts.scheme == "https" else 80))
    ports.extend(extra)
    return list(dict.fromkeys(int(p) for p in ports))


def detect_servers(
    ports: Iterable[int] | None = None, host: str = "127.0.0.1", timeout: float = 0.3
) -> list[DetectedServer]:
    """Every server answering on ``host`` (loopback only) at ``ports`` (default: the usual
    ones and $OPENAI_BASE_URL's), identified by its answers. A handful of GETs per open port."""
    if not is_loopback_url(f"http://{host}/"):
        raise ValueError(f"only this machine is probed, not {host!r}")
    found: list[DetectedServer] = []
    for port in candidate_ports() if ports is None else list(dict.fromkeys(ports)):
        server = identify(host, int(port), timeout)
        if server is not None:
            found.append(server)
    return found


def identify(host: str, port: int, timeout: float = 0.3) -> DetectedServer | None:
    """The server at ``host:port``, or None when nothing OpenAI-compatible answers there."""
    get = _Getter(host, port, timeout)
    status, models_body = get("/v1/models")
    if status is None:
        return None
    root_status, root = get("/")
    ollama = root_status == 200 and b"Ollama is running" in root
    if status == 401:
        name = OLLAMA if ollama else GENERIC
        return _server(name, host, port, (), None, True, ("GET /v1/models asks for a key",))
    models_json = _json(models_body)
    if (
        status != 200
        or not isinstance(models_json, dict)
        or not isinstance(models_json.get("data"), list)
    ):
        return None  # something else listens here (a web app, another service)
    entries = [m for m in models_json["data"] if isinstance(m, dict)]
    models = tuple(str(m.get("id", "")) for m in entries if m.get("id"))
    owners = {str(m.get("owned_by", "")) for m in entries}
    if ollama:
        return _server(OLLAMA, host, port, models, None, False, ('GET / says "Ollama is running"',))
    props = _json(get("/props")[1])
    if isinstance(props, dict) and (
        "total_slots" in props or "default_generation_settings" in props
    ):
        slots = props.get("total_slots")
        slots = int(slots) if isinstance(slots, int) and slots > 0 else None
        return _server(LLAMACPP, host, port, models, slots, False, ("GET /props",))
    if "vllm" in owners or any("max_model_len" in m for m in entries):
        return _server(VLLM, host, port, models, None, False, ("models owned_by vllm",))
    api = _json(get("/openapi.json")[1])
    title = str(((api or {}).get("info") or {}).get("title", "")) if isinstance(api, dict) else ""
    if "llama" in title.lower():
        return _server(LLAMACPP_PY, host, port, models, None, False, (f"openapi title {title!r}",))
    lms = _json(get("/api/v0/models")[1])
    lms_entries = lms.get("data") if isinstance(lms, dict) else None
    if isinstance(lms_entries, list) and any(
        isinstance(m, dict) and "state" in m for m in lms_entries
    ):  # LM Studio's own API: each model with its load state
        return _server(LMSTUDIO, host, port, models, None, False, ("GET /api/v0/models",))
    return _server(GENERIC, host, port, models, None, False, ("GET /v1/models",))


def _server(
    name: str,
    host: str,
    port: int,
    models: tuple[str, ...],
    slots: int | None,
    needs_key: bool,
    evidence: tuple[str, ...],
) -> DetectedServer:
    return DetectedServer(
        name=name,
        base_url=f"http://{host}:{port}/v1",
        models=models,
        slots=slots,
        needs_key=needs_key,
        notes=_NOTES[name] + (" (the server asks for a key)" if needs_key else ""),
        evidence=evidence,
    )


class _Getter:
    """Small GETs on one host:port; remembers a refused connection so it is not retried."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.dead = False

    def __call__(self, path: str) -> tuple[int | None, bytes]:
        if self.dead:
            return None, b""
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("GET", path, headers={"Accept": "application/json"})
                resp = conn.getresponse()
                return resp.status, resp.read(_MAX_BODY)
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            self.dead = path == "/v1/models"
            return None, b""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
