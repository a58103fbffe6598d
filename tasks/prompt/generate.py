"""Generate the ready prompt-optimization tasks in this folder (answers known by construction).

Run ``python tasks/prompt/generate.py`` to rewrite the JSONL files; the output is deterministic
(fixed seeds, no dependency on the Python hash seed), so re-running changes nothing.
``--check`` exits with status 1 when a committed file differs from what would be generated.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_EXAMPLES = 120

_WORD_TEXT = (
    "apple anchor badge bamboo cabin canyon dagger delta eagle ember fabric falcon garden glacier "
    "harbor hazel igloo island jacket jungle kettle kingdom ladder lantern magnet meadow napkin "
    "nectar oasis orbit paddle pepper quartz quiver rabbit ribbon saddle salmon tablet thunder "
    "umbrella uniform valley velvet wagon walnut yacht yogurt zebra zenith acorn basket candle "
    "dolphin engine feather goblet hammer iron jewel kernel lemon mirror needle onion pillow "
    "quill river spider tunnel violin window yarrow zipper almond beacon copper desert fossil "
    "granite helmet ivory jasmine koala lizard marble nickel oyster parrot raven silver timber "
    "tulip vessel whistle"
)
WORDS = _WORD_TEXT.split()
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def multistep_arithmetic(rng: random.Random) -> dict[str, str]:
    """Two bracketed sub-expressions combined, as in BBH multistep_arithmetic_two (numeric)."""

    def term() -> tuple[str, int]:
        a, b = rng.randint(-9, 9), rng.randint(-9, 9)
        op = rng.choice("+-*")
        value = a + b if op == "+" else a - b if op == "-" else a * b
        return f"({a} {op} {b})", value

    (left, lv), (right, rv) = term(), term()
    op = rng.choice("+-*")
    value = lv + rv if op == "+" else lv - rv if op == "-" else lv * rv
    return {"input": f"{left} {op} {right} =", "target": str(value)}


def boolean_expression(rng: random.Random) -> dict[str, str]:
    """A random expression over True/False with not/and/or and brackets (boolean)."""

    def expr(depth: int) -> tuple[str, bool]:
        if depth == 0 or (depth < 3 and rng.random() < 0.3):  # never a bare literal on top
            value = rng.random() < 0.5
            text = str(value)
        else:
            kind = rng.choice(("not", "and", "or", "paren"))
            if kind == "not":
                inner, v = expr(depth - 1)
                return f"not {inner}", not v
            if kind == "paren":
                inner, v = expr(depth - 1)
                return f"( {inner} )", v
            (a, av), (b, bv) = expr(depth - 1), expr(depth - 1)
            # Brackets keep Python's precedence out of the way: the reader sees the grouping.
            return f"( {a} {kind} {b} )", (av and bv) if kind == "and" else (av or bv)
        return text, value

    text, value = expr(3)
    return {"input": f"{text} is", "target": str(value)}


def word_sorting(rng: random.Random) -> dict[str, str]:
    """Sort 4–9 distinct words alphabetically (free text, as BBH word_sorting)."""
    words = rng.sample(WORDS, rng.randint(4, 9))
    return {
        "input": "Sort the following words alphabetically: List: " + " ".join(words),
        "target": " ".join(sorted(words)),
    }


def weekday_choice(rng: random.Random) -> dict[str, str]:
    """Weekday arithmetic as a seven-option multiple-choice question (choice)."""
    today = rng.randrange(7)
    offset = rng.randint(2, 40)
    direction = rng.choice(("in", "ago"))
    answer = (today + offset) % 7 if direction == "in" else (today - offset) % 7
    when = f"in {offset} days" if direction == "in" else f"{offset} days ago"
    verb = "will it be" if direction == "in" else "was it"
    options = "\n".join(f"({chr(65 + i)}) {day}" for i, day in enumerate(WEEKDAYS))
    question = f"Today is {WEEKDAYS[today]}. What day of the week {verb} {when}?"
    return {"input": f"{question}\nOptions:\n{options}", "target": f"({chr(65 + answer)})"}


TASKS: dict[str, tuple[int, Callable[[random.Random], dict[str, str]]]] = {
    "multistep_arithmetic": (11, multistep_arithmetic),
    "boolean_expressions": (12, boolean_expression),
    "word_sorting": (13, word_sorting),
    "weekday_choice": (14, weekday_choice),
}


def generate(name: str, n: int = N_EXAMPLES) -> list[dict[str, str]]:
    """The examples of task ``name``: distinct inputs, drawn with the task's fixed seed."""
    seed, make = TASKS[name]
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    while len(out) < n:
        example = make(rng)
        if example["input"] not in seen:
            seen.add(example["input"])
            out.append(example)
    return out


def render(examples: list[dict[str, str]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in TASKS:
        path = HERE / f"{name}.jsonl"
        text = render(generate(name))
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.name}: {N_EXAMPLES} examples")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
