"""A fourth problem kind that lives only in the test suite: one-max (make a 20-bit string all
ones). A CLI subprocess finds it through ``OPRO_KIND_PLUGINS=toy_kind:KIND`` with this folder
on ``PYTHONPATH``; a test registers ``KIND`` itself (``register_kind``)."""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ParsedCandidate, Scored, ScoreResult
from opro_gui.core.ports import LLMClient, Problem
from opro_gui.problems import ProblemKind

_BITS = re.compile(r"<bits>(.*?)</bits>", re.S)


class OneMaxProblem:
    """Maximise the number of 1s in an ``n_bits`` string; the optimizer proposes strings."""

    kind = "onemax"
    higher_is_better = True
    default_history_size = 8

    def __init__(self, n_bits: int = 20, seed: int = 0) -> None:
        if not 4 <= int(n_bits) <= 64:
            raise ValueError("n_bits must be between 4 and 64")
        self.n_bits, self.seed = int(n_bits), int(seed)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> OneMaxProblem:
        return cls(int(spec.get("n_bits", 20)), int(spec.get("seed", 0)))

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_bits": self.n_bits, "seed": self.seed}

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_bits": self.n_bits, "seed": self.seed, "optimum": self.n_bits}

    def initial_solutions(self) -> list[str]:
        rng = random.Random(self.seed)
        # Few ones to start with: the optimizer has work to do.
        return [
            "".join("1" if rng.random() < 0.2 else "0" for _ in range(self.n_bits))
            for _ in range(3)
        ]

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        best = sorted(history, key=lambda h: h.score)[-history_size:]  # ascending: best last
        lines = "\n".join(f"<bits>{h.solution}</bits> ones: {h.score:g}" for h in best)
        return (
            f"Bit strings of length {self.n_bits} and how many ones they have:\n{lines}\n"
            "Give a new bit string with more ones, inside <bits></bits>."
        )

    def parse(self, completion: str) -> list[ParsedCandidate]:
        found = _BITS.findall(completion)
        if not found:
            return [ParsedCandidate(None, "no <bits> tag", completion[:40])]
        out = []
        for text in found:
            text = text.strip()
            if len(text) != self.n_bits or set(text) - {"0", "1"}:
                out.append(ParsedCandidate(None, f"not {self.n_bits} bits", text))
            else:
                out.append(ParsedCandidate(text, text=text))
        return out

    def dedup_key(self, solution: Any) -> str:
        return str(solution)

    def filter_reason(self, solution: Any) -> str | None:
        return None

    def score(
        self, solutions: Sequence[Any], scorer: LLMClient | None, cancel: CancelToken | None = None
    ) -> list[ScoreResult]:
        return [ScoreResult(score=float(str(s).count("1"))) for s in solutions]

    def format_solution(self, solution: Any) -> str:
        return str(solution)

    def is_optimal(self, solution: Any, score: float) -> bool:
        return score == self.n_bits


class OneMaxKind(ProblemKind):
    name = "onemax"
    display_name = "One-max (toy)"
    higher_is_better = True
    score_label = "ones"
    fact_keys = ("n_bits", "optimum")
    cli_help = "one-max: a bit string of all ones (test kind)"

    def problem_from_spec(self, spec: dict[str, Any]) -> Problem:
        return OneMaxProblem.from_spec(spec)

    def default_spec(self) -> dict[str, Any]:
        return OneMaxProblem().to_spec()

    def summary_facts(
        self, problem: Problem, best_score: float | None, found_at_step: int | None
    ) -> dict[str, Any]:
        optimum = problem.summary()["optimum"]
        return {
            "optimum": optimum,
            "ones_missing": None if best_score is None else optimum - best_score,
            "found_at_step": found_at_step,
        }

    def add_cli_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--bits", type=int, default=20)
        parser.add_argument("--seed", type=int, default=0)

    def spec_from_args(
        self, args: argparse.Namespace, warn: Callable[[str], None]
    ) -> dict[str, Any]:
        return OneMaxProblem(args.bits, args.seed).to_spec()


KIND = OneMaxKind()


def flip_optimizer(prompt: str, body: dict[str, Any]) -> str:
    """Answers the one-max meta-prompt: the best string shown with one more 1 (each call flips
    another 0, chosen by a counter, so the samples of a step differ)."""
    shown = [s for s in _BITS.findall(prompt) if s]
    if not shown:
        return "no idea"
    best = shown[-1]
    zeros = [i for i, c in enumerate(best) if c == "0"]
    if not zeros:
        return f"<bits>{best}</bits>"
    i = zeros[flip_optimizer.counter % len(zeros)]  # type: ignore[attr-defined]
    flip_optimizer.counter += 1  # type: ignore[attr-defined]
    return f"Try <bits>{best[:i]}1{best[i + 1 :]}</bits>"


flip_optimizer.counter = 0  # type: ignore[attr-defined]
