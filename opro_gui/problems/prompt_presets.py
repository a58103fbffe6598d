"""The paper's prompt-optimization configurations as data: `opro new prompt --preset NAME`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .datasets import BBH_TASK_TYPES, paper_defaults

__all__ = ["PRESETS", "Preset", "get_preset", "preset_options"]


@dataclass(frozen=True)
class Preset:
    """Spec options for one experiment of the paper, and where its result is reported.

    ``dataset``: what the preset expects ("gsm8k", "bbh:<task>" or "any"); ``run``: run
    settings the experiment used (samples per step, temperature, steps), applied by the first
    ``opro run`` unless given on its command line."""

    name: str
    reproduces: str
    scorer: str
    optimizer: str
    dataset: str
    spec: dict[str, Any]
    run: dict[str, Any] = field(default_factory=dict)

    def matches(self, task_name: str) -> bool:
        if self.dataset == "any":
            return True
        if self.dataset == "gsm8k":
            return task_name.lower().startswith("gsm")
        return task_name == self.dataset.removeprefix("bbh:")


_PAPER_RUN = {"samples_per_step": 8, "temperature": 1.0, "max_steps": 200}
# Scorer settings (OPRO_SPEC §1.3, §1.6, issue #3). PaLM 2-L is a pre-trained scorer: the
# instruction starts the answer (A_begin), second-round extraction on, threshold 0.01.
_PALM2_SCORER = {
    "position": "A_begin",
    "score_threshold": 0.01,
    "extract_again": True,
    "scorer_max_tokens": 256,
}
_TEXT_BISON_SCORER = {"position": "Q_begin", "score_threshold": 0.0}
_GPT_SCORER = {"position": "Q_begin", "score_threshold": 0.3, "boxed": True}
# Optimizer styles: PaLM 2-L-IT and text-bison write [brackets]; GPT models <INS> tags.
_IT_OPTIMIZER = {"style": "bracket"}

_GSM8K = [
    Preset(
        "gsm8k-palm2",
        "Fig. 1(a) and Table 1: PaLM 2-L scorer (A_begin), PaLM 2-L-IT optimizer, from "
        '"Let\'s solve the problem." (training accuracy 60.5 → 80.2)',
        "PaLM 2-L",
        "PaLM 2-L-IT",
        "gsm8k",
        {**_PALM2_SCORER, **_IT_OPTIMIZER, "initial_instructions": ["Let's solve the problem."]},
        _PAPER_RUN,
    ),
    Preset(
        "gsm8k-text-bison",
        "Table 4: text-bison scorer (Q_begin), PaLM 2-L-IT optimizer, from the empty "
        "instruction (training accuracy 57.1)",
        "text-bison",
        "PaLM 2-L-IT",
        "gsm8k",
        {**_TEXT_BISON_SCORER, **_IT_OPTIMIZER, "initial_instructions": [""]},
        _PAPER_RUN,
    ),
    Preset(
        "gsm8k-gpt",
        "Table 4, gpt-3.5-turbo / gpt-4 optimizer rows, with the reference code's public GPT "
        "settings (<INS> meta-prompt; for a GPT scorer: threshold 0.3, \\boxed{} answers)",
        "gpt-3.5-turbo or gpt-4",
        "gpt-3.5-turbo or gpt-4",
        "gsm8k",
        {**_GPT_SCORER, "style": "ins", "initial_instructions": ["Let's solve the problem."]},
        _PAPER_RUN,
    ),
    Preset(
        "gsm8k-pretrained",
        "§5.2.1 and Fig. 21: pre-trained PaLM 2-L as optimizer and scorer (<TEXT> meta-prompt), "
        'from "" and "The answer is" (32.2 / 33.3)',
        "PaLM 2-L",
        "PaLM 2-L (pre-trained)",
        "gsm8k",
        {**_PALM2_SCORER, "style": "text", "initial_instructions": ["", "The answer is"]},
        {**_PAPER_RUN, "temperature": 1.5},
    ),
]

# The 23 BBH tasks of the paper (seven-object versions only), Table 7.
_BBH_TASKS = sorted(t for t in BBH_TASK_TYPES if not t.endswith(("three_objects", "five_objects")))
_BBH = [
    Preset(
        f"bbh-{task}-{scorer_key}",
        f"Table 7, {task} row ({scorer}): PaLM 2-L-IT optimizer from the empty instruction; "
        "training / test / overall accuracy on the 20 % / 80 % split",
        scorer,
        "PaLM 2-L-IT",
        f"bbh:{task}",
        {**scorer_spec, **_IT_OPTIMIZER, "initial_instructions": [""]},
        _PAPER_RUN,
    )
    for task in _BBH_TASKS
    for scorer_key, scorer, scorer_spec in (
        ("palm2", "PaLM 2-L scorer, A_begin", _PALM2_SCORER),
        ("text-bison", "text-bison scorer, Q_begin", _TEXT_BISON_SCORER),
    )
]

# §5.3 ablations: text-bison scorer (Q_begin), PaLM 2-L optimizer, GSM8K or BBH
# sports_understanding, 200 steps, 3 repetitions each; each preset changes one setting.
_ABLATION_BASE = {**_TEXT_BISON_SCORER, **_IT_OPTIMIZER, "initial_instructions": [""]}
_ABLATION_ROWS: tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...] = (  # fmt: skip
    ("default", "the paper's defaults (ascending order, scores 0–100, 3 exemplars)", {}, {}),
    ("order-descending", "instructions in descending order", {"order": "descending"}, {}),
    ("order-random", "instructions in random order", {"order": "random"}, {}),
    ("scores-20-buckets", "scores in 20 buckets", {"score_format": "bucketed"}, {}),
    ("scores-none", "no scores shown", {"score_format": "none"}, {}),
    ("exemplars-0", "no exemplars", {"exemplar_count": 0}, {}),
    ("exemplars-10", "10 exemplars", {"exemplar_count": 10}, {}),
    (
        "start-solve",
        'starting from "Solve the following problem."',
        {"initial_instructions": ["Solve the following problem."]},
        {},
    ),
    (
        "start-three",
        'starting from "", "Solve the following problem." and "Let\'s solve the problem."',
        {"initial_instructions": ["", "Solve the following problem.", "Let's solve the problem."]},
        {},
    ),
    (
        "start-step-by-step-palm2",
        'PaLM 2-L scorer (A_begin) starting from "Let\'s think step by step."',
        {**_PALM2_SCORER, "initial_instructions": ["Let's think step by step."]},
        {},
    ),
    (
        "one-step-50",
        "one-step generation: 50 instructions from the initial meta-prompt",
        {},
        {"samples_per_step": 50, "max_steps": 1},
    ),
    *(
        (
            f"per-step-{k}",
            f"{k} instruction(s) per step, 1,600 in all",
            {},
            {"samples_per_step": k, "max_steps": 1600 // k},
        )
        for k in (1, 2, 4, 16)
    ),
    *(
        (f"temperature-{t}", f"optimizer temperature {t}", {}, {"temperature": t})
        for t in (0.0, 0.5, 1.5, 2.0)
    ),
)
_ABLATIONS = [
    Preset(
        f"ablation-{name}",
        f"§5.3 ablation, {what} (curves only; the paper's default is the better one)",
        "text-bison",
        "PaLM 2-L",
        "any",
        {**_ABLATION_BASE, **change},
        {**_PAPER_RUN, **run},
    )
    for name, what, change, run in _ABLATION_ROWS
]

PRESETS: dict[str, Preset] = {p.name: p for p in (*_GSM8K, *_BBH, *_ABLATIONS)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        close = [n for n in PRESETS if name.split("-")[0] in n][:5]
        hint = f"; e.g. {', '.join(close)}" if close else ""
        raise ValueError(
            f"unknown preset {name!r} ({len(PRESETS)} presets: see README or --preset list{hint})"
        ) from None


def preset_options(name: str, dataset_name: str) -> tuple[dict[str, Any], str]:
    """The spec options a preset sets, and a warning when the dataset is not the one it is for."""
    preset = get_preset(name)
    warning = ""
    if not preset.matches(paper_defaults(dataset_name)["task_name"]):
        warning = f"preset {name} is for {preset.dataset}, not {dataset_name}"
    return {**preset.spec, "preset": preset.name, "run_defaults": dict(preset.run)}, warning
