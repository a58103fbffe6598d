"""Which training examples a prompt meta-prompt shows, drawn exactly as the reference draws them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from opro_gui.core.models import Scored

CRITERIA = ("random", "constant", "accumulative_most_frequent", "current_most_frequent")


def shown_history(history: Sequence[Scored], size: int, threshold: float) -> list[Scored]:
    """The top ``size`` by score, ascending (best last), then those below ``threshold`` dropped.
    Python's sort is stable: ties keep the order the entries were scored in, as the reference."""
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


def wrong_counter(entries: Sequence[Scored]) -> Counter[int]:
    """How often each example was answered wrongly, keyed in the reference's insertion order:
    entries in order, and within one entry the iteration order of a Python ``set`` built from
    the wrong ids in dataset order (the reference's ``set(list(df.index))``). Counter order
    decides ties below, so this is what makes seeded draws match the reference."""
    counts: Counter[int] = Counter()
    for entry in entries:
        wrong = [r.example_id for r in entry.records if r.correct is False]
        for example_id in set(sorted(wrong)):
            counts[example_id] += 1
    return counts


def _most_to_least(counts: Counter[int]) -> list[int]:
    # sorted() is stable: equal counts keep the counter's insertion order, as the reference.
    return sorted(counts, key=lambda k: -counts[k])


def _current_pool(
    history: Sequence[Scored], step: int, history_size: int, threshold: float
) -> tuple[Counter[int], list[int]]:
    shown = shown_history(history, history_size, threshold if step > 1 else 0.0)
    counts = wrong_counter(shown)
    top = max(counts.values(), default=0)
    return counts, [k for k, v in counts.items() if v == top]


class ReferenceStream:
    """The reference's global NumPy generator for ``current_most_frequent``, which it never
    reseeds per step: seeded with 0, used for the train (and validation) split draws, then by
    every earlier step that drew exemplars. Replayed from the history; the state after each
    step is cached so a run costs one replay, not one per step."""

    def __init__(self, pool_size: int, n_train: int, n_validation: int = 0) -> None:
        self._start = (pool_size, n_train, n_validation)
        # step -> (fingerprint of the history up to that step, generator state after it)
        self._states: dict[int, tuple[int, Any]] = {}

    def _initial(self) -> np.random.RandomState:
        pool, n_train, n_val = self._start
        rng = np.random.RandomState(0)
        train = rng.choice(pool, size=n_train, replace=False)
        rest = np.array(sorted(set(range(pool)) - {int(i) for i in train}))
        rng.choice(rest, size=n_val, replace=False)  # consumes draws even when n_val is 0
        return rng

    def rng_before(
        self, step: int, history: Sequence[Scored], count: int, history_size: int, threshold: float
    ) -> np.random.RandomState:
        """The generator as the reference holds it when step ``step`` (1-based) draws."""
        start = max((s for s in self._states if s < step), default=0)
        rng = np.random.RandomState()
        if start and self._states[start][0] == _fingerprint(history, start):
            rng.set_state(self._states[start][1])
        else:  # nothing cached, or another run's history (the GUI previews any run)
            start, rng = 0, self._initial()
        for t in range(start + 1, step):
            before = [h for h in history if h.step < t]
            _, most = _current_pool(before, t, history_size, threshold)
            if len(most) >= count:
                rng.choice(most, count, replace=False)
            self._states[t] = (_fingerprint(history, t), rng.get_state())
        return rng


def _fingerprint(history: Sequence[Scored], step: int) -> int:
    return hash(tuple((h.step, str(h.solution), h.score) for h in history if h.step < step))


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
    stream: ReferenceStream | None = None,
) -> list[int]:
    """Example ids shown in the meta-prompt of ``step`` (§1.4), in the order shown.

    "random" and "constant" give sorted ids. The wrong-answer criteria follow the reference
    to the letter: ties in counts keep the counter's insertion order, a short list is shown
    most-wrong first (unsorted), and ``current_most_frequent`` draws from the reference's
    never-reseeded global generator (``stream``; without one, or with a seed other than 0, a
    per-step generator is used).
    """
    if count <= 0 or not train_ids:
        return []
    if criterion == "constant":
        return _draw(np.random.RandomState(seed), train_ids, count)
    if criterion == "accumulative_most_frequent":
        ordered = _most_to_least(wrong_counter(history))
        if len(ordered) <= count:
            return ordered
        return _draw(step_rng(seed, step), ordered, count)
    if criterion == "current_most_frequent":
        counts, most = _current_pool(history, step, history_size, threshold)
        if len(most) < count:
            return _most_to_least(counts)[:count]
        if stream is not None and seed == 0:
            rng = stream.rng_before(step, history, count, history_size, threshold)
        else:
            rng = step_rng(seed, step)
        return sorted(int(i) for i in rng.choice(most, count, replace=False))
    return _draw(step_rng(seed, step), train_ids, count)
