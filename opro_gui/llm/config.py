"""Where and how to reach one OpenAI-compatible endpoint: the EndpointConfig value type."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from opro_gui.core.text import without_url_credentials

MODES = ("chat", "completion")
N_MODES = ("auto", "native", "parallel")


@dataclass(frozen=True)
class EndpointConfig:
    """One model on one server. Holds the *name* of the key's env var, never the key."""

    base_url: str  # any OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    keyring_profile: str = ""  # if set and the env var is empty: keyring "opro-studio"/profile
    mode: str = "chat"  # "chat" | "completion" (plain completions for base models)
    max_tokens: int | None = None  # default max tokens; a request's own value wins
    timeout: float = 60.0  # deadline in seconds for one whole HTTP attempt (connect to last byte)
    max_retries: int = 5
    concurrency: int = 16  # requests in flight at once for this client, 1..256
    n_mode: str = "auto"  # "native" (send n), "parallel" (n requests of n=1), "auto"
    rpm: int | None = None  # requests per minute
    tpm: int | None = None  # tokens per minute (prompt estimated as chars/4)
    price_in_per_mtok: float | None = None  # $ per million prompt tokens; None -> price table
    price_out_per_mtok: float | None = None
    # Retry pacing (additive to the fields so tests can run fast).
    backoff_base: float = 0.5  # first back-off in seconds, doubled per retry, with jitter
    backoff_max: float = 20.0
    retry_after_cap: float = 60.0  # never sleep longer than this on a server's Retry-After
    # Local servers: learn how many requests the server runs at once and send no more than
    # that (llm/pacing.py); deadlines grow with the server's measured speed.
    adaptive_pacing: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.n_mode not in N_MODES:
            raise ValueError(f"n_mode must be one of {N_MODES}, not {self.n_mode!r}")
        problem = url_problem(self.base_url) if self.base_url else ""  # "": not set up yet
        if problem:
            raise ValueError(problem)
        _check_int("max_retries", self.max_retries, 0, 100)
        _check_int("concurrency", self.concurrency, 1, 256)
        if not _finite(self.timeout) or self.timeout <= 0:
            raise ValueError(f"timeout must be a number of seconds > 0, not {self.timeout!r}")
        for name in ("max_tokens", "rpm", "tpm"):
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value, 1, 2**62)
        for name in ("price_in_per_mtok", "price_out_per_mtok"):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or value < 0):
                raise ValueError(f"{name} must be a number >= 0, not {value!r}")
        for name in ("backoff_base", "backoff_max", "retry_after_cap"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, not {value!r}")

    @property
    def is_local(self) -> bool:
        return is_local_url(self.base_url)

    def to_public_dict(self) -> dict[str, Any]:
        """JSON-able; holds no secret (the key lives in the environment or the keyring)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointConfig:
        """Build from a dict, ignoring unknown fields (and any stray ``api_key``)."""
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known}
        if isinstance(clean.get("base_url"), str):  # a shared file may carry a password in it
            clean["base_url"] = without_url_credentials(clean["base_url"])
        return cls(**clean)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number within {low}..{high}, not {value!r}")


def url_problem(url: object) -> str:
    """Why ``url`` cannot be a base URL ("" when it can). Never repeats a password in it."""
    if not isinstance(url, str) or not url.strip():
        return "the base URL is empty"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        return "the base URL is not a valid URL"
    if parts.username is not None or parts.password is not None:
        return (
            "the base URL holds a user name or password (http://user:pass@host/...): remove "
            "it, and give the key through $OPENAI_API_KEY (or --api-key-env VAR) or the "
            "keyring, so it is never stored in the project or shown"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the base URL must start with http:// or https:// and name a host"
    if any(ch.isspace() or not ch.isprintable() for ch in url.strip()):
        return "the base URL contains spaces or control characters"
    return ""


def is_local_url(url: str) -> bool:
    """True for loopback, private-network and ``.local`` hosts: self-hosted, free, keyless."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".local") or host.endswith(".localhost"):
        return host != ""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_unspecified


def is_loopback_url(url: str) -> bool:
    """True only for this machine (127.0.0.0/8, ::1, localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# What may follow a model name without making it another model: dates, snapshot numbers,
# "latest"/"preview", explicit v-versions and quantisation tags of local servers.
_VERSION_SUFFIX = re.compile(
    r"^(?:[-:@](?:\d{4}-\d{2}-\d{2}|\d{4,8}|v\d+(?:\.\d+)*|latest|preview|q\d\w*|fp16|bf16|gguf|awq|gptq))+$",
    re.IGNORECASE,
)


def model_mismatch(requested: str, reported: str) -> bool:
    """True when the server answered with a different model than asked (not just a version).

    ``gpt-4o`` vs ``gpt-4o-2024-08-06`` or ``llama3`` vs ``llama3:latest`` match;
    ``gpt-4o`` vs ``gpt-4o-mini`` does not. An empty ``reported`` is no evidence: False.
    """
    if not reported or not requested:
        return False
    a = requested.lower().rsplit("/", 1)[-1]
    b = reported.lower().rsplit("/", 1)[-1]
    if a == b:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return not (long_.startswith(short) and _VERSION_SUFFIX.match(long_[len(short) :]))
