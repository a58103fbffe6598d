"""Readers of benchmark files (GSM8K, BBH, BIG-bench, MultiArith, AQuA) into input/target pairs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class DatasetError(ValueError):
    """A dataset file that cannot be imported; the message says why and where."""


def text_value(value: Any) -> str:
    """A JSON/CSV cell as example text: integral floats without ".0", lists/objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


def _read_gsm8k_tsv(rows: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for lineno, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise DatasetError(
                f"{filename}: line {lineno} has {len(row)} column(s); GSM8K TSV needs question, "
                "answer (and optionally the worked solution)"
            )
        out.append({"input": row[0], "target": row[1].strip()})
    return out


def _read_gsm8k_jsonl(records: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for i, r in enumerate(_objects(records, filename), start=1):
        if "question" not in r or "answer" not in r:
            raise DatasetError(f"{filename}: record {i} lacks 'question' or 'answer'")
        answer = text_value(r["answer"])
        if "####" not in answer:
            raise DatasetError(f"{filename}: record {i} answer has no '#### N' final answer")
        final = answer.rsplit("####", 1)[1].strip().replace(",", "")
        out.append({"input": text_value(r["question"]), "target": final})
    return out


def _objects(records: Any, filename: str) -> list[Mapping[str, Any]]:
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise DatasetError(f"{filename}: expected a list of JSON objects")
    return records


def _examples_list(whole: Any, filename: str) -> list[Mapping[str, Any]]:
    if not isinstance(whole, Mapping) or not isinstance(whole.get("examples"), list):
        raise DatasetError(f"{filename}: expected a JSON object with an 'examples' list")
    return _objects(whole["examples"], filename)


def _read_bbh(whole: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for i, e in enumerate(_examples_list(whole, filename), start=1):
        if "input" not in e or "target" not in e:
            raise DatasetError(f"{filename}: example {i} lacks 'input' or 'target'")
        out.append({"input": text_value(e["input"]), "target": text_value(e["target"])})
    return out


def _read_bigbench(whole: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for i, e in enumerate(_examples_list(whole, filename), start=1):
        question = text_value(e.get("input", ""))
        scores = e.get("target_scores")
        if isinstance(scores, Mapping) and scores:
            options = list(scores.items())
            if len(options) > 26:
                raise DatasetError(f"{filename}: example {i} has more than 26 options")
            try:
                best = max(range(len(options)), key=lambda k: float(options[k][1]))
            except (TypeError, ValueError) as exc:
                raise DatasetError(f"{filename}: example {i} has a non-numeric score") from exc
            lines = [f"({chr(65 + k)}) {text}" for k, (text, _) in enumerate(options)]
            question = question + "\nOptions:\n" + "\n".join(lines)
            target = f"({chr(65 + best)})"
        elif "target" in e:
            target_value = e["target"]
            if isinstance(target_value, list):
                target_value = target_value[0] if target_value else ""
            target = text_value(target_value)
        else:
            raise DatasetError(f"{filename}: example {i} has neither 'target' nor 'target_scores'")
        out.append({"input": question, "target": target})
    return out


def _read_multiarith(records: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for i, r in enumerate(_objects(records, filename), start=1):
        solutions = r.get("lSolutions")
        if "sQuestion" not in r or not isinstance(solutions, list) or not solutions:
            raise DatasetError(f"{filename}: problem {i} lacks 'sQuestion' or 'lSolutions'")
        try:
            value = float(solutions[0])
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{filename}: problem {i} has a non-numeric solution") from exc
        target = str(int(value)) if value.is_integer() else str(value)
        out.append({"input": text_value(r["sQuestion"]).strip(), "target": target})
    return out


def _read_aqua(records: Any, filename: str) -> list[dict[str, str]]:
    out = []
    for i, r in enumerate(_objects(records, filename), start=1):
        options = r.get("options")
        if "question" not in r or "correct" not in r or not isinstance(options, list):
            raise DatasetError(f"{filename}: line {i} lacks 'question', 'options' or 'correct'")
        # As the reference: "A)5" becomes "(A)5", then the closing question (§2.6).
        question = text_value(r["question"]) + "".join(f"\n({text_value(o)}" for o in options)
        question += "\nWhat's the answer in (A) (B) (C) (D) (E)?"
        out.append({"input": question, "target": text_value(r["correct"]).strip()})
    return out


_MMLU_SUFFIXES = ("_test", "_dev", "_val", "_auxiliary_train")


def mmlu_subject(stem: str) -> str:
    """ "anatomy_test" -> "anatomy": the subject an MMLU file holds."""
    for suffix in _MMLU_SUFFIXES:
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def looks_like_mmlu(rows: list[list[str]]) -> bool:
    """Headerless rows of question, 2–26 options and an answer letter naming one of them."""
    if not rows:
        return False
    return all(3 <= len(row) <= 28 and _mmlu_letter(row) is not None for row in rows)


def _mmlu_letter(row: list[str]) -> str | None:
    letter = row[-1].strip().strip("()").upper()
    n_options = len(row) - 2
    if len(letter) == 1 and "A" <= letter < chr(ord("A") + n_options):
        return letter
    return None


def _read_mmlu(rows: Any, filename: str) -> list[dict[str, str]]:
    """Question, options and answer letter; the question text as the reference builds it:
    the question, "(A) option" lines, then "What's the answer in (A) (B) (C) (D)?" (§2.6).
    Cells are kept verbatim (the reference's pandas reads "None" as a missing value)."""
    out = []
    for lineno, row in enumerate(rows, start=1):
        if not 3 <= len(row) <= 28:
            raise DatasetError(
                f"{filename}: line {lineno} has {len(row)} column(s); MMLU rows are question, "
                "options A, B, C, D and the answer letter"
            )
        letter = _mmlu_letter(row)
        if letter is None:
            raise DatasetError(
                f"{filename}: line {lineno}: the answer {row[-1]!r} is not the letter of one of "
                f"its {len(row) - 2} options"
            )
        symbols = [f"({chr(65 + k)})" for k in range(len(row) - 2)]
        question = row[0] + "".join(
            f"\n{sym} {opt}" for sym, opt in zip(symbols, row[1:-1], strict=True)
        )
        question += f"\nWhat's the answer in {' '.join(symbols)}?"
        out.append({"input": question, "target": letter})
    return out


BENCHMARK_READERS = {
    "gsm8k_tsv": _read_gsm8k_tsv,
    "gsm8k_jsonl": _read_gsm8k_jsonl,
    "bbh": _read_bbh,
    "bigbench": _read_bigbench,
    "multiarith": _read_multiarith,
    "aqua": _read_aqua,
    "mmlu": _read_mmlu,
}
