"""TSP problem kind: meta-prompt text, parsing, scoring, optimum, baselines, random search, spec."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.core.models import Scored
from opro_gui.problems import tsp_solvers as solvers
from opro_gui.problems.local_scoring import STRICT_KEY
from opro_gui.problems.tsp import TSPProblem

RECT = [(0, 0), (3, 0), (3, 4), (0, 4)]  # every tour length is an integer: 14, 16 or 18


def brute_force(dist: np.ndarray) -> float:
    n = dist.shape[0]
    return min(solvers.tour_length(dist, [0, *p]) for p in itertools.permutations(range(1, n)))


def naive_farthest_insertion(dist: np.ndarray) -> list[int]:
    """The paper's definition written out with plain loops (reference for the vectorised one)."""
    tour, remaining = [0], list(range(1, dist.shape[0]))
    while remaining:
        choice: tuple[float, int, int] | None = None
        for k in remaining:
            costs = [
                dist[tour[p], k]
                + dist[k, tour[(p + 1) % len(tour)]]
                - dist[tour[p], tour[(p + 1) % len(tour)]]
                for p in range(len(tour))
            ]
            pos = int(np.argmin(costs))
            if choice is None or costs[pos] > choice[0]:
                choice = (costs[pos], k, pos)
        assert choice is not None
        tour.insert(choice[2] + 1, choice[1])
        remaining.remove(choice[1])
    return tour


# ---------------------------------------------------------------- meta-prompt


def test_meta_prompt_literal_text_keeps_best_distinct_worst_first() -> None:
    p = TSPProblem.from_points(RECT, name="rect")
    history = [
        Scored([0, 2, 1, 3], 18.0, 0),
        Scored([0, 1, 2, 3], 14.0, 0),
        Scored([0, 1, 3, 2], 16.0, 1),
        Scored([0, 3, 2, 1], 14.0, 2),
        Scored([0, 2, 1, 3], 18.0, 3),  # duplicate of the first
    ]
    expected = (
        "You are given a list of points with coordinates below:\n"
        "(0): (0, 0), (1): (3, 0), (2): (3, 4), (3): (0, 4).\n"
        "\n"
        "Below are some previous traces and their lengths. The traces are arranged in descending "
        "order based on their lengths, where lower values are better.\n"
        "\n"
        "<trace> 0,1,3,2 </trace>\n"
        "length:\n"
        "16\n"
        "\n"
        "<trace> 0,3,2,1 </trace>\n"
        "length:\n"
        "14\n"
        "\n"
        "<trace> 0,1,2,3 </trace>\n"
        "length:\n"
        "14\n"
        "\n"
        "Give me a new trace that is different from all traces above, and has a length lower "
        "than any of the above. The trace should traverse all points exactly once. The trace "
        "should start with '<trace>' and end with </trace>."
    )
    assert p.render_meta_prompt(history, step=1, history_size=3) == expected
    # Input order does not matter.
    assert p.render_meta_prompt(history[::-1], step=1, history_size=3) == expected


def test_meta_prompt_shows_all_distinct_when_fewer_than_history_size() -> None:
    p = TSPProblem.from_points(RECT)
    history = [Scored([0, 2, 1, 3], 18.0, 0), Scored([0, 2, 1, 3], 18.0, 1)]
    text = p.render_meta_prompt(history, 1, p.default_history_size)
    assert text.count("<trace> 0,2,1,3 </trace>") == 1
    assert p.default_history_size == 10


def test_float_coordinates_are_shown_with_two_decimals_at_most() -> None:
    p = TSPProblem.from_points([(0.5, 1.25), (2.0, -3.125), (10, 10)])
    text = p.render_meta_prompt([], 1, 10)
    assert "(0): (0.5, 1.25), (1): (2, -3.12), (2): (10, 10)." in text


