"""Dataset importers for prompt optimization: GSM8K, BBH, BIG-bench, MultiArith, AQuA, CSV, JSONL."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from opro_gui.core.text import storable

from .answers import detect_task_type
from .dataset_formats import (
    BENCHMARK_READERS,
    DatasetError,
    looks_like_mmlu,
    mmlu_subject,
    text_value,
)

__all__ = [
    "BBH_TASK_TYPES",
    "FORMATS",
    "MAX_BYTES",
    "Dataset",
    "DatasetError",
    "load_dataset",
    "paper_defaults",
    "parse_dataset",
    "split_indices",
]

MAX_BYTES = 200 * 1024 * 1024
FORMATS = (
    "gsm8k_tsv", "gsm8k_jsonl", "bbh", "bigbench", "multiarith", "aqua", "mmlu", "csv", "tsv",
    "jsonl",
)  # fmt: skip
#: Formats of published benchmarks: duplicates are kept so the paper's seeded split is reproduced.
BENCHMARK_FORMATS = frozenset(
    {"gsm8k_tsv", "gsm8k_jsonl", "bbh", "bigbench", "multiarith", "aqua", "mmlu"}
)
INPUT_COLUMNS = ("input", "question", "prompt", "text")
TARGET_COLUMNS = ("target", "answer", "output", "label")

# BBH task types by file name (OPRO_SPEC.md §4.4).
BBH_TASK_TYPES: dict[str, str] = {
    "object_counting": "numeric",
    "multistep_arithmetic_two": "numeric",
    **dict.fromkeys(
        ["boolean_expressions", "causal_judgement", "navigate", "sports_understanding",
         "web_of_lies", "formal_fallacies"],
        "boolean",
    ),
    **dict.fromkeys(
        ["date_understanding", "disambiguation_qa", "geometric_shapes", "hyperbaton",
         "logical_deduction_three_objects", "logical_deduction_five_objects",
         "logical_deduction_seven_objects", "movie_recommendation", "penguins_in_a_table",
         "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection",
         "snarks", "temporal_sequences", "tracking_shuffled_objects_three_objects",
         "tracking_shuffled_objects_five_objects", "tracking_shuffled_objects_seven_objects"],
        "choice",
    ),
    "dyck_languages": "text",
    "word_sorting": "text",
}  # fmt: skip


@dataclass(frozen=True)
class Dataset:
    """Imported examples ({"input", "target"} strings) and what was learnt about them."""

    examples: list[dict[str, str]]
    task_type_guess: str
    name: str
    fmt: str
    warnings: tuple[str, ...] = field(default=())


def load_dataset(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    input_col: str | None = None,
    target_col: str | None = None,
    max_bytes: int = MAX_BYTES,
    duplicates: str | None = None,
) -> Dataset:
    """Read a dataset file; the format is detected from its name and content unless given.

    ``duplicates``: "keep", "drop" (with a warning) or "error". Default: keep for benchmark
    formats (the reference kept them, and dropping would change the paper's seeded split),
    drop for CSV/TSV/JSONL of the user's own.
    """
    p = Path(path)
    if p.is_dir():
        return _load_folder(p, fmt, max_bytes)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DatasetError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise DatasetError(
            f"{p.name} is {size / 1e6:.1f} MB, above the import limit of {max_bytes / 1e6:.0f} MB"
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {p}: {exc.strerror or exc}") from exc
    return parse_dataset(data, p.name, fmt, input_col, target_col, max_bytes, duplicates)


def _load_folder(folder: Path, fmt: str | None, max_bytes: int) -> Dataset:
    """A folder of MMLU subject files (e.g. MMLU-data/test), concatenated in name order."""
    if fmt not in (None, "mmlu"):
        raise DatasetError(f"{folder} is a folder; only --format mmlu reads a folder of files")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() == ".csv" and f.is_file())
    if not files:
        raise DatasetError(f"{folder} holds no .csv files (expected MMLU subject files)")
    examples: list[dict[str, str]] = []
    total = 0
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise DatasetError(f"cannot read {f}: {exc.strerror or exc}") from exc
        total += len(data)
        if total > max_bytes:
            raise DatasetError(f"{folder} is above the import limit of {max_bytes / 1e6:.0f} MB")
        examples += parse_dataset(data, f.name, "mmlu", duplicates="keep").examples
    # MMLU-data/test -> "mmlu"; a folder of the user's own subject files keeps its name
    name = "mmlu" if folder.name in ("test", "dev", "val", "auxiliary_train") else folder.name
    return Dataset(examples, "choice", name, "mmlu", ())


def parse_dataset(
    data: bytes,
    filename: str,
    fmt: str | None = None,
    input_col: str | None = None,
    target_col: str | None = None,
    max_bytes: int = MAX_BYTES,
    duplicates: str | None = None,
) -> Dataset:
    """Like :func:`load_dataset` on bytes already read; ``filename`` gives name and extension."""
    if len(data) > max_bytes:
        raise DatasetError(f"{filename} is above the import limit of {max_bytes / 1e6:.0f} MB")
    stem, ext = os.path.splitext(filename)
    ext = ext.lower()
    if fmt == "gsm8k":  # alias: the TSV of the OPRO repo or the original JSONL
        fmt = "gsm8k_jsonl" if ext in (".jsonl", ".json") else "gsm8k_tsv"
    if fmt is not None and fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if duplicates not in (None, "keep", "drop", "error"):
        raise DatasetError(f"duplicates must be keep, drop or error, not {duplicates!r}")
    text = _decode(data, filename)
    if not text.strip():
        raise DatasetError(f"{filename} is empty")
    fmt, parsed = _detect_and_parse(text, filename, ext, fmt, input_col is not None)
    if fmt in ("csv", "tsv", "jsonl"):
        examples = _map_records(parsed, filename, input_col, target_col)
    else:
        examples = BENCHMARK_READERS[fmt](parsed, filename)
    if not examples:
        raise DatasetError(f"{filename} contains no examples")
    # JSON may spell half an emoji ("\\ud83d"), which no UTF-8 file can hold: U+FFFD instead.
    examples = [
        {k: storable(v) if isinstance(v, str) else v for k, v in e.items()} for e in examples
    ]
    policy = duplicates or ("keep" if fmt in BENCHMARK_FORMATS else "drop")
    examples, warnings = _handle_duplicates(examples, filename, policy)
    return Dataset(examples, _task_type(stem, fmt, examples), stem, fmt, tuple(warnings))


def _decode(data: bytes, filename: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{filename} is not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} cannot be decoded ({exc.reason}); re-save the file as UTF-8"
        ) from exc


def _jsonl(text: str, filename: str) -> list[Any]:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{filename}: malformed JSON on line {lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        except RecursionError as exc:
            raise DatasetError(f"{filename}: JSON nested too deeply on line {lineno}") from exc
    return records


def _rows(text: str, filename: str, delimiter: str) -> list[list[str]]:
    kind = "TSV" if delimiter == "\t" else "CSV"
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    except csv.Error as exc:
        raise DatasetError(f"{filename}: unreadable {kind}: {exc}") from exc


def _detect_and_parse(
    text: str, filename: str, ext: str, fmt: str | None, mapped: bool
) -> tuple[str, Any]:
    if fmt in ("csv", "tsv", "gsm8k_tsv", "mmlu") or (fmt is None and ext in (".csv", ".tsv")):
        comma = fmt in ("csv", "mmlu") or (fmt is None and ext == ".csv")
        rows = _rows(text, filename, "," if comma else "\t")
        if fmt is None and ext == ".csv" and not mapped and looks_like_mmlu(rows):
            fmt = "mmlu"  # headerless question, options, answer letter: MMLU's layout
        if fmt is None:
            fmt = (
                "csv" if ext == ".csv" else ("tsv" if mapped or _has_header(rows) else "gsm8k_tsv")
            )
        if fmt in ("gsm8k_tsv", "mmlu"):
            return fmt, rows
        return fmt, _records_from_rows(rows, filename)
    if fmt in ("jsonl", "gsm8k_jsonl", "aqua") or (fmt is None and ext == ".jsonl"):
        records = _jsonl(text, filename)
        return fmt or _detect_records(records), records
    if fmt is None and ext != ".json" and text.lstrip()[:1] not in ("{", "["):
        raise DatasetError(
            f"cannot tell the format of {filename}; give one of {', '.join(FORMATS)}"
        )
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and fmt is None:  # e.g. AQuA.json is JSON Lines
            records = _jsonl(text, filename)
            return _detect_records(records), records
        raise DatasetError(
            f"{filename}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise DatasetError(f"{filename}: JSON nested too deeply") from exc
    if fmt is not None:
        return fmt, whole
    if isinstance(whole, dict) and isinstance(whole.get("examples"), list):
        exs = [e for e in whole["examples"] if isinstance(e, dict)]
        bigbench = any("target_scores" in e for e in exs) or "keywords" in whole
        return ("bigbench" if bigbench else "bbh"), whole
    if isinstance(whole, list) and whole and all(isinstance(r, dict) for r in whole):
        if "sQuestion" in whole[0]:
            return "multiarith", whole
        return _detect_records(whole), whole
    raise DatasetError(
        f'{filename}: unrecognised JSON layout; expected {{"examples": [...]}} or a list of objects'
    )


def _has_header(rows: list[list[str]]) -> bool:
    first = {c.strip().lower() for c in rows[0]} if rows else set()
    return bool(first & {*INPUT_COLUMNS, *TARGET_COLUMNS})


def _records_from_rows(rows: list[list[str]], filename: str) -> list[dict[str, str]]:
    header = [c.strip() for c in rows[0]]
    records = []
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(
                f"{filename}: line {lineno} has {len(row)} fields but the header has {len(header)}"
            )
        records.append(dict(zip(header, row, strict=True)))
    return records


def _detect_records(records: list[Any]) -> str:
    first = records[0] if records and isinstance(records[0], dict) else {}
    if {"question", "options", "correct"} <= first.keys():
        return "aqua"
    if {"question", "answer"} <= first.keys() and "####" in str(first["answer"]):
        return "gsm8k_jsonl"
    return "jsonl"


def _pick(keys: Iterable[str], wanted: str | None, defaults: tuple[str, ...]) -> str | None:
    keys = list(keys)
    if wanted is not None:
        return wanted if wanted in keys else None
    lowered = {k.lower(): k for k in keys}
    return next((lowered[d] for d in defaults if d in lowered), None)


def _map_records(
    records: Any, filename: str, input_col: str | None, target_col: str | None
) -> list[dict[str, str]]:
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise DatasetError(f"{filename}: expected one JSON object (or CSV row) per example")
    if not records:
        return []
    available = list(records[0].keys())
    src_in = _pick(available, input_col, INPUT_COLUMNS)
    src_out = _pick(available, target_col, TARGET_COLUMNS)
    missing = [
        f"{role} column {name!r}" if name else f"{role} column (tried {', '.join(defaults)})"
        for role, name, found, defaults in (
            ("input", input_col, src_in, INPUT_COLUMNS),
            ("target", target_col, src_out, TARGET_COLUMNS),
        )
        if found is None
    ]
    if missing:
        raise DatasetError(
            f"{filename}: missing {' and '.join(missing)}; available columns: "
            f"{', '.join(map(repr, available)) or 'none'}"
        )
    assert src_in is not None and src_out is not None
    out = []
    for i, r in enumerate(records, start=1):
        if src_in not in r or src_out not in r:
            raise DatasetError(f"{filename}: record {i} lacks {src_in!r} or {src_out!r}")
        ex = {"input": text_value(r[src_in]), "target": text_value(r[src_out])}
        # Other columns are kept (chat templates fill {placeholders} from them).
        ex.update(
            (str(k), text_value(v))
            for k, v in r.items()
            if k not in (src_in, src_out, "input", "target") and isinstance(v, str | int | float)
        )
        out.append(ex)
    return out


def _handle_duplicates(
    examples: list[dict[str, str]], filename: str, policy: str
) -> tuple[list[dict[str, str]], list[str]]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for ex in examples:
        key = (ex["input"], ex["target"])
        if key not in seen:
            seen.add(key)
            unique.append(ex)
    n_dup = len(examples) - len(unique)
    if not n_dup:
        return examples, []
    if policy == "error":
        raise DatasetError(f"{filename}: {n_dup} duplicate row(s) (same input and target)")
    if policy == "drop":
        return unique, [f"dropped {n_dup} duplicate row(s) (same input and target)"]
    return examples, [f"kept {n_dup} duplicate row(s) (same input and target)"]


def _task_type(stem: str, fmt: str, examples: list[dict[str, str]]) -> str:
    if stem in BBH_TASK_TYPES:
        return BBH_TASK_TYPES[stem]
    if fmt in ("gsm8k_tsv", "gsm8k_jsonl", "multiarith"):
        return "numeric"
    if fmt in ("aqua", "mmlu"):
        return "choice"
    return detect_task_type([ex["target"] for ex in examples], [ex["input"] for ex in examples])


def paper_defaults(name: str, fmt: str | None = None) -> dict[str, Any]:
    """The paper's settings for a dataset or task name (file stem accepted): split and filters."""
    key = name.lower().removesuffix(".json").removesuffix(".tsv")
    if fmt == "mmlu":  # the reference: 80 % train, the rest its validation draw (our test)
        return {"dataset": "mmlu", "task_name": mmlu_subject(key), "task_type": "choice",
                "train_ratio": 0.8, "forbid_digits": False}  # fmt: skip
    if key.startswith("gsm"):
        return {"dataset": "gsm8k", "task_name": "gsm8k", "task_type": "numeric",
                "train_ratio": 0.035, "forbid_digits": True}  # fmt: skip
    if key in BBH_TASK_TYPES:
        return {"dataset": "bbh", "task_name": key, "task_type": BBH_TASK_TYPES[key],
                "train_ratio": 0.2, "forbid_digits": False}  # fmt: skip
    # MultiArith/AQuA were only used for transfer evaluation in the paper; user data: 20 %.
    known = {"multiarith": "numeric", "aqua": "choice"}
    return {"dataset": key if key in known else "custom", "task_name": key,
            "task_type": known.get(key), "train_ratio": 0.2, "forbid_digits": False}  # fmt: skip


def split_indices(n: int, train_ratio: float, seed: int = 0) -> list[int]:
    """Sorted training indices: ``int(train_ratio * n)`` drawn without replacement.

    Uses the legacy ``RandomState(seed)`` draw, so ``seed=0`` reproduces the reference split
    (``np.random.seed(0)`` then ``np.random.choice``): GSM8K 261 of 7,473, BBH 50 of 250.
    """
    if not 0.0 <= train_ratio <= 1.0:
        raise ValueError(f"train_ratio must be within [0, 1], not {train_ratio}")
    size = int(train_ratio * n)
    draw = np.random.RandomState(seed).choice(n, size=size, replace=False)
    return sorted(int(i) for i in draw)
