"""Dataset importers on small files written here and on the shared benchmark data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opro_gui.problems.datasets import (
    DatasetError,
    load_dataset,
    paper_defaults,
    parse_dataset,
    split_indices,
)
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_gsm8k_tsv(tmp_path: Path) -> None:
    p = write(tmp_path, "gsm_train.tsv", "How many? 2+2\t4\tb'2+2=4\\n#### 4'\nAnd 3?\t-3\tx\n")
    d = load_dataset(p)
    assert d.fmt == "gsm8k_tsv" and d.task_type_guess == "numeric" and d.name == "gsm_train"
    assert d.examples == [
        {"input": "How many? 2+2", "target": "4"},
        {"input": "And 3?", "target": "-3"},
    ]


def test_gsm8k_original_jsonl(tmp_path: Path) -> None:
    lines = [
        {"question": "Q one", "answer": "1+1=2\n#### 2"},
        {"question": "Q two", "answer": "so\n#### 1,000"},
    ]
    p = write(tmp_path, "train.jsonl", "\n".join(json.dumps(x) for x in lines))
    d = load_dataset(p)
    assert d.fmt == "gsm8k_jsonl" and d.task_type_guess == "numeric"
    assert [e["target"] for e in d.examples] == ["2", "1000"]


def test_bbh_json_and_task_type_by_file_name(tmp_path: Path) -> None:
    body = {"canary": "x", "examples": [{"input": "not ( True ) is", "target": "False"}]}
    d = load_dataset(write(tmp_path, "boolean_expressions.json", json.dumps(body)))
    assert d.fmt == "bbh" and d.task_type_guess == "boolean"
    d = load_dataset(write(tmp_path, "word_sorting.json", json.dumps(body)))
    assert d.task_type_guess == "text"


def test_bigbench_target_scores_build_options(tmp_path: Path) -> None:
    body = {
        "name": "t",
        "keywords": ["x"],
        "examples": [
            {"input": "Sun rises in the", "target_scores": {"west": 0, "east": 1, "north": 0}},
            {"input": "2+2=", "target": ["4", "four"]},
        ],
    }
    d = load_dataset(write(tmp_path, "task.json", json.dumps(body)))
    assert d.fmt == "bigbench"
    assert d.examples[0] == {
        "input": "Sun rises in the\nOptions:\n(A) west\n(B) east\n(C) north",
        "target": "(B)",
    }
    assert d.examples[1]["target"] == "4"


def test_csv_with_column_mapping_and_duplicates_dropped(tmp_path: Path) -> None:
    p = write(tmp_path, "mine.csv", "q,a,extra\nhello,world,1\nfoo,bar,2\nhello,world,3\n")
    d = load_dataset(p, input_col="q", target_col="a")
    assert d.fmt == "csv" and len(d.examples) == 2
    assert d.warnings == ("dropped 1 duplicate row(s) (same input and target)",)
    with pytest.raises(DatasetError, match="1 duplicate"):
        load_dataset(p, input_col="q", target_col="a", duplicates="error")
    assert len(load_dataset(p, input_col="q", target_col="a", duplicates="keep").examples) == 3


def test_missing_columns_are_named_with_the_available_ones(tmp_path: Path) -> None:
    p = write(tmp_path, "mine.csv", "q,a\nhello,world\n")
    with pytest.raises(DatasetError) as err:
        load_dataset(p, input_col="question", target_col="a")
    assert "input column 'question'" in str(err.value) and "'q', 'a'" in str(err.value)
    with pytest.raises(DatasetError, match="tried input, question"):
        load_dataset(p)


def test_jsonl_default_columns(tmp_path: Path) -> None:
    p = write(tmp_path, "d.jsonl", '{"input": "a", "target": 1}\n\n{"input": "b", "target": 2.0}\n')
    d = load_dataset(p)
    assert d.fmt == "jsonl" and d.examples[1] == {"input": "b", "target": "2"}
    assert d.task_type_guess == "numeric"


def test_multiarith_and_aqua(tmp_path: Path) -> None:
    ma = [{"sQuestion": " How many apples? ", "lSolutions": [39.0], "iIndex": 0}]
    d = load_dataset(write(tmp_path, "MultiArith.json", json.dumps(ma)))
    assert d.fmt == "multiarith" and d.examples == [{"input": "How many apples?", "target": "39"}]
    aq = {"question": "Pick", "options": ["A)1", "B)2"], "rationale": "r", "correct": "B"}
    d = load_dataset(write(tmp_path, "AQuA.json", json.dumps(aq) + "\n" + json.dumps(aq)))
    assert d.fmt == "aqua" and d.task_type_guess == "choice"
    assert d.examples[0] == {
        "input": "Pick\n(A)1\n(B)2\nWhat's the answer in (A) (B) (C) (D) (E)?",
        "target": "B",
    }
    assert d.warnings == ("kept 1 duplicate row(s) (same input and target)",)


def test_error_messages(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(write(tmp_path, "e.jsonl", "  \n"))
    with pytest.raises(DatasetError, match="byte offset 4"):
        load_dataset(write(tmp_path, "b.csv", b"q,a\n\xff\xfe,x\n"))
    with pytest.raises(DatasetError, match="import limit"):
        load_dataset(write(tmp_path, "big.csv", "input,target\n" + "a,b\n" * 100), max_bytes=100)
    with pytest.raises(DatasetError, match="line 3"):
        load_dataset(write(tmp_path, "m.jsonl", '{"input": "a", "target": "b"}\n{}\n{"input": '))
    with pytest.raises(DatasetError, match="line 2, column"):
        load_dataset(write(tmp_path, "m.json", '{"examples": [\n  {"input": "a",, }]}'))
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "absent.csv")
    with pytest.raises(DatasetError, match="line 3 has 1 fields"):
        load_dataset(write(tmp_path, "r.csv", "input,target\na,b\nc\n"))
    with pytest.raises(DatasetError, match="unknown format"):
        load_dataset(write(tmp_path, "x.csv", "input,target\na,b\n"), fmt="xml")


def test_bom_is_accepted(tmp_path: Path) -> None:
    d = load_dataset(write(tmp_path, "bom.csv", b"\xef\xbb\xbfinput,target\na,b\n"))
    assert d.examples == [{"input": "a", "target": "b"}]


def test_paper_defaults_and_split() -> None:
    assert paper_defaults("gsm_train")["train_ratio"] == 0.035
    assert paper_defaults("snarks") == {
        "dataset": "bbh", "task_name": "snarks", "task_type": "choice",
        "train_ratio": 0.2, "forbid_digits": False,
    }  # fmt: skip
    assert paper_defaults("my_data")["dataset"] == "custom"
    split = split_indices(250, 0.2)
    assert len(split) == 50 and split == sorted(set(split))
    assert split_indices(250, 0.2, seed=0) == split
    with pytest.raises(ValueError):
        split_indices(10, 1.5)


def test_shared_gsm8k_reference_split(shared_data: Path) -> None:
    d = load_dataset(shared_data / "gsm_data" / "gsm_train.tsv")
    assert len(d.examples) == 7473
    spec = spec_from_dataset(d)
    assert len(spec["train_ids"]) == 261
    assert spec["forbid_digits"] is True and spec["task_type"] == "numeric"
    test = load_dataset(shared_data / "gsm_data" / "gsm_test.tsv")
    assert len(test.examples) == 1319
    assert test.examples[0]["target"] == "18"
    # The paper's setting: 261 training questions from the train file, the test file held out.
    problem = PromptProblem.from_spec(spec_from_dataset(d, test=test))
    assert (len(problem.train_ids), len(problem.test_ids)) == (261, 1319)
    assert problem.test_ids[0] == 7473 and max(problem.train_ids) < 7473
    assert PromptProblem.from_spec(problem.to_spec()).test_ids == problem.test_ids


def test_shared_bbh_split_sizes(shared_data: Path) -> None:
    d = load_dataset(shared_data / "BIG-Bench-Hard-data" / "sports_understanding.json")
    assert len(d.examples) == 250 and d.task_type_guess == "boolean"  # duplicates kept
    problem = PromptProblem.from_spec(spec_from_dataset(d))
    assert (len(problem.train_ids), len(problem.test_ids)) == (50, 200)
    snarks = load_dataset(shared_data / "BIG-Bench-Hard-data" / "snarks.json")
    assert len(split_indices(len(snarks.examples), 0.2)) == 35


def test_shared_multiarith_and_aqua(shared_data: Path) -> None:
    assert len(load_dataset(shared_data / "MultiArith-data" / "MultiArith.json").examples) == 600
    aqua = load_dataset(shared_data / "AQuA-data" / "AQuA.json")
    assert len(aqua.examples) == 254 and aqua.fmt == "aqua"


NAMES = st.sampled_from(["d.csv", "d.tsv", "d.json", "d.jsonl", "gsm_train.tsv", "AQuA.json", "x"])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), name=NAMES)
def test_importers_raise_only_dataset_error_on_bytes(data: bytes, name: str) -> None:
    try:
        d = parse_dataset(data, name)
    except DatasetError:
        return
    assert d.examples and all(isinstance(e["input"], str) for e in d.examples)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["input", "target", "examples", "question", "answer", "options", "correct",
         "sQuestion", "lSolutions", "target_scores", "keywords"]), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, name=NAMES, lines=st.booleans())
def test_importers_raise_only_dataset_error_on_json(value: object, name: str, lines: bool) -> None:
    text = json.dumps(value)
    if lines and isinstance(value, list):
        text = "\n".join(json.dumps(v) for v in value)
    try:
        d = parse_dataset(text.encode(), name)
    except DatasetError as exc:
        assert str(exc)  # a message the user can read
        return
    assert d.examples and all(isinstance(e["target"], str) for e in d.examples)
