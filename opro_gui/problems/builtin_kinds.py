"""The descriptors of the three kinds that ship: TSP, linear regression, prompt optimization."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from typing import Any, cast

from opro_gui.core import argtypes
from opro_gui.core.ports import Problem
from opro_gui.core.tokens import approx_tokens

from .kinds import ProblemKind, ScorerLoad

#: Expected tokens of a scorer's worked answer before the run measures any.
_WORKED_ANSWER_TOKENS = 200


def _coefficient(text: str) -> int:
    """A linear-regression ``w`` or ``b`` within the problem's limits (checked by argparse)."""
    from .linear_regression import COEF_LIMIT  # numpy: only when used

    return argtypes.int_range(-COEF_LIMIT, COEF_LIMIT)(text)


class TSPKind(ProblemKind):
    name = "tsp"
    display_name = "Travelling salesman"
    score_label = "tour length"
    has_random_search = True
    fact_keys = (
        "n",
        "nearest_neighbour",
        "farthest_insertion",
        "optimal_length",
        "best_known_length",
    )
    cli_help = "travelling salesman"

    def problem_from_spec(self, spec: dict[str, Any]) -> Problem:
        from .tsp import TSPProblem

        return TSPProblem.from_spec(spec)

    def default_spec(self) -> dict[str, Any]:
        from .tsp import TSPProblem

        return TSPProblem.generate(10, 1).to_spec()

    def optimizer_answer_tokens(self, problem: Problem) -> int:
        """The tour in <trace> tags plus a sentence around it."""
        tour = problem.format_solution(problem.initial_solutions()[0])
        return approx_tokens(f"<trace> {tour} </trace>") + 25

    def reference_score(self, problem: Problem) -> float | None:
        facts = problem.summary()
        ref = facts.get("optimal_length") or facts.get("best_known_length")
        return float(ref) if ref else None

    def summary_facts(
        self, problem: Problem, best_score: float | None, found_at_step: int | None
    ) -> dict[str, Any]:
        facts = problem.summary()
        opt = facts.get("optimal_length") or facts.get("best_known_length")
        return {
            "optimal_length": opt,
            "optimal_is_exact": facts.get("optimal_is_exact", True),
            "gap_percent": self.gap_percent(best_score, opt),
            "found_at_step": found_at_step,
            "nearest_neighbour_length": facts.get("nearest_neighbour"),
            "farthest_insertion_length": facts.get("farthest_insertion"),
        }

    def add_cli_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--points", type=argtypes.int_range(3, 100_000), default=10)
        parser.add_argument("--seed", type=argtypes.non_negative, default=0)
        parser.add_argument(
            "--import", dest="import_file", help="CSV or TSPLIB file with the points"
        )

    def spec_from_args(
        self, args: argparse.Namespace, warn: Callable[[str], None]
    ) -> dict[str, Any]:
        from .tsp import TSPProblem, load_tsp_file

        if args.import_file:
            return load_tsp_file(args.import_file).to_spec()
        return TSPProblem.generate(args.points, args.seed).to_spec()


class LinRegKind(ProblemKind):
    name = "linreg"
    display_name = "Linear regression"
    score_label = "loss"
    has_random_search = True
    fact_keys = ("w_true", "b_true", "optimum_w", "optimum_b")
    cli_help = "linear regression"

    def problem_from_spec(self, spec: dict[str, Any]) -> Problem:
        from .linear_regression import LinearRegressionProblem

        return LinearRegressionProblem.from_spec(spec)

    def default_spec(self) -> dict[str, Any]:
        from .linear_regression import LinearRegressionProblem

        return LinearRegressionProblem(15, 14, seed=0).to_spec()

    def summary_facts(
        self, problem: Problem, best_score: float | None, found_at_step: int | None
    ) -> dict[str, Any]:
        facts = problem.summary()
        return {
            "w_true": facts.get("w_true"),
            "b_true": facts.get("b_true"),
            "optimum_w": facts.get("optimum_w"),
            "optimum_b": facts.get("optimum_b"),
            "found_at_step": found_at_step,
        }

    def add_cli_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--w", type=_coefficient, default=15)
        parser.add_argument("--b", type=_coefficient, default=14)
        parser.add_argument("--seed", type=argtypes.non_negative, default=0)

    def spec_from_args(
        self, args: argparse.Namespace, warn: Callable[[str], None]
    ) -> dict[str, Any]:
        from .linear_regression import LinearRegressionProblem

        return LinearRegressionProblem(w_true=args.w, b_true=args.b, seed=args.seed).to_spec()


