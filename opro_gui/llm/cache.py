"""Response cache keys and values, plus an in-memory ResponseCache (storage has the real one)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from opro_gui.core.ports import LLMRequest


def cache_key(base_url: str, model: str, mode: str, request: LLMRequest, max_tokens: int) -> str:
    """sha256 of everything that decides a temperature-0 answer."""
    ident = [
        base_url.rstrip("/"),
        model,
        mode,
        request.temperature,
        max_tokens,
        request.n,
        list(request.stop),
        request.prompt,
    ]
    if request.system:  # only then: keys of requests without one stay as they were
        ident += [request.system, request.system_after]
    blob = json.dumps(ident, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def encode_value(texts: tuple[str, ...], model_reported: str) -> str:
    return json.dumps({"texts": list(texts), "model": model_reported}, ensure_ascii=False)


def decode_value(value: str) -> tuple[tuple[str, ...], str] | None:
    """(texts, model) from a stored value; None if it is not one of ours (treated as a miss)."""
    try:
        data: Any = json.loads(value)
        texts = data["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
        return tuple(texts), str(data.get("model", ""))
    except (ValueError, KeyError, TypeError):
        return None


class MemoryCache:
    """A dict behind the ResponseCache protocol, counting hits and misses."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.hits = 0
        self.misses = 0
        self.puts = 0

    def get(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, value: str) -> None:
        self.puts += 1
        self.data[key] = value

    def __len__(self) -> int:
        return len(self.data)
