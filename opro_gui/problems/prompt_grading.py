"""The prompt kind's chosen evaluators and chat settings: read from the spec, applied to answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ExampleRecord
from opro_gui.core.ports import LLMClient, LLMRequest

from . import evaluators as ev
from .chat_prompts import ChatSettings

if TYPE_CHECKING:
    from .prompt_opt import PromptProblem

is_default = ev.is_default


class BuiltRequest(NamedTuple):
    request: LLMRequest
    shown: str  # how the request is stored and displayed (system and user turns labelled)


def read_spec(
    spec: dict[str, Any], examples: Sequence[dict[str, str]]
) -> tuple[tuple[ev.Evaluator, ...], ChatSettings]:
    """The evaluators and chat settings of a prompt spec, checked."""
    evaluators = ev.parse_evaluators(spec.get("evaluators"))
    columns = set(examples[0]) if examples else {"input", "target"}
    for i, ex in enumerate(examples):
        columns &= set(ex)
        if not columns >= {"input", "target"}:  # pragma: no cover - checked by the problem
            raise ValueError(f"example {i} lacks input or target")
    chat = ChatSettings.from_spec(spec.get("chat"), columns)
    for i, text in enumerate(spec.get("initial_instructions") or []):
        why = chat.guard(str(text))
        if why:
            raise ValueError(f"initial instruction {i + 1} {why}")
    return evaluators, chat


def with_placeholder_note(sections: dict[str, str], chat: ChatSettings) -> dict[str, str]:
    """Template placement: the meta-prompt's closing line asks to keep the required slots."""
    if chat.placement != "template" or not chat.required or "footer" not in sections:
        return sections
    slots = ", ".join(f"{{{p}}}" for p in chat.required)
    note = (
        f" The instruction is a template: keep {slots} exactly as written; each is replaced by"
        " the example's text."
    )
    footer = sections["footer"]
    body = footer.rstrip("\n")
    return {**sections, "footer": body + note + footer[len(body) :]}


def spec_keys(evaluators: Sequence[ev.Evaluator], chat: ChatSettings) -> dict[str, Any]:
    """The spec keys of non-default settings (a default project's spec stays as it was)."""
    out: dict[str, Any] = {}
    if not ev.is_default(evaluators):
        out["evaluators"] = [e.to_spec() for e in evaluators]
    chat_spec = chat.to_spec()
    if chat_spec is not None:
        out["chat"] = chat_spec
    return out


def grade_records(
    problem: PromptProblem,
    records: Sequence[ExampleRecord],
    client: LLMClient | None,
    cancel: CancelToken | None,
) -> list[ExampleRecord]:
    """Every answered record graded by every evaluator; judge requests go out in one batch."""
    judges = [e for e in problem.evaluators if e.kind == "judge"]
    asks: list[tuple[int, str, str]] = []  # (record index, judge name, prompt)
    for k, r in enumerate(records):
        if r.correct is None:
            continue
        target = problem.examples[r.example_id]["target"]
        for j in judges:
            asks.append((k, j.name, ev.judge_prompt(j, r.prompt, r.raw_answer, target)))
    replies: dict[tuple[int, str], tuple[str, str | None, str]] = {}
    if asks:
        if client is None:
            raise ValueError("an LLM judge needs a model")
        results = client.complete([ev.judge_request(p) for _, _, p in asks], cancel)
        for (k, name, prompt), res in zip(asks, results, strict=True):
            text = res.texts[0] if res.texts else None
            replies[(k, name)] = (prompt, text, res.error or ("" if res.texts else "no reply"))
    out: list[ExampleRecord] = []
    for k, r in enumerate(records):
        if r.correct is None:
            out.append(r)
            continue
        target = problem.examples[r.example_id]["target"]
        judged = {j.name: replies[(k, j.name)] for j in judges}
        verdicts, score = ev.grade(
            problem.evaluators, r.raw_answer, (bool(r.correct), r.parsed_answer), judged,
            has_reference=bool(target.strip()),
        )  # fmt: skip
        if score is None:
            failed = next(v for v in verdicts if v.score is None)
            error = f"{failed.name}: {failed.reason}"
            out.append(replace(r, verdicts=verdicts, correct=None, error=error))
        else:
            out.append(replace(r, verdicts=verdicts, score=score, correct=score >= ev.PASS_MARK))
    return out
