"""Is a model name one the server serves? /models read once; servers echoing any name told."""

from __future__ import annotations

from dataclasses import dataclass, replace

import openai

from opro_gui.core.ports import LLMRequest

from .config import EndpointConfig
from .presets import list_models
from .retry import classify
from .secrets import NO_KEY, resolve_key, scrub
from .wire import make_sdk, send

_SHOWN = 20


@dataclass(frozen=True)
class ModelCheck:
    ok: bool  # False: the name is not served (or the list could not be read)
    message: str  # one sentence for the user
    models: tuple[str, ...] = ()
    echoes: bool = False  # the server answered an unlisted name as that very name
    reachable: bool = True


def check_model(
    config: EndpointConfig,
    api_key: str | None = None,
    timeout: float = 10.0,
    probe: bool = True,
    listed: dict[tuple[str, str, str], tuple[str, ...]] | None = None,
) -> ModelCheck:
    """Check ``config.model`` against the server's ``/models``. When the name is not listed,
    one request of a single token is sent with that name: a server that answers as the name
    asked for echoes any name (llama-cpp-python does), which is said. ``listed`` keeps the
    lists already read (one GET /models per server and key, whatever the number of roles)."""
    server = (config.base_url.rstrip("/"), config.api_key_env, config.keyring_profile or "")
    try:
        if listed is not None and server in listed:
            models = listed[server]
        else:
            models = tuple(list_models(config, api_key, timeout))
            if listed is not None:
                listed[server] = models
    except Exception as exc:
        fail = classify(
            exc, base_url=config.base_url, timeout=timeout, key_env=config.api_key_env, cap=0
        )
        key = resolve_key(config.api_key_env, config.keyring_profile, api_key)
        msg = (
            f"could not read the model list of {config.base_url}: {scrub(fail.message, key)} "
            "(pass --no-model-check for servers without /models)"
        )
        reachable = fail.status != 0  # it answered, with an HTTP error
        return ModelCheck(False, msg, reachable=reachable)
    shown = ", ".join(models[:_SHOWN]) + (
        f" … ({len(models)} in all)" if len(models) > _SHOWN else ""
    )
    if config.model in models:
        return ModelCheck(True, f"model {config.model!r} is served by {config.base_url}", models)
    if not models:
        msg = f"{config.base_url} lists no models; pass --no-model-check to use {config.model!r}"
        return ModelCheck(False, msg, models)
    answered = _answered_as(config, api_key, timeout) if probe else ""
    msg = f"model {config.model!r} is not among the models of {config.base_url}: {shown}"
    if answered == config.model:
        msg += (
            f". The server answers any model name by echoing it (it answered {config.model!r} "
            "although it does not list it), so it would run its own model under that name"
        )
        return ModelCheck(False, msg + "; pass one of the listed names", models, echoes=True)
    if answered:
        msg += f" (asked anyway, it answered as {answered!r})"
    return ModelCheck(False, msg + "; pass one of them, or --no-model-check", models)


def _answered_as(config: EndpointConfig, api_key: str | None, timeout: float) -> str:
    """The model name the server reports for a one-token request, or "" if it refuses."""
    key = resolve_key(config.api_key_env, config.keyring_profile, api_key) or NO_KEY
    cfg = replace(config, concurrency=1)
    sdk: openai.OpenAI = make_sdk(cfg, key, timeout=timeout)
    try:
        with sdk:
            _, reported, _, _ = send(sdk, cfg, LLMRequest(prompt="Hi", temperature=0.0), 1, 1)
    except Exception:
        return ""
    return reported
