"""The model check before a run spends anything: one optimizer request (the run's next
meta-prompt, n=1) read by the problem's own parser, and for kinds with a scorer model one
training question answered with the run's best instruction so far. Not recorded in the project:
its tokens are reported to the caller (the CLI prints them, the GUI shows them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import CallRecord, ExampleRecord, RunSettings, Scored
from opro_gui.core.ports import LLMClient, LLMRequest, LLMResult
from opro_gui.llm import EndpointConfig, make_client

from .base import SessionBase, usable_solution

EXCERPT_CHARS = 400


@dataclass(frozen=True)
class ModelCheck:
    """What the check found. ``role`` names the model that failed ("" when both passed)."""

    ok: bool
    role: str = ""
    reason: str = ""
    raw: str = ""  # the failing answer (an excerpt)
    requests: int = 0
    tokens: int = 0
    unreachable: bool = False  # no answer at all: a transport failure, not the format

    def spent(self) -> str:
        return f"{self.requests} request{'s' * (self.requests != 1)}, {self.tokens} tokens"

    def message(self) -> str:
        """One paragraph for a dialog or stderr: what failed, why, and what came back."""
        if self.ok:
            return f"model check passed ({self.spent()})"
        shown = self.raw.strip() or "(empty)"
        return f"the {self.role} {self.reason}.\nIts answer began: {shown}"


class _Counting:
    """A client that notes every HTTP call it makes (the check's spend), closed after use."""

    def __init__(self, client: LLMClient, calls: list[CallRecord]) -> None:
        self._client, self._calls = client, calls
        self.model = client.model

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        out = self._client.complete(requests, cancel)
        for r in out:
            self._calls.extend(r.calls or (r.call,))
        return out

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        close = getattr(self._client, "close", None)
        if close is not None:
            close()


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _history(session: SessionBase, run_id: int | None) -> list[Scored]:
    """The history the run's next meta-prompt is built from: the stored one when continuing;
    for a new run the starting solutions when they score without a model (TSP, LR)."""
    problem = session.problem(run_id)
    if run_id is not None and session.store.last_step(run_id) >= 0:
        state = session.store.load_state(run_id, problem.higher_is_better, with_records=False)
        return [h for h in state.history if usable_solution(problem, h.solution)]
    if session.problem_kind.needs_scorer:
        return []
    starts = problem.initial_solutions()
    results = problem.score(starts, None)
    return [
        Scored(s, r.score, 0, index=i)
        for i, (s, r) in enumerate(zip(starts, results, strict=True))
        if r.score is not None
    ]


def check_models(
    session: SessionBase,
    settings: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
    run_id: int | None = None,
    cancel: CancelToken | None = None,
) -> ModelCheck:
    """Run the check (network calls; no writes). ``run_id``: the run that will continue."""
    problem = session.problem(run_id)
    history = _history(session, run_id)
    size = settings.history_size or problem.default_history_size
    step = (session.store.last_step(run_id) + 1) if run_id is not None else 1
    prompt = problem.render_meta_prompt(history, max(step, 1), size)
    calls: list[CallRecord] = []

    def client_for(cfg: EndpointConfig, role: str) -> _Counting:
        return _Counting(make_client(cfg, cache=None, role=role), calls)

    def totals(**kw: Any) -> ModelCheck:
        return ModelCheck(requests=len(calls), tokens=sum(c.total_tokens for c in calls), **kw)

    # The scorer's question does not depend on the optimizer's answer: both are asked at once
    # (one round trip of waiting instead of two); the optimizer's verdict is reported first.
    probe = getattr(problem, "check_scorer", None)
    asked: Future[ExampleRecord] | None = None
    request = LLMRequest(prompt, n=1, temperature=settings.temperature,
                         max_tokens=settings.max_tokens, role="optimizer")  # fmt: skip
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="opro-check") as pool:
        if session.problem_kind.needs_scorer and probe is not None:
            better = problem.higher_is_better
            best = max(history, key=lambda h: h.score if better else -h.score) if history else None
            first = problem.initial_solutions()
            instruction = str(best.solution) if best else (str(first[0]) if first else "")
            scorer_client = client_for(scorer or optimizer, "scorer")
            asked = pool.submit(_ask, probe, instruction, scorer_client, cancel)
        with client_for(optimizer, "optimizer") as client:
            (answer,) = client.complete([request], cancel)
        rec = asked.result() if asked is not None else None
    text = answer.texts[0] if answer.texts else ""
    if not answer.texts or answer.error:  # transport trouble: the run reports it itself
        reason = f"did not answer ({answer.error or 'no completion'})"
        return totals(ok=False, role="optimizer", reason=reason, unreachable=True)
    parsed = problem.parse(text)
    if not any(p.solution is not None for p in parsed):
        why = next((p.reason for p in parsed if p.reason), "nothing could be read")
        return totals(
            ok=False, role="optimizer",
            reason=f"did not answer in the task's format ({why})", raw=_excerpt(text),
        )  # fmt: skip
    if rec is not None and (rec.correct is None or not rec.parsed_answer.strip()):
        why = rec.error or "no answer could be read from it"
        return totals(
            ok=False, role="scorer",
            reason=f"did not answer a training question usably ({why})",
            raw=_excerpt(rec.raw_answer),
        )  # fmt: skip
    return totals(ok=True)


def _ask(
    probe: Callable[[str, LLMClient, CancelToken | None], ExampleRecord],
    instruction: str,
    client: _Counting,
    cancel: CancelToken | None,
) -> ExampleRecord:
    with client:
        return probe(instruction, client, cancel)
