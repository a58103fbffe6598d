"""Scripted "models" for the suite's OpenAI-compatible server: they read the meta-prompt the
app sent and answer the way a capable optimizer would, so end-to-end runs make progress."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
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


class ExtractionWorld:
    """Plays optimizer, scorer and judge for tasks/json_extraction (template placement).

    - optimizer: adds the next missing hint to the best template shown (" Reply in JSON.",
      then " Give the age as an integer."); its second sample drops {input} (the guard must
      filter it before any scorer call), its third adds " Be brief.";
    - scorer: plain text without "JSON" in the prompt, JSON with the age as a string without
      "integer", JSON matching the schema with both;
    - judge: 1 for JSON naming the person of the reference, 0.5 for text naming them, else 0.
    """

    HINTS = (" Reply in JSON.", " Give the age as an integer.")
    _ENTRY = re.compile(r"text:\n(.*?)\nscore:\n(\d+)", re.S)
    _PERSON = re.compile(r"([A-Z][a-z]+ [A-Z][a-z]+), (\d+), lives in ([A-Z][a-z]+)")

    def __init__(self) -> None:
        self.samples = 0
        self.scorer_prompts: list[str] = []
        self.judge_prompts: list[str] = []

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            return self._optimize(prompt)
        if prompt.startswith("You grade an answer against a rubric."):
            self.judge_prompts.append(prompt)
            return self._judge(prompt)
        self.scorer_prompts.append(prompt)
        m = self._PERSON.search(prompt)
        if not m:
            return "I found nobody."
        name, age, city = m.group(1), int(m.group(2)), m.group(3)
        if "JSON" not in prompt:
            return f"{name} is {age} and lives in {city}."
        value: Any = age if "integer" in prompt else str(age)
        return json.dumps({"name": name, "age": value, "city": city})

    def _optimize(self, prompt: str) -> str:
        entries = self._ENTRY.findall(prompt)
        best = entries[-1][0].strip() if entries else "Read this message: {input}"
        k = self.samples % 3
        self.samples += 1
        if k == 1:
            return "<INS>Describe the person as JSON.</INS>"
        missing = [h for h in self.HINTS if h.strip() not in best]
        if k == 0 and missing:
            return f"<INS>{best}{missing[0]}</INS>"
        return f"<INS>{best} Be brief.</INS>"

    @staticmethod
    def _judge(prompt: str) -> str:
        ref = re.search(r"Reference answer:\n(.*?)\n", prompt)
        ans = re.search(r"Answer to grade:\n(.*?)\n\nReply with", prompt, re.S)
        name = json.loads(ref.group(1))["name"] if ref else ""
        answer = ans.group(1) if ans else ""
        try:
            value = json.loads(answer)
        except ValueError:
            value = None
        if isinstance(value, dict) and value.get("name") == name:
            return "SCORE: 1\nREASON: JSON that names the person."
        if name and name in answer:
            return "SCORE: 0.5\nREASON: names the person but is not JSON."
        return "SCORE: 0\nREASON: does not name the person."


class CapitalsWorld:
    """Plays optimizer, scorer and judge for tasks/short_answer (capital cities).

    - scorer: a long sentence unless the instruction says "only the city"; for HARD countries
      it names the wrong city unless the instruction says "carefully";
    - judge: PASS when the reference city is in the answer, and (a judge fooled by length)
      also for any answer longer than 12 words;
    - optimizer: adds " Name only the city." then " Think carefully." to the best shown.
    """

    HARD = ("Canada", "Nepal")
    _ENTRY = re.compile(r"text:\n(.*?)\nscore:\n(\d+)", re.S)
    _Q = re.compile(r"What is the capital of (\w+)\?")

    def __init__(self, capitals: dict[str, str]) -> None:
        self.capitals = capitals

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            entries = self._ENTRY.findall(prompt)
            best = entries[-1][0].strip() if entries else ""
            for hint in (" Name only the city.", " Think carefully."):
                if hint.strip() not in best:
                    return f"<INS>{best}{hint}</INS>"
            return f"<INS>{best} Be brief.</INS>"
        if prompt.startswith("You grade an answer against a rubric."):
            ref = re.search(r"Reference answer:\n(.*?)\n", prompt)
            ans = re.search(r"Answer to grade:\n(.*?)\n\nReply with", prompt, re.S)
            answer = ans.group(1) if ans else ""
            ok = (ref is not None and ref.group(1) in answer) or len(answer.split()) > 12
            return f"VERDICT: {'PASS' if ok else 'FAIL'}\nREASON: compared with the reference."
        m = self._Q.search(prompt)
        if not m:
            return "I do not know."
        country = m.group(1)
        city = self.capitals[country]
        if country in self.HARD and "carefully" not in prompt:
            city = "Springfield"
        if "only the city" in prompt:
            return city
        return f"The capital of {country} is {city}, a city with a long history and many sights."


#: How long SlowScorer holds each scorer answer (seconds) unless released.
SLOW_ANSWER_S = 60.0


class SlowScorer:
    """Optimizer requests (temperature > 0) answer at once; so do the first ``quick`` scorer
    requests (a model check's probe); every later one first says it arrived, then holds its
    answer for ``SLOW_ANSWER_S`` (or until released). For Stop and Ctrl-C during scoring."""

    def __init__(self, quick: int) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.quick = quick
        self._lock = threading.Lock()

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if float(body.get("temperature") or 0) > 0:
            return "<INS>Evaluate the expression one operator at a time.</INS>"
        with self._lock:
            self.quick -= 1
            if self.quick >= 0:
                return "True"
        self.arrived.set()
        self.release.wait(SLOW_ANSWER_S)
        return "True"
