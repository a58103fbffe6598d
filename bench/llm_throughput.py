"""Benchmark of the LLM layer: scorer throughput vs concurrency, and per-request overhead.

Run: ``python bench/llm_throughput.py [--quick]``. Prints figures; asserts nothing.
The test server runs in a child process so its work does not compete with the client for
this process's GIL (as a real server would not).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import openai  # noqa: E402

from opro_gui.core.ports import LLMRequest  # noqa: E402
from opro_gui.llm import EndpointConfig  # noqa: E402
from opro_gui.llm.openai_compat import OpenAICompatClient  # noqa: E402

PROMPT = "Q: " + "A farmer has some sheep and some hens. " * 6 + "\nA: Let's think step by step."


def _serve(latency: float, conn: Connection) -> None:
    from openai_server import FakeOpenAIServer

    with FakeOpenAIServer(lambda prompt, body: "The answer is 7.", latency=latency) as srv:
        conn.send(srv.base_url)
        conn.recv()  # until the parent says stop


class Server:
    def __init__(self, latency: float) -> None:
        self._conn, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(
            target=_serve, args=(latency, child), daemon=True
        )

    def __enter__(self) -> str:
        self._proc.start()
        return str(self._conn.recv())

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)


def requests(count: int) -> list[LLMRequest]:
    # distinct prompts: one step = 8 candidates x 100 examples
    return [LLMRequest(prompt=f"{PROMPT} #{i}", max_tokens=50) for i in range(count)]


def timed_complete(base_url: str, concurrency: int, count: int) -> float:
    cfg = EndpointConfig(base_url=base_url, model="fake-scorer", concurrency=concurrency)
    with OpenAICompatClient(cfg) as client:
        client.complete(requests(min(count, concurrency)))  # warm up connections and threads
        t0 = time.perf_counter()
        results = client.complete(requests(count))
        elapsed = time.perf_counter() - t0
    failed = sum(not r.ok for r in results)
    if failed:
        print(f"  WARNING: {failed} failed requests")
    return elapsed


def raw_http(base_url: str, count: int) -> float:
    host_port = base_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    conn = http.client.HTTPConnection(host, int(port))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-no-key"}
    t0 = time.perf_counter()
    for i in range(count):
        body = {"model": "fake-scorer", "messages": [{"role": "user", "content": f"{PROMPT} #{i}"}]}
        conn.request("POST", "/v1/chat/completions", json.dumps(body), headers)
        json.loads(conn.getresponse().read())
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def raw_sdk(base_url: str, count: int) -> float:
    sdk = openai.OpenAI(base_url=base_url, api_key="sk-no-key", max_retries=0)
    t0 = time.perf_counter()
    for i in range(count):
        msgs = [{"role": "user", "content": f"{PROMPT} #{i}"}]
        sdk.chat.completions.create(model="fake-scorer", messages=msgs, max_tokens=50)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    sdk.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    args = ap.parse_args()
    latency = 0.2
    step = 8 * 100
    serial_n = 20 if args.quick else 50
    overhead_n = 300 if args.quick else 2000

    print(
        f"== one scoring step: 8 candidates x 100 examples = {step} requests, {latency * 1000:.0f} ms each"
    )
    with Server(latency) as url:
        t_serial = timed_complete(url, 1, serial_n) * step / serial_n
        print(
            f"concurrency 1 : {t_serial:7.2f} s  (timed {serial_n} requests, extrapolated to {step})"
        )
        t64 = timed_complete(url, 64, step)
        ideal = step * latency / 64
        print(
            f"concurrency 64: {t64:7.2f} s  ideal {ideal:.2f} s  -> {t64 / ideal:.2f}x ideal (target <= 1.2x)"
        )
        print(f"speed-up over serial: {t_serial / t64:.1f}x (target >= 50x)")

    print(f"\n== overhead per request at 0 ms latency, {overhead_n} serial requests")
    with Server(0.0) as url:
        raw_http(url, 50)
        raw_sdk(url, 50)
        t_http = raw_http(url, overhead_n) / overhead_n
        t_sdk = raw_sdk(url, overhead_n) / overhead_n
        t_ours = timed_complete(url, 1, overhead_n) / overhead_n
        t_ours16 = timed_complete(url, 16, overhead_n) / overhead_n
    ms = 1000.0
    print(f"raw http.client          : {t_http * ms:6.3f} ms/request")
    print(f"raw openai SDK           : {t_sdk * ms:6.3f} ms/request")
    print(f"OpenAICompatClient (c=1) : {t_ours * ms:6.3f} ms/request")
    print(f"OpenAICompatClient (c=16): {t_ours16 * ms:6.3f} ms/request (wall / requests)")
    print(
        f"client layer overhead over the raw SDK: {(t_ours - t_sdk) * ms:+.3f} ms/request (target < 2 ms)"
    )
    print(f"SDK + client overhead over raw HTTP   : {(t_ours - t_http) * ms:+.3f} ms/request")


if __name__ == "__main__":
    main()
