"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It speaks ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models`` well enough for the
official ``openai`` SDK. Answers come from a *responder* ``(prompt, body) -> str`` so each test
scripts its own model. Faults can be injected (429/500 with Retry-After, hangs, dropped
connections, garbage), and every request is counted so tests can compare what the server
answered with what the app stored.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import select
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[str, dict[str, Any]], str]
_PIECES = re.compile(r"\w+|[^\w\s]")


def echo_responder(prompt: str, body: dict[str, Any]) -> str:
    return "ok"


@dataclass
class Faults:
    """Probabilities per request (drawn from a seeded RNG, so runs are repeatable)."""

    error_rate: float = 0.0  # answer 429 or 500 (half each)
    hang_rate: float = 0.0  # sleep ``hang_seconds`` before answering
    drop_rate: float = 0.0  # close the connection without an answer
    garbage_rate: float = 0.0  # answer 200 with a body that is not JSON
    hang_seconds: float = 5.0
    retry_after: float | None = 0.0  # Retry-After header on 429, seconds
    seed: int = 0
    # Faults for the first requests, in arrival order, before any random draw: each one of
    # "429", "500", "hang", "drop", "garbage" or "ok".
    script: tuple[str, ...] = ()


@dataclass
class Stats:
    requests: int = 0
    successes: int = 0  # 200 answers with a valid body
    successes_by_model: Counter[str] = field(default_factory=Counter)
    # 200 answers by request content: a client may give up on a request (timeout) that the
    # server still answers, so compare what a client received by content, not by count.
    successes_by_prompt: Counter[str] = field(default_factory=Counter)
    completions_served: int = 0  # choices returned in successful answers
    statuses: Counter[int] = field(default_factory=Counter)
    prompts: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    # Batch API: uploads, batch creations, status polls, executed batch lines by custom_id
    files_uploaded: int = 0
    batches_created: int = 0
    batch_polls: int = 0
    batch_lines_run: Counter[str] = field(default_factory=Counter)
    auth_headers: list[str] = field(default_factory=list)  # Authorization of each POST
    in_flight: int = 0  # POST requests being handled right now
    max_in_flight: int = 0  # the most ever handled at once (proves client concurrency)
    arrivals: list[int] = field(default_factory=list)  # in_flight as each POST arrived
    abandoned: int = 0  # answers computed for a client that had already hung up
    model_lists: int = 0  # GET /models answered


