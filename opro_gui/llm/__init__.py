"""The only code that talks to a model: OpenAI-compatible clients, presets, prices, secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opro_gui.core.ports import LLMClient, ResponseCache

from .cache import MemoryCache, cache_key
from .config import EndpointConfig, is_local_url, is_loopback_url, model_mismatch
from .pricing import PRICE_TABLE, RunEstimate, estimate_cost, estimate_run, price_for

if TYPE_CHECKING:
    from .openai_compat import OpenAICompatClient
    from .presets import (
        PRESETS,
        Preset,
        detect_local_servers,
        list_models,
        test_connection,
    )

#: Loaded on first use: they import the `openai` SDK (slow), which most commands never need.
_FROM_PRESETS = ("PRESETS", "Preset", "detect_local_servers", "list_models", "test_connection")


def __getattr__(name: str) -> Any:
    if name == "OpenAICompatClient":
        from .openai_compat import OpenAICompatClient

        return OpenAICompatClient
    if name in _FROM_PRESETS:
        from . import presets

        return getattr(presets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PRESETS",
    "PRICE_TABLE",
    "EndpointConfig",
    "MemoryCache",
    "OpenAICompatClient",
    "Preset",
    "RunEstimate",
    "cache_key",
    "detect_local_servers",
    "list_models",
    "model_mismatch",
    "test_connection",
    "estimate_cost",
    "estimate_run",
    "is_local_url",
    "is_loopback_url",
    "make_client",
    "price_for",
]


def make_client(
    config: EndpointConfig,
    *,
    cache: ResponseCache | None = None,
    api_key: str | None = None,
    role: str = "optimizer",
) -> LLMClient:
    """A client for ``config``. The key: ``api_key``, else the env var, else the keyring
    profile; loopback/private servers work without one. ``role`` is recorded on each call
    unless a request sets its own (non-default) role. ``close()`` ends its worker threads
    at once; otherwise they end when the client is garbage-collected."""
    from .openai_compat import OpenAICompatClient

    return OpenAICompatClient(config, cache=cache, api_key=api_key, role=role)
