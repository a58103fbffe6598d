"""The engine driven by a scripted client, without threads, HTTP or a file."""

from __future__ import annotations

import re

import pytest
from toy_problem import ScriptedClient, ToyProblem

from opro_gui.core.cancel import CancelToken
from opro_gui.core.engine import Engine
from opro_gui.core.events import RunFinished, StepCompleted, StepStarted
from opro_gui.core.models import CandidateStatus, RunSettings, StepRecord
from opro_gui.core.ports import LLMResult


class MemorySink:
    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.statuses: list[tuple[str, str]] = []

    def step_completed(self, record: StepRecord) -> None:
        self.steps.append(record)

    def status_changed(self, status: str, reason: str = "", cause: str = "") -> None:
        self.statuses.append((str(status), reason))


def halving(prompt: str, i: int) -> str:
    """Proposes numbers between the best shown and the target 42, one per sample."""
    shown = [int(x) for x in re.findall(r"<x>(-?\d+)</x>", prompt)]
    best = shown[-1]
    return f"<x>{best + (42 - best) // 2 + i}</x>"


def make(settings: RunSettings, answer=halving, **kw):
    sink = MemorySink()
    engine = Engine(ToyProblem(), ScriptedClient(answer), None, settings, sink, **kw)
    return engine, sink


def test_initial_step_then_steps_until_optimum() -> None:
    engine, sink = make(RunSettings(max_steps=30, samples_per_step=2))
    final = engine.run()
    assert final.status == "target_reached"
    assert sink.steps[0].step == 0 and sink.steps[0].meta_prompt == ""
    assert [c.completion_index for c in sink.steps[0].candidates] == [-1, -1]
    assert sink.steps[-1].best_score == 0 and sink.steps[-1].optimal
    assert [s.step for s in sink.steps] == list(range(len(sink.steps)))
    assert sink.statuses[0][0] == "running" and sink.statuses[-1][0] == "target_reached"


def test_meta_prompt_shows_history_best_last() -> None:
    engine, sink = make(RunSettings(max_steps=1, samples_per_step=1, stop_at_optimum=False))
    events = list(engine.events())
    started = [e for e in events if isinstance(e, StepStarted)]
    assert started[0].meta_prompt == "step 1\n<x>100</x> score 58\n<x>0</x> score 42"


def test_max_steps_and_event_order() -> None:
    engine, sink = make(
        RunSettings(max_steps=3, samples_per_step=1), answer=lambda p, i: "<x>7</x>"
    )
    events = list(engine.events())
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert events[-1].status == "completed"
    # Step 1 proposes 7 (new), steps 2 and 3 propose it again: duplicates, never rescored.
    assert [c.status for c in sink.steps[1].candidates] == [CandidateStatus.SCORED]
    assert [c.status for c in sink.steps[2].candidates] == [CandidateStatus.DUPLICATE]
    assert "earlier step" in sink.steps[2].candidates[0].reason


def test_invalid_filtered_and_in_step_duplicates_get_reasons() -> None:
    answers = ["no tag here", "<x>abc</x>", "<x>-5</x>", "<x>30</x><x>30</x>"]
    engine, sink = make(
        RunSettings(max_steps=1, samples_per_step=4), answer=lambda p, i: answers[i]
    )
    engine.run()
    c = sink.steps[1].candidates
    assert [x.status for x in c] == ["invalid", "invalid", "filtered", "scored", "duplicate"]
    assert c[0].reason == "no <x> tag" and "not an integer" in c[1].reason
    assert c[2].reason == "negative" and "earlier in this step" in c[4].reason
    assert [x.completion_index for x in c] == [0, 1, 2, 3, 3]


def test_at_most_k_candidates_scored_per_step() -> None:
    engine, sink = make(
        RunSettings(max_steps=1, samples_per_step=2),
        answer=lambda p, i: f"<x>{10 + 3 * i}</x><x>{11 + 3 * i}</x><x>{12 + 3 * i}</x>",
    )
    engine.run()
    statuses = [c.status for c in sink.steps[1].candidates]
    assert statuses.count("scored") == 2
    assert statuses.count("filtered") == 4


def test_patience_stops_without_improvement() -> None:
    engine, _ = make(
        RunSettings(max_steps=50, samples_per_step=1, patience=3),
        answer=lambda p, i: f"<x>{90 + len(p) % 7}</x>",
    )
    final = engine.run()
    assert final.status == "no_improvement"
    assert final.last_step == 3  # steps 1-3 all propose 90 + (len % 7) > the initial best


def test_target_score_stops() -> None:
    engine, _ = make(RunSettings(max_steps=50, samples_per_step=1, target_score=10))
    final = engine.run()
    assert final.status == "target_reached" and "target score" in final.reason


