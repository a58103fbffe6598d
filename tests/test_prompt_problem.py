"""PromptProblem: spec validation, parsing, dedup, filters and batched scoring with a scripted
in-process LLMClient."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.core.models import CallRecord, RunSettings, StepRecord
from opro_gui.core.ports import LLMRequest, LLMResult
from opro_gui.problems.datasets import Dataset
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset

EXAMPLES = [{"input": f"What is {i} times 7?", "target": str(7 * i)} for i in range(12)]


def make(**overrides: Any) -> PromptProblem:
    spec: dict[str, Any] = {"examples": EXAMPLES, "train_ids": list(range(10)), **overrides}
    return PromptProblem.from_spec(spec)


class ScriptedScorer:
    """Answers from the prompt text: "Good" instructions are always right, "Half" ones on even
    numbers, "Flaky" ones fail (request error) on odd numbers; anything else is wrong."""

    def __init__(self) -> None:
        self.batches: list[list[LLMRequest]] = []

    @property
    def model(self) -> str:
        return "scripted"

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        if cancel is not None:
            cancel.raise_if_cancelled()
        self.batches.append(list(requests))
        return [self._answer(r) for r in requests]

    def _answer(self, req: LLMRequest) -> LLMResult:
        call = CallRecord(role=req.role, model_requested="scripted")
        if req.role == "extract":
            return LLMResult(texts=(" 42.\nQ: more",), call=call)
        n = int(req.prompt.split("What is ")[1].split(" ")[0])
        right = f"Working... so the answer is {7 * n}."
        wrong = f"The answer is {7 * n + 1}."
        if "Flaky" in req.prompt and n % 2:
            return LLMResult(texts=(), call=call, error="HTTP 503 from server")
        if "Good" in req.prompt or ("Half" in req.prompt and n % 2 == 0):
            return LLMResult(texts=(right,), call=call)
        return LLMResult(texts=(wrong,), call=call)


def test_score_sends_one_batch_and_gets_exact_accuracy() -> None:
    problem = make()
    scorer = ScriptedScorer()
    results = problem.score(["Good one.", "Half of it.", "Bad."], scorer)
    assert len(scorer.batches) == 1
    batch = scorer.batches[0]
    assert len(batch) == 3 * 10
    assert {(r.temperature, r.role, r.n) for r in batch} == {(0.0, "scorer", 1)}
    assert [r.score for r in results] == [1.0, 0.5, 0.0]
    assert all(r.complete for r in results)
    rec = results[1].records[3]
    assert rec.example_id == 3
    assert rec.prompt == "Half of it.\nWhat is 3 times 7?"
    assert rec.raw_answer == "The answer is 22."
    assert rec.parsed_answer == "22"
    assert rec.correct is False


def test_failed_requests_make_the_result_incomplete_not_wrong() -> None:
    problem = make()
    (res,) = problem.score(["Good but Flaky."], ScriptedScorer())
    assert res.complete is False
    assert res.score == 1.0  # accuracy over the 5 answered examples
    failed = [r for r in res.records if r.correct is None]
    assert [r.example_id for r in failed] == [1, 3, 5, 7, 9]
    assert all("503" in r.error for r in failed)
    assert "5 of 10 scorer requests failed" in res.error


def test_all_failed_gives_no_score() -> None:
    problem = make(train_ids=[1, 3])
    (res,) = problem.score(["Flaky"], ScriptedScorer())
    assert res.score is None and res.complete is False


def test_second_round_extraction_is_a_second_batch() -> None:
    problem = make(extract_again=True, position="A_begin")
    scorer = ScriptedScorer()
    (res,) = problem.score(["Bad."], scorer)
    assert len(scorer.batches) == 2
    second = scorer.batches[1]
    assert len(second) == 10 and {r.max_tokens for r in second} == {50}
    assert second[6].prompt == (
        "Q: What is 6 times 7?\n\nA: Bad. The answer is 43. So the final answer is"
    )
    assert res.score == pytest.approx(0.1)  # only 6 x 7 = 42 matches the scripted " 42."
    assert res.records[6].parsed_answer == "42"


def test_cancel_propagates() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        make().score(["Good"], ScriptedScorer(), token)


def test_evaluate_uses_the_held_out_split() -> None:
    problem = make()
    scorer = ScriptedScorer()
    test_res = problem.evaluate(["Half"], scorer, split="test")
    assert [r.example_id for r in test_res[0].records] == [10, 11]
    assert test_res[0].score == 0.5
    assert len(problem.evaluate([""], scorer, split="all")[0].records) == 12
    with pytest.raises(ValueError, match="split"):
        problem.evaluate([""], scorer, split="validation")
    assert problem.baselines() == ["", "Let's think step by step."]


def test_parse_per_style() -> None:
    ins = make()
    assert ins.parse("Sure! <INS>  **think** first.</INS> done")[0].solution == "Think first."
    assert ins.parse("no tags at all")[0].solution == "No tags at all"
    start = make(position="A_begin")
    assert start.parse("<Start>let's go</Start>")[0].solution == "Let's go"
    bracket = make(style="bracket")
    assert (
        bracket.parse("New: [solve it step by step] and [x]")[0].solution == "Solve it step by step"
    )
    assert bracket.parse("no brackets")[0].solution == ""  # reference: the empty instruction
    assert bracket.parse("[multi\nline]")[0].solution == ""
    text = make(style="text")
    assert text.parse("<TEXT>Take a\ndeep breath</TEXT><TEXT>x</TEXT>")[0].solution == (
        "Take a\ndeep breath"
    )
    bad = text.parse("Precision: 20")
    assert bad[0].solution is None and "TEXT" in bad[0].reason


def test_dedup_key_polishes_and_hashes_utf8() -> None:
    problem = make()
    key = problem.dedup_key("Let’s think — carefully")
    assert key == hashlib.md5("Let’s think — carefully".encode()).hexdigest()
    assert problem.dedup_key("let's solve the problem.") == problem.dedup_key(
        "  **Let's solve the problem.**"
    )
    assert problem.dedup_key("a") != problem.dedup_key("A")  # one character: not capitalised
    initial = problem.initial_solutions()
    assert initial == ["Let's solve the problem."]
    assert problem.dedup_key(initial[0]) == problem.dedup_key("let's solve the problem.")


def test_filters() -> None:
    problem = make()
    assert problem.filter_reason("Fine instruction.") is None
    assert "longer than 500" in (problem.filter_reason("x" * 501) or "")
    assert problem.filter_reason("x" * 500) is None
    assert problem.filter_reason("Use <INS> here") == 'contains "INS"'
    assert problem.filter_reason("Use 3 steps") is None  # digits allowed by default
    gsm = make(task_name="gsm8k")
    assert gsm.forbid_digits and "digit" in (gsm.filter_reason("Use 3 steps") or "")
    assert make(max_length=10).filter_reason("eleven char") is not None


def test_include_qa_chosen_automatically_and_impossible_combinations_rejected() -> None:
    assert make(position="A_begin").include_qa is True
    assert make(position="before_Q").include_qa is True
    assert make(position="Q_end").include_qa is False
    assert make(position="Q_end", include_qa=True).include_qa is True
    with pytest.raises(ValueError, match="needs include_qa"):
        make(position="A_begin", include_qa=False)
    with pytest.raises(ValueError, match="before_Q"):
        make(style="text", position="before_Q")
    with pytest.raises(ValueError, match="position"):
        make(position="Q_beginning")
    with pytest.raises(ValueError, match="criterion"):
        make(criterion="most")
    with pytest.raises(ValueError, match="train_ids"):
        make(train_ids=[0, 99])
    with pytest.raises(ValueError, match="examples"):
        PromptProblem.from_spec({"examples": []})
    with pytest.raises(ValueError, match=r"\(A\)"):
        make(task_type="choice")


def test_regex_match_mode_validates_targets() -> None:
    examples = [{"input": "What is 1 times 7?", "target": "(7"}]
    with pytest.raises(ValueError, match="regex"):
        PromptProblem.from_spec({"examples": examples, "train_ids": [0], "match": "regex"})


def test_spec_round_trip_and_summary() -> None:
    problem = make(style="bracket", position="Q_end", criterion="constant", seed=3)
    spec = problem.to_spec()
    again = PromptProblem.from_spec(spec)
    assert again.to_spec() == spec
    assert spec["train_ids"] == list(range(10)) and spec["include_qa"] is False
    summary = problem.summary()
    assert summary["n_train"] == 10 and summary["n_test"] == 2
    assert problem.is_optimal("x", 1.0) and not problem.is_optimal("x", 0.99)


def test_spec_from_dataset_uses_paper_defaults() -> None:
    data = Dataset(
        examples=[{"input": f"q{i}", "target": "yes" if i % 2 else "no"} for i in range(250)],
        task_type_guess="boolean",
        name="sports_understanding",
        fmt="bbh",
    )
    spec = spec_from_dataset(data, style="bracket")
    assert len(spec["train_ids"]) == 50
    assert spec["task_type"] == "boolean" and spec["forbid_digits"] is False
    assert spec["style"] == "bracket" and spec["task_phrase"] == "sports understanding"


def test_explicit_test_ids() -> None:
    problem = make(train_ids=[0, 1], test_ids=[5, 6])
    assert [r.example_id for r in problem.evaluate(["Good"], ScriptedScorer())[0].records] == [5, 6]
    assert problem.to_spec()["test_ids"] == [5, 6]
    with pytest.raises(ValueError, match="overlap"):
        make(train_ids=[0, 1], test_ids=[1, 2])


def test_seeded_split_without_train_ids() -> None:
    spec = {"examples": EXAMPLES, "train_ratio": 0.5, "seed": 0}
    a = PromptProblem.from_spec(spec)
    assert len(a.train_ids) == 6 and a.train_ids == sorted(a.train_ids)
    assert PromptProblem.from_spec(spec).train_ids == a.train_ids
    assert PromptProblem.from_spec({**spec, "seed": 5}).train_ids != a.train_ids


@settings(max_examples=200, deadline=None)
@given(completion=st.text(), style=st.sampled_from(["ins", "bracket", "text"]))
def test_parse_never_raises(completion: str, style: str) -> None:
    problem = make(style=style)
    parsed = problem.parse(completion)
    assert len(parsed) == 1
    if parsed[0].solution is not None:
        assert isinstance(problem.dedup_key(parsed[0].solution), str)


class _Optimizer:
    model = "scripted-optimizer"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        self.prompts.extend(r.prompt for r in requests)
        texts = ("<INS>Good idea</INS>", "<INS>let's solve the problem.</INS>", "<INS>Half</INS>")
        return [LLMResult(texts=texts[: r.n], call=CallRecord("optimizer", "o")) for r in requests]


class _Sink:
    def __init__(self) -> None:
        self.records: list[StepRecord] = []

    def step_completed(self, record: StepRecord) -> None:
        self.records.append(record)

    def status_changed(self, status: str, reason: str = "", cause: str = "") -> None:
        pass


def test_engine_runs_prompt_problem_end_to_end() -> None:
    from opro_gui.core.engine import Engine

    sink = _Sink()
    optimizer = _Optimizer()
    engine = Engine(
        make(), optimizer, ScriptedScorer(), RunSettings(max_steps=1, samples_per_step=3), sink
    )
    final = engine.run()
    assert final.status == "target_reached"  # "Good idea" scores 1.0
    step1 = sink.records[1]
    statuses = {c.text: c.status.value for c in step1.candidates}
    assert statuses == {
        "Good idea": "scored",
        "Let's solve the problem.": "duplicate",
        "Half": "scored",
    }
    assert "text:\nLet's solve the problem.\nscore:\n0\n" in optimizer.prompts[0]