def test_user_template_from_spec_overrides_the_paper_wording() -> None:
    spec = TSPProblem.from_points(RECT).to_spec()
    spec["template"] = "Points {points}. {unknown} History:\n{history}"
    p = TSPProblem.from_spec(spec)
    text = p.render_meta_prompt([Scored([0, 1, 2, 3], 14.0, 0)], 1, 10)
    assert text == (
        "Points (0): (0, 0), (1): (3, 0), (2): (3, 4), (3): (0, 4). {unknown} History:\n"
        "<trace> 0,1,2,3 </trace>\nlength:\n14"
    )
    assert TSPProblem.from_spec(p.to_spec()).template == spec["template"]


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        ("I think 0,1,2,3,4 is good", "no <trace> tag"),
        ("<trace>0,1,2,3,4", "no </trace> after <trace>"),
        ("<trace> </trace>", "empty trace"),
        ("<trace>0,1,2,3</trace>", "expected 5 nodes, got 4"),
        ("<trace>0,1,2,3,4,1</trace>", "expected 5 nodes, got 6"),
        ("<trace>0,1,2,3,12</trace>", "node 12 out of range"),
        ("<trace>0,-1,2,3,4</trace>", "node -1 out of range"),
        ("<trace>0,1,3,3,4</trace>", "repeats node 3"),
        (
            "<trace>1,0,2,3,4</trace>",
            "does not start at node 0 (a valid cycle; strict reference parsing)",
        ),
        ("<trace>0,1,two,3,4</trace>", "'two' is not a node number"),
        ("<trace>0,1,2.0,3,4</trace>", "'2.0' is not a node number"),
        ("<trace>0 1 2 3 4</trace>", "'0 1 2 3 4' is not a node number"),
        # The first <trace> wins, as in the reference code, even when it is an echo.
        (
            "Start with '<trace>' and </trace>: <trace>0,1,2,3,4</trace>",
            '"\' and" is not a node number (a later <trace> holds a tour; strict reference parsing)',
        ),
    ],
)
def test_parse_rejects_with_a_human_reason(completion: str, reason: str) -> None:
    """With strict_reference_parsing (the reference's rules); robust parsing: test_parse_repair."""
    p = TSPProblem.from_spec({**TSPProblem.generate(5, seed=3).to_spec(), STRICT_KEY: True})
    (cand,) = p.parse(completion)
    assert cand.solution is None
    assert cand.reason == reason


@pytest.mark.parametrize(
    "completion",
    [
        "<trace>0,3,1,4,2</trace>",
        "Sure! <trace> 0, 3, 1, 4, 2 </trace> has length 300.",
        "<trace>0,3,1,4,2,</trace>",  # a trailing comma is tolerated
        "<trace>0,3,1,4,2</trace> or maybe <trace>0,1,2,3,4</trace>",  # first valid one only
        "<trace>\n0,3,1,\n4,2\n</trace>",
    ],
)
def test_parse_accepts_valid_tours(completion: str) -> None:
    p = TSPProblem.generate(5, seed=3)
    cands = p.parse(completion)
    assert len(cands) == 1
    assert cands[0].solution == [0, 3, 1, 4, 2]
    assert cands[0].reason == ""
    assert cands[0].text.startswith("<trace>") and cands[0].text.endswith("</trace>")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text: str) -> None:
    p = TSPProblem.from_points(RECT)
    for completion in (text, f"<trace>{text}</trace>", f"<trace>0,{text}"):
        cands = p.parse(completion)
        assert len(cands) == 1
        cand = cands[0]
        assert (cand.solution is None) == bool(cand.reason)
        if cand.solution is not None:
            assert p.validation_error(cand.solution) is None


@settings(max_examples=100, deadline=None)
@given(st.permutations(list(range(1, 8))), st.text(alphabet="ab .\n"))
def test_parse_roundtrips_any_valid_tour(rest: list[int], noise: str) -> None:
    p = TSPProblem.generate(8, seed=0)
    tour = [0, *rest]
    (cand,) = p.parse(f"{noise}<trace>{p.format_solution(tour)}</trace>{noise}")
    assert cand.solution == tour
    assert p.dedup_key(tour) == ",".join(map(str, tour))


