"""One completion request on the wire through the openai SDK, and building that SDK client."""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from opro_gui.core.ports import LLMRequest

from .config import EndpointConfig
from .pricing import tokens_from_chars
from .retry import BadResponse


def make_sdk(config: EndpointConfig, key: str, *, timeout: float | None = None) -> openai.OpenAI:
    """An SDK client with our timeouts, a connection pool sized to the concurrency, and the
    SDK's own retries off (ours count, log and honour cancellation)."""
    seconds = config.timeout if timeout is None else timeout
    conc = config.concurrency
    http = httpx2.Client(
        timeout=httpx2.Timeout(seconds),
        limits=httpx2.Limits(max_connections=conc + 4, max_keepalive_connections=conc),
        follow_redirects=True,
    )
    return openai.OpenAI(
        api_key=key, base_url=config.base_url, timeout=seconds, max_retries=0, http_client=http
    )


def send(
    sdk: openai.OpenAI, config: EndpointConfig, req: LLMRequest, n: int, max_tokens: int
) -> tuple[list[str], str, int, int]:
    """(texts, model reported, prompt tokens, completion tokens) of one HTTP call.

    Raises the SDK's errors, or ``BadResponse`` when a 200 answer is not a readable completion.
    """
    kwargs: dict[str, Any] = {"model": config.model, "temperature": req.temperature}
    if n > 1:
        kwargs["n"] = n  # omitted for 1: some servers reject the parameter altogether
    if req.stop:
        kwargs["stop"] = list(req.stop)
    if config.mode == "chat":
        kwargs[max_tokens_param(config.model)] = max_tokens
        kwargs["messages"] = messages_of(req)
        resp: Any = sdk.chat.completions.create(**kwargs)
    else:
        kwargs["max_tokens"] = max_tokens
        kwargs["prompt"] = plain_prompt_of(req)
        resp = sdk.completions.create(**kwargs)
    try:
        choices = sorted(resp.choices, key=lambda c: c.index or 0)
        if config.mode == "chat":
            texts = [c.message.content or "" for c in choices]
        else:
            texts = [c.text or "" for c in choices]
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("completion text is not a string")
        reported = str(getattr(resp, "model", "") or "")
        usage = getattr(resp, "usage", None)
        if usage is not None and usage.prompt_tokens is not None:
            p_tok, c_tok = int(usage.prompt_tokens), int(usage.completion_tokens or 0)
        else:  # some local servers send no usage: estimate, so budgets still move
            p_tok = tokens_from_chars(len(req.prompt))
            c_tok = sum(tokens_from_chars(len(t)) for t in texts)
    except Exception as exc:
        raise BadResponse(type(exc).__name__) from None
    return texts, reported, p_tok, c_tok


def messages_of(req: LLMRequest) -> list[dict[str, str]]:
    """The chat turns of a request: the user turn, with the system message before or after it."""
    user = {"role": "user", "content": req.prompt}
    if not req.system:
        return [user]
    system = {"role": "system", "content": req.system}
    return [user, system] if req.system_after else [system, user]


def plain_prompt_of(req: LLMRequest) -> str:
    """A completion-mode prompt: the system text joined before or after the prompt."""
    if not req.system:
        return req.prompt
    parts = [req.prompt, req.system] if req.system_after else [req.system, req.prompt]
    return "\n\n".join(parts)


def max_tokens_param(model: str) -> str:
    """OpenAI's reasoning models refuse ``max_tokens`` in chat; everyone else expects it."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(("o1", "o3", "o4", "gpt-5")):
        return "max_completion_tokens"
    return "max_tokens"