def test_token_budget_pauses_at_step_boundary() -> None:
    engine, sink = make(
        RunSettings(max_steps=50, samples_per_step=1, budget_tokens=10, stop_at_optimum=False),
        answer=lambda p, i: f"<x>{len(p)}</x>",
    )
    final = engine.run()
    assert final.status == "paused" and "token budget" in final.reason
    # Paused at the first boundary at or past the budget: the step before was still under it.
    used = 0
    for s in sink.steps[:-1]:
        used += sum(c.total_tokens for c in s.calls)
        assert used < 10
    assert (final.last_step, final.totals["total_tokens"]) == (2, 21)
    assert final.reason == "token budget reached: 21 of 10 tokens used"


def test_cancel_and_pause() -> None:
    cancel = CancelToken()
    engine, sink = make(
        RunSettings(max_steps=50, samples_per_step=1, stop_at_optimum=False),
        answer=lambda p, i: f"<x>{len(p)}</x>",
        cancel=cancel,
    )
    for event in engine.events():
        if isinstance(event, StepCompleted) and event.record.step == 2:
            cancel.pause()
        last = event
    assert isinstance(last, RunFinished) and last.status == "paused" and last.last_step == 2

    cancel2 = CancelToken()
    engine2, sink2 = make(
        RunSettings(max_steps=50, samples_per_step=1, stop_at_optimum=False),
        answer=lambda p, i: f"<x>{len(p)}</x>",
        cancel=cancel2,
    )
    for event in engine2.events():
        if isinstance(event, StepStarted) and event.step == 3:
            cancel2.cancel()
        last = event
    assert last.status == "cancelled" and last.last_step == 2
    assert [s.step for s in sink2.steps] == [0, 1, 2]


def test_resume_from_state_gives_the_same_run() -> None:
    """Same answers + rebuilt state = the same steps as an uninterrupted run."""
    full, full_sink = make(RunSettings(max_steps=6, samples_per_step=2, stop_at_optimum=False))
    full.run()
    first, first_sink = make(RunSettings(max_steps=3, samples_per_step=2, stop_at_optimum=False))
    first.run()
    second, second_sink = make(
        RunSettings(max_steps=6, samples_per_step=2, stop_at_optimum=False), state=first.state
    )
    second.run()
    joined = first_sink.steps + second_sink.steps
    assert [s.meta_prompt for s in joined] == [s.meta_prompt for s in full_sink.steps]
    assert [s.best_score for s in joined] == [s.best_score for s in full_sink.steps]


def test_optimizer_failure_pauses_without_recording_a_step() -> None:
    class Failing(ScriptedClient):
        def complete(self, requests, cancel=None):
            r = super().complete(requests, cancel)[0]
            return [LLMResult(texts=(), call=r.call, error="HTTP 503 after 5 retries")]

    sink = MemorySink()
    engine = Engine(ToyProblem(), Failing(halving), None, RunSettings(max_steps=3), sink)
    final = engine.run()
    assert final.status == "paused" and "503" in final.reason
    assert [s.step for s in sink.steps] == [0]


def test_unexpected_error_fails_run_but_keeps_steps() -> None:
    def boom(prompt: str, i: int) -> str:
        if "step 2" in prompt:
            raise RuntimeError("kaput")
        return "<x>5</x>"

    engine, sink = make(RunSettings(max_steps=5, samples_per_step=1), answer=boom)
    final = engine.run()
    assert final.status == "failed" and "kaput" in final.reason
    assert [s.step for s in sink.steps] == [0, 1]


@pytest.mark.parametrize("k", [1, 8])
def test_optimizer_request_shape(k: int) -> None:
    client = ScriptedClient(halving)
    engine = Engine(
        ToyProblem(),
        client,
        None,
        RunSettings(max_steps=1, samples_per_step=k, temperature=0.7, max_tokens=99),
        MemorySink(),
    )
    engine.run()
    (req,) = client.requests
    assert (req.n, req.temperature, req.max_tokens, req.role) == (k, 0.7, 99, "optimizer")


def test_quota_scores_exactly_that_many_asking_again_for_repeats() -> None:
    calls = iter(range(1000))

    def repeats(prompt: str, i: int) -> str:
        k = next(calls)
        return f"<x>{10 + k // 2}</x>"  # every value twice: half the proposals are repeats

    quotas = {1: 5, 2: 0, 3: 2}
    settings = RunSettings(max_steps=3, samples_per_step=4, stop_at_optimum=False)
    engine, sink = make(settings, repeats, quota=lambda s: quotas[s])
    client = engine.optimizer
    engine.run()
    sent = [sum(c.status is CandidateStatus.SCORED for c in s.candidates) for s in sink.steps[1:]]
    assert sent == [5, 0, 2]
    # step 1: 4 samples give 2 new values, then 4 more give 2, then 4 more give the 5th
    assert [r.role for r in client.requests] == ["optimizer"] * 4  # 3 for step 1, 1 for step 3
    assert len(sink.steps[1].completions) == 12 and sink.steps[2].completions == ()
    over = [c for c in sink.steps[1].candidates if c.status is CandidateStatus.FILTERED]
    assert over and all("budget is used" in c.reason for c in over)
    assert [c.index for c in sink.steps[1].candidates] == list(range(12))
