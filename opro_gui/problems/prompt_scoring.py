"""Scoring instructions for prompt optimization: scorer requests, answer checking, accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ExampleRecord, ScoreResult
from opro_gui.core.ports import LLMClient, LLMRequest

from . import evaluators as ev
from . import prompt_grading
from . import prompt_meta as meta
from .answers import decimals_of, is_correct, normalize
from .chat_prompts import ChatSettings

if TYPE_CHECKING:
    from .prompt_opt import PromptProblem

SECOND_ROUND_MAX_TOKENS = 50


class PromptScoring:
    """The scoring half of :class:`~.prompt_opt.PromptProblem` (which sets these fields)."""

    examples: list[dict[str, str]]
    task_type: str
    match: str
    extract_again: bool
    boxed: bool
    lenient_substring: bool
    scorer_max_tokens: int
    chat: ChatSettings
    evaluators: tuple[ev.Evaluator, ...]

    def scorer_prompt(self, instruction: str, example_id: int) -> str:
        raise NotImplementedError

    def _score_on(
        self,
        instructions: list[str],
        ids: Sequence[int],
        scorer: LLMClient | None,
        cancel: CancelToken | None,
    ) -> list[ScoreResult]:
        if not instructions:
            return []
        if scorer is None:
            raise ValueError("prompt optimization needs a scorer model")
        pairs = [(ins, i) for ins in instructions for i in ids]
        if self.chat.active:
            built = [self.scorer_request(ins, i) for ins, i in pairs]
            requests, prompts = [b.request for b in built], [b.shown for b in built]
        else:
            prompts = [self.scorer_prompt(ins, i) for ins, i in pairs]
            requests = [
                LLMRequest(prompt=p, n=1, temperature=0.0, max_tokens=self.scorer_max_tokens,
                           role="scorer")
                for p in prompts
            ]  # fmt: skip
        first = scorer.complete(requests, cancel)
        answers: list[str | None] = [r.texts[0] if r.texts else None for r in first]
        errors = [r.error or ("" if r.texts else "no completion") for r in first]
        to_parse: list[str | None] = list(answers)
        if self.extract_again:
            todo = [k for k, a in enumerate(answers) if a is not None]
            second = scorer.complete(
                [LLMRequest(prompt=meta.second_round_prompt(prompts[k], answers[k] or ""),
                            n=1, temperature=0.0, max_tokens=SECOND_ROUND_MAX_TOKENS,
                            role="extract") for k in todo],
                cancel,
            )  # fmt: skip
            for k, r in zip(todo, second, strict=True):
                to_parse[k] = r.texts[0] if r.texts else None
                if not r.texts:
                    errors[k] = "second round: " + (r.error or "no completion")
        records = [
            self._judge(example_id, prompts[k], answers[k], to_parse[k], errors[k])
            for k, (_, example_id) in enumerate(pairs)
        ]
        if not prompt_grading.is_default(self.evaluators):
            records = prompt_grading.grade_records(
                cast("PromptProblem", self), records, scorer, cancel
            )
        n = len(ids)
        return [self._result(records[j * n : (j + 1) * n]) for j in range(len(instructions))]

    def check_scorer(
        self, instruction: str, scorer: LLMClient, cancel: CancelToken | None = None
    ) -> ExampleRecord:
        """The model check before a run: the scorer answers one training question with
        ``instruction``, read by this task's own answer parsing (one request; two with the
        second extraction round; no evaluator is asked). The record says what was read."""
        i = (list(getattr(self, "train_ids", ())) or [0])[0]
        if self.chat.active:
            built = self.scorer_request(instruction, i)
            request, prompt = built.request, built.shown
        else:
            prompt = self.scorer_prompt(instruction, i)
            request = LLMRequest(prompt=prompt, n=1, temperature=0.0,
                                 max_tokens=self.scorer_max_tokens, role="scorer")  # fmt: skip
        (first,) = scorer.complete([request], cancel)
        raw = first.texts[0] if first.texts else None
        error = first.error or ("" if first.texts else "no completion")
        text = raw
        if self.extract_again and raw is not None:
            (second,) = scorer.complete(
                [LLMRequest(prompt=meta.second_round_prompt(prompt, raw), n=1, temperature=0.0,
                            max_tokens=SECOND_ROUND_MAX_TOKENS, role="extract")],
                cancel,
            )  # fmt: skip
            text = second.texts[0] if second.texts else None
            if not second.texts:
                error = "second round: " + (second.error or "no completion")
        return self._judge(i, prompt, raw, text, error)

    def scorer_request(self, instruction: str, example_id: int) -> prompt_grading.BuiltRequest:
        """The scorer request of a chat prompt (template or system message) for one example."""
        req, shown = self.chat.request(
            instruction, self.examples[example_id], self.scorer_max_tokens
        )
        return prompt_grading.BuiltRequest(req, shown)

    def _judge(
        self, example_id: int, prompt: str, raw: str | None, text: str | None, error: str
    ) -> ExampleRecord:
        if raw is None or text is None:
            return ExampleRecord(example_id, prompt, raw or "", "", None, error or "request failed")
        gold = self.examples[example_id]["target"]
        if self.match == "paper":
            parsed = normalize(
                text, self.task_type, num_decimals=decimals_of(gold), boxed=self.boxed,
                second_round=self.extract_again,
            )  # fmt: skip
            prompt_for_choice = prompt if self.task_type == "choice" else ""
            ok = is_correct(parsed, gold, self.task_type, prompt=prompt_for_choice,
                            lenient=self.lenient_substring)  # fmt: skip
        else:
            parsed = text.strip()
            ok = is_correct(parsed, gold, mode=self.match)
        return ExampleRecord(example_id, prompt, raw, parsed, ok)

    @staticmethod
    def _result(records: list[ExampleRecord]) -> ScoreResult:
        answered = [r for r in records if r.correct is not None]
        failed = len(records) - len(answered)
        error = ""
        if failed:
            first_error = next(r.error for r in records if r.correct is None)
            error = f"{failed} of {len(records)} scorer requests failed: {first_error}"
        if not answered:
            return ScoreResult(None, complete=False, records=tuple(records), error=error)
        if any(r.score is not None for r in answered):  # chosen evaluators: weighted scores
            accuracy = sum(float(r.score or 0.0) for r in answered) / len(answered)
        else:
            accuracy = sum(1 for r in answered if r.correct) / len(answered)
        return ScoreResult(accuracy, complete=not failed, records=tuple(records), error=error)
