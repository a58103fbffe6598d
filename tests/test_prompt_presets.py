"""Paper presets: each builds a valid task, flags win over it, run settings reach the first run,
and the README lists every preset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.problems.datasets import load_dataset
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset
from opro_gui.problems.prompt_presets import PRESETS
from opro_gui.services import ProjectSession
from opro_gui.services.presets import preset_options

README = Path(__file__).resolve().parents[1] / "README.md"


def dataset_for(tmp_path: Path, preset: str) -> Path:
    want = PRESETS[preset].dataset
    if want.startswith("bbh:"):
        path = tmp_path / f"{want.removeprefix('bbh:')}.json"
        body = {"examples": [{"input": f"q{i}\nOptions:\n(A) x\n(B) y", "target": "(A)"}
                             for i in range(20)]}  # fmt: skip
        path.write_text(json.dumps(body))
    else:
        path = tmp_path / "gsm_train.tsv"
        path.write_text("".join(f"What is {i} + 1?\t{i + 1}\n" for i in range(60)))
    return path


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_valid_task(tmp_path: Path, name: str) -> None:
    data = load_dataset(dataset_for(tmp_path, name))
    options, warning = preset_options(name, data.name)
    assert warning == ""
    problem = PromptProblem.from_spec(spec_from_dataset(data, **options))
    assert problem.preset == name
    assert problem.summary()["preset"] == name
    RunSettings.from_dict(PRESETS[name].run)  # valid run settings
    assert problem.render_meta_prompt([], 1, 20)


def test_cli_preset_flags_win_and_run_settings_reach_the_first_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = dataset_for(tmp_path, "gsm8k-palm2")
    out = tmp_path / "g.opro"
    args = ["new", "prompt", str(out), "--dataset", str(data), "--preset", "gsm8k-palm2"]
    assert main([*args, "--score-threshold", "0.2"]) == 0
    with ProjectSession.open(out, readonly=True) as s:
        problem = s.problem()
        assert isinstance(problem, PromptProblem)
        assert (problem.position, problem.style, problem.extract_again) == (
            "A_begin",
            "bracket",
            True,
        )
        assert problem.score_threshold == 0.2  # the flag, not the preset's 0.01
        assert problem.initial_instructions == ["Let's solve the problem."]
        assert s.default_run_settings() == RunSettings(
            max_steps=200, samples_per_step=8, temperature=1.0
        )
    assert main(["show", str(out)]) == 0
    assert "preset: gsm8k-palm2" in capsys.readouterr().out


def test_unknown_preset_and_mismatched_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = dataset_for(tmp_path, "gsm8k-gpt")
    code = main(["new", "prompt", str(tmp_path / "a.opro"), "--dataset", str(data),
                 "--preset", "gsm8k-nope"])  # fmt: skip
    assert code == 2 and "unknown preset 'gsm8k-nope'" in capsys.readouterr().err
    code = main(["new", "prompt", str(tmp_path / "b.opro"), "--dataset", str(data),
                 "--preset", "bbh-snarks-palm2"])  # fmt: skip
    assert code == 0
    assert "warning: preset bbh-snarks-palm2 is for bbh:snarks" in capsys.readouterr().err


def test_readme_lists_every_preset() -> None:
    text = README.read_text(encoding="utf-8")
    listed = set(re.findall(r"`((?:gsm8k|ablation)-[\w.-]+)`", text))
    for short in re.findall(r"`(-[\d.]+)`", text):  # "`ablation-per-step-1`, `-2`" shorthand
        listed |= {n for n in PRESETS if n.endswith(short)}
    for name in PRESETS:
        if name.startswith("bbh-"):
            assert "`bbh-<task>-palm2`, `bbh-<task>-text-bison`" in text
        else:
            assert name in listed, name
