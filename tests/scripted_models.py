"""Scripted "models" for the suite's OpenAI-compatible server: they read the meta-prompt the
app sent and answer the way a capable optimizer would, so end-to-end runs make progress."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

_POINT = re.compile(r"\((\d+)\): \((-?[\d.]+), (-?[\d.]+)\)")
_TRACE = re.compile(r"<trace>\s*([\d,\s]+?)\s*</trace>")
_PAIR = re.compile(r"w=(-?\d+), b=(-?\d+)\nvalue:\n(\d+)")


def _length(points: list[tuple[float, float]], tour: list[int]) -> float:
    return sum(
        math.dist(points[tour[i]], points[tour[(i + 1) % len(tour)]]) for i in range(len(tour))
    )


def two_opt_optimizer(prompt: str, body: dict[str, Any]) -> str:
    """Answers the TSP meta-prompt with an improving 2-opt move of the best trace shown. Each
    call returns a different improving move (chosen by a counter in the request body), so the
    k samples of a step differ."""
    points = [(float(x), float(y)) for _, x, y in _POINT.findall(prompt)]
    traces = _TRACE.findall(prompt)
    if not points or not traces:
        return "I cannot find a trace."
    best = [int(t) for t in traces[-1].split(",")]
    base = _length(points, best)
    moves = []
    n = len(best)
    for i in range(1, n - 1):
        for j in range(i + 1, n):
            cand = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
            gain = base - _length(points, cand)
            if gain > 1e-9:
                moves.append((gain, cand))
    moves.sort(key=lambda m: -m[0])
    if not moves:
        return f"<trace>{','.join(map(str, best))}</trace>"
    pick = two_opt_optimizer.counter % min(len(moves), 8)  # type: ignore[attr-defined]
    two_opt_optimizer.counter += 1  # type: ignore[attr-defined]
    return f"Here is a better trace: <trace>{','.join(map(str, moves[pick][1]))}</trace>"


two_opt_optimizer.counter = 0  # type: ignore[attr-defined]


def linreg_optimizer(prompt: str, body: dict[str, Any]) -> str:
    """Steps from the best pair shown toward lower loss by a coordinate move."""
    pairs = [(int(w), int(b), int(v)) for w, b, v in _PAIR.findall(prompt)]
    if not pairs:
        return "[w, b]"
    w, b, _ = pairs[-1]
    h = int(hashlib.md5(f"{prompt}{linreg_optimizer.counter}".encode()).hexdigest(), 16)  # type: ignore[attr-defined]
    linreg_optimizer.counter += 1  # type: ignore[attr-defined]
    dw, db = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (2, 0), (0, 2)][h % 8]
    return f"Try this pair: [{w + dw}, {b + db}]"


linreg_optimizer.counter = 0  # type: ignore[attr-defined]
