"""A tiny problem kind for engine and storage tests: find the integer closest to a target."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import CallRecord, ParsedCandidate, Scored, ScoreResult
from opro_gui.core.ports import LLMClient, LLMRequest, LLMResult


class ToyProblem:
    """Minimise |x - target|. Parses every <x>N</x> in a completion."""

    kind = "toy"
    higher_is_better = False
    default_history_size = 5
    worst_score: float | None = None

    def __init__(self, target: int = 42, start: Sequence[int] = (0, 100)) -> None:
        self.target = target
        self.start = list(start)

    def initial_solutions(self) -> list[Any]:
        return list(self.start)

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        best = sorted(history, key=lambda h: h.score)[:history_size]
        lines = [f"<x>{h.solution}</x> score {h.score:g}" for h in reversed(best)]
        return f"step {step}\n" + "\n".join(lines)

    def parse(self, completion: str) -> list[ParsedCandidate]:
        found = re.findall(r"<x>(.*?)</x>", completion)
        if not found:
            return [ParsedCandidate(None, "no <x> tag", completion[:40])]
        out = []
        for f in found:
            try:
                out.append(ParsedCandidate(int(f), text=f))
            except ValueError:
                out.append(ParsedCandidate(None, f"not an integer: {f!r}", f))
        return out

    def dedup_key(self, solution: Any) -> str:
        return str(solution)

    def filter_reason(self, solution: Any) -> str | None:
        return "negative" if solution < 0 else None

    def score(
        self, solutions: Sequence[Any], scorer: LLMClient | None, cancel: CancelToken | None = None
    ) -> list[ScoreResult]:
        return [ScoreResult(score=float(abs(s - self.target))) for s in solutions]

    def format_solution(self, solution: Any) -> str:
        return str(solution)

    def is_optimal(self, solution: Any, score: float) -> bool:
        return score == 0

    def to_spec(self) -> dict[str, Any]:
        return {"target": self.target, "start": self.start}

    def summary(self) -> dict[str, Any]:
        return {"target": self.target}


class ScriptedClient:
    """An in-process LLMClient: answers come from a function of (prompt, index)."""

    def __init__(self, answer: Any, model: str = "scripted") -> None:
        self.answer = answer
        self._model = model
        self.requests: list[LLMRequest] = []

    @property
    def model(self) -> str:
        return self._model

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        out = []
        for req in requests:
            if cancel is not None:
                cancel.raise_if_cancelled()
            self.requests.append(req)
            texts = tuple(self.answer(req.prompt, i) for i in range(req.n))
            call = CallRecord(
                role=req.role,
                model_requested=self._model,
                model_reported=self._model,
                prompt_tokens=len(req.prompt.split()),
                completion_tokens=sum(len(t.split()) for t in texts),
                n=req.n,
            )
            out.append(LLMResult(texts=texts, call=call))
        return out
