"""Which failures are worth retrying, how long to wait, and what to tell the user."""

from __future__ import annotations

import email.utils
import random
import re
import time
from dataclasses import dataclass

import openai

from .deadline import failure_reason

#: A request whose attempts time out is asked again only while it has waited less than this in
#: all: a silent server holds a request for at most about ``timeout`` + this many seconds.
TIMEOUT_GRACE_S = 5.0
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class BadResponse(Exception):
    """The server answered 200 but the body is not a completion we can read."""


@dataclass(frozen=True)
class Failure:
    message: str
    retryable: bool
    retry_after: float | None = None  # the server's wish, in seconds
    status: int = 0
    timed_out: bool = False  # the attempt hit its deadline with nothing received


def parse_retry_after(headers: object, cap: float) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date), capped."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    raw_ms = get("retry-after-ms")
    if raw_ms:
        try:
            return min(cap, max(0.0, float(raw_ms) / 1000.0))
        except ValueError:
            pass
    raw = get("retry-after")
    if not raw:
        return None
    try:
        return min(cap, max(0.0, float(raw)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return min(cap, max(0.0, when.timestamp() - time.time()))


def classify(
    exc: BaseException, *, base_url: str, timeout: float, key_env: str, cap: float
) -> Failure:
    """Turn an SDK/transport exception into a message and a retry decision."""
    cut_off = failure_reason(exc)  # too large / too slow: asking again would only repeat it
    if cut_off:
        return Failure(cut_off, False)
    if isinstance(exc, openai.APITimeoutError):
        return Failure(f"timed out after {timeout:g} s", True, timed_out=True)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        return Failure(f"connection to {base_url} failed{detail}", True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        text = _server_message(exc)
        if status == 401:
            return Failure(
                f"wrong API key: {base_url} rejected the key (HTTP 401); check ${key_env} "
                "or the key stored for this profile",
                False,
                status=status,
            )
        if status == 403:
            return Failure(f"access denied (HTTP 403): {text}", False, status=status)
        if status == 404:
            return Failure(
                f"not found (HTTP 404) — wrong base URL or model? {text}", False, status=status
            )
        retry_after = parse_retry_after(exc.response.headers, cap)
        retryable = status in RETRY_STATUSES or status >= 500
        label = (
            "rate limited"
            if status == 429
            else "server error"
            if status >= 500
            else "request rejected"
        )
        return Failure(f"{label} (HTTP {status}): {text}", retryable, retry_after, status)
    if isinstance(exc, UnicodeEncodeError):  # e.g. a header value: asking again cannot help
        return Failure("the request could not be encoded: a header (the key?) is not ASCII", False)
    if isinstance(exc, BadResponse | ValueError | openai.APIResponseValidationError):
        return Failure(f"undecodable response from server: {type(exc).__name__}: {exc}", True)
    return Failure(f"unexpected error: {type(exc).__name__}: {exc}", False)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:100_000]  # the caller scrubs the key, then cuts
        if body.get("message"):
            return str(body["message"])[:100_000]
    return str(exc.message)[:100_000]


def backoff_delay(
    retry: int, *, base: float, cap: float, retry_after: float | None, rng: random.Random
) -> float:
    """Exponential back-off with jitter; a server's Retry-After is a floor, not a suggestion."""
    ceiling = min(cap, base * (2.0**retry))
    delay = ceiling * (0.5 + 0.5 * rng.random())  # "equal jitter": never below half
    if retry_after is not None:
        delay = max(delay, retry_after) if retry_after > 0 else delay
    return delay


_N_REFUSAL = re.compile(r"['\"`]n['\"`]|\bn\s*(must|should|can|>|<|=)|\bchoices\b|parameter n\b")


def refused_n(status: int, error: str) -> bool:
    """A 400/422 that blames the ``n`` parameter (Groq, some vLLM/TGI builds)."""
    return status in (400, 422) and bool(_N_REFUSAL.search(error.lower()))
