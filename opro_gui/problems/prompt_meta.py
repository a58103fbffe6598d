"""Prompt-optimization texts: templates, history/exemplar choice, scorer prompts, output parsing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from opro_gui.core.models import Scored

POSITIONS = ("before_Q", "Q_begin", "Q_end", "A_begin")
STYLES = ("ins", "bracket", "text")
CRITERIA = ("random", "constant", "accumulative_most_frequent", "current_most_frequent")
_TEMPLATE_DIR = Path(__file__).parent / "templates"
_SECTION = re.compile(r"^=== (\w+) ===$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_POSITION_PHRASES = {
    "Q_begin": "at the beginning of the question",
    "Q_end": "at the end of the question",
    "A_begin": "at the beginning of the answer",
}


def parse_template(text: str) -> dict[str, str]:
    """Sections of a template file: "=== name ===" headers; a body is its lines joined by "\\n"."""
    if text.endswith("\n"):
        text = text[:-1]
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        m = _SECTION.match(line)
        if m:
            current = sections.setdefault(m.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


@cache
def _template_file(name: str) -> dict[str, str]:
    return parse_template((_TEMPLATE_DIR / f"prompt_{name}.txt").read_text(encoding="utf-8"))


def template_name(style: str, position: str) -> str:
    """Which template file a style uses: the <Start> wording for instruction-tuned A_begin."""
    return "ins_start" if style == "ins" and position == "A_begin" else style


def templates(
    style: str, position: str, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The sections for ``style``/``position``, with the user's overrides on top."""
    return {**_template_file(template_name(style, position)), **(overrides or {})}


