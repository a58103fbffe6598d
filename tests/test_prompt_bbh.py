"""A BIG-Bench Hard task from the shared data runs end to end like the project's own tasks."""

from __future__ import annotations

import json

from opro_gui.cli import main
from opro_gui.storage import ProjectStore


def always_yes(prompt: str, body: dict) -> str:
    if "optimizer" in body.get("model", ""):
        return "<INS>Read each step and track where you end up.</INS>"
    return "Yes, you return to the starting point."


def test_bbh_navigate_runs_end_to_end(tmp_path, shared_data, fake_server, capsys) -> None:
    project = tmp_path / "nav.opro"
    data = shared_data / "BIG-Bench-Hard-data" / "navigate.json"
    assert main(["new", "prompt", str(project), "--dataset", str(data)]) == 0
    with fake_server(always_yes) as srv:
        code = main(
            [
                "run",
                str(project),
                "--steps",
                "1",
                "--samples",
                "2",
                "--base-url",
                srv.base_url,
                "--optimizer-model",
                "fake-optimizer",
                "--scorer-model",
                "fake-scorer",
            ]
        )
        assert code == 0, capsys.readouterr().err
        assert main(["evaluate", str(project), "--top", "1"]) == 0
    capsys.readouterr()
    examples = json.loads(data.read_text())["examples"]
    with ProjectStore.open(project) as store:
        spec = store.spec()
        assert spec["task_type"] == "boolean" and len(spec["train_ids"]) == 50
        yes_share = sum(examples[i]["target"] == "Yes" for i in spec["train_ids"]) / 50
        scored = [c for c in store.candidates(1) if c.status == "scored"]
        assert scored and all(abs(c.score - yes_share) < 1e-9 for c in scored)
        tests = store.evaluations(1)
        test_ids = [i for i in range(len(examples)) if i not in set(spec["train_ids"])]
        yes_test = sum(examples[i]["target"] == "Yes" for i in test_ids) / len(test_ids)
        assert {e.n_examples for e in tests} == {200}
        assert all(abs(e.score - yes_test) < 1e-9 for e in tests)


def test_gsm8k_paper_split_with_the_test_file(tmp_path, shared_data, capsys) -> None:
    project = tmp_path / "gsm.opro"
    gsm = shared_data / "gsm_data"
    assert (
        main(
            [
                "new",
                "prompt",
                str(project),
                "--dataset",
                str(gsm / "gsm_train.tsv"),
                "--test-dataset",
                str(gsm / "gsm_test.tsv"),
                "--position",
                "A_begin",
            ]
        )
        == 0
    )
    assert "n_train=261, n_test=1319" in capsys.readouterr().out
    with ProjectStore.open(project) as store:
        spec = store.spec()
    assert spec["forbid_digits"] is True and spec["task_type"] == "numeric"
    assert len(spec["examples"]) == 7473 + 1319
    assert max(spec["train_ids"]) < 7473 and min(spec["test_ids"]) == 7473
