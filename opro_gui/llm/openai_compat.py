"""The LLM client over the official openai SDK: concurrency, retries, n top-up, cache, cost."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import partial

import openai

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import CallRecord
from opro_gui.core.ports import LLMRequest, LLMResult, ResponseCache
from opro_gui.core.text import storable

from .cache import cache_key, decode_value, encode_value
from .config import EndpointConfig, model_mismatch
from .pacing import pacer_for
from .pool import DaemonPool
from .pricing import config_cost, tokens_from_chars
from .ratelimit import shared_limiter
from .retry import TIMEOUT_GRACE_S, backoff_delay, classify, refused_n
from .secrets import NO_KEY, clip, key_error, resolve_key, scrub, scrub_exact
from .wire import make_sdk, send

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how often the caller looks at the cancel flag while waiting for answers
_DEFAULT_REQUEST_ROLE = LLMRequest.__dataclass_fields__["role"].default


@dataclass
class _Outcome:
    """One HTTP call (with its retries) as a worker saw it."""

    texts: list[str]
    record: CallRecord
    started: float
    ended: float
    status: int = 0  # HTTP status of a final failure
    superseded: bool = False  # an n>1 call the server refused, redone as n single calls


_DoneQueue = queue.SimpleQueue[tuple[int, int, Future[_Outcome]]]


@dataclass
class _Job:
    """Everything in flight for one request of a ``complete`` batch."""

    request: LLMRequest
    role: str
    max_tokens: int
    key: str | None = None  # cache key for temperature-0 requests when a cache is set
    outcomes: dict[int, _Outcome] = field(default_factory=dict)  # by submission order
    submitted: int = 0


class OpenAICompatClient:
    """An ``LLMClient`` for any OpenAI-compatible endpoint; thread-safe; ``close()`` when done."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        cache: ResponseCache | None = None,
        api_key: str | None = None,
        role: str = "optimizer",
        seed: int | None = None,
    ) -> None:
        self.config = config
        self.role = role
        self._cache = cache
        key = resolve_key(config.api_key_env, config.keyring_profile, api_key)
        if key is None and config.is_local:
            key = NO_KEY
        self._key = key
        self.limiter = shared_limiter(config.base_url, config.rpm, config.tpm)
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._lock = threading.Lock()
        self._sdk: openai.OpenAI | None = None
        self._pool: DaemonPool | None = None
        self._ignores_n = config.n_mode == "parallel"
        self._closed = False
        self._warned_mismatch = False
        self._pacer = pacer_for(config)
        #: Called in the caller's thread as each sent request of a ``complete`` batch gets its
        #: final answer (progress of a long batch); cached answers are not reported.
        self.on_finished: Callable[[LLMRequest], None] | None = None

    # -- public ----------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.config.model

    @property
    def ignores_n(self) -> bool:
        """True once the server was seen to answer fewer choices than ``n`` (or in parallel mode)."""
        return self._ignores_n

    def close(self) -> None:
        """Stop the worker threads (without waiting for calls in flight) and the HTTP pool."""
        with self._lock:
            self._closed = True
            pool, sdk = self._pool, self._sdk
            self._pool = self._sdk = None
        if pool is not None:
            pool.shutdown()
        if sdk is not None:
            sdk.close()

    def __enter__(self) -> OpenAICompatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        """Send all requests concurrently; results in request order; raise only ``Cancelled``."""
        cancel = cancel or CancelToken()
        cancel.raise_if_cancelled()
        results: list[LLMResult | None] = [None] * len(requests)
        jobs: dict[int, _Job] = {}
        first_by_key: dict[str, int] = {}
        twins: dict[int, int] = {}  # identical temperature-0 request -> the one actually sent
        cfg = self.config
        bad_key = key_error(self._key, cfg.api_key_env, cfg.keyring_profile, cfg.base_url)
        for i, req in enumerate(requests):
            job = self._make_job(req)
            if bad_key:
                results[i] = self._plain_result(job, error=bad_key)
                continue
            if job.key is not None:
                cached = self._cache_get(job.key)
                if cached is not None:
                    results[i] = self._plain_result(job, texts=cached[0], reported=cached[1])
                    continue
                if job.key in first_by_key:
                    twins[i] = first_by_key[job.key]
                    continue
                first_by_key[job.key] = i
            jobs[i] = job
        if jobs:
            self._run_jobs(jobs, results, cancel)
        for i, j in twins.items():
            results[i] = self._twin_result(self._make_job(requests[i]), results[j])
        out = [r for r in results if r is not None]
        assert len(out) == len(requests)
        return out

    # -- orchestration (caller's thread) ---------------------------------------------------
    def _run_jobs(
        self, jobs: dict[int, _Job], results: list[LLMResult | None], cancel: CancelToken
    ) -> None:
        done_q: _DoneQueue = queue.SimpleQueue()
        futures: list[Future[_Outcome]] = []
        pending = 0

        def submit(i: int, n: int) -> None:
            nonlocal pending
            job = jobs[i]
            slot = job.submitted
            job.submitted += 1
            fut = self._executor().submit(self._call, job, n, cancel)
            fut.add_done_callback(partial(_deliver, done_q, i, slot))
            futures.append(fut)
            pending += 1

        for i, job in jobs.items():
            n = job.request.n
            if n > 1 and self._ignores_n:
                for _ in range(n):
                    submit(i, 1)
            else:
                submit(i, n)
        try:
            while pending:
                try:
                    i, slot, fut = done_q.get(timeout=_POLL_S)
                except queue.Empty:
                    cancel.raise_if_cancelled()
                    continue
                pending -= 1
                cancel.raise_if_cancelled()
                job = jobs[i]
                outcome = fut.result()
                job.outcomes[slot] = outcome
                asked = outcome.record.n
                if asked > 1 and self.config.n_mode == "auto":
                    if refused_n(
                        outcome.status, outcome.record.error
                    ):  # e.g. "'n' : number must be at most 1"
                        outcome.superseded = True
                        self._note_ignores_n(0, asked)
                        for _ in range(asked):
                            submit(i, 1)
                    elif not outcome.record.error and len(outcome.texts) < asked:
                        self._note_ignores_n(len(outcome.texts), asked)
                        for _ in range(asked - len(outcome.texts)):
                            submit(i, 1)
                if len(job.outcomes) == job.submitted:
                    results[i] = self._finish(job)
                    if self.on_finished is not None:
                        self.on_finished(job.request)
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    def _note_ignores_n(self, got: int, wanted: int) -> None:
        if not self._ignores_n:
            self._ignores_n = True
            log.info(
                "%s returned %d of n=%d completions: sending parallel requests from now on",
                self.config.base_url,
                got,
                wanted,
            )

    def _finish(self, job: _Job) -> LLMResult:
        everything = [job.outcomes[k] for k in sorted(job.outcomes)]
        outs = [o for o in everything if not o.superseded]
        texts = tuple(t for o in outs for t in o.texts)
        calls = tuple(o.record for o in everything)
        error = next((o.record.error for o in outs if o.record.error), "")
        if not error and len(texts) < job.request.n:
            error = (
                f"server returned {len(texts)} of n={job.request.n} completions "
                "(set the endpoint's n mode to auto or parallel)"
            )
        summary = CallRecord(
            role=job.role,
            model_requested=self.config.model,
            model_reported=next((c.model_reported for c in calls if c.model_reported), ""),
            prompt_tokens=sum(c.prompt_tokens for c in calls),
            completion_tokens=sum(c.completion_tokens for c in calls),
            latency_s=max(o.ended for o in everything) - min(o.started for o in everything),
            retries=sum(c.retries for c in calls),
            error=error,
            n=job.request.n,
            cost_usd=sum(c.cost_usd for c in calls),
            base_url=self.config.base_url,
        )
        if not self._warned_mismatch and model_mismatch(self.config.model, summary.model_reported):
            self._warned_mismatch = True  # once per client: the record keeps every instance
            log.warning(
                "asked %s for model %r but it answered as %r",
                self.config.base_url,
                self.config.model,
                summary.model_reported,
            )
        if self._cache is not None and job.key and not error and len(texts) == job.request.n:
            self._cache.put(job.key, encode_value(texts, summary.model_reported))
        return LLMResult(texts=texts, call=summary, error=error, calls=calls)

    # -- one HTTP call with retries (worker threads) -----------------------------------------
    def _call(self, job: _Job, n: int, cancel: CancelToken) -> _Outcome:
        try:
            return self._attempts(job, n, cancel)
        except Exception as exc:  # a bug of ours must still end as a result, not a raise
            if self._closed:  # closed under a call in flight (the run ended): not a bug
                return self._outcome(job, n, time.monotonic(), 0, error="cancelled")
            log.exception("internal error in the LLM client")
            message = clip(scrub(f"internal error: {type(exc).__name__}: {exc}", self._key))
            return self._outcome(job, n, time.monotonic(), 0, error=message)

    def _attempts(self, job: _Job, n: int, cancel: CancelToken) -> _Outcome:
        cfg = self.config
        req = job.request
        started = time.monotonic()
        retries = 0
        est_tokens = tokens_from_chars(len(req.prompt))
        while True:
            if cancel.cancelled or (
                self.limiter.active and not self.limiter.acquire(est_tokens, cancel)
            ):
                return self._outcome(job, n, started, retries, error="cancelled")
            paced = self._pacer.acquire(cancel) if self._pacer is not None else 0
            if paced is None:
                return self._outcome(job, n, started, retries, error="cancelled")
            call_cfg = cfg
            if self._pacer is not None:
                call_cfg = replace(
                    cfg, timeout=self._pacer.deadline(cfg.timeout, job.max_tokens, n)
                )
            sent = time.monotonic()  # the deadline starts here, not while waiting for a place
            tracked: list[int] = []
            track = partial(self._track, tracked) if self._pacer is not None else None
            try:
                texts, reported, p_tok, c_tok = send(
                    self._client(), call_cfg, req, n, job.max_tokens, track
                )
            except Exception as exc:  # classified below; nothing escapes a worker
                fail = classify(
                    exc,
                    base_url=cfg.base_url,
                    timeout=call_cfg.timeout,
                    key_env=cfg.api_key_env,
                    cap=cfg.retry_after_cap,
                )
                if self._pacer is not None:
                    for handle in tracked:
                        self._pacer.untrack(handle)
                    slow = "timed out" in fail.message or "too slowly" in fail.message
                    self._pacer.release(paced, time.monotonic() - sent, 0, ok=False, timed_out=slow)
                if cancel.cancelled or self._closed:  # stopped under this call: not the server
                    return self._outcome(job, n, started, retries, error="cancelled")
                message = clip(scrub(storable(fail.message), self._key))  # scrub, then cut
                if not fail.retryable or retries >= cfg.max_retries:
                    if fail.retryable:
                        message = f"{message} (gave up after {retries} retries)"
                    log.warning("request to %s failed: %s", cfg.base_url, message)
                    return self._outcome(
                        job, n, started, retries, error=message, status=fail.status
                    )
                with self._rng_lock:
                    delay = backoff_delay(
                        retries,
                        base=cfg.backoff_base,
                        cap=cfg.backoff_max,
                        retry_after=fail.retry_after,
                        rng=self._rng,
                    )
                # A timed-out attempt is asked again only if the next one would end within a
                # short grace: a silent server holds a request for at most --timeout + 5 s.
                if fail.timed_out and time.monotonic() - started + delay > TIMEOUT_GRACE_S:
                    if retries:
                        message = f"{message} (gave up after {retries} retries)"
                    log.warning("request to %s failed: %s", cfg.base_url, message)
                    return self._outcome(job, n, started, retries, error=message)
                retries += 1
                log.info("retry %d in %.2f s after: %s", retries, delay, message)
                if cancel.wait(delay):
                    return self._outcome(job, n, started, retries, error="cancelled")
                continue
            if self._pacer is not None:
                for handle in tracked:
                    self._pacer.untrack(handle)
                self._pacer.release(paced, time.monotonic() - sent, c_tok, ok=True, timed_out=False)
            self.limiter.debit(c_tok)
            # Everything the server said is scrubbed: a key echoed as the model name or inside
            # a completion must not reach the project, an export or the terminal.
            texts = [scrub_exact(t, self._key) for t in texts]
            return self._outcome(
                job,
                n,
                started,
                retries,
                texts=texts,
                reported=clip(scrub(reported, self._key), 200),
                tokens=(p_tok, c_tok),
            )

    def _track(self, into: list[int], budget: object) -> None:
        """Hand an attempt's deadline to the pacer (see ``Pacer.track``)."""
        if self._pacer is not None:
            into.append(self._pacer.track(budget))

    def _outcome(
        self,
        job: _Job,
        n: int,
        started: float,
        retries: int,
        *,
        error: str = "",
        status: int = 0,
        texts: list[str] | None = None,
        reported: str = "",
        tokens: tuple[int, int] = (0, 0),
    ) -> _Outcome:
        ended = time.monotonic()
        record = CallRecord(
            role=job.role,
            model_requested=self.config.model,
            model_reported=reported,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            latency_s=ended - started,
            retries=retries,
            error=error,
            n=n,
            cost_usd=config_cost(self.config, reported, tokens[0], tokens[1]),
            base_url=self.config.base_url,
        )
        return _Outcome(texts or [], record, started, ended, status)

    # -- helpers -----------------------------------------------------------------------------
    def _make_job(self, req: LLMRequest) -> _Job:
        role = req.role if req.role != _DEFAULT_REQUEST_ROLE else self.role
        # The endpoint's max_tokens is a default; the request's own value wins when given.
        max_tokens = req.max_tokens or self.config.max_tokens or 1024
        key = None
        if self._cache is not None and req.temperature == 0:
            key = cache_key(
                self.config.base_url, self.config.model, self.config.mode, req, max_tokens
            )
        return _Job(request=req, role=role, max_tokens=max_tokens, key=key)

    def _executor(self) -> DaemonPool:
        with self._lock:
            if self._closed:
                raise RuntimeError("LLM client is closed")
            if self._pool is None:
                self._pool = DaemonPool(self.config.concurrency)
                # Callers need not close(): the threads end when the client is collected.
                weakref.finalize(self, self._pool.shutdown)
            return self._pool

    def _client(self) -> openai.OpenAI:
        with self._lock:
            if self._sdk is None:
                if self._closed:
                    raise RuntimeError("LLM client is closed")
                self._sdk = make_sdk(self.config, self._key or NO_KEY)
                weakref.finalize(self, self._sdk.close)
            return self._sdk

    def _plain_result(
        self, job: _Job, *, texts: tuple[str, ...] = (), error: str = "", reported: str = ""
    ) -> LLMResult:
        """A result that made no HTTP call: a cache hit or twin (when ``texts``), or an error."""
        call = CallRecord(
            role=job.role,
            model_requested=self.config.model,
            model_reported=reported,
            cached=bool(texts),
            error=error,
            n=job.request.n,
            base_url=self.config.base_url,
        )
        return LLMResult(texts=texts, call=call, error=error, calls=(call,))

    def _twin_result(self, job: _Job, sent: LLMResult | None) -> LLMResult:
        if sent is None or not sent.ok:
            return self._plain_result(job, error=sent.error if sent is not None else "not sent")
        return self._plain_result(job, texts=sent.texts, reported=sent.call.model_reported)

    def _cache_get(self, key: str) -> tuple[tuple[str, ...], str] | None:
        raw = self._cache.get(key) if self._cache is not None else None
        return decode_value(raw) if raw is not None else None


def _deliver(done_q: _DoneQueue, i: int, slot: int, fut: Future[_Outcome]) -> None:
    done_q.put((i, slot, fut))
