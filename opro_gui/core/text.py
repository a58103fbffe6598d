"""Text from outside (servers, shared files) made storable: no lone surrogates, no secrets."""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]*@")


def storable(text: str) -> str:
    """``text`` with each lone surrogate (half an emoji, which UTF-8 cannot encode) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def one_line(text: str) -> str:
    """``text`` on one line: newlines and other control characters shown as escapes."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def without_url_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it removed."""
    return _URL_USERINFO.sub(r"\1", text) if "@" in text else text


def scrub_urls(value: Any) -> Any:
    """A copy of a JSON-like value with URL credentials removed from every string in it (files
    written by older versions, or by hand, may hold them)."""
    if isinstance(value, str):
        return without_url_credentials(value)
    if isinstance(value, dict):
        return {k: scrub_urls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_urls(v) for v in value]
    return value
