"""Hypothesis fuzzing of everything that reads untrusted text: optimizer-output parsers (TSP, LR,
instructions), answer normalisation and every dataset/TSP importer. Only documented errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opro_gui.core.models import ParsedCandidate
from opro_gui.problems import answers, prompt_meta
from opro_gui.problems.datasets import FORMATS, DatasetError, parse_dataset
from opro_gui.problems.linear_regression import LinearRegressionProblem
from opro_gui.problems.prompt_opt import PromptProblem
from opro_gui.problems.tsp import TSPProblem
from opro_gui.problems.tsp_files import parse_csv_points, parse_tsplib

#: 300 generated cases per target in the default suite; 10 000 with ``-m slow``.
SIZES = [300, pytest.param(10_000, marks=pytest.mark.slow)]
COUNTS: dict[str, int] = {}  # cases actually run per target (printed by the slow run)


def fuzz(name: str, strategy: st.SearchStrategy[Any], prop: Callable[[Any], None], n: int) -> None:
    """Run ``prop`` on ``n`` generated cases and check that many really ran."""
    ran = 0

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def inner(value: Any) -> None:
        nonlocal ran
        ran += 1
        prop(value)

    inner()
    COUNTS[name] = ran
    print(f"\nfuzz {name}: {ran} cases")
    assert ran >= n, f"only {ran} of {n} cases were generated for {name}"


# -- building blocks of hostile text ---------------------------------------------------------
TOKENS = [
    "<trace>", "</trace>", "<TEXT>", "</TEXT>", "<INS>", "</INS>", "<Start>", "</Start>", "[",
    "]", "[w, b]", "w=", "b=", "=", ",", ", ", "-", "+", ".", "e", "e999", "nan", "inf", "0", "1",
    "7", "12", "99999999999999999999", "-3", "1.5", " ", "\n", "\t", "**", "\\boxed{", "}", "(A)",
    "(b)", "A:", "Q:", "####", "So the final answer is", "true", "False", "yes", "\x00", "’",
    "—", "١٢", "½", "∞", "\u200b", "'; DROP TABLE step; --",
]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(TOKENS) | st.text(max_size=5), max_size=40).map("".join),
)


def check_parsed(out: list[ParsedCandidate], validate: Callable[[Any], str | None]) -> None:
    assert isinstance(out, list) and len(out) <= 1
    for p in out:
        assert isinstance(p, ParsedCandidate) and isinstance(p.text, str)
        if p.solution is None:
            assert p.reason, "a rejected candidate must say why"
        else:
            assert validate(p.solution) is None


# -- TSP -----------------------------------------------------------------------------------
TSP = TSPProblem.from_points([(0, 0), (3, 1), (5, 5), (1, 4), (2, 2), (-1, 3)])


@pytest.mark.parametrize("n", SIZES)
def test_tsp_parser_never_raises_and_only_accepts_valid_tours(n: int) -> None:
    fuzz("tsp_parse", hostile_text, lambda t: check_parsed(TSP.parse(t), TSP.validation_error), n)


@pytest.mark.parametrize("n", SIZES)
def test_tsp_parser_finds_a_valid_tour_in_noise(n: int) -> None:
    perm = st.permutations(range(1, 6)).map(lambda p: [0, *p])
    noise = st.text(max_size=40).filter(lambda s: "<trace>" not in s)

    def prop(args: tuple[list[int], str, str, str]) -> None:
        tour, before, sep, after = args
        text = f"{before}<trace>{sep.join(map(str, tour))}</trace>{after}"
        (p,) = TSP.parse(text)
        assert p.solution == tour

    fuzz(
        "tsp_roundtrip", st.tuples(perm, noise, st.sampled_from([",", ", ", " ,"]), noise), prop, n
    )


# -- linear regression ----------------------------------------------------------------------
LR = LinearRegressionProblem(w_true=15, b_true=14, seed=0)


@pytest.mark.parametrize("n", SIZES)
def test_lr_parser_never_raises_and_only_accepts_pairs(n: int) -> None:
    fuzz("lr_parse", hostile_text, lambda t: check_parsed(LR.parse(t), LR.validation_error), n)


@pytest.mark.parametrize("n", SIZES)
def test_lr_parser_reads_the_last_pair(n: int) -> None:
    ints = st.integers(-10_000, 10_000)
    noise = st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=30)

    def prop(args: tuple[int, int, str, str]) -> None:
        w, b, before, after = args
        (p,) = LR.parse(f"{before}[{w}, {b}]{after}")
        assert p.solution == [w, b]

    fuzz("lr_roundtrip", st.tuples(ints, ints, noise, noise), prop, n)


# -- instructions ---------------------------------------------------------------------------
EXAMPLES = [{"input": f"What is {i} + {i}?", "target": str(2 * i)} for i in range(6)]
STYLES = [(s, p) for s in ("ins", "bracket", "text") for p in ("Q_begin", "Q_end", "A_begin")]


def _prompt_problem(style: str, position: str) -> PromptProblem:
    return PromptProblem(
        {"examples": EXAMPLES, "style": style, "position": position, "train_ratio": 0.5}
    )


PROMPTS = {sp: _prompt_problem(*sp) for sp in STYLES}


@pytest.mark.parametrize("n", SIZES)
def test_instruction_parsers_never_raise(n: int) -> None:
    def prop(args: tuple[tuple[str, str], str]) -> None:
        (style, position), text = args
        problem = PROMPTS[(style, position)]
        for p in problem.parse(text):
            assert p.solution is None or isinstance(p.solution, str)
            if p.solution is not None:
                problem.dedup_key(p.solution)
                problem.filter_reason(p.solution)
                problem.scorer_prompt(p.solution, problem.train_ids[0])
        raw = prompt_meta.extract_instruction(text, style, position)
        assert raw is None or isinstance(prompt_meta.polish(raw), str)

    fuzz("instruction_parse", st.tuples(st.sampled_from(STYLES), hostile_text), prop, n)


# -- answer normalisation -------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
def test_answer_normalisation_and_grading_never_raise(n: int) -> None:
    kinds = st.sampled_from([*answers.TASK_TYPES, "nonsense"])
    modes = st.sampled_from(["paper", "exact", "regex"])

    def prop(args: tuple[str, str, str, int, bool, bool, str, str]) -> None:
        raw, gold, kind, decimals, boxed, second, mode, prompt = args
        parsed = answers.normalize(
            raw, kind, num_decimals=decimals, boxed=boxed, second_round=second
        )
        assert isinstance(parsed, str)
        assert isinstance(answers.is_correct(parsed, gold, kind, prompt=prompt, mode=mode), bool)
        assert isinstance(answers.decimals_of(gold), int)
        assert answers.detect_task_type([gold, parsed]) in answers.TASK_TYPES

    fuzz(
        "answers",
        st.tuples(
            hostile_text,
            hostile_text,
            kinds,
            st.integers(0, 6),
            st.booleans(),
            st.booleans(),
            modes,
            hostile_text,
        ),
        prop,
        n,
    )


# -- dataset importers ----------------------------------------------------------------------
KEYS = [
    "examples",
    "input",
    "target",
    "question",
    "answer",
    "target_scores",
    "options",
    "correct",
    "rationale",
    "sQuestion",
    "lSolutions",
    "keywords",
    "text",
    "label",
    "output",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=20,
)
records = st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5), max_size=6)
cells = st.lists(st.lists(hostile_text | st.sampled_from(KEYS), max_size=4), max_size=6)
payloads = st.one_of(
    records.map(lambda r: json.dumps({"examples": r})),
    records.map(json.dumps),
    records.map(lambda r: "\n".join(json.dumps(x) for x in r)),
    json_values.map(json.dumps),
    cells.map(lambda rows: "\n".join(",".join(r) for r in rows)),
    cells.map(lambda rows: "\n".join("\t".join(r) for r in rows)),
    hostile_text,
).map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=200)
FILENAMES = [
    "data.json",
    "data.jsonl",
    "data.csv",
    "data.tsv",
    "gsm_test.tsv",
    "gsm8k.jsonl",
    "boolean_expressions.json",
    "task.json",
    "MultiArith.json",
    "AQuA.jsonl",
    "x.txt",
    "noext",
]


@pytest.mark.parametrize("n", SIZES)
def test_dataset_importers_raise_only_dataset_errors(n: int) -> None:
    def prop(args: tuple[bytes, str, str | None, str | None]) -> None:
        data, filename, fmt, col = args
        try:
            ds = parse_dataset(data, filename, fmt, input_col=col, target_col=col and "target")
        except DatasetError as exc:
            assert str(exc)
            return
        assert ds.examples and all(
            isinstance(e["input"], str) and isinstance(e["target"], str) for e in ds.examples
        )

    fmts = st.sampled_from([None, "gsm8k", *FORMATS])
    cols = st.sampled_from([None, "input", "question", "nope"])
    fuzz("datasets", st.tuples(payloads, st.sampled_from(FILENAMES), fmts, cols), prop, n)


TSPLIB_TOKENS = [
    "NAME: x",
    "TYPE: TSP",
    "DIMENSION: 3",
    "EDGE_WEIGHT_TYPE: EUC_2D",
    "EDGE_WEIGHT_TYPE: GEO",
    "NODE_COORD_SECTION",
    "EOF",
    "1 0 0",
    "2 3 4",
    "3 1e3 -2",
    "2 nan 1",
    "x,y",
    "id,x,y",
    "1,2",
    "1;2;3",
    "# c",
    "inf,1",
]
point_files = st.lists(st.sampled_from(TSPLIB_TOKENS) | hostile_text, max_size=12).map("\n".join)


@pytest.mark.parametrize("n", SIZES)
def test_tsp_file_importers_raise_only_value_errors(n: int) -> None:
    def prop(text: str) -> None:
        for reader in (parse_csv_points, lambda t: parse_tsplib(t)[1]):
            try:
                points = reader(text)
            except ValueError as exc:
                assert str(exc)
                continue
            try:
                problem = TSPProblem.from_points(points)
            except ValueError:
                continue  # e.g. non-finite coordinates: refused with a reason
            assert problem.n == len(points) >= 3

    fuzz("tsp_files", point_files, prop, n)
