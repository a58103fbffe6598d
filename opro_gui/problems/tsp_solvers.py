"""TSP solvers and baselines: tour length, nearest neighbour, farthest insertion, Held–Karp, LKH."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Largest instance solved exactly by the Held–Karp dynamic program (2^(n-1)·(n-1)² work;
#: n = 15 takes ~0.05 s, so the paper's n = 10 and n = 15 instances get exact optima).
EXACT_MAX_N = 15

#: elkai (LKH-3) works on integer weights: distances are scaled by this factor and rounded.
_LKH_SCALE = 1000.0

# Lengths are truncated to integers as the paper does; the epsilon keeps a length whose exact
# value is an integer (e.g. an axis-aligned rectangle) from being truncated one unit too low
# because of floating-point rounding in the sum.
_TRUNC_EPS = 1e-9


def distance_matrix(points: Sequence[tuple[float, float]]) -> FloatArray:
    """Euclidean distances between every pair of points."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    diff = xy[:, None, :] - xy[None, :, :]
    return np.asarray(np.sqrt((diff**2).sum(axis=-1)), dtype=np.float64)


def tour_length(dist: FloatArray, tour: Sequence[int]) -> float:
    """Length of the closed tour (the edge back to the first node included)."""
    idx = np.asarray(tour, dtype=np.intp)
    if idx.size < 2:
        return 0.0
    return float(dist[idx, np.roll(idx, -1)].sum())


def truncate_length(length: float) -> int:
    """The integer shown to the optimizer and used as the score: truncation toward zero."""
    return int(length + _TRUNC_EPS)


def nearest_neighbour(dist: FloatArray, start: int = 0) -> list[int]:
    """Start at ``start``; repeatedly go to the closest unvisited node (ties: lowest index)."""
    n = dist.shape[0]
    tour = [start]
    unvisited = np.ones(n, dtype=bool)
    unvisited[start] = False
    while len(tour) < n:
        row = np.where(unvisited, dist[tour[-1]], np.inf)
        nxt = int(np.argmin(row))
        tour.append(nxt)
        unvisited[nxt] = False
    return tour


def farthest_insertion(dist: FloatArray) -> list[int]:
    """Paper definition (OPRO_SPEC §4.7): from the tour [0], insert at each step the node whose
    cheapest insertion cost d(i,k) + d(k,j) − d(i,j) is largest, at that cheapest position."""
    n = dist.shape[0]
    tour = [0]
    remaining = list(range(1, n))
    while remaining:
        t = np.asarray(tour, dtype=np.intp)
        nxt = np.roll(t, -1)
        rem = np.asarray(remaining, dtype=np.intp)
        # cost[k, p]: inserting remaining node k between tour[p] and tour[p + 1].
        cost = dist[t][:, rem].T + dist[rem][:, nxt] - dist[t, nxt][None, :]
        best_pos = cost.argmin(axis=1)
        best_cost = cost[np.arange(rem.size), best_pos]
        pick = int(np.argmax(best_cost))
        tour.insert(int(best_pos[pick]) + 1, int(rem[pick]))
        remaining.pop(pick)
    return tour


def held_karp(dist: FloatArray) -> tuple[float, list[int]]:
    """Exact optimum by dynamic programming over (visited set, last node), vectorised per
    subset size. Returns (length, tour starting at 0). Memory and time grow as 2^n."""
    n = dist.shape[0]
    if n <= 3:
        tour = list(range(n))
        return tour_length(dist, tour), tour
    m = n - 1  # nodes 1..n-1 are bits 0..m-1
    size = 1 << m
    sub = dist[1:, 1:]  # sub[i, j]: distance between nodes i+1 and j+1
    bits = (1 << np.arange(m)).astype(np.int64)
    dp = np.full((size, m), np.inf)
    parent = np.full((size, m), -1, dtype=np.int8)
    dp[bits, np.arange(m)] = dist[0, 1:]
    masks = np.arange(size, dtype=np.int64)
    popcount = np.bitwise_count(masks)
    for k in range(2, m + 1):
        level = masks[popcount == k]
        prev = level[:, None] ^ bits[None, :]  # (masks, j): the set before j was added
        has_j = (level[:, None] & bits[None, :]) != 0
        # cand[mask, j, i] = dp[prev, i] + d(i, j)
        cand = dp[prev] + sub.T[None, :, :]
        best_i = cand.argmin(axis=2)
        best = np.take_along_axis(cand, best_i[:, :, None], axis=2)[:, :, 0]
        dp[level] = np.where(has_j, best, np.inf)
        parent[level] = np.where(has_j, best_i, -1).astype(np.int8)
    full = size - 1
    closing = dp[full] + dist[1:, 0]
    last = int(np.argmin(closing))
    rev = []
    mask = full
    while last >= 0:
        rev.append(last + 1)
        before = int(parent[mask, last])
        mask ^= 1 << last
        last = before
    tour = [0, *reversed(rev)]
    return tour_length(dist, tour), tour


