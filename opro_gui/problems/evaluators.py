"""How a scorer's answer is graded: the paper's rules, an LLM judge, JSON checks, text checks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opro_gui.core.models import Verdict
from opro_gui.core.ports import LLMRequest

TYPES = ("paper", "judge", "json", "json_schema", "contains", "not_contains", "length")
SCALES = ("score", "pass_fail")
JUDGE_MAX_TOKENS = 300
PASS_MARK = 0.5  # a weighted score at or above this counts as correct

#: The paper's grading alone: what every project had before evaluators could be chosen.
DEFAULT = ({"type": "paper", "weight": 1.0},)

_JUDGE_PROMPT = """You grade an answer against a rubric.

Rubric:
{rubric}

Task given to the model:
{question}
{reference}
Answer to grade:
{answer}

{format}"""
_FORMATS = {
    "score": 'Reply with one line "SCORE: x" where x is a number from 0 to 1, then one line '
    '"REASON: " and one sentence.',
    "pass_fail": 'Reply with one line "VERDICT: PASS" or "VERDICT: FAIL", then one line '
    '"REASON: " and one sentence.',
}
_SCORE = re.compile(r"SCORE:\s*([0-9]*\.?[0-9]+)", re.I)
_PASS = re.compile(r"VERDICT:\s*(PASS|FAIL)", re.I)
_REASON = re.compile(r"REASON:\s*(.+)", re.I | re.S)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Evaluator:
    """One configured evaluator (a row of the project's ``evaluators`` list)."""

    name: str
    kind: str
    weight: float
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "weight": self.weight, **self.options}


def _text_list(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    _check(
        isinstance(items, list | tuple) and bool(items) and all(isinstance(v, str) for v in items),
        f"{what} needs 'text': a string or a non-empty list of strings",
    )
    return tuple(items)


def _options(kind: str, raw: Mapping[str, Any], label: str) -> dict[str, Any]:
    """The checked options of one evaluator type."""
    if kind == "judge":
        rubric = raw.get("rubric")
        _check(isinstance(rubric, str) and bool(rubric.strip()), f"{label} needs a 'rubric'")
        scale = str(raw.get("scale", "score"))
        _check(scale in SCALES, f"{label}: scale must be one of {', '.join(SCALES)}")
        opts: dict[str, Any] = {"rubric": rubric, "scale": scale}
        opts["show_reference"] = bool(raw.get("show_reference", True))
        for key in ("model", "base_url", "api_key_env"):  # the judge's own endpoint profile
            if raw.get(key):
                _check(isinstance(raw[key], str), f"{label}: {key} must be a string")
                opts[key] = raw[key]
        return opts
    if kind == "json_schema":
        schema = raw.get("schema")
        _check(isinstance(schema, dict), f"{label} needs a 'schema' object")
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"{label}: the schema is not valid: {exc.message}") from None
        return {"schema": schema}
    if kind in ("contains", "not_contains"):
        return {
            "text": list(_text_list(raw.get("text"), label)),
            "case_sensitive": bool(raw.get("case_sensitive", False)),
        }
    if kind == "length":
        unit = str(raw.get("unit", "chars"))
        _check(unit in ("chars", "words"), f"{label}: unit must be chars or words")
        lo, hi = raw.get("min"), raw.get("max")
        for v in (lo, hi):
            _check(v is None or (isinstance(v, int) and v >= 0), f"{label}: min/max must be >= 0")
        _check(lo is not None or hi is not None, f"{label} needs 'min' or 'max'")
        _check(lo is None or hi is None or lo <= hi, f"{label}: min is above max")
        return {"min": lo, "max": hi, "unit": unit}
    return {}


