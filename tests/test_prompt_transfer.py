"""Transfer (§5.2.3): `opro evaluate P --dataset OTHER --top K` scores the run's top instructions
on another dataset, stores it as its own evaluation and shows it beside the test split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.problems.datasets import load_dataset
from opro_gui.storage import ProjectStore

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MULTIARITH = SHARED / "MultiArith-data" / "MultiArith.json"


def multiarith_file(tmp_path: Path, n: int = 12) -> Path:
    problems = []
    for i in range(n):
        a, b = 11 + 3 * i, 4 + 7 * i
        problems.append(
            {
                "iIndex": i,
                "sQuestion": f" Compute {a} + {b}. ",
                "lEquations": [f"X=({a}+{b})"],
                "lSolutions": [float(a + b)],
                "lAlignments": [],
            }
        )
    path = tmp_path / "multiarith.json"
    path.write_text(json.dumps(problems))
    return path


def test_evaluate_on_another_dataset_stores_and_shows_transfer(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    other = multiarith_file(tmp_path)
    world = ArithmeticWorld()
    with fake_server(world) as srv:
        code, _, err = opro(
            capsys, "run", str(project), "--steps", "2", "--samples", "3", *roles(srv.base_url)
        )
        assert code == 0, err
        code, out, err = opro(capsys, "evaluate", str(project), "--split", "test", "--top", "1")
        assert code == 0, err
        code, out, err = opro(
            capsys, "evaluate", str(project), "--dataset", str(other), "--top", "3"
        )
    assert code == 0, err
    rows_out = [ln for ln in out.splitlines() if ": train " in ln]
    assert [ln.split("  ")[1].split(" ")[0] for ln in rows_out] == ["transfer:multiarith"] * 5
    questions = [e["input"] for e in load_dataset(other).examples]
    data = json.loads(opro(capsys, "show", str(project), "--json")[1])
    (run,) = data["runs"]
    rows = run["transfer_evaluations"]
    assert [r["label"] for r in rows] == [
        "top-1",
        "top-2",
        "top-3",
        "baseline: empty",
        'baseline: "Let\'s think step by step."',
    ]
    for r in rows:
        assert r["dataset"] == "multiarith" and r["n_examples"] == 12 and r["complete"]
        verdicts = [world.given[(r["instruction"], q)] for q in questions]
        assert r["accuracy"] == pytest.approx(sum(verdicts) / len(verdicts))
    assert run["best_transfer_accuracy"] == {"multiarith": rows[0]["accuracy"]}
    assert run["best_test_accuracy"] is not None  # the home test split is still reported
    with ProjectStore.open(project, readonly=True) as store:
        splits = [e.split for e in store.evaluations(1)]
    assert splits.count("transfer:multiarith") == 5 and splits.count("test") == 3
    text = opro(capsys, "show", str(project))[1]
    best = 100 * rows[0]["accuracy"]
    assert f", test {100 * run['best_test_accuracy']:.1f}%, multiarith {best:.1f}%" in text


def test_transfer_dataset_errors_are_one_line(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with fake_server(ArithmeticWorld()) as srv:
        assert opro(capsys, "run", str(project), "--steps", "1", *roles(srv.base_url))[0] == 0
        code, _, err = opro(capsys, "evaluate", str(project), "--dataset", str(bad))
    assert code == 2 and err.startswith("opro: error: bad.json: malformed JSON")


@pytest.mark.skipif(not MULTIARITH.exists(), reason="shared MultiArith data not present")
def test_transfer_on_the_real_multiarith_file(
    tmp_path: Path, fake_server, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, capsys)
    world = ArithmeticWorld()  # answers "I do not know." to word problems: accuracy 0
    with fake_server(world) as srv:
        assert opro(capsys, "run", str(project), "--steps", "1", *roles(srv.base_url))[0] == 0
        code, out, err = opro(
            capsys, "evaluate", str(project), "--dataset", str(MULTIARITH), "--top", "1"
        )
    assert code == 0, err
    data = json.loads(opro(capsys, "show", str(project), "--json")[1])
    rows = data["runs"][0]["transfer_evaluations"]
    assert {r["dataset"] for r in rows} == {"MultiArith"}
    assert all(r["n_examples"] == 600 and r["accuracy"] == 0.0 for r in rows)