# ---------------------------------------------------------------- scoring and optimum


def test_score_is_truncated_integer_length_and_rejects_bad_tours() -> None:
    p = TSPProblem.from_points([(0, 0), (1, 0), (1, 1)])  # length 2 + sqrt(2) = 3.414...
    results = p.score([[0, 1, 2], [0, 1, 1]])
    assert results[0].score == 3.0
    assert results[1].score is None and results[1].error == "repeats node 1"
    assert p.exact_length([0, 1, 2]) == pytest.approx(2 + 2**0.5)
    rect = TSPProblem.from_points(RECT)
    assert rect.score([[0, 1, 2, 3]])[0].score == 14.0  # exact integer not truncated to 13


def test_score_honours_cancel() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        TSPProblem.from_points(RECT).score([[0, 1, 2, 3]], None, token)


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_held_karp_equals_brute_force(n: int) -> None:
    for seed in range(4):
        p = TSPProblem.generate(n, seed)
        dist = solvers.distance_matrix(p.points)
        length, tour = solvers.held_karp(dist)
        assert length == pytest.approx(brute_force(dist))
        assert sorted(tour) == list(range(n)) and tour[0] == 0
        assert p.exact_length(tour) == pytest.approx(length)


@pytest.mark.parametrize("n", [5, 6, 7, 8])
def test_baselines_against_brute_force_and_paper_definition(n: int) -> None:
    for seed in range(4):
        p = TSPProblem.generate(n, seed)
        dist = solvers.distance_matrix(p.points)
        best = brute_force(dist)
        s = p.summary()
        assert s["optimal_is_exact"] is True
        assert s["optimal_length"] == s["best_known_length"] == int(best)
        assert s["nearest_neighbour"] >= s["optimal_length"]
        assert s["farthest_insertion"] >= s["optimal_length"]
        fi = p.farthest_insertion_tour()
        assert fi == naive_farthest_insertion(dist)
        nn = p.nearest_neighbour_tour()
        assert nn[0] == 0 and sorted(nn) == list(range(n))
        # Nearest neighbour: each next node is the closest unvisited one.
        for i in range(1, n):
            unvisited = nn[i:]
            assert dist[nn[i - 1], nn[i]] == min(dist[nn[i - 1], j] for j in unvisited)


def test_optimal_tour_is_optimal_and_gap_is_relative_to_it() -> None:
    p = TSPProblem.generate(10, seed=1)
    tour = p.optimal_tour()
    length = p.length(tour)
    assert p.is_optimal(tour, float(length))
    assert not p.is_optimal(p.initial_solutions()[0], float(length + 1))
    assert p.gap_percent(length) == 0.0
    assert p.gap_percent(length * 1.1) == pytest.approx(10.0)
    assert p.summary()["farthest_insertion_gap_percent"] >= 0.0


def test_elkai_path_for_20_points_beats_or_ties_farthest_insertion() -> None:
    p = TSPProblem.generate(20, seed=4)
    s = p.summary()
    assert s["optimal_is_exact"] is False
    assert s["optimal_length"] is None
    assert s["best_known_length"] <= s["farthest_insertion"]
    assert s["best_known_length"] <= s["nearest_neighbour"]
    tour = p.optimal_tour()
    assert p.validation_error(tour) is None
    assert p.is_optimal(tour, float(p.length(tour)))


def test_exact_up_to_the_dp_limit_and_dp_no_worse_than_lkh() -> None:
    n = solvers.EXACT_MAX_N
    p = TSPProblem.generate(n, seed=2)
    assert p.summary()["optimal_is_exact"] is True
    dist = solvers.distance_matrix(p.points)
    assert p.optimum()[0] <= solvers.tour_length(dist, solvers.lkh_tour(dist)) + 1e-9
    assert TSPProblem.generate(n + 1, seed=2).summary()["optimal_is_exact"] is False