class _QuietServer(ThreadingHTTPServer):
    """Clients that give up (timeouts, cancellation) reset connections: not worth a traceback."""

    # Read by listen() inside __init__: setting it on the instance afterwards is too late, and
    # the default backlog of 5 drops bursts of concurrent connections (seen as retries).
    request_queue_size = 512

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer(responder) as srv: srv.base_url``."""

    def __init__(
        self,
        responder: Responder = echo_responder,
        *,
        latency: float = 0.0,
        honor_n: bool = True,
        faults: Faults | None = None,
        models: tuple[str, ...] | None = ("fake-optimizer", "fake-scorer"),  # None: no /models
        report_model: str | None = None,
        require_key: str | None = None,
        record_bodies: bool = False,
        echo_key_in_errors: bool = False,
        reject_n: bool = False,
        token_count: str = "words",
        max_parallel: int | None = None,
        flavor: str = "",
    ) -> None:
        self.responder = responder
        self.latency = latency
        self.honor_n = honor_n
        self.faults = faults or Faults()
        self.models = models
        self.report_model = report_model
        self.require_key = require_key
        self.record_bodies = record_bodies
        # Like some providers, put the rejected key in the 401 message (tests key scrubbing).
        self.echo_key_in_errors = echo_key_in_errors
        self._scripted = 0
        # Batch API: files by id, batches by id. A batch stays "in_progress" until
        # ``batch_gate`` is set (None: it runs at once when created); ``batch_polled`` is set
        # on every status poll so a test can wait for a client to be polling.
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_gate: threading.Event | None = None
        self.batch_polled = threading.Event()
        # Like Groq: answer 400 to any request with n > 1.
        self.reject_n = reject_n
        # How usage is counted: "words" (whitespace-separated) or "pieces" (words, numbers and
        # punctuation marks apart, as a tokenizer's pre-split does; closer to real token counts).
        self.token_count = token_count
        # Which real server's identifying answers to give (detection tests): "ollama",
        # "lmstudio", "llamacpp", "llama-cpp-python", "vllm"; "" for none.
        self.flavor = flavor
        self.max_parallel = max_parallel
        self._slots = threading.Semaphore(max_parallel) if max_parallel else None
        self.stats = Stats()
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._make_handler())
        self._httpd.daemon_threads = True
        # A short poll interval makes ``stop()`` return at once instead of after up to 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count_tokens(self, text: str) -> int:
        if self.token_count == "pieces":
            return max(1, len(_PIECES.findall(text)))
        return max(1, len(text.split()))

    # -- hooks for subclasses (tests/hostile_server.py) ------------------------------------
    def write_body(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        """Send an answer's body (after its headers)."""
        handler.wfile.write(data)

    def refuse(self, authorization: str) -> tuple[int, Any] | None:
        """(status, JSON payload) to answer a POST with instead of a completion, or None."""
        return None

    def shape_payload(self, payload: dict[str, Any], authorization: str) -> dict[str, Any]:
        """The successful answer as it will be sent."""
        return payload

    # -- fault drawing -------------------------------------------------------------------
    def _draw(self) -> str:
        f = self.faults
        with self._lock:
            if self._scripted < len(f.script):
                self._scripted += 1
                return f.script[self._scripted - 1]
            r = self._rng.random()
            coin = self._rng.random()
        edges = [
            ("error", f.error_rate),
            ("hang", f.hang_rate),
            ("drop", f.drop_rate),
            ("garbage", f.garbage_rate),
        ]
        acc = 0.0
        for name, p in edges:
            acc += p
            if r < acc:
                if name == "error":
                    return "429" if coin < 0.5 else "500"
                return name
        return "ok"

    # -- Batch API -----------------------------------------------------------------------
    def _new_file(self, data: bytes, purpose: str, name: str) -> dict[str, Any]:
        with self._lock:
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = data
        return {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": purpose, "status": "processed"}  # fmt: skip

    def _run_batch(self, batch: dict[str, Any]) -> None:
        """Answer every line of a batch's input file once, through the responder."""
        out = []
        for line in self.files[batch["input_file_id"]].decode().splitlines():
            item = json.loads(line)
            body = item["body"]
            if "messages" in body:
                prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
            else:
                prompt = str(body.get("prompt", ""))
            text = self.responder(prompt, body)
            with self._lock:
                self.stats.batch_lines_run[item["custom_id"]] += 1
                self.stats.prompts.append(prompt)
            ptoks, ctoks = max(1, len(prompt.split())), max(1, len(text.split()))
            choice = (
                {"index": 0, "message": {"role": "assistant", "content": text},
                 "finish_reason": "stop"}
                if "messages" in body
                else {"index": 0, "text": text, "finish_reason": "stop"}
            )  # fmt: skip
            resp = {"id": f"b-{item['custom_id']}", "object": "chat.completion",
                    "model": body.get("model", ""), "choices": [choice],
                    "usage": {"prompt_tokens": ptoks, "completion_tokens": ctoks,
                              "total_tokens": ptoks + ctoks}}  # fmt: skip
            out.append({"id": f"line-{len(out)}", "custom_id": item["custom_id"],
                        "response": {"status_code": 200, "request_id": "r", "body": resp},
                        "error": None})  # fmt: skip
        data = "".join(json.dumps(x) + "\n" for x in out).encode()
        fid = self._new_file(data, "batch_output", "output.jsonl")["id"]
        n = len(out)
        batch.update(status="completed", output_file_id=fid, completed_at=int(time.time()),
                     request_counts={"total": n, "completed": n, "failed": 0})  # fmt: skip

    def _batch_advance(self, batch: dict[str, Any]) -> None:
        if batch["status"] == "in_progress" and (
            self.batch_gate is None or self.batch_gate.is_set()
        ):
            self._run_batch(batch)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the second waits for the
            # client's delayed ACK (~40 ms per request on Linux). Real servers set TCP_NODELAY.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # silence
                return

            def _send(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self._done_serving()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                server.write_body(self, data)

            def _key_message(self) -> str:
                if not server.echo_key_in_errors:
                    return "Incorrect API key"
                given = self.headers.get("Authorization", "").removeprefix("Bearer ")
                return f"Incorrect API key provided: {given}"

            def _auth_ok(self) -> bool:
                if server.require_key is None:
                    return True
                return self.headers.get("Authorization", "") == f"Bearer {server.require_key}"

            def do_GET(self) -> None:
                if not self._auth_ok():
                    self._send(401, {"error": {"message": self._key_message(), "type": "auth"}})
                    return
                batch_path = self.path.split("?")[0].rstrip("/")
                if (
                    "/files/" in batch_path
                    or batch_path.endswith("/batches")
                    or ("/batches/" in batch_path)
                ):
                    self._batch_get(batch_path)
                    return
                path = self.path.rstrip("/") or "/"
                extra = _FLAVOR_GETS.get(server.flavor, {}).get(path)
                if extra is not None:
                    self._send(200, extra(server) if callable(extra) else extra)
                elif path.endswith("/models") and server.models is not None:
                    owner = _FLAVOR_OWNER.get(server.flavor, "test")
                    data = [
                        {
                            "id": m,
                            "object": "model",
                            "owned_by": owner,
                            **_FLAVOR_MODEL.get(server.flavor, {}),
                        }
                        for m in server.models
                    ]
                    server.stats.model_lists += 1
                    self._send(200, {"object": "list", "data": data})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def _batch_get(self, path: str) -> None:
                if path.endswith("/content"):
                    fid = path.split("/")[-2]
                    if fid not in server.files:
                        self._send(404, {"error": {"message": "no such file"}})
                        return
                    data = server.files[fid]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if path.endswith("/batches"):
                    data = list(server.batches.values())
                    self._send(200, {"object": "list", "data": data, "has_more": False})
                    return
                if "/batches/" in path:
                    batch = server.batches.get(path.split("/")[-1])
                    if batch is None:
                        self._send(404, {"error": {"message": "no such batch"}})
                        return
                    with server._lock:
                        server.stats.batch_polls += 1
                    server._batch_advance(batch)
                    self._send(200, batch)
                    server.batch_polled.set()
                    return
                self._send(404, {"error": {"message": "not found"}})

            def _batch_post(self, path: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if path.endswith("/files"):
                    head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
                    msg = BytesParser(policy=email_policy).parsebytes(head + raw)
                    parts = {p.get_param("name", header="content-disposition"): p
                             for p in msg.iter_parts()}  # fmt: skip
                    data = parts["file"].get_payload(decode=True)
                    purpose = parts["purpose"].get_content().strip()
                    with server._lock:
                        server.stats.files_uploaded += 1
                    self._send(200, server._new_file(data, purpose, "input.jsonl"))
                    return
                body = json.loads(raw or b"{}")
                if body.get("input_file_id") not in server.files:
                    self._send(400, {"error": {"message": "unknown input_file_id"}})
                    return
                with server._lock:
                    server.stats.batches_created += 1
                    bid = f"batch-{len(server.batches) + 1}"
                    batch = {
                        "id": bid, "object": "batch", "endpoint": body.get("endpoint"),
                        "input_file_id": body["input_file_id"],
                        "completion_window": body.get("completion_window", "24h"),
                        "status": "in_progress", "created_at": int(time.time()),
                        "output_file_id": None, "error_file_id": None,
                        "metadata": body.get("metadata"), "errors": None,
                        "request_counts": {"total": 0, "completed": 0, "failed": 0},
                    }  # fmt: skip
                    server.batches[bid] = batch
                server._batch_advance(batch)
                self._send(200, batch)

            def do_POST(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith(("/files", "/batches")):
                    self._batch_post(path)
                    return
                with server._lock:
                    server.stats.in_flight += 1
                    server.stats.max_in_flight = max(
                        server.stats.max_in_flight, server.stats.in_flight
                    )
                    server.stats.arrivals.append(server.stats.in_flight)
                if server._slots is not None:  # like llama.cpp: the rest wait in its queue
                    server._slots.acquire()
                self._serving = True
                try:
                    self._post(time.monotonic())  # its latency starts once it is served
                finally:
                    self._done_serving()

            def _done_serving(self) -> None:
                """The request leaves its slot and the in-flight count once, before its answer
                is written: a client sending its next request the moment it has this answer
                must not find it still counted."""
                if not getattr(self, "_serving", False):
                    return
                self._serving = False
                if server._slots is not None:
                    server._slots.release()
                with server._lock:
                    server.stats.in_flight -= 1

            def _client_gone(self) -> bool:
                """True when the client closed the connection while its answer was computed."""
                try:
                    readable, _, _ = select.select([self.connection], [], [], 0)
                    return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

            def _answer_at(self, arrived: float) -> None:
                """Wait until ``latency`` after the request began to be served: the answer is
                computed meanwhile, so a burst of requests is answered on time, not one
                answer's work after another (the latency is the whole time a request takes)."""
                left = arrived + server.latency - time.monotonic()
                if left > 0:
                    time.sleep(left)

            def _post(self, arrived: float) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                chat = self.path.rstrip("/").endswith("/chat/completions")
                if chat:
                    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
                else:
                    p = body.get("prompt", "")
                    prompt = p if isinstance(p, str) else "\n".join(p)
                with server._lock:
                    server.stats.requests += 1
                    server.stats.prompts.append(prompt)
                    server.stats.models.append(str(body.get("model", "")))
                    server.stats.auth_headers.append(self.headers.get("Authorization", ""))
                    if server.record_bodies:
                        server.stats.bodies.append(body)
                if not self._auth_ok():
                    self._count(401)
                    self._send(401, {"error": {"message": self._key_message(), "type": "auth"}})
                    return
                refusal = server.refuse(self.headers.get("Authorization", ""))
                if refusal is not None:
                    self._count(refusal[0])
                    self._send(*refusal)
                    return
                if server.reject_n and int(body.get("n") or 1) > 1:
                    self._count(400)
                    msg = {
                        "message": "'n' : number must be at most 1",
                        "type": "invalid_request_error",
                    }
                    self._send(400, {"error": msg})
                    return
                fault = server._draw()
                if fault != "ok":
                    self._answer_at(arrived)
                if fault in ("429", "500"):
                    status = int(fault)
                    self._count(status)
                    headers = {}
                    if status == 429 and server.faults.retry_after is not None:
                        headers["Retry-After"] = str(server.faults.retry_after)
                    self._send(status, {"error": {"message": f"injected {status}"}}, headers)
                    return
                if fault == "hang":
                    server._stopping.wait(server.faults.hang_seconds)
                    self._count(0)
                    self.close_connection = True
                    return
                if fault == "drop":
                    self._count(0)
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if fault == "garbage":
                    self._count(200)
                    self._send(200, b"<html>not json")
                    return
                n = int(body.get("n") or 1) if server.honor_n else 1
                texts = [server.responder(prompt, body) for _ in range(n)]
                model = server.report_model or str(body.get("model", ""))
                ptoks = server.count_tokens(prompt)
                ctoks = sum(server.count_tokens(t) for t in texts)
                if chat:
                    choices: list[dict[str, Any]] = [
                        {
                            "index": i,
                            "message": {"role": "assistant", "content": t},
                            "finish_reason": "stop",
                        }
                        for i, t in enumerate(texts)
                    ]
                    obj = "chat.completion"
                else:
                    choices = [
                        {"index": i, "text": t, "finish_reason": "stop", "logprobs": None}
                        for i, t in enumerate(texts)
                    ]
                    obj = "text_completion"
                payload = {
                    "id": f"cmpl-{server.stats.requests}",
                    "object": obj,
                    "created": int(time.time()),
                    "model": model,
                    "choices": choices,
                    "usage": {
                        "prompt_tokens": ptoks,
                        "completion_tokens": ctoks,
                        "total_tokens": ptoks + ctoks,
                    },
                }
                payload = server.shape_payload(payload, self.headers.get("Authorization", ""))
                self._answer_at(arrived)
                if self._client_gone():
                    with server._lock:
                        server.stats.abandoned += 1
                    self.close_connection = True
                    return
                with server._lock:
                    server.stats.successes += 1
                    server.stats.successes_by_model[str(body.get("model", ""))] += 1
                    server.stats.successes_by_prompt[prompt] += 1
                    server.stats.completions_served += len(texts)
                    server.stats.statuses[200] += 1
                self._send(200, payload)

            def _count(self, status: int) -> None:
                with server._lock:
                    server.stats.statuses[status] += 1

        return Handler


# What each real server answers besides /v1/models (detection tests mimic these shapes).
_FLAVOR_GETS: dict[str, dict[str, Any]] = {
    "ollama": {"/": b"Ollama is running", "/api/version": {"version": "0.5.7"}},
    "llamacpp": {
        "/props": lambda srv: {
            "default_generation_settings": {"n_ctx": 4096},
            "total_slots": srv.max_parallel or 1,
            "chat_template": "",
        },
        "/health": {"status": "ok"},
    },
    "llama-cpp-python": {
        "/openapi.json": {"openapi": "3.1.0", "info": {"title": "🦙 llama.cpp Python API"}}
    },
    "vllm": {"/version": {"version": "0.6.3"}},
    "lmstudio": {
        "/api/v0/models": lambda srv: {
            "object": "list",
            "data": [{"id": m, "type": "llm", "state": "loaded"} for m in srv.models or ()],
        }
    },
}
_FLAVOR_OWNER = {
    "llamacpp": "llamacpp",
    "llama-cpp-python": "me",
    "vllm": "vllm",
    "lmstudio": "organization_owner",
    "ollama": "library",
}
_FLAVOR_MODEL: dict[str, dict[str, Any]] = {"vllm": {"root": "m", "max_model_len": 4096}}
