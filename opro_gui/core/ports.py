"""The Protocols the loop needs: a model client, a problem kind, a run sink, a response cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .cancel import CancelToken
from .models import CallRecord, ParsedCandidate, Scored, ScoreResult, Solution, StepRecord, Totals


@dataclass(frozen=True)
class LLMRequest:
    """One prompt to send; ``n`` completions wanted."""

    prompt: str
    n: int = 1
    temperature: float = 0.0
    max_tokens: int = 1024
    role: str = "scorer"
    stop: tuple[str, ...] = ()
    system: str = ""  # a system message (chat prompts); empty: the prompt is the only turn
    system_after: bool = False  # send the system message after the user turn


@dataclass(frozen=True)
class LLMResult:
    """The answer to one LLMRequest. ``error`` is non-empty when the request finally failed
    (after retries); then ``texts`` may hold fewer than ``n`` completions, or none."""

    texts: tuple[str, ...]
    call: CallRecord
    error: str = ""
    calls: tuple[CallRecord, ...] = field(default=())  # all HTTP calls made (parallel n)

    @property
    def ok(self) -> bool:
        return not self.error


@runtime_checkable
class LLMClient(Protocol):
    """Sends many requests at once; returns results in request order. Never raises for a
    failed request (the result carries the error); raises ``Cancelled`` if cancelled."""

    @property
    def model(self) -> str: ...

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]: ...


class Problem(Protocol):
    """One problem kind (TSP, linear regression, prompt optimization). Pure: no I/O."""

    kind: str
    higher_is_better: bool
    default_history_size: int
    # The score that means the scorer got nothing right (prompts: 0.0 accuracy), or None when
    # no score means that (TSP, LR). Steps scored all at it pause the run (core.stall).
    worst_score: float | None

    def initial_solutions(self) -> list[Solution]: ...

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        """The meta-prompt for ``step`` (1-based) from the scored history (any order)."""
        ...

    def parse(self, completion: str) -> list[ParsedCandidate]: ...

    def dedup_key(self, solution: Solution) -> str: ...

    def filter_reason(self, solution: Solution) -> str | None:
        """Why a parsed solution is filtered out, or None to keep it."""
        ...

    def score(
        self,
        solutions: Sequence[Solution],
        scorer: LLMClient | None,
        cancel: CancelToken | None = None,
    ) -> list[ScoreResult]: ...

    def format_solution(self, solution: Solution) -> str: ...

    def is_optimal(self, solution: Solution, score: float) -> bool:
        """True when ``solution`` is provably optimal (TSP optimum, LR integer optimum)."""
        ...

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able description from which the problem can be rebuilt."""
        ...

    def summary(self) -> dict[str, Any]:
        """Static facts for reports: optimum, true parameters, baselines..."""
        ...


class ResponseCache(Protocol):
    """Stores successful LLM responses by key; thread-safe not required (called from the
    thread that called ``complete``)."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


class RunSink(Protocol):
    """Where the engine writes each completed step (one transaction each)."""

    def step_completed(self, record: StepRecord) -> None: ...

    def status_changed(self, status: str, reason: str = "", cause: str = "") -> None:
        """``cause``: a StopCause value (empty while running)."""
        ...


@dataclass
class RunState:
    """What the engine needs to continue a run: rebuilt from the project file on resume."""

    history: list[Scored] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    last_step: int = -1  # -1: nothing done; 0: initial solutions scored
    steps_without_improvement: int = 0
    totals: Totals = field(default_factory=Totals)
    found_optimum: bool = False