# ---------------------------------------------------------------- instances and spec


def test_generate_is_seeded_integer_and_in_range() -> None:
    a, b = TSPProblem.generate(30, 7), TSPProblem.generate(30, 7)
    assert a.points == b.points
    assert a.points != TSPProblem.generate(30, 8).points
    assert all(isinstance(v, int) and -100 <= v <= 100 for pt in a.points for v in pt)
    with pytest.raises(ValueError, match="at least 3"):
        TSPProblem.generate(2, 0)


def test_initial_solutions_are_five_distinct_tours_from_node_zero() -> None:
    p = TSPProblem.generate(10, 5)
    tours = p.initial_solutions()
    assert len(tours) == 5
    assert len({p.dedup_key(t) for t in tours}) == 5
    assert all(t[0] == 0 and sorted(t) == list(range(10)) for t in tours)
    assert tours == TSPProblem.generate(10, 5).initial_solutions()
    assert len(TSPProblem.generate(3, 0).initial_solutions()) == 2  # only 2 tours exist


def test_spec_round_trip_is_json_and_caches_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    p = TSPProblem.generate(12, seed=9)
    spec: dict[str, Any] = json.loads(json.dumps(p.to_spec()))
    assert spec["optimum"]["exact"] is True and len(spec["points"]) == 12

    def no_solving(*_: object) -> None:
        raise AssertionError("re-solved despite a cached optimum")

    monkeypatch.setattr(solvers, "solve", no_solving)
    q = TSPProblem.from_spec(spec)
    assert q.to_spec() == spec
    assert q.summary() == p.summary()
    assert q.initial_solutions() == p.initial_solutions()
    history = [Scored(t, float(q.length(t)), 0) for t in q.initial_solutions()]
    assert q.render_meta_prompt(history, 1, 10) == p.render_meta_prompt(history, 1, 10)


def test_from_spec_rejects_other_kinds_and_ignores_a_broken_cached_optimum() -> None:
    with pytest.raises(ValueError, match="not a TSP spec"):
        TSPProblem.from_spec({"kind": "linreg", "points": RECT})
    spec = TSPProblem.from_points(RECT).to_spec()
    spec["optimum"] = {"length": 1.0, "tour": [0, 1, 1, 2], "exact": True}
    assert TSPProblem.from_spec(spec).optimal_length() == 14


# ---------------------------------------------------------------- random search


def test_random_search_uses_exactly_the_given_budget() -> None:
    calls: list[list[int]] = []
    p = TSPProblem.generate(9, seed=0)

    def evaluate(tour: Sequence[int]) -> float:
        assert p.validation_error(list(tour)) is None
        calls.append(list(tour))
        return float(p.length(tour))

    budget = [8, 7, 0, 3, 8]
    starts = p.initial_solutions()
    curve = solvers.random_search(starts, budget, np.random.default_rng(1), evaluate)
    assert len(calls) == len(starts) + sum(budget)
    assert len(curve) == len(budget)
    assert all(a >= b for a, b in itertools.pairwise(curve))
    assert curve[-1] == min(float(p.length(t)) for t in calls)


def test_random_search_curve_is_seeded_and_counts_evaluations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = TSPProblem.generate(10, seed=2)
    first = p.random_search_curve([8] * 6, seed=3)
    assert first == p.random_search_curve([8] * 6, seed=3)
    assert all(v >= p.optimal_length() for v in first)
    count = 0
    original = p.length

    def counting(tour: list[int]) -> int:
        nonlocal count
        count += 1
        return original(tour)

    monkeypatch.setattr(p, "length", counting)
    p.random_search_curve([5, 8, 1], seed=0)
    assert count == 5 + 14
