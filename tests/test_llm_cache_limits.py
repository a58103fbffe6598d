"""Response cache (temperature 0 only, never errors, caller's thread) and rpm/tpm limits."""

from __future__ import annotations

import threading
from typing import Any

from openai_server import FakeOpenAIServer, Faults

from opro_gui.core.ports import LLMRequest
from opro_gui.llm import EndpointConfig, MemoryCache, cache_key
from opro_gui.llm.openai_compat import OpenAICompatClient
from opro_gui.llm.ratelimit import RateLimiter, TokenBucket


def echo(prompt: str, body: dict[str, Any]) -> str:
    return f"answer to {prompt}"


class ThreadCheckingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def get(self, key: str) -> str | None:
        self.threads.add(threading.get_ident())
        return super().get(key)

    def put(self, key: str, value: str) -> None:
        self.threads.add(threading.get_ident())
        super().put(key, value)


def make(srv: FakeOpenAIServer, cache: MemoryCache | None, **kw: Any) -> OpenAICompatClient:
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("backoff_max", 0.01)
    cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer", timeout=5.0, **kw)
    return OpenAICompatClient(cfg, cache=cache)


def test_second_temperature0_pass_makes_no_requests(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    cache = ThreadCheckingCache()
    reqs = [LLMRequest(prompt=f"q{i}") for i in range(20)]
    with make(srv, cache, concurrency=8) as c:
        first = c.complete(reqs)
        assert srv.stats.requests == 20 and len(cache) == 20
        second = c.complete(reqs)
    assert srv.stats.requests == 20  # zero new HTTP requests
    assert [r.texts for r in second] == [r.texts for r in first]
    assert all(r.call.cached for r in second) and not any(r.call.cached for r in first)
    assert all(r.call.total_tokens == 0 and r.call.cost_usd == 0 for r in second)
    assert all(r.call.model_reported == "fake-scorer" for r in second)
    assert cache.threads == {threading.get_ident()}  # only the caller's thread touched it


def test_temperature1_is_never_cached(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    cache = MemoryCache()
    reqs = [LLMRequest(prompt="q", temperature=1.0, n=2)]
    with make(srv, cache) as c:
        c.complete(reqs)
        c.complete(reqs)
    assert srv.stats.requests == 2 and len(cache) == 0 and cache.hits == 0


def test_errors_are_never_cached(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo, faults=Faults(script=("garbage",))).start()
    cache = MemoryCache()
    with make(srv, cache, max_retries=0) as c:
        (bad,) = c.complete([LLMRequest(prompt="q")])
        assert not bad.ok and len(cache) == 0
        (good,) = c.complete([LLMRequest(prompt="q")])
    assert good.ok and not good.call.cached
    assert srv.stats.requests == 2 and len(cache) == 1


def test_identical_requests_in_one_batch_are_sent_once(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    with make(srv, MemoryCache()) as c:
        results = c.complete([LLMRequest(prompt="same")] * 5)
    assert srv.stats.requests == 1
    assert [r.texts for r in results] == [("answer to same",)] * 5
    assert [r.call.cached for r in results] == [False, True, True, True, True]


def test_cache_key_covers_every_setting() -> None:
    req = LLMRequest(prompt="p")
    base = cache_key("http://h/v1", "m", "chat", req, 100)
    assert base == cache_key("http://h/v1/", "m", "chat", req, 100)
    others = {
        cache_key("http://h2/v1", "m", "chat", req, 100),
        cache_key("http://h/v1", "m2", "chat", req, 100),
        cache_key("http://h/v1", "m", "completion", req, 100),
        cache_key("http://h/v1", "m", "chat", req, 101),
        cache_key("http://h/v1", "m", "chat", LLMRequest(prompt="p", n=2), 100),
        cache_key("http://h/v1", "m", "chat", LLMRequest(prompt="p", stop=("x",)), 100),
        cache_key("http://h/v1", "m", "chat", LLMRequest(prompt="q"), 100),
    }
    assert base not in others and len(others) == 7


def test_unreadable_cache_value_is_a_miss(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    cache = MemoryCache()
    with make(srv, cache) as c:
        c.complete([LLMRequest(prompt="q")])
        (key,) = cache.data
        cache.data[key] = "not json"
        (res,) = c.complete([LLMRequest(prompt="q")])
    assert res.ok and not res.call.cached and srv.stats.requests == 2


def test_token_bucket_spaces_reservations() -> None:
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])  # 1 per second, burst 1
    assert [bucket.reserve(1) for _ in range(3)] == [0.0, 1.0, 2.0]
    now[0] = 10.0  # long idle: refills only up to the burst
    assert [bucket.reserve(1) for _ in range(2)] == [0.0, 1.0]


def test_tpm_bucket_counts_tokens_and_debits() -> None:
    limiter = RateLimiter(tpm=6000, clock=lambda: 0.0)  # 100 tokens/s, burst 100
    assert limiter.delay_for(100) == 0.0
    limiter.debit(50)  # the completion, learned afterwards
    assert limiter.delay_for(50) == 1.0  # 100 tokens in debt at 100/s
    assert limiter.stats.acquired == 2 and limiter.stats.delayed == 1


def test_rpm_limit_delays_requests_beyond_the_burst(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(echo).start()
    with make(srv, None, rpm=1200, concurrency=25) as c:  # 20/s, burst 20
        frozen = RateLimiter(rpm=1200, clock=lambda: 0.0)  # no refill: exact counts
        c.limiter = frozen
        results = c.complete([LLMRequest(prompt=f"q{i}") for i in range(25)])
    assert all(r.ok for r in results) and srv.stats.requests == 25
    assert frozen.stats.acquired == 25
    assert frozen.stats.delayed == 5  # the 5 beyond the burst waited...
    assert abs(frozen.stats.waited_s - 0.05 * (1 + 2 + 3 + 4 + 5)) < 1e-9  # ...in turn


def test_clients_of_one_endpoint_share_their_rate_limits() -> None:
    """Optimizer and scorer on the same server draw from one rpm/tpm budget."""
    from opro_gui.llm.ratelimit import shared_limiter

    a = OpenAICompatClient(EndpointConfig(base_url="http://127.0.0.1:1/v1", model="x", rpm=60))
    b = OpenAICompatClient(EndpointConfig(base_url="http://127.0.0.1:1/v1/", model="y", rpm=60))
    other = OpenAICompatClient(EndpointConfig(base_url="http://127.0.0.1:2/v1", model="x", rpm=60))
    try:
        assert a.limiter is b.limiter is shared_limiter("http://127.0.0.1:1/v1", 60, None)
        assert other.limiter is not a.limiter
        a.limiter.delay_for(1)  # the burst of one request per second is now used up...
        assert b.limiter.delay_for(1) > 0  # ...for the other client too
    finally:
        for c in (a, b, other):
            c.close()
