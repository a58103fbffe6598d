"""Hypothesis fuzzing of what an endpoint may answer: any status, any body (JSON of any shape or
not JSON at all) gives a result or an error result from the client — never an exception."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import strategies as st
from test_fuzz_parsers import fuzz, hostile_text

from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig
from opro_gui.llm.openai_compat import OpenAICompatClient


class _ScriptedBodies(ThreadingHTTPServer):
    """Answers every request with the status and body the test put in ``next``."""

    daemon_threads = True

    def __init__(self) -> None:
        self.next: tuple[int, bytes, str] = (200, b"{}", "application/json")
        super().__init__(("127.0.0.1", 0), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, body, ctype = server.next
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[_ScriptedBodies]:
    srv = _ScriptedBodies()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


leaf = st.none() | st.booleans() | st.integers() | st.floats() | hostile_text
KEYS = ["choices", "message", "content", "text", "index", "model", "usage", "prompt_tokens",
        "completion_tokens", "finish_reason", "error", "role", "id", "object"]  # fmt: skip
shaped = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=15,
)


def _completion(choices: Any, usage: Any, model: Any) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": model,
            "choices": choices, "usage": usage}  # fmt: skip


bodies = st.one_of(
    shaped.map(lambda v: json.dumps(v).encode()),
    st.tuples(shaped, shaped, leaf).map(lambda t: json.dumps(_completion(*t)).encode()),
    st.lists(st.dictionaries(st.sampled_from(KEYS), shaped, max_size=4), max_size=3).map(
        lambda cs: json.dumps(_completion(cs, {"prompt_tokens": 1}, "m")).encode()
    ),
    st.binary(max_size=100),
)
answers = st.tuples(
    st.sampled_from([200, 200, 200, 201, 400, 401, 404, 418, 429, 500, 503]),
    bodies,
    st.sampled_from(["application/json", "text/html", "text/plain"]),
    st.sampled_from(["chat", "completion"]),
    st.integers(1, 3),
)


# Each case is a real HTTP round trip (and top-up requests when n is not honoured): 100 in the
# default suite, 10 000 with -m slow.
@pytest.mark.parametrize("n", [100, pytest.param(10_000, marks=pytest.mark.slow)])
def test_any_endpoint_answer_is_a_result_never_an_exception(
    n: int, server: _ScriptedBodies
) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    clients = {
        mode: OpenAICompatClient(
            EndpointConfig(base_url=url, model="m", mode=mode, max_retries=0, timeout=5)
        )
        for mode in ("chat", "completion")
    }

    def prop(args: tuple[int, bytes, str, str, int]) -> None:
        status, body, ctype, mode, k = args
        server.next = (status, body, ctype)
        (result,) = clients[mode].complete([LLMRequest(prompt="p", n=k)])
        assert all(isinstance(t, str) for t in result.texts)
        assert result.texts or result.error  # either answers or a reason
        assert result.call.prompt_tokens >= 0 and result.call.completion_tokens >= 0

    try:
        fuzz("llm_responses", answers, prop, n)
    finally:
        for client in clients.values():
            client.close()
