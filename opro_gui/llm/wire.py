"""One completion request on the wire through the openai SDK, and building that SDK client."""

from __future__ import annotations

import functools
import logging
import math
import ssl
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from opro_gui.core.ports import LLMRequest
from opro_gui.core.text import storable

from .config import EndpointConfig
from .deadline import install, request_budget
from .pricing import tokens_from_chars
from .retry import BadResponse

log = logging.getLogger(__name__)
_EXTENDED_READS = 100  # per-read limit of an extendable attempt, in timeouts (its budget rules)


def make_sdk(config: EndpointConfig, key: str, *, timeout: float | None = None) -> openai.OpenAI:
    """An SDK client with our timeouts, a connection pool sized to the concurrency, and the
    SDK's own retries off (ours count, log and honour cancellation)."""
    seconds = config.timeout if timeout is None else timeout
    conc = config.concurrency
    http = httpx2.Client(
        timeout=httpx2.Timeout(seconds),
        limits=httpx2.Limits(max_connections=conc + 4, max_keepalive_connections=conc),
        follow_redirects=True,
        verify=_tls_context(),
    )
    install(http)
    return openai.OpenAI(
        api_key=key, base_url=config.base_url, timeout=seconds, max_retries=0, http_client=http
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client of the process (building one reads the
    system's certificates: ~30 ms each time; a context is safe to share between clients)."""
    return httpx2.create_ssl_context()


def response_cap(n: int, max_tokens: int) -> int:
    """The most bytes one answer may have: ample for ``n`` completions of ``max_tokens`` each
    (64 bytes a token covers JSON-escaped emoji), so a server ignoring max_tokens is cut off."""
    return 2_000_000 + max(1, n) * max(1, max_tokens) * 64


def send(
    sdk: openai.OpenAI,
    config: EndpointConfig,
    req: LLMRequest,
    n: int,
    max_tokens: int,
    track: Callable[[Any], None] | None = None,
) -> tuple[list[str], str, int, int]:
    """(texts, model reported, prompt tokens, completion tokens) of one HTTP call.

    Raises the SDK's errors, or ``BadResponse`` when a 200 answer is not a readable completion.
    The whole attempt (connect, send, every byte of the answer) must end within
    ``config.timeout`` seconds and the answer stay under ``response_cap`` bytes. With
    ``track`` (adaptive pacing), the attempt's budget is handed over so the pacer may extend it
    while the server works through requests of ours queued before this one.
    """
    body: dict[str, Any] = {"model": config.model, "temperature": req.temperature}
    if n > 1:
        body["n"] = n  # omitted for 1: some servers reject the parameter altogether
    if req.stop:
        body["stop"] = list(req.stop)
    if config.mode == "chat":
        body[max_tokens_param(config.model)] = max_tokens
        body["messages"] = messages_of(req)
    else:
        body["max_tokens"] = max_tokens
        body["prompt"] = plain_prompt_of(req)
    # The SDK's per-read timeout follows the deadline; an extendable budget enforces it alone.
    seconds = config.timeout if track is None else config.timeout * _EXTENDED_READS
    path = "/chat/completions" if config.mode == "chat" else "/completions"
    with request_budget(config.timeout, response_cap(n, max_tokens), track is not None) as budget:
        if track is not None:
            track(budget)
        # The SDK's generic POST (its base URL, key, headers, timeouts and error types) with
        # the body as we built it and the answer read by us: the typed create() spends about
        # 1 ms of CPU per request checking the parameters and building response models, which
        # at 64 requests in flight is what bounds a scoring step on a small machine.
        http = sdk.post(path, cast_to=httpx2.Response, body=body, options={"timeout": seconds})
    try:
        texts, reported, usage = _read_completion(http.json(), config.mode == "chat")
        est_p = tokens_from_chars(len(req.prompt))
        est_c = sum(tokens_from_chars(len(t)) for t in texts)
        raw_p = usage.get("prompt_tokens") if usage is not None else None
        raw_c = usage.get("completion_tokens") if usage is not None else None
    except Exception as exc:
        raise BadResponse(type(exc).__name__) from None
    if raw_p is None:  # some local servers send no usage: estimate, so budgets still move
        return texts, reported, est_p, est_c
    # Usage is the server's word: a count that cannot be true is replaced (and logged), so it
    # can neither block saving (SQLite holds 64-bit integers) nor defeat a budget.
    p_tok = plausible_tokens(raw_p, est_p, 4 * len(req.prompt) + 4096, "prompt_tokens")
    c_cap = n * max_tokens + 4096
    c_tok = plausible_tokens(raw_c, est_c, c_cap, "completion_tokens")
    return texts, reported, p_tok, c_tok


def _read_completion(data: Any, chat: bool) -> tuple[list[str], str, dict[str, Any] | None]:
    """(texts in choice order, model reported, usage) of a completion's JSON; raises
    (TypeError, KeyError, ...) when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise TypeError("not a completion object")
    choices = data["choices"]
    if not all(isinstance(c, dict) for c in choices):
        raise TypeError("a choice is not an object")
    choices = sorted(choices, key=lambda c: _index(c.get("index")))
    if chat:
        texts = [c["message"]["content"] or "" for c in choices]
    else:
        texts = [c["text"] or "" for c in choices]
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("completion text is not a string")
    texts = [storable(t) for t in texts]
    reported = storable(str(data.get("model") or ""))
    usage = data.get("usage")
    return texts, reported, usage if isinstance(usage, dict) else None


def _index(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


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


def plausible_tokens(raw: object, estimate: int, cap: int, what: str) -> int:
    """A usage count the server reported, made sane: a non-number or a negative count becomes
    ``estimate``; a count above ``cap`` (more tokens than could have been sent or asked for)
    becomes ``cap``."""
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    if value is not None and 0 <= value <= cap:
        return value
    fixed = estimate if value is None or value < 0 else cap
    log.warning("server reported impossible usage %s=%.40s; counted %d instead", what, raw, fixed)
    return fixed


def max_tokens_param(model: str) -> str:
    """OpenAI's reasoning models refuse ``max_tokens`` in chat; everyone else expects it."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(("o1", "o3", "o4", "gpt-5")):
        return "max_completion_tokens"
    return "max_tokens"
