"""§5.3 meta-prompt ablations: every order × score format × exemplar count × placement rendered
and compared with literal text; the defaults are today's meta-prompt byte for byte."""

from __future__ import annotations

import collections
import itertools
from pathlib import Path

import numpy as np
import pytest

from opro_gui.cli import main
from opro_gui.core.models import ExampleRecord, Scored
from opro_gui.problems.prompt_opt import PromptProblem
from opro_gui.services import ProjectSession

EXAMPLES = [
    {"input": "What is 2 + 3?", "target": "5"},
    {"input": "What is 7 - 4?", "target": "3"},
    {"input": "What is 6 / 2?", "target": "3"},
]
HISTORY = [
    Scored("Add them.", 0.5, 0),
    Scored("", 0.25, 1),
    Scored("Think first.", 0.75, 1),
    Scored("Check twice.", 0.6, 2),
]
# Entries in each order (ascending = best last; "random" pinned for seed 0, step 1).
ORDERS = {
    "ascending": ["", "Add them.", "Check twice.", "Think first."],
    "descending": ["Think first.", "Check twice.", "Add them.", ""],
    "random": ["Think first.", "", "Check twice.", "Add them."],
}
SCORES = {  # accuracy -> shown score per format
    "rounded": {"": "25", "Add them.": "50", "Check twice.": "60", "Think first.": "75"},
    "bucketed": {"": "5", "Add them.": "10", "Check twice.": "12", "Think first.": "15"},
}
HEADER = {
    "rounded": "Your task is to generate the instruction <INS>. Below are some previous "
    "instructions with their scores. The score ranges from 0 to 100.\n",
    "bucketed": "Your task is to generate the instruction <INS>. Below are some previous "
    "instructions with their scores. The score ranges from 0 to 20.\n",
}
UNSCORED_HEADER = {
    "ascending": "Your task is to generate the instruction <INS>. Below are some previous "
    "instructions, in ascending order of quality, the best last.\n",
    "descending": "Your task is to generate the instruction <INS>. Below are some previous "
    "instructions, in descending order of quality, the best first.\n",
    "random": "Your task is to generate the instruction <INS>. Below are some previous "
    "instructions, in random order.\n",
}
EXEMPLARS = (
    "Below are some problems.\n"
    "\nProblem:\n<INS>\nWhat is 2 + 3?\n\nGround truth answer:\n5\n"
    "\nProblem:\n<INS>\nWhat is 7 - 4?\n\nGround truth answer:\n3\n"
    "\nProblem:\n<INS>\nWhat is 6 / 2?\n\nGround truth answer:\n3\n"
)
FOOTER = (
    "Generate an instruction that is different from all the instructions <INS> above, and has a "
    "higher score than all the instructions <INS> above. The instruction should begin with <INS> "
    "and end with </INS>. The instruction should be concise, effective, and generally applicable "
    "to all problems above."
)


def problem(**spec: object) -> PromptProblem:
    return PromptProblem.from_spec({"examples": EXAMPLES, "train_ids": [0, 1, 2], **spec})


def expected(order: str, score_format: str, exemplars: int, placement: str) -> str:
    if score_format == "none":
        header = UNSCORED_HEADER[order]
        entries = "".join(f"\ntext:\n{i}\n" for i in ORDERS[order])
    else:
        header = HEADER[score_format]
        scores = SCORES[score_format]
        entries = "".join(f"\ntext:\n{i}\nscore:\n{scores[i]}\n" for i in ORDERS[order])
    history = header + entries
    if not exemplars:
        return history + "\n\n" + FOOTER
    first, second = (EXEMPLARS, history) if placement == "before" else (history, EXEMPLARS)
    return first + "\n\n" + second + "\n\n" + FOOTER


COMBOS = list(
    itertools.product(ORDERS, ["rounded", "bucketed", "none"], [0, 3], ["after", "before"])
)


@pytest.mark.parametrize(("order", "score_format", "exemplars", "placement"), COMBOS)
def test_every_combination_renders_the_literal_text(
    order: str, score_format: str, exemplars: int, placement: str
) -> None:
    p = problem(
        order=order,
        score_format=score_format,
        exemplar_count=exemplars,
        exemplar_placement=placement,
    )
    assert p.render_meta_prompt(HISTORY, 1, 20) == expected(
        order, score_format, exemplars, placement
    )


def test_defaults_are_todays_meta_prompt_byte_for_byte() -> None:
    today = (  # the meta-prompt as rendered before these settings existed
        HEADER["rounded"]
        + "\ntext:\n\nscore:\n25\n\ntext:\nAdd them.\nscore:\n50\n"
        + "\ntext:\nCheck twice.\nscore:\n60\n\ntext:\nThink first.\nscore:\n75\n"
        + "\n\n"
        + EXEMPLARS
        + "\n\n"
        + FOOTER
    )
    explicit = problem(order="ascending", score_format="rounded", exemplar_count=3)
    assert problem().render_meta_prompt(HISTORY, 1, 20) == today
    assert explicit.render_meta_prompt(HISTORY, 1, 20) == today


def test_bracket_style_names_the_order() -> None:
    p = problem(style="bracket", order="descending", exemplar_count=0)
    assert p.render_meta_prompt(HISTORY, 1, 20).startswith(
        "I have some texts along with their corresponding scores. The texts are arranged in "
        "descending order based on their scores, where higher scores indicate better quality."
        "\n\n\ntext:\nThink first.\nscore:\n75\n"
    )