class PromptKind(ProblemKind):
    name = "prompt"
    display_name = "Prompt optimization"
    needs_scorer = True
    higher_is_better = True
    score_label = "training accuracy"
    score_unit = "%"
    solution_noun = "instruction"
    needs_records_on_resume = True
    supports_evaluation = True
    fact_keys = ("task_name", "task_type", "n_examples", "n_train", "n_test", "position", "style")
    cli_help = "prompt optimization"

    def format_score(self, score: float | None) -> str:
        return "-" if score is None else f"{100 * score:.1f}%"

    def format_difference(self, delta: float) -> str:
        return f"{100 * delta:+.1f} points"  # percentage points of accuracy

    def problem_from_spec(self, spec: dict[str, Any]) -> Problem:
        from .prompt_opt import PromptProblem

        return PromptProblem.from_spec(spec)

    def default_spec(self) -> dict[str, Any]:
        """A small arithmetic task, generated (the GUI prefers a shipped dataset when present)."""
        rng = random.Random(7)
        examples = []
        for _ in range(40):
            a, b = rng.randint(10, 99), rng.randint(10, 99)
            question = f"Sam has {a} apples and buys {b} more. How many apples does Sam have now?"
            examples.append({"input": question, "target": str(a + b)})
        return {"kind": "prompt", "task_name": "apples", "examples": examples, "seed": 0}

    def scorer_load(self, problem: Problem, samples_per_step: int) -> ScorerLoad:
        """Candidates x training examples per step; prompt and answer sizes from the dataset:
        a worked answer (~200 tokens) plus the length of the dataset's own answers."""
        from .prompt_opt import PromptProblem

        prompt_problem = cast(PromptProblem, problem)
        train_ids = list(prompt_problem.train_ids)
        initial = prompt_problem.initial_solutions()
        sample = train_ids[:50]
        prompts = [prompt_problem.scorer_prompt(str(initial[0]), i) for i in sample]
        targets = [str(prompt_problem.examples[i]["target"]) for i in sample]
        count = max(1, len(sample))
        # each LLM judge sends one more request per scorer answer
        per_answer = 1 + sum(1 for e in prompt_problem.evaluators if e.kind == "judge")
        return ScorerLoad(
            requests_per_step=samples_per_step * len(train_ids) * per_answer,
            initial_requests=len(initial) * len(train_ids) * per_answer,
            prompt_chars=sum(map(len, prompts)) // count,
            prompt_tokens=round(sum(map(approx_tokens, prompts)) / count),
            answer_tokens=_WORKED_ANSWER_TOKENS + round(sum(map(approx_tokens, targets)) / count),
        )

    def optimizer_answer_tokens(self, problem: Problem) -> int:
        """One new instruction in its tags, with a short lead-in."""
        return 50

    def add_cli_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--dataset", required=True)
        parser.add_argument(
            "--test-dataset",
            help="a separate held-out file (GSM8K: the test file); default: the rest of --dataset",
        )
        parser.add_argument(
            "--format",
            choices=["gsm8k", "bbh", "bigbench", "csv", "jsonl", "multiarith", "aqua", "mmlu"],
            help="dataset format (default: detected); mmlu takes a subject CSV or a folder of them",
        )
        parser.add_argument("--input-col")
        parser.add_argument("--target-col")
        parser.add_argument(
            "--task-type", choices=["numeric", "choice", "boolean", "text", "exact", "regex"]
        )
        parser.add_argument("--position", choices=["before_Q", "Q_begin", "Q_end", "A_begin"])
        parser.add_argument("--style", choices=["ins", "bracket", "text"])
        parser.add_argument("--train-ratio", type=argtypes.float_range(0, 1, low_open=True))
        parser.add_argument("--seed", type=argtypes.non_negative, default=0)
        parser.add_argument(
            "--initial", action="append", help="an initial instruction (repeatable)"
        )
        from .prompt_cli import add_prompt_options

        add_prompt_options(parser)
        parser.add_argument(
            "--options",
            metavar="FILE",
            help="a JSON object of spec keys: evaluators, chat (template, system message), ...",
        )

    def spec_from_args(
        self, args: argparse.Namespace, warn: Callable[[str], None]
    ) -> dict[str, Any]:
        from .datasets import load_dataset
        from .prompt_cli import options_from_args
        from .prompt_opt import spec_from_dataset

        dataset = load_dataset(args.dataset, args.format, args.input_col, args.target_col)
        for warning in dataset.warnings:
            warn(warning)
        options: dict[str, Any] = options_from_args(args, dataset.name, warn)
        if args.task_type in ("exact", "regex"):
            options["match"] = args.task_type
        elif args.task_type:
            options["task_type"] = args.task_type
        if args.position:
            options["position"] = args.position
        if args.style:
            options["style"] = args.style
        if args.initial:
            options["initial_instructions"] = list(args.initial)
        if getattr(args, "options", None):
            options.update(_options_file(args.options))
        test = None
        if args.test_dataset:
            test = load_dataset(args.test_dataset, args.format, args.input_col, args.target_col)
        return spec_from_dataset(
            dataset, train_ratio=args.train_ratio, seed=args.seed, test=test, **options
        )


def _options_file(path: str) -> dict[str, Any]:
    """Spec keys from a JSON file (``opro new prompt --options``)."""
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read options file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"options file {path} must hold one JSON object")
    return data


BUILTIN: tuple[ProblemKind, ...] = (TSPKind(), LinRegKind(), PromptKind())
