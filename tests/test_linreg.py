"""Linear-regression problem kind: data, meta-prompt text, parsing, integer optimum, spec."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.core.models import Scored
from opro_gui.problems.linear_regression import LinearRegressionProblem

PAPER_SETTINGS = [(15, 14), (17, 17), (16, 10), (3, 5), (25, 23), (2, 30), (36, -1)]


def test_meta_prompt_literal_text_keeps_lowest_losses_highest_first() -> None:
    p = LinearRegressionProblem(15, 14, seed=0)
    history = [
        Scored([20, 16], 1094731.7, 0),
        Scored([19, 10], 643605.2, 0),
        Scored([15, 19], 1227.9, 1),
        Scored([13, 18], 153734.0, 0),
        Scored([19, 10], 643605.2, 2),  # duplicate pair
    ]
    expected = (
        "Now you will help me minimize a function with two input variables w, b. I have some "
        "(w, b) pairs and the function values at those points. The pairs are arranged in "
        "descending order based on their function values, where lower values are better.\n"
        "\n"
        "input:\n"
        "w=19, b=10\n"
        "value:\n"
        "643605\n"
        "\n"
        "input:\n"
        "w=13, b=18\n"
        "value:\n"
        "153734\n"
        "\n"
        "input:\n"
        "w=15, b=19\n"
        "value:\n"
        "1227\n"
        "\n"
        "Give me a new (w, b) pair that is different from all pairs above, and has a function "
        "value lower than any of the above. Do not write code. The output must end with a pair "
        "[w, b], where w and b are numerical values."
    )
    assert p.render_meta_prompt(history, step=1, history_size=3) == expected
    assert p.render_meta_prompt(list(reversed(history)), 1, 3) == expected
    assert p.default_history_size == 20


def test_meta_prompt_keeps_twenty_by_default() -> None:
    p = LinearRegressionProblem(15, 14)
    history = [Scored([w, 0], float(1000 - w), 0) for w in range(30)]
    text = p.render_meta_prompt(history, 1, p.default_history_size)
    assert text.count("input:\n") == 20
    assert "w=9, b=0" not in text  # the ten highest losses are left out
    assert text.endswith("w=29, b=0\nvalue:\n971\n\n" + text.rsplit("\n\n", 1)[1])
    assert text.index("w=10, b=0") < text.index("w=29, b=0")  # worst first, best last


def test_user_template_overrides_and_survives_the_spec() -> None:
    spec = LinearRegressionProblem(3, 5, seed=1).to_spec()
    spec["template"] = "Minimise.\n{history}\nAnswer as [w, b]. {w}"
    p = LinearRegressionProblem.from_spec(spec)
    text = p.render_meta_prompt([Scored([1, 2], 10.5, 0)], 1, 20)
    assert text == "Minimise.\ninput:\nw=1, b=2\nvalue:\n10\nAnswer as [w, b]. {w}"
    assert LinearRegressionProblem.from_spec(p.to_spec()).template == spec["template"]


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("completion", "pair"),
    [
        ("[15, 14]", [15, 14]),
        ("So my answer is [w, b] = [15, 14].", [15, 14]),
        ("Try [w=16, b=12]", [16, 12]),
        ("[w = -3, b = 4.0]", [-3, 4]),
        ("first [1, 2] then finally [3, 4]", [3, 4]),
        ("[15.5, 14.4]", [16, 14]),  # rounded to integers (half to even)
        ("[16.5, -0.6]", [16, -1]),
        ("[1e1, 2]", [10, 2]),
        ("[ 7 ,8 ]\nThe output must end with a pair [w, b].", [7, 8]),  # echo skipped
    ],
)
def test_parse_accepts_pairs(completion: str, pair: list[int]) -> None:
    (cand,) = LinearRegressionProblem(15, 14).parse(completion)
    assert cand.solution == pair
    assert cand.reason == ""
    assert cand.text.startswith("[") and cand.text.endswith("]")


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        ("w = 15 and b = 14", "no [w, b] pair"),
        ("", "no [w, b] pair"),
        ("The output must end with a pair [w, b].", "only the placeholder [w, b], no numbers"),
        ("[15]", "expected 2 numbers, got 1"),
        ("[1, 2, 3]", "expected 2 numbers, got 3"),
        ("[fifteen, 14]", "'fifteen' is not a number"),
        ("[15, ]", "'' is not a number"),
        ("[nan, 1]", "'nan' is not a finite number"),
        ("[w=inf, b=1]", "'inf' is not a finite number"),
        ("[1e300, 1]", "1e300 is too large"),
        # strict: the last acceptable span is read (robust parsing would take [1, 2])
        (
            "[1, 2]\n[x, y]",
            "'x' is not a number (an earlier [w, b] holds a pair; strict reference parsing)",
        ),
        ("[15,\n14]", "no [w, b] pair"),  # spans do not cross lines
    ],
)
def test_parse_rejects_with_a_reason(completion: str, reason: str) -> None:
    (cand,) = LinearRegressionProblem(15, 14, strict=True).parse(completion)
    assert cand.solution is None
    assert cand.reason == reason


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text: str) -> None:
    p = LinearRegressionProblem(15, 14)
    for completion in (text, f"[{text}]", f"[w={text}, b=1]"):
        cands = p.parse(completion)
        assert len(cands) == 1
        cand = cands[0]
        assert (cand.solution is None) == bool(cand.reason)
        if cand.solution is not None:
            assert p.validation_error(cand.solution) is None


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_parse_roundtrips_integer_pairs(w: int, b: int) -> None:
    p = LinearRegressionProblem(15, 14)
    (cand,) = p.parse(f"My guess: [{w}, {b}]")
    assert cand.solution == [w, b]
    assert p.dedup_key(cand.solution) == f"{w},{b}"
    assert p.format_solution(cand.solution) == f"w={w}, b={b}"


# ---------------------------------------------------------------- data, loss, optimum


def test_data_is_seeded_and_follows_the_model() -> None:
    p = LinearRegressionProblem(15, 14, seed=3)
    x, y = p.data()
    assert x.tolist() == list(range(1, 51))
    assert np.array_equal(y, LinearRegressionProblem(15, 14, seed=3).data()[1])
    assert not np.array_equal(y, LinearRegressionProblem(15, 14, seed=4).data()[1])
    residual = y - (15 * x + 14)
    assert 0.3 < residual.std() < 3.0  # N(0, 1) noise, 50 draws
    assert p.loss(15, 14) == pytest.approx(float((residual**2).sum()))


def test_loss_is_vectorised_for_contour_plots() -> None:
    p = LinearRegressionProblem(3, 5, seed=0)
    ws, bs = np.meshgrid(np.arange(0, 6), np.arange(2, 9), indexing="ij")
    grid = p.loss(ws, bs)
    assert grid.shape == (6, 7)
    assert grid[3, 3] == pytest.approx(p.loss(3, 5))
    assert isinstance(p.loss(3, 5), float)


@pytest.mark.parametrize(("w_true", "b_true"), PAPER_SETTINGS)
def test_integer_optimum_equals_brute_force(w_true: int, b_true: int) -> None:
    for seed in range(3):
        p = LinearRegressionProblem(w_true, b_true, seed)
        best = min(
            itertools.product(range(w_true - 5, w_true + 6), range(b_true - 25, b_true + 26)),
            key=lambda wb: p.loss(*wb),
        )
        w_opt, b_opt, loss_opt = p.integer_optimum()
        assert (w_opt, b_opt) == best
        assert loss_opt == p.loss(*best)


def test_optimum_can_differ_from_the_true_parameters_and_we_stop_on_it() -> None:
    x = np.arange(1, 51, dtype=float)
    y = 15 * x + 14 + 0.7  # a constant offset moves the best integer intercept to 15
    p = LinearRegressionProblem(15, 14, seed=0, x=x.tolist(), y=y.tolist())
    s = p.summary()
    assert (s["optimum_w"], s["optimum_b"]) == (15, 15)
    assert s["optimum_is_true"] is False
    assert s["optimum_loss"] == pytest.approx(50 * 0.3**2)
    assert s["true_loss"] == pytest.approx(50 * 0.7**2)
    assert p.is_optimal([15, 15], p.loss(15, 15))
    assert not p.is_optimal([15, 14], p.loss(15, 14))


def test_summary_and_is_optimal_for_a_generated_instance() -> None:
    p = LinearRegressionProblem(36, -1, seed=2)
    s = p.summary()
    assert s["w_true"] == 36 and s["b_true"] == -1 and s["n_points"] == 50
    assert s["least_squares_w"] == pytest.approx(36, abs=0.1)
    pair = [s["optimum_w"], s["optimum_b"]]
    assert p.is_optimal(pair, p.score([pair])[0].score or 0.0)
    assert not p.is_optimal([pair[0] + 1, pair[1]], p.loss(pair[0] + 1, pair[1]))


def test_score_is_the_sum_of_squared_residuals() -> None:
    p = LinearRegressionProblem(15, 14, seed=0)
    good, bad = p.score([[15, 14], [15, "x"]])
    x, y = p.data()
    assert good.score == pytest.approx(float(((y - 15 * x - 14) ** 2).sum()))
    assert bad.score is None and bad.error
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        p.score([[1, 2]], None, token)


def test_initial_solutions_are_five_distinct_integer_pairs_in_the_start_box() -> None:
    for seed in range(10):
        pairs = LinearRegressionProblem(2, 30, seed).initial_solutions()
        assert len(pairs) == 5
        assert len({tuple(p) for p in pairs}) == 5
        assert all(isinstance(v, int) and 10 <= v <= 20 for pair in pairs for v in pair)
    assert LinearRegressionProblem(2, 30, 4).initial_solutions() == (
        LinearRegressionProblem(2, 30, 4).initial_solutions()
    )


def test_spec_round_trip_is_json_and_carries_the_data() -> None:
    p = LinearRegressionProblem(25, 23, seed=7)
    spec = json.loads(json.dumps(p.to_spec()))
    q = LinearRegressionProblem.from_spec(spec)
    assert q.to_spec() == p.to_spec()
    assert q.summary() == p.summary()
    assert np.array_equal(q.data()[1], p.data()[1])
    assert q.initial_solutions() == p.initial_solutions()
    with pytest.raises(ValueError, match="not a linear-regression spec"):
        LinearRegressionProblem.from_spec({**spec, "kind": "tsp"})
    with pytest.raises(ValueError, match="equally long"):
        LinearRegressionProblem.from_spec({**spec, "y": spec["y"][:-1]})


def test_random_search_uses_exactly_the_given_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    p = LinearRegressionProblem(36, -1, seed=0)
    curve = p.random_search_curve([8] * 40, seed=1)
    assert curve == p.random_search_curve([8] * 40, seed=1)
    assert len(curve) == 40
    assert all(a >= b for a, b in itertools.pairwise(curve))
    assert curve[-1] >= p.integer_optimum()[2]
    count = 0
    original = p.loss

    def counting(w: int, b: int) -> float:
        nonlocal count
        count += 1
        return float(original(w, b))

    monkeypatch.setattr(p, "loss", counting)
    p.random_search_curve([3, 0, 8, 1], seed=0)
    assert count == 5 + 12
