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


class ArithmeticWorld:
    """Plays both roles of a prompt-optimization run on "Compute A + B." questions.

    - optimizer (model name containing "optimizer"): takes the best instruction shown in the
      meta-prompt and proposes it with one more "step by step" (plus a per-sample variant),
      inside <INS></INS>;
    - scorer: answers correctly with a probability that grows with how often the instruction
      says "step"; the draw is a hash of (instruction, question), so it is repeatable. Every
      verdict it gave is kept in ``given`` for the test to compare with what the app stored.
    """

    _QUESTION = re.compile(r"Compute (\d+) \+ (\d+)\.")
    _ENTRY = re.compile(r"text:\n(.*?)\nscore:\n(\d+)", re.S)

    def __init__(self) -> None:
        self.given: dict[tuple[str, str], bool] = {}
        self.optimizer_calls = 0

    @staticmethod
    def examples(n: int = 40) -> list[dict[str, str]]:
        out = []
        for i in range(n):
            a, b = (i * 37) % 90 + 3, (i * 53) % 70 + 5
            out.append({"input": f"Compute {a} + {b}.", "target": str(a + b)})
        return out

    def accuracy_for(self, instruction: str) -> float:
        return min(1.0, 0.2 + 0.2 * instruction.lower().count("step"))

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            self.optimizer_calls += 1
            entries = self._ENTRY.findall(prompt)
            best = entries[-1][0].strip() if entries else ""
            variant = ["", " Be careful.", " Check the sum.", " Write the number."][
                self.optimizer_calls % 4
            ]
            return f"<INS>{(best + ' Go step by step.').strip()}{variant}</INS>"
        m = self._QUESTION.search(prompt)
        if not m:
            return "I do not know."
        instruction = prompt[: m.start()].strip()
        question = m.group(0)
        h = int(hashlib.sha256(f"{instruction}|{question}".encode()).hexdigest(), 16) % 1000
        correct = h < 1000 * self.accuracy_for(instruction)
        self.given[(instruction, question)] = correct
        a, b = int(m.group(1)), int(m.group(2))
        return f"The answer is {a + b if correct else a + b + 1}."
