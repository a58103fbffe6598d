"""Known OpenAI-compatible providers and local servers; model listing, connection test, probing."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import openai

from opro_gui.core.text import storable

from .config import EndpointConfig, is_local_url, is_loopback_url
from .config import model_mismatch as model_mismatch  # its home before config.py
from .retry import classify
from .secrets import NO_KEY, clip, resolve_key, scrub
from .wire import make_sdk


@dataclass(frozen=True)
class Preset:
    name: str
    base_url: str
    api_key_env: str
    local: bool
    notes: str = ""

    def config(self, model: str, **overrides: object) -> EndpointConfig:
        """An EndpointConfig for ``model`` on this provider."""
        fields: dict[str, object] = {"base_url": self.base_url, "api_key_env": self.api_key_env}
        fields.update(overrides)
        return EndpointConfig(model=model, **fields)  # type: ignore[arg-type]


PRESETS: tuple[Preset, ...] = (
    Preset("OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY", False, "Honours n."),
    Preset(
        "Azure OpenAI",
        "https://YOUR-RESOURCE.openai.azure.com/openai/v1",
        "AZURE_OPENAI_API_KEY",
        False,
        "Replace YOUR-RESOURCE; the model field is your deployment name.",
    ),
    Preset(
        "Ollama", "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY", True, "No key needed. Ignores n."
    ),
    Preset("LM Studio", "http://127.0.0.1:1234/v1", "LMSTUDIO_API_KEY", True, "No key needed."),
    Preset(
        "vLLM",
        "http://127.0.0.1:8000/v1",
        "VLLM_API_KEY",
        True,
        "Key only if started with --api-key.",
    ),
    Preset(
        "llama-cpp-python",
        "http://127.0.0.1:8000/v1",
        "LLAMACPP_API_KEY",
        True,
        "No key needed. Ignores n; answers any model name (use the listed model id).",
    ),
    Preset(
        "llama.cpp server",
        "http://127.0.0.1:8080/v1",
        "LLAMACPP_API_KEY",
        True,
        "No key needed. Ignores n: completions are requested one by one.",
    ),
    Preset(
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        False,
        "Models as vendor/name.",
    ),
    Preset("Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", False, "n must be 1."),
    Preset("Together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", False, ""),
)


def preset(name: str) -> Preset:
    for p in PRESETS:
        if p.name.lower() == name.lower():
            return p
    raise KeyError(f"no preset named {name!r}; known: {', '.join(p.name for p in PRESETS)}")


def _sdk(config: EndpointConfig, api_key: str | None, timeout: float) -> openai.OpenAI:
    key = resolve_key(config.api_key_env, config.keyring_profile, api_key)
    return make_sdk(config, key or NO_KEY, timeout=timeout)


def list_models(
    config: EndpointConfig, api_key: str | None = None, timeout: float = 10.0
) -> list[str]:
    """Model ids the server offers (GET /models), sorted. Raises ``openai.OpenAIError``."""
    sdk = _sdk(config, api_key, timeout)
    with sdk:
        return sorted(m.id for m in sdk.models.list())


def test_connection(
    config: EndpointConfig, api_key: str | None = None, timeout: float = 10.0
) -> tuple[bool, str, list[str]]:
    """(ok, a message for the user, the server's models). Never raises; never shows the key."""
    key = resolve_key(config.api_key_env, config.keyring_profile, api_key)
    if key is None and not is_local_url(config.base_url):
        return False, f"no API key: set ${config.api_key_env} or store a key for this profile", []
    try:
        models = [clip(scrub(storable(m), key), 200) for m in list_models(config, api_key, timeout)]
    except Exception as exc:
        fail = classify(
            exc, base_url=config.base_url, timeout=timeout, key_env=config.api_key_env, cap=0
        )
        return False, clip(scrub(storable(fail.message), key)), []
    if not models:
        return True, f"connected to {config.base_url}; it lists no models", models
    if config.model and config.model not in models:
        shown = ", ".join(models[:10]) + (" ..." if len(models) > 10 else "")
        msg = f"connected, but model {config.model!r} is not among the server's models: {shown}"
        return True, msg, models
    return True, f"connected to {config.base_url}: {len(models)} models", models


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def detect_local_servers(
    timeout: float = 0.3, presets: tuple[Preset, ...] | None = None
) -> list[Preset]:
    """The local presets whose server answers GET /v1/models. Probes only 127.0.0.1/::1."""
    found: list[Preset] = []
    for p in PRESETS if presets is None else presets:
        if not p.local or not is_loopback_url(p.base_url):
            continue  # never probe anything but this machine
        if any(f.base_url == p.base_url for f in found):
            continue  # two presets on one port (vLLM, llama-cpp-python): llm.detect tells them apart
        parts = urlsplit(p.base_url)
        try:
            conn = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout
            )
            try:
                conn.request("GET", parts.path.rstrip("/") + "/models")
                resp = conn.getresponse()
                body = resp.read(1_000_000)
            finally:
                conn.close()
        except OSError:
            continue
        if resp.status in (200, 401) and (resp.status == 401 or _looks_like_model_list(body)):
            notes = (
                p.notes if resp.status == 200 else (p.notes + " (server asks for a key)").strip()
            )
            found.append(replace(p, notes=notes))
    return found


def _looks_like_model_list(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)
