"""Prompt-optimization texts: templates, history/exemplar choice, scorer prompts, output parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from opro_gui.core.models import Scored

from .prompt_exemplars import CRITERIA, select_exemplars, shown_history, step_rng

__all__ = ["CRITERIA", "select_exemplars", "shown_history", "step_rng"]  # re-exported

POSITIONS = ("before_Q", "Q_begin", "Q_end", "A_begin")
STYLES = ("ins", "bracket", "text")
#: §5.3 ablations: order of the shown instructions, how scores are shown, exemplar placement.
ORDERS = ("ascending", "descending", "random")
SCORE_FORMATS = ("rounded", "bucketed", "none")
PLACEMENTS = ("after", "before")  # exemplars after (reference default) or before the history
# {order} in a header: the scored wording (the paper's) and the wording without scores.
_ORDER_PHRASES = {
    ("ascending", True): "ascending order based on their scores",
    ("descending", True): "descending order based on their scores",
    ("random", True): "random order",
    ("ascending", False): "ascending order of quality, the best last",
    ("descending", False): "descending order of quality, the best first",
    ("random", False): "random order",
}
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


def display_score(score: float, buckets: int = 100) -> int:
    """Accuracy in [0, 1] shown as an integer 0–``buckets`` (default 100, Python rounding);
    the reference's ``_bucketize_float`` for 20 buckets."""
    return round(score * buckets)


def order_history(shown: Sequence[Scored], order: str, seed: int, step: int) -> list[Scored]:
    """The shown entries (ascending) in the meta-prompt's order. "random" shuffles with its
    own generator per (seed, step), so the exemplar draw stays the reference's."""
    if order == "descending":
        return list(reversed(shown))
    if order == "random":
        rng = np.random.RandomState(
            int(np.random.SeedSequence([seed, max(step, 0), 53]).generate_state(1)[0])
        )
        return [shown[int(i)] for i in rng.permutation(len(shown))]
    return list(shown)


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
    *,
    order: str = "ascending",
    score_format: str = "rounded",
    score_buckets: int = 20,
    exemplars_before: bool = False,
) -> str:
    """The meta-prompt text from template sections, the shown history (already in ``order``)
    and (question, answer) exemplars. Layout as the reference: history, blank line, exemplars,
    blank line, footer; ``exemplars_before`` swaps the first two (its
    ``instructions_before_exemplars=False``). ``score_format``: "rounded" (0–100, the paper),
    "bucketed" (0–``score_buckets``) or "none" (no scores: the ``*_unscored`` sections)."""
    scored = score_format != "none"
    buckets = score_buckets if score_format == "bucketed" else 100
    entry = sections["entry"] if scored else sections.get("entry_unscored", sections["entry"])
    entries = "".join(
        fill(entry, instruction=str(h.solution), score=str(display_score(h.score, buckets)))
        for h in shown
    )
    header = sections["header"] if scored else sections.get("header_unscored", sections["header"])
    header = fill(
        header,
        position_phrase=_POSITION_PHRASES.get(position, ""),
        task_phrase=task_phrase.strip(),
        score_max=str(buckets),
        order=_ORDER_PHRASES.get((order, scored), order),
    )
    if style == "text":
        return header + entries
    history = header + entries
    if not exemplars:
        return history + "\n\n" + sections["footer"]
    block = sections[exemplar_section(position, include_qa)]
    shown_exemplars = sections["exemplar_intro"] + "".join(
        fill(block, question=q) + fill(sections["answer"], answer=a) for q, a in exemplars
    )
    first, second = (shown_exemplars, history) if exemplars_before else (history, shown_exemplars)
    return first + "\n\n" + second + "\n\n" + sections["footer"]


def render_baseline_prompt(
    sections: Mapping[str, str],
    style: str,
    position: str,
    include_qa: bool,
    exemplars: Sequence[tuple[str, str]],
    task_phrase: str = "",
) -> str:
    """The equal-budget baseline's prompt: the task and the exemplars, no scored trajectory
    (APE-style resampling from the same optimizer)."""
    header = fill(sections["header_baseline"], task_phrase=task_phrase.strip())
    if not exemplars:
        return header + "\n\n" + sections["footer_baseline"]
    block = sections[exemplar_section(position, include_qa)]
    intro = sections.get("exemplar_intro_baseline", sections["exemplar_intro"])
    shown = intro + "".join(
        fill(block, question=q) + fill(sections["answer"], answer=a) for q, a in exemplars
    )
    return header + "\n\n" + shown + "\n\n" + sections["footer_baseline"]


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