def lkh_tour(dist: FloatArray, runs: int | None = None) -> list[int]:
    """A near-optimal tour from elkai (LKH-3), rotated to start at node 0. Deterministic
    (LKH's default seed). By default 10 restarts up to 100 nodes, fewer beyond (each restart
    of a 400-node instance costs ~1 s and rarely improves on the first)."""
    import elkai  # imported lazily: only needed beyond EXACT_MAX_N

    n = dist.shape[0]
    if n <= 3:
        return list(range(n))
    if runs is None:
        runs = 10 if n <= 100 else 3 if n <= 200 else 1
    weights = np.rint(dist * _LKH_SCALE).astype(np.int64).tolist()
    raw = elkai.DistanceMatrix(weights).solve_tsp(runs=runs)
    tour = [int(i) for i in raw[:-1]] if len(raw) == n + 1 else [int(i) for i in raw]
    start = tour.index(0)
    return tour[start:] + tour[:start]


def solve(dist: FloatArray) -> tuple[float, list[int], bool]:
    """(length, tour, exact): Held–Karp up to EXACT_MAX_N nodes, else LKH, never worse than
    the two construction heuristics."""
    n = dist.shape[0]
    if n <= EXACT_MAX_N:
        length, tour = held_karp(dist)
        return length, tour, True
    best = lkh_tour(dist)
    for alt in (farthest_insertion(dist), nearest_neighbour(dist)):
        if tour_length(dist, alt) < tour_length(dist, best):
            best = alt
    return tour_length(dist, best), best, False


def random_tour(n: int, rng: np.random.Generator) -> list[int]:
    """A uniformly random permutation of 0..n-1 that starts at node 0."""
    return [0, *(int(i) + 1 for i in rng.permutation(n - 1))]


def random_swap(tour: Sequence[int], rng: np.random.Generator) -> list[int]:
    """``tour`` with two nodes other than the first exchanged."""
    out = list(tour)
    if len(out) < 3:
        return out
    i, j = rng.choice(np.arange(1, len(out)), size=2, replace=False)
    out[i], out[j] = out[j], out[i]
    return out


def random_search(
    start_tours: Sequence[Sequence[int]],
    evals_per_step: Sequence[int],
    rng: np.random.Generator,
    evaluate: Callable[[Sequence[int]], float],
) -> list[float]:
    """Equal-budget random search. Starts from ``start_tours`` (like OPRO's step 0, not
    counted); step s then evaluates exactly ``evals_per_step[s]`` tours: ``k // 2`` uniformly
    random tours and ``k - k // 2`` random 2-swaps of the best tour known at the start of the
    step (a batch, like one OPRO step). Returns the best value after each step."""
    values = [evaluate(t) for t in start_tours]
    first = int(np.argmin(values))
    curve, _, _ = random_search_steps(
        list(start_tours[first]), values[first], evals_per_step, rng, evaluate
    )
    return curve


def random_search_steps(
    best_tour: list[int],
    best: float,
    evals_per_step: Sequence[int],
    rng: np.random.Generator,
    evaluate: Callable[[Sequence[int]], float],
) -> tuple[list[float], list[int], float]:
    """The steps of ``random_search`` from a known best: the curve, then the best tour and
    value after the last step (to continue from later with the same ``rng``)."""
    n = len(best_tour)
    curve: list[float] = []
    for k in evals_per_step:
        n_random = int(k) // 2
        batch = [random_tour(n, rng) for _ in range(n_random)]
        batch += [random_swap(best_tour, rng) for _ in range(int(k) - n_random)]
        step_best_tour = best_tour
        for tour in batch:
            value = evaluate(tour)
            if value < best:
                best, step_best_tour = value, tour
        best_tour = step_best_tour
        curve.append(best)
    return curve, best_tour, best


def resume_state(rng: np.random.Generator, state: dict[str, Any], seed: int) -> tuple[Any, float]:
    """Put ``rng`` back where a saved random search left it; its best solution and value."""
    if not isinstance(state, dict) or state.get("seed") != seed:
        raise ValueError("the random search was saved with another seed")
    rng.bit_generator.state = state["rng"]
    return list(state["solution"]), float(state["best"])


def save_state(rng: np.random.Generator, seed: int, solution: Any, best: float) -> dict[str, Any]:
    return {"seed": seed, "rng": rng.bit_generator.state, "solution": list(solution),
            "best": float(best)}  # fmt: skip