def parse_evaluators(raw: Any) -> tuple[Evaluator, ...]:
    """Checked evaluators from a spec's ``evaluators`` list (None: the paper's grading)."""
    items = list(DEFAULT) if raw is None else raw
    _check(isinstance(items, list | tuple) and bool(items), "evaluators must be a non-empty list")
    out: list[Evaluator] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        label = f"evaluator {i + 1}"
        _check(isinstance(item, dict), f"{label} must be an object with a 'type'")
        kind = str(item.get("type", ""))
        _check(kind in TYPES, f"{label}: type must be one of {', '.join(TYPES)}")
        weight = item.get("weight", 1.0)
        _check(
            isinstance(weight, int | float) and not isinstance(weight, bool) and weight >= 0,
            f"{label}: weight must be a number >= 0",
        )
        name = str(item.get("name") or kind)
        _check(name not in names, f"{label}: the name {name!r} is used twice; give a 'name'")
        names.add(name)
        out.append(Evaluator(name, kind, float(weight), _options(kind, item, label)))
    _check(sum(e.weight for e in out) > 0, "the evaluators' weights add up to 0")
    return tuple(out)


def is_default(evaluators: Sequence[Evaluator]) -> bool:
    """True for the paper's grading alone (scored exactly as before evaluators existed)."""
    return len(evaluators) == 1 and evaluators[0].kind == "paper"


# -- local evaluators ---------------------------------------------------------------------
def extract_json(text: str) -> tuple[Any, str]:
    """(value, "") for the JSON in an answer (bare, fenced, or the first {...}/[...] span), or
    (None, why not)."""
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    for open_c, close_c in ("{}", "[]"):
        a, b = text.find(open_c), text.rfind(close_c)
        if 0 <= a < b:
            candidates.append(text[a : b + 1])
    last = "no JSON found"
    for c in candidates:
        if not c:
            continue
        try:
            return json.loads(c), ""
        except ValueError as exc:
            last = f"not valid JSON: {exc}"
    return None, last


def _json_verdict(ev: Evaluator, answer: str) -> Verdict:
    value, why = extract_json(answer)
    if why:
        return Verdict(ev.name, ev.kind, ev.weight, 0.0, why)
    if ev.kind == "json":
        return Verdict(ev.name, ev.kind, ev.weight, 1.0, "valid JSON")
    from jsonschema import Draft202012Validator

    errors = sorted(
        Draft202012Validator(ev.options["schema"]).iter_errors(value), key=lambda e: list(e.path)
    )
    if not errors:
        return Verdict(ev.name, ev.kind, ev.weight, 1.0, "matches the schema")
    where = "/".join(str(p) for p in errors[0].path) or "the top level"
    reason = f"{len(errors)} schema error(s); at {where}: {errors[0].message}"
    return Verdict(ev.name, ev.kind, ev.weight, 0.0, reason[:300])


def _text_verdict(ev: Evaluator, answer: str) -> Verdict:
    sensitive = bool(ev.options["case_sensitive"])
    hay = answer if sensitive else answer.lower()
    texts = list(ev.options["text"])
    found = [t for t in texts if (t if sensitive else t.lower()) in hay]
    if ev.kind == "contains":
        missing = [t for t in texts if t not in found]
        if missing:
            return Verdict(ev.name, ev.kind, ev.weight, 0.0, f"lacks {missing[0]!r}")
        return Verdict(ev.name, ev.kind, ev.weight, 1.0, "contains every required text")
    if found:
        return Verdict(ev.name, ev.kind, ev.weight, 0.0, f"contains {found[0]!r}")
    return Verdict(ev.name, ev.kind, ev.weight, 1.0, "contains no forbidden text")


def _length_verdict(ev: Evaluator, answer: str) -> Verdict:
    unit = ev.options["unit"]
    size = len(answer.split()) if unit == "words" else len(answer)
    lo, hi = ev.options["min"], ev.options["max"]
    if lo is not None and size < lo:
        return Verdict(ev.name, ev.kind, ev.weight, 0.0, f"{size} {unit}, fewer than {lo}")
    if hi is not None and size > hi:
        return Verdict(ev.name, ev.kind, ev.weight, 0.0, f"{size} {unit}, more than {hi}")
    return Verdict(ev.name, ev.kind, ev.weight, 1.0, f"{size} {unit}, within the limits")


_LOCAL: dict[str, Callable[[Evaluator, str], Verdict]] = {
    "json": _json_verdict,
    "json_schema": _json_verdict,
    "contains": _text_verdict,
    "not_contains": _text_verdict,
    "length": _length_verdict,
}