def fill(template: str, **values: str) -> str:
    """Replace known ``{name}`` placeholders only; other braces (dyck questions...) stay."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def display_score(score: float) -> int:
    """Accuracy in [0, 1] shown as an integer 0–100 (100 buckets, Python rounding)."""
    return round(score * 100)


def shown_history(history: Sequence[Scored], size: int, threshold: float) -> list[Scored]:
    """The top ``size`` by score, ascending (best last), then those below ``threshold`` dropped."""
    best = sorted(history, key=lambda h: h.score)[-size:] if size > 0 else []
    return [h for h in best if not threshold or h.score >= threshold]


def step_rng(seed: int, step: int) -> np.random.RandomState:
    """The generator for step ``step`` (1-based). Seed 0 reproduces the reference's
    ``np.random.seed(i_step)`` with ``i_step = step - 1``; other seeds mix (seed, step)."""
    if seed == 0:
        return np.random.RandomState(max(step - 1, 0))
    state = np.random.SeedSequence([seed, max(step, 0)]).generate_state(1)[0]
    return np.random.RandomState(int(state))


def _draw(rng: np.random.RandomState, pool: Sequence[int], count: int) -> list[int]:
    if count >= len(pool):
        return sorted(pool)
    return sorted(int(i) for i in rng.choice(list(pool), count, replace=False))


def _wrong_counts(entries: Sequence[Scored]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for entry in entries:
        for example_id in {r.example_id for r in entry.records if r.correct is False}:
            counts[example_id] += 1
    return counts


def select_exemplars(
    criterion: str,
    train_ids: Sequence[int],
    history: Sequence[Scored],
    step: int,
    *,
    seed: int = 0,
    count: int = 3,
    history_size: int = 20,
    threshold: float = 0.0,
) -> list[int]:
    """Sorted example ids shown in the meta-prompt of ``step`` (§1.4).

    The "wrong answers" criteria read ``Scored.records``; ties in wrong-answer counts are
    broken by example id (the reference's order there depends on set iteration).
    """
    if count <= 0 or not train_ids:
        return []
    if criterion == "constant":
        return _draw(np.random.RandomState(seed), train_ids, count)
    if criterion == "accumulative_most_frequent":
        counts = _wrong_counts(history)
        ordered = sorted(counts, key=lambda k: (-counts[k], k))
        # The reference draws uniformly among every question ever answered wrongly.
        return (
            sorted(ordered)
            if len(ordered) <= count
            else _draw(step_rng(seed, step), ordered, count)
        )
    if criterion == "current_most_frequent":
        shown = shown_history(history, history_size, threshold if step > 1 else 0.0)
        counts = _wrong_counts(shown)
        if not counts:
            return []
        top = max(counts.values())
        most = sorted(k for k, v in counts.items() if v == top)
        if len(most) < count:
            return sorted(sorted(counts, key=lambda k: (-counts[k], k))[:count])
        return _draw(step_rng(seed, step), most, count)
    return _draw(step_rng(seed, step), train_ids, count)


def exemplar_section(position: str, include_qa: bool) -> str:
    return f"exemplar_qa_{position}" if include_qa else f"exemplar_{position}"


def render_meta_prompt(
    sections: Mapping[str, str],
    style: str,
    position: str,
    include_qa: bool,
    shown: Sequence[Scored],
    exemplars: Sequence[tuple[str, str]],
    task_phrase: str = "",
) -> str:
    """The meta-prompt text from template sections, the shown history and (question, answer)
    exemplars. Layout as the reference: history, blank line, exemplars, blank line, footer."""
    entries = "".join(
        fill(sections["entry"], instruction=str(h.solution), score=str(display_score(h.score)))
        for h in shown
    )
    if style == "text":
        header = fill(
            sections["header"],
            position_phrase=_POSITION_PHRASES.get(position, ""),
            task_phrase=task_phrase.strip(),
        )
        return header + entries
    meta = sections["header"] + entries
    if exemplars:
        block = sections[exemplar_section(position, include_qa)]
        shown_exemplars = "".join(
            fill(block, question=q) + fill(sections["answer"], answer=a) for q, a in exemplars
        )
        meta += "\n\n" + sections["exemplar_intro"] + shown_exemplars
    return meta + "\n\n" + sections["footer"]


def scorer_prompt(question: str, instruction: str, position: str, include_qa: bool) -> str:
    """The prompt sent to the scorer for one example (§2.6); an empty instruction is left out."""
    if not include_qa:
        if position == "Q_begin":
            return f"{instruction}\n{question}" if instruction else question
        return f"{question}\n{instruction}" if instruction else question
    if position == "before_Q":
        return (f"{instruction}\n" if instruction else "") + f"Q: {question}\n\nA:"
    if position == "Q_begin":
        return "Q: " + (f"{instruction}\n" if instruction else "") + f"{question}\n\nA:"
    if position == "Q_end":
        return f"Q: {question}" + (f"\n{instruction}" if instruction else "") + "\n\nA:"
    return f"Q: {question}\n\nA:" + (f" {instruction}" if instruction else "")


def second_round_prompt(first_prompt: str, first_answer: str) -> str:
    """The "So the final answer is" prompt of the optional second round (§4.1)."""
    return f"{first_prompt} {first_answer.split('Q:')[0].strip()} So the final answer is"


def polish(text: str) -> str:
    """Strip, drop every "**", upper-case the first character when longer than one (§1.2)."""
    text = text.strip()
    if text:
        text = text.replace("**", "")
        if len(text) > 1:
            text = text[0].upper() + text[1:]
    return text


def extract_instruction(completion: str, style: str, position: str) -> str | None:
    """The raw instruction in one optimizer output (§3), or None when the style finds none."""
    if style == "ins":
        start_tag, end_tag = (
            ("<Start>", "</Start>") if position == "A_begin" else ("<INS>", "</INS>")
        )
        start = completion.index(start_tag) + len(start_tag) if start_tag in completion else 0
        # First closing tag anywhere, as the reference (it may precede the opening tag).
        end = completion.index(end_tag) if end_tag in completion else len(completion)
        return completion[start:end].strip()
    if style == "bracket":
        found = re.findall(r"\[.*?\]", completion)
        return str(found[0])[1:-1] if found else ""  # reference: no brackets -> ""
    found = re.findall(r"<TEXT>(.*?)</TEXT>", completion, re.DOTALL)
    return str(found[0]) if found else None


def tagged_instructions(completion: str, style: str, position: str) -> list[str]:
    """Every non-empty instruction between a complete pair of the style's tags (brackets for
    "bracket"), in order: what robust parsing chooses from when the reference's rule (first
    opening tag, first closing tag anywhere) reads nothing useful."""
    if style == "bracket":
        found = [m[1:-1] for m in re.findall(r"\[.*?\]", completion)]
    else:
        start, end = ("<TEXT>", "</TEXT>")
        if style == "ins":
            start, end = ("<Start>", "</Start>") if position == "A_begin" else ("<INS>", "</INS>")
        found = re.findall(re.escape(start) + "(.*?)" + re.escape(end), completion, re.DOTALL)
    return [str(f) for f in found if polish(str(f))]