def test_cli_flags_record_settings_and_defaults_render_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(f'{{"input": "q{i}", "target": "{i}"}}\n' for i in range(10)))
    plain, flagged = tmp_path / "a.opro", tmp_path / "b.opro"
    assert main(["new", "prompt", str(plain), "--dataset", str(data)]) == 0
    args = ["--order", "ascending", "--score-format", "rounded", "--exemplars", "3"]
    assert main(["new", "prompt", str(flagged), "--dataset", str(data), *args]) == 0
    texts = []
    for path in (plain, flagged):
        with ProjectSession.open(path, readonly=True) as s:
            texts.append(s.problem().render_meta_prompt(HISTORY, 4, 20))
    assert texts[0] == texts[1]
    other = tmp_path / "c.opro"
    flags = ["--order", "random", "--score-format", "bucketed", "--score-buckets", "10",
             "--exemplars", "0", "--exemplar-criterion", "constant", "--exemplar-placement",
             "before", "--score-threshold", "0.3", "--boxed", "--extract-again", "--strict"]  # fmt: skip
    assert main(["new", "prompt", str(other), "--dataset", str(data), *flags]) == 0
    capsys.readouterr()
    assert main(["show", str(other)]) == 0
    assert (
        "settings: order=random, score_format=bucketed, score_buckets=10, exemplars=0, "
        "exemplar_criterion=constant, exemplar_placement=before, score_threshold=0.3, "
        "boxed=True, extract_again=True, lenient=False"
    ) in capsys.readouterr().out


# -- exemplar criteria against a transcription of the reference's selection loop --------------


def _reference_draws(criterion: str, history: list[Scored], steps: int, train: list[int]) -> list:
    """The reference's run_evolution exemplar choice (opt_utils), restated for the test: one
    global NumPy stream seeded with 0 for the GSM8K-style split, Counter insertion order, sets
    built from the wrong ids in dataset order."""
    np.random.seed(0)
    n = 40
    np.random.choice(n, size=len(train), replace=False)
    rest = np.sort(np.array(list(set(np.arange(n)) - set(train))))
    np.random.choice(rest, size=0, replace=False)
    draws = []
    for i_step in range(steps):
        before = [h for h in history if h.step <= i_step]
        if criterion == "accumulative_most_frequent":
            counter: collections.Counter[int] = collections.Counter()
            for h in before:
                for idx in set([r.example_id for r in h.records if not r.correct]):  # noqa: C403
                    counter[idx] += 1
            ordered = [k for k, _ in sorted(counter.items(), key=lambda x: -x[1])]
            if len(ordered) <= 3:
                draws.append(list(ordered))
            else:
                np.random.seed(i_step)
                draws.append(sorted(np.random.choice(ordered, 3, replace=False).tolist()))
        else:
            shown = sorted(before, key=lambda h: h.score)[-20:]
            counter = collections.Counter()
            for h in shown:
                for idx in set([r.example_id for r in h.records if not r.correct]):  # noqa: C403
                    counter[idx] += 1
            most = [k for k, v in counter.items() if v == max(counter.values())]
            if len(most) < 3:
                draws.append(sorted(counter, key=lambda x: -counter[x])[:3])
            else:
                draws.append(sorted(np.random.choice(most, 3, replace=False).tolist()))
    return draws


@pytest.mark.parametrize("criterion", ["accumulative_most_frequent", "current_most_frequent"])
def test_wrong_answer_criteria_draw_as_the_reference(criterion: str) -> None:
    rng = np.random.RandomState(11)
    train = sorted(rng.choice(40, 16, replace=False).tolist())
    history = []
    for step in range(12):  # step 0: initial instructions; later steps: new instructions
        for k in range(2 if step == 0 else 3):
            wrong = set(rng.choice(train, int(rng.randint(1, 9)), replace=False).tolist())
            records = tuple(ExampleRecord(i, "", "", "", i not in wrong) for i in train)
            history.append(Scored(f"s{step}-{k}", float(rng.randint(0, 100)) / 100, step, records))
    want = _reference_draws(criterion, history, 12, train)
    p = PromptProblem.from_spec(
        {"examples": [{"input": f"q{i}", "target": "1"} for i in range(40)],
         "train_ids": train, "criterion": criterion}
    )  # fmt: skip
    got = [p.exemplar_ids([h for h in history if h.step < s], s, 20) for s in range(1, 13)]
    assert got == want
    # Fresh problem, steps out of order (a resumed run, a GUI preview): the same draws.
    q = PromptProblem.from_spec(p.to_spec())
    assert [q.exemplar_ids([h for h in history if h.step < s], s, 20) for s in (9, 3, 12)] == [
        want[8],
        want[2],
        want[11],
    ]


def test_a_fork_with_other_settings_shows_them_on_its_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(f'{{"input": "q{i}", "target": "{i}"}}\n' for i in range(10)))
    path = tmp_path / "a.opro"
    assert main(["new", "prompt", str(path), "--dataset", str(data)]) == 0
    with ProjectSession.open(path) as s:
        from opro_gui.core.models import RunSettings
        from opro_gui.llm import EndpointConfig

        endpoint = EndpointConfig.from_dict({"base_url": "http://127.0.0.1:9/v1", "model": "m"})
        run = s.prepare_run(RunSettings(max_steps=1), endpoint, endpoint)
        s.store.write_step(run, _initial_record())
        fork = s.fork(run, 0, spec_override={"order": "descending", "score_format": "none"})
        summaries = {r["id"]: r for r in s.summary().to_json()["runs"]}
    assert summaries[run]["task_settings"]["order"] == "ascending"
    assert summaries[fork]["task_settings"]["order"] == "descending"
    capsys.readouterr()
    assert main(["show", str(path)]) == 0
    text = capsys.readouterr().out
    assert text.count("    settings: order=descending, score_format=none,") == 1


def _initial_record():  # type: ignore[no-untyped-def]
    from opro_gui.core.models import StepRecord

    return StepRecord(0, "", (), (), (), None, None, 0.0, 0.0)