# -- the LLM judge --------------------------------------------------------------------------
def judge_prompt(ev: Evaluator, question: str, answer: str, reference: str) -> str:
    ref = ""
    if reference and ev.options.get("show_reference", True):
        ref = f"\nReference answer:\n{reference}\n"
    return _JUDGE_PROMPT.format(
        rubric=ev.options["rubric"].strip(), question=question, reference=ref, answer=answer,
        format=_FORMATS[ev.options["scale"]],
    )  # fmt: skip


def judge_request(prompt: str) -> LLMRequest:
    """Judges answer at temperature 0, so their answers are cached and a replay repeats them."""
    return LLMRequest(prompt=prompt, temperature=0.0, max_tokens=JUDGE_MAX_TOKENS, role="judge")


def read_judge(ev: Evaluator, text: str) -> tuple[float, str]:
    """(score in [0, 1], reason) from a judge's reply; unreadable replies score 0."""
    m = _REASON.search(text)
    reason = (m.group(1) if m else text).strip().splitlines()
    why = reason[0][:300] if reason else ""
    if ev.options["scale"] == "pass_fail":
        v = _PASS.search(text)
        if v is None:
            return 0.0, f"unreadable judge reply (no VERDICT line): {text.strip()[:120]}"
        return (1.0 if v.group(1).upper() == "PASS" else 0.0), why
    s = _SCORE.search(text)
    if s is None:
        return 0.0, f"unreadable judge reply (no SCORE line): {text.strip()[:120]}"
    return min(1.0, max(0.0, float(s.group(1)))), why


# -- putting it together ------------------------------------------------------------------
def grade(
    evaluators: Sequence[Evaluator],
    answer: str,
    paper: tuple[bool, str],
    judged: Mapping[str, tuple[str, str | None, str]],
    has_reference: bool,
) -> tuple[tuple[Verdict, ...], float | None]:
    """Every evaluator's verdict on one answer and their weighted score (None if a judge
    request failed). ``paper``: (correct, parsed answer) by the paper's rules; ``judged``:
    judge name -> (prompt, reply or None, error)."""
    verdicts: list[Verdict] = []
    for ev in evaluators:
        if ev.kind == "paper":
            ok, parsed = paper
            why = f"{'matches' if ok else 'does not match'} the target (read as {parsed!r})"
            verdicts.append(Verdict(ev.name, ev.kind, ev.weight, float(ok), why))
        elif ev.kind == "judge":
            prompt, reply, error = judged[ev.name]
            if reply is None:
                verdicts.append(
                    Verdict(ev.name, ev.kind, ev.weight, None, error or "no reply", prompt)
                )
                continue
            score, why = read_judge(ev, reply)
            agrees = (score >= PASS_MARK) == paper[0] if has_reference else None
            verdicts.append(Verdict(ev.name, ev.kind, ev.weight, score, why, prompt, agrees))
        else:
            verdicts.append(_LOCAL[ev.kind](ev, answer))
    return tuple(verdicts), combined(verdicts)


def combined(verdicts: Sequence[Verdict]) -> float | None:
    if any(v.score is None for v in verdicts):
        return None
    total = sum(v.weight for v in verdicts)
    return sum(v.weight * float(v.score or 0.0) for v in verdicts) / total if total else 0.0


def agreement(verdicts: Sequence[Verdict]) -> tuple[int, int]:
    """(judge verdicts that agree with the gold label, judge verdicts on labelled examples)."""
    labelled = [v for v in verdicts if v.agrees is not None]
    return sum(1 for v in labelled if v.agrees), len(labelled)


def judge_profile(evaluators: Sequence[Evaluator]) -> dict[str, str]:
    """The endpoint fields (model, base_url, api_key_env) the first LLM judge that names its
    own profile sets; empty when judges use the scorer's endpoint."""
    for e in evaluators:
        if e.kind == "judge":
            found = {k: str(e.options[k]) for k in ("model", "base_url", "api_key_env")
                     if e.options.get(k)}  # fmt: skip
            if found:
                return found
    return {}
