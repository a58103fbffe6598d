"""A malicious OpenAI-compatible server for tests: the real one (openai_server.py) turned hostile.

Each hostility is off by default and set per test: a body dripped one byte at a time, a body far
larger than ``max_tokens`` allows, lone surrogates in completions, impossible usage numbers, the
caller's own key echoed back (in error bodies after padding, as the model name, inside
completions), and a record of every Authorization header so tests can see Basic auth sneak in.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from openai_server import FakeOpenAIServer, Responder, echo_responder

LONE_SURROGATE = "\ud83d"  # the first half of an emoji, alone: UTF-8 cannot encode it


@dataclass
class Hostility:
    drip_bytes_per_s: float = 0.0  # > 0: send each answer's body at this rate
    oversize_bytes: int = 0  # > 0: every completion is this many characters, whatever max_tokens
    surrogate: bool = False  # put a lone surrogate in every completion (and the model name)
    usage: dict[str, Any] | None = None  # replaces the "usage" object of every answer
    echo_key_in_error: int = 0  # > 0: answer HTTP 400 "<this many chars of padding><key>"
    echo_key_as_model: bool = False  # report the caller's key as the model name
    echo_key_in_completion: bool = False  # append the caller's key to every completion


def bearer(authorization: str) -> str:
    """The key a request carried (``Bearer <key>``), or the raw header."""
    return authorization.removeprefix("Bearer ")


class HostileServer(FakeOpenAIServer):
    """``with HostileServer(Hostility(...)) as srv:`` — same API as ``FakeOpenAIServer``."""

    def __init__(
        self, hostility: Hostility, responder: Responder = echo_responder, **kw: Any
    ) -> None:
        super().__init__(responder, **kw)
        self.hostility = hostility

    def write_body(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        rate = self.hostility.drip_bytes_per_s
        if rate <= 0:
            super().write_body(handler, data)
            return
        with contextlib.suppress(OSError):  # the client gave up: that is the point
            for i in range(len(data)):
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
                if self._stopping.wait(1.0 / rate):
                    return

    def refuse(self, authorization: str) -> tuple[int, Any] | None:
        pad = self.hostility.echo_key_in_error
        if pad <= 0:
            return None
        message = "x" * pad + bearer(authorization)
        return 400, {"error": {"message": message, "type": "invalid_request_error"}}

    def shape_payload(self, payload: dict[str, Any], authorization: str) -> dict[str, Any]:
        h = self.hostility
        key = bearer(authorization)
        for choice in payload["choices"]:
            field = "message" if "message" in choice else None
            text = choice["message"]["content"] if field else choice["text"]
            if h.oversize_bytes:
                text = "x" * h.oversize_bytes
            if h.surrogate:
                text = text + LONE_SURROGATE
            if h.echo_key_in_completion:
                text = f"{text} {key}"
            if field:
                choice["message"]["content"] = text
            else:
                choice["text"] = text
        if h.echo_key_as_model:
            payload["model"] = key
        elif h.surrogate:
            payload["model"] = payload["model"] + LONE_SURROGATE
        if h.usage is not None:
            payload["usage"] = h.usage
        return payload
