"""TSP and linear-regression problems driven by the real engine with scripted optimizers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.engine import Engine
from opro_gui.core.models import CallRecord, CandidateStatus, RunSettings, RunStatus, StepRecord
from opro_gui.core.ports import LLMRequest, LLMResult
from opro_gui.problems.linear_regression import LinearRegressionProblem
from opro_gui.problems.tsp import TSPProblem

sys.path.insert(0, str(Path(__file__).parent))
from scripted_models import linreg_optimizer, two_opt_optimizer  # noqa: E402


class ScriptedClient:
    """An LLMClient whose every completion comes from ``answer(prompt, body)``."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], str]) -> None:
        self._answer = answer

    @property
    def model(self) -> str:
        return "scripted"

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        return [
            LLMResult(
                texts=tuple(self._answer(r.prompt, {}) for _ in range(r.n)),
                call=CallRecord(role=r.role, model_requested="scripted", n=r.n),
            )
            for r in requests
        ]


class MemorySink:
    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.statuses: list[str] = []

    def step_completed(self, record: StepRecord) -> None:
        self.steps.append(record)

    def status_changed(self, status: str, reason: str = "", cause: str = "") -> None:
        self.statuses.append(status)


def test_tsp_run_with_a_two_opt_optimizer_stops_at_the_exact_optimum() -> None:
    two_opt_optimizer.counter = 0  # type: ignore[attr-defined]  # same moves in any test order
    problem = TSPProblem.generate(8, seed=5)
    sink = MemorySink()
    engine = Engine(
        problem, ScriptedClient(two_opt_optimizer), None, RunSettings(max_steps=40, seed=1), sink
    )
    finished = engine.run()
    assert finished.status == RunStatus.TARGET_REACHED
    best = engine.best()
    assert best is not None and best.score == problem.optimal_length()
    assert problem.gap_percent(best.score) == 0.0
    assert sink.steps[0].step == 0 and len(sink.steps[0].candidates) == 5
    for record in sink.steps[1:]:
        assert record.meta_prompt.startswith("You are given a list of points")
        for cand in record.candidates:
            if cand.status == CandidateStatus.SCORED:
                assert cand.solution is not None
                assert problem.validation_error(cand.solution) is None
                assert cand.score == problem.length(cand.solution)
    assert sink.steps[-1].optimal


def test_linreg_run_with_a_coordinate_optimizer_stops_at_the_integer_optimum() -> None:
    linreg_optimizer.counter = 0  # type: ignore[attr-defined]
    problem = LinearRegressionProblem(17, 17, seed=2)
    sink = MemorySink()
    engine = Engine(
        problem, ScriptedClient(linreg_optimizer), None, RunSettings(max_steps=60), sink
    )
    finished = engine.run()
    assert finished.status == RunStatus.TARGET_REACHED
    w_opt, b_opt, loss_opt = problem.integer_optimum()
    best = engine.best()
    assert best is not None and list(best.solution) == [w_opt, b_opt]
    assert best.score == loss_opt
    assert "input:\nw=" in sink.steps[1].meta_prompt
