"""Prompt optimization (kind "prompt"): find the instruction that maximises a scorer's accuracy."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import ParsedCandidate, Scored, ScoreResult, Solution
from opro_gui.core.ports import LLMClient

from . import prompt_grading
from . import prompt_meta as meta
from .answers import MATCH_MODES, TASK_TYPES, detect_task_type
from .datasets import Dataset, paper_defaults, split_indices
from .local_scoring import STRICT_KEY
from .prompt_exemplars import ReferenceStream
from .prompt_scoring import SECOND_ROUND_MAX_TOKENS, PromptScoring
from .safe_regex import check_patterns

BASELINES = ("", "Let's think step by step.")
DEFAULT_INITIAL = ("Let's solve the problem.",)  # the reference code's default start
__all__ = ["BASELINES", "DEFAULT_INITIAL", "SECOND_ROUND_MAX_TOKENS", "PromptProblem",
           "spec_from_dataset"]  # fmt: skip
_SPLITS = ("train", "test", "all")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _auto_include_qa(position: str, include_qa: Any) -> bool:
    """Fix of reference pitfall 4: before_Q and A_begin need "Q:/A:" in the scorer prompt, so
    ``include_qa=None`` (the default) turns it on for them and off for Q_begin/Q_end."""
    if include_qa is None:
        return position in ("before_Q", "A_begin")
    _check(isinstance(include_qa, bool), "include_qa must be true, false or null (automatic)")
    _check(
        include_qa or position in ("Q_begin", "Q_end"),
        f"position {position} needs include_qa (the scorer prompt needs 'Q:' and 'A:'); "
        "set include_qa to true or null",
    )
    return bool(include_qa)


class PromptProblem(PromptScoring):
    """Instructions are strings; a score is the training accuracy in [0, 1]."""

    kind = "prompt"
    higher_is_better = True
    default_history_size = 20
    worst_score: float | None = 0.0  # 0 % accuracy: the scorer got every question wrong

    def __init__(self, spec: dict[str, Any]) -> None:
        examples = spec.get("examples")
        _check(
            isinstance(examples, list) and bool(examples), "spec needs a non-empty 'examples' list"
        )
        assert isinstance(examples, list)
        for i, ex in enumerate(examples):
            _check(
                isinstance(ex, dict) and isinstance(ex.get("input"), str)
                and isinstance(ex.get("target"), str),
                f"example {i} must be an object with string 'input' and 'target'",
            )  # fmt: skip
        # input, target and any other text columns (chat templates fill {placeholders})
        self.examples: list[dict[str, str]] = [
            {k: v for k, v in ex.items() if isinstance(v, str)} for ex in examples
        ]
        n = len(self.examples)
        self.seed = int(spec.get("seed", 0))
        self.task_name = str(spec.get("task_name", ""))
        defaults = paper_defaults(self.task_name or "custom")
        if spec.get("train_ids") is not None:
            train_ids = [int(i) for i in spec["train_ids"]]
        else:
            ratio = float(spec.get("train_ratio", defaults["train_ratio"]))
            train_ids = split_indices(n, ratio, self.seed)
        _check(bool(train_ids), "the training split is empty; raise train_ratio")
        _check(len(set(train_ids)) == len(train_ids), "train_ids contains duplicates")
        _check(all(0 <= i < n for i in train_ids), f"train_ids must lie within 0..{n - 1}")
        self.train_ids = sorted(train_ids)
        n_pool = n - len(spec.get("test_ids") or [])
        self._stream = ReferenceStream(n_pool, len(self.train_ids))
        self.task_type = str(
            spec.get("task_type") or defaults["task_type"]
            or detect_task_type([ex["target"] for ex in self.examples],
                                [ex["input"] for ex in self.examples])
        )  # fmt: skip
        _check(self.task_type in TASK_TYPES, f"task_type must be one of {', '.join(TASK_TYPES)}")
        _check(
            self.task_type != "choice" or any("(A)" in ex["input"] for ex in self.examples),
            "multiple-choice scoring reads the options from the question: write them as "
            "'(A) ...', '(B) ...' in the inputs, or use task_type text",
        )
        self.position = str(spec.get("position", "Q_begin"))
        _check(
            self.position in meta.POSITIONS, f"position must be one of {', '.join(meta.POSITIONS)}"
        )
        self.style = str(spec.get("style", "ins"))
        _check(self.style in meta.STYLES, f"style must be one of {', '.join(meta.STYLES)}")
        _check(
            not (self.style == "text" and self.position == "before_Q"),
            "the base-model <TEXT> style supports Q_begin, Q_end and A_begin, not before_Q",
        )
        self.include_qa = _auto_include_qa(self.position, spec.get("include_qa"))
        self.exemplar_count = int(spec.get("exemplar_count", 3))
        _check(self.exemplar_count >= 0, "exemplar_count must be 0 or more")
        self.criterion = str(spec.get("criterion", "random"))
        _check(
            self.criterion in meta.CRITERIA, f"criterion must be one of {', '.join(meta.CRITERIA)}"
        )
        self.max_length = int(spec.get("max_length", 500))
        _check(self.max_length > 0, "max_length must be positive")
        self.forbid_ins = bool(spec.get("forbid_ins", True))
        digits = spec.get("forbid_digits")
        self.forbid_digits = bool(defaults["forbid_digits"] if digits is None else digits)
        self.lenient_substring = bool(spec.get("lenient_substring", True))
        self.match = str(spec.get("match", "paper"))
        _check(self.match in MATCH_MODES, f"match must be one of {', '.join(MATCH_MODES)}")
        if self.match == "regex":  # RE2 runs them (linear time): refuse what it cannot run
            check_patterns(str(ex["target"]) for ex in self.examples)
        self.order = str(spec.get("order", "ascending"))
        _check(self.order in meta.ORDERS, f"order must be one of {', '.join(meta.ORDERS)}")
        self.score_format = str(spec.get("score_format", "rounded"))
        _check(
            self.score_format in meta.SCORE_FORMATS,
            f"score_format must be one of {', '.join(meta.SCORE_FORMATS)}",
        )
        self.score_buckets = int(spec.get("score_buckets", 20))
        _check(1 <= self.score_buckets <= 1000, "score_buckets must lie within 1..1000")
        self.exemplar_placement = str(spec.get("exemplar_placement", "after"))
        _check(
            self.exemplar_placement in meta.PLACEMENTS,
            "exemplar_placement must be after (the instructions, as the paper) or before",
        )
        self.trajectory = bool(spec.get("trajectory", True))
        self.preset = str(spec.get("preset") or "")
        run_defaults = spec.get("run_defaults") or {}
        _check(isinstance(run_defaults, dict), "run_defaults must map run settings to values")
        self.run_defaults: dict[str, Any] = dict(run_defaults)
        _check(
            self.trajectory or self.style != "text",
            "the no-trajectory baseline needs the ins or bracket style (the base-model <TEXT> "
            "style only continues a list of past instructions)",
        )
        self.extract_again = bool(spec.get("extract_again", False))
        self.boxed = bool(spec.get("boxed", False))
        self.score_threshold = float(spec.get("score_threshold", 0.0))
        _check(0.0 <= self.score_threshold <= 1.0, "score_threshold must lie within [0, 1]")
        initial = spec.get("initial_instructions", list(DEFAULT_INITIAL))
        _check(
            isinstance(initial, list)
            and bool(initial)
            and all(isinstance(s, str) for s in initial),
            "initial_instructions must be a non-empty list of strings",
        )
        self.initial_instructions: list[str] = list(initial)
        overrides = spec.get("templates") or {}
        _check(
            isinstance(overrides, dict) and all(isinstance(v, str) for v in overrides.values()),
            "templates must map section names to strings",
        )
        self.template_overrides: dict[str, str] = dict(overrides)
        self.sections = meta.templates(self.style, self.position, self.template_overrides)
        needed = ["header", "entry"]
        if self.style != "text":
            needed += ["footer", "answer", "exemplar_intro"]
            needed += [meta.exemplar_section(self.position, self.include_qa)]
        missing = [s for s in needed if s not in self.sections]
        _check(not missing, f"{self.style} template lacks section(s) {', '.join(missing)} "
               f"for position {self.position} (include_qa={self.include_qa})")  # fmt: skip
        self.task_phrase = str(spec.get("task_phrase") or self._default_task_phrase())
        self.evaluators, self.chat = prompt_grading.read_spec(spec, self.examples)
        self.sections = prompt_grading.with_placeholder_note(self.sections, self.chat)
        self.scorer_max_tokens = int(spec.get("scorer_max_tokens", 1024))
        self.strict = bool(spec.get(STRICT_KEY, False))
        train = set(self.train_ids)
        if spec.get("test_ids") is not None:
            # An explicit held-out set, e.g. the GSM8K test file appended after the train file.
            test_ids = sorted(int(i) for i in spec["test_ids"])
            _check(all(0 <= i < n for i in test_ids), f"test_ids must lie within 0..{n - 1}")
            _check(not train & set(test_ids), "test_ids overlap train_ids")
            self.test_ids = test_ids
            self._explicit_test = True
        else:
            self.test_ids = [i for i in range(n) if i not in train]
            self._explicit_test = False

    @property
    def baseline_spec_override(self) -> dict[str, Any] | None:
        """The equal-budget baseline: the same optimizer, the task and exemplars, no
        trajectory; None for the base-model <TEXT> style, which only continues a list."""
        return None if self.style == "text" else {"trajectory": False}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> PromptProblem:
        return cls(spec)

    def _default_task_phrase(self) -> str:
        name = self.task_name.lower()
        if name.startswith("gsm"):
            return "grade school math"
        return " ".join(self.task_name.split("_")) or "reasoning"

    def to_spec(self) -> dict[str, Any]:
        return {
            "examples": [dict(ex) for ex in self.examples],
            "train_ids": list(self.train_ids),
            "task_type": self.task_type,
            "task_name": self.task_name,
            "task_phrase": self.task_phrase,
            "position": self.position,
            "include_qa": self.include_qa,
            "style": self.style,
            "exemplar_count": self.exemplar_count,
            "criterion": self.criterion,
            "max_length": self.max_length,
            "forbid_ins": self.forbid_ins,
            "forbid_digits": self.forbid_digits,
            "lenient_substring": self.lenient_substring,
            "match": self.match,
            "extract_again": self.extract_again,
            "boxed": self.boxed,
            "order": self.order,
            "score_format": self.score_format,
            "score_buckets": self.score_buckets,
            "exemplar_placement": self.exemplar_placement,
            **({} if self.trajectory else {"trajectory": False}),
            **({"preset": self.preset} if self.preset else {}),
            **({"run_defaults": dict(self.run_defaults)} if self.run_defaults else {}),
            "score_threshold": self.score_threshold,
            "initial_instructions": list(self.initial_instructions),
            "templates": dict(self.template_overrides),
            "scorer_max_tokens": self.scorer_max_tokens,
            "seed": self.seed,
            **({STRICT_KEY: True} if self.strict else {}),
            **({"test_ids": list(self.test_ids)} if self._explicit_test else {}),
            **prompt_grading.spec_keys(self.evaluators, self.chat),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "task_name": self.task_name,
            "task_type": self.task_type,
            "n_examples": len(self.examples),
            "n_train": len(self.train_ids),
            "n_test": len(self.test_ids),
            "position": self.position,
            "include_qa": self.include_qa,
            "style": self.style,
            "criterion": self.criterion,
            "baselines": list(BASELINES),
            "preset": self.preset or None,
            # the §5.3 settings and scoring switches, shown by `opro show` and the GUI
            "settings": {
                "order": self.order,
                "score_format": self.score_format,
                **({"score_buckets": self.score_buckets}
                   if self.score_format == "bucketed" else {}),
                "exemplars": self.exemplar_count,
                "exemplar_criterion": self.criterion,
                "exemplar_placement": self.exemplar_placement,
                "score_threshold": self.score_threshold,
                "boxed": self.boxed,
                "extract_again": self.extract_again,
                "lenient": self.lenient_substring,
            },
        }  # fmt: skip

    # -- the loop's hooks ----------------------------------------------------------------
    def initial_solutions(self) -> list[Solution]:
        return list(self.initial_instructions)

    def baselines(self) -> list[str]:
        return list(BASELINES)

    def exemplar_ids(self, history: Sequence[Scored], step: int, history_size: int) -> list[int]:
        """The example ids shown in the meta-prompt of ``step`` (for display and tests)."""
        return meta.select_exemplars(
            self.criterion, self.train_ids, history, step, seed=self.seed,
            count=self.exemplar_count, history_size=history_size, threshold=self.score_threshold,
            stream=self._stream,
        )  # fmt: skip

    def meta_prompt_ingredients(
        self, history: Sequence[Scored], step: int, history_size: int
    ) -> tuple[list[Scored], list[int]]:
        """The instructions and exemplar ids ``render_meta_prompt`` shows, in order."""
        shown = meta.shown_history(history, history_size, self.score_threshold)
        shown = meta.order_history(shown, self.order, self.seed, step)
        ids = self.exemplar_ids(history, step, history_size) if self.style != "text" else []
        return (list(shown) if self.trajectory else []), list(ids)

    def render_meta_prompt(self, history: Sequence[Scored], step: int, history_size: int) -> str:
        # Fix of reference pitfall 10: the <TEXT> style is capped to the best ``history_size``
        # entries (and the threshold) like the other styles instead of growing without bound.
        shown, ids = self.meta_prompt_ingredients(history, step, history_size)
        exemplars = [(self.examples[i]["input"], self.examples[i]["target"]) for i in ids]
        if not self.trajectory:  # the equal-budget baseline: task and exemplars only
            return meta.render_baseline_prompt(
                self.sections, self.style, self.position, self.include_qa, exemplars,
                self.task_phrase,
            )  # fmt: skip
        return meta.render_meta_prompt(
            self.sections, self.style, self.position, self.include_qa, shown, exemplars,
            self.task_phrase, order=self.order, score_format=self.score_format,
            score_buckets=self.score_buckets,
            exemplars_before=self.exemplar_placement == "before",
        )  # fmt: skip

    def parse(self, completion: str) -> list[ParsedCandidate]:
        """The reference's extraction (§3); unless ``strict``, an empty result is replaced by
        the first non-empty instruction between complete tags (``repair`` says so)."""
        raw = meta.extract_instruction(completion, self.style, self.position)
        repair = ""
        if not self.strict and not meta.polish(raw or ""):
            tagged = meta.tagged_instructions(completion, self.style, self.position)
            if tagged:
                raw, repair = tagged[0], "used the first complete tag pair with text"
        if raw is None:
            reason = "no <TEXT>…</TEXT> in the output"
            return [ParsedCandidate(None, reason=reason, text=completion[:200])]
        instruction = meta.polish(raw)
        return [ParsedCandidate(instruction, text=instruction, repair=repair)]

    def dedup_key(self, solution: Solution) -> str:
        # Fix of reference pitfall 1: hash UTF-8 (the reference's ASCII crashed on "’" or "—").
        return hashlib.md5(meta.polish(str(solution)).encode("utf-8")).hexdigest()

    def filter_reason(self, solution: Solution) -> str | None:
        text = str(solution)
        if len(text) > self.max_length:
            return f"longer than {self.max_length} characters ({len(text)})"
        if self.forbid_digits and any(c.isdigit() for c in text):
            return "contains a digit (digits are not allowed for this task)"
        if self.forbid_ins and "INS" in text:
            return 'contains "INS"'
        return self.chat.guard(text)

    def format_solution(self, solution: Solution) -> str:
        return str(solution)

    def example_fields(self, example_id: int) -> tuple[str, str]:
        """An example's input and expected answer (gold), as the scorer answers show them."""
        ex = self.examples[example_id] if 0 <= example_id < len(self.examples) else {}
        return ex.get("input", ""), ex.get("target", "")

    def validation_error(self, solution: Any) -> str | None:
        """Why a stored solution cannot be an instruction of this task, or None."""
        return None if isinstance(solution, str) else "an instruction must be text"

    def is_optimal(self, solution: Solution, score: float) -> bool:
        return score >= 1.0

    # -- scoring -------------------------------------------------------------------------
    def scorer_prompt(self, instruction: str, example_id: int) -> str:
        if self.chat.active:
            return self.scorer_request(instruction, example_id).shown
        question = self.examples[example_id]["input"]
        return meta.scorer_prompt(question, instruction, self.position, self.include_qa)

    def score(
        self,
        solutions: Sequence[Solution],
        scorer: LLMClient | None,
        cancel: CancelToken | None = None,
    ) -> list[ScoreResult]:
        """Training accuracy of each instruction: every (instruction, example) request goes to
        the scorer in one batch so the LLM layer can run them concurrently."""
        return self._score_on([str(s) for s in solutions], self.train_ids, scorer, cancel)

    def split_ids(self, split: str) -> list[int]:
        """The example ids of ``split`` ("test", "train" or "all")."""
        _check(split in _SPLITS, f"split must be one of {', '.join(_SPLITS)}")
        ids = {"train": self.train_ids, "test": self.test_ids}.get(split)
        return list(range(len(self.examples))) if ids is None else list(ids)

    def evaluate(
        self,
        instructions: Sequence[str],
        scorer: LLMClient | None,
        split: str = "test",
        cancel: CancelToken | None = None,
    ) -> list[ScoreResult]:
        """Accuracy on ``split`` ("test", "train" or "all"); for reports, never for selection."""
        ids = self.split_ids(split)
        if not ids:
            return [ScoreResult(None, complete=False, error=f"the {split} split is empty")
                    for _ in instructions]  # fmt: skip
        return self._score_on(list(instructions), ids, scorer, cancel)


def spec_from_dataset(
    dataset: Dataset,
    *,
    train_ratio: float | None = None,
    seed: int = 0,
    test: Dataset | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A complete prompt spec from an imported dataset with the paper's defaults for its name
    (split ratio, task type, digit filter); ``options`` override any spec key.

    ``test``: a separate held-out file (GSM8K's test file, as in the paper): its examples are
    appended and become the test split; the training subset is drawn from ``dataset`` only.
    """
    defaults = paper_defaults(dataset.name, dataset.fmt)
    ratio = defaults["train_ratio"] if train_ratio is None else train_ratio
    n = len(dataset.examples)
    extra = list(test.examples) if test is not None else []
    spec: dict[str, Any] = {
        "examples": [dict(ex) for ex in [*dataset.examples, *extra]],
        "train_ids": split_indices(n, ratio, seed),
        "task_type": defaults["task_type"] or dataset.task_type_guess,
        "task_name": defaults["task_name"],
        "forbid_digits": defaults["forbid_digits"],
        "seed": seed,
    }
    if test is not None:
        spec["test_ids"] = list(range(n, n + len(extra)))
    spec.update(options)
    return PromptProblem.from_spec(spec).to_spec()
