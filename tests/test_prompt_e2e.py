"""Prompt optimization end to end: the suite's server plays optimizer and scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import Faults
from scripted_models import ArithmeticWorld

from opro_gui.cli import main
from opro_gui.storage import ProjectStore


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def make_project(tmp_path: Path, capsys, n: int = 40, ratio: str = "0.5") -> Path:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(n)) + "\n")
    project = tmp_path / "p.opro"
    code, out, err = opro(
        capsys,
        "new",
        "prompt",
        str(project),
        "--dataset",
        str(data),
        "--train-ratio",
        ratio,
        "--initial",
        "Solve it.",
        "--seed",
        "1",
    )
    assert code == 0, err
    return project


def roles(url: str) -> list[str]:
    return [
        "--base-url",
        url,
        "--optimizer-model",
        "fake-optimizer",
        "--scorer-model",
        "fake-scorer",
    ]


def test_run_climbs_and_stored_accuracy_matches_the_server(tmp_path, fake_server, capsys) -> None:
    project = make_project(tmp_path, capsys)
    world = ArithmeticWorld()
    with fake_server(world) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "3", "--samples", "4", *roles(srv.base_url)
        )
    assert code == 0, err
    with ProjectStore.open(project) as store:
        cands = store.candidates(1)
        scored = [c for c in cands if c.status == "scored"]
        initial = [c for c in scored if c.step == 0]
        assert [c.solution for c in initial] == ["Solve it."]
        assert max(c.score for c in scored) > initial[0].score
        n_train = len(store.spec()["train_ids"])
        for c in scored:
            records = store.records(candidate_id=c.id)
            assert len(records) == n_train
            verdicts = [
                world.given[(c.solution, r.prompt[len(c.solution) :].strip())] for r in records
            ]
            assert c.score == pytest.approx(sum(verdicts) / len(verdicts))
            assert [r.correct for r in records] == verdicts
    summary = json.loads(opro(capsys, "show", str(project), "--json")[1])
    run = summary["runs"][0]
    assert run["best_instruction"] == run["best_solution"]
    assert run["best_train_accuracy"] == run["best_score"]
    assert run["best_test_accuracy"] is None


def test_evaluate_on_test_then_show_and_export(tmp_path, fake_server, capsys) -> None:
    project = make_project(tmp_path, capsys)
    world = ArithmeticWorld()
    with fake_server(world) as srv:
        opro(capsys, "run", str(project), "--steps", "2", "--samples", "2", *roles(srv.base_url))
        code, out, err = opro(capsys, "evaluate", str(project), "--split", "test", "--top", "2")
        assert code == 0, err
        assert "top-1" in out and "baseline: empty" in out and "Let's think step by step." in out
        before = srv.stats.requests
        code, out2, _ = opro(capsys, "evaluate", str(project), "--split", "test", "--top", "2")
        assert srv.stats.requests == before, "a second identical scoring pass made requests"
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert run["best_test_accuracy"] is not None
    export = tmp_path / "x.json"
    opro(capsys, "export", str(project), "--format", "json", "-o", str(export))
    data = json.loads(export.read_text())
    cand = next(
        c for s in data["runs"][0]["steps"] for c in s["candidates"] if c["status"] == "scored"
    )
    rec = cand["records"][0]
    assert set(rec) >= {"example_id", "prompt", "raw_answer", "parsed_answer", "correct"}


def test_faults_cannot_stop_a_run_and_nothing_is_counted_twice(
    tmp_path, fake_server, capsys
) -> None:
    project = make_project(tmp_path, capsys, n=30, ratio="0.5")
    world = ArithmeticWorld()
    faults = Faults(error_rate=0.2, hang_rate=0.02, hang_seconds=3.0, retry_after=0.0, seed=3)
    with fake_server(world, faults=faults) as srv:
        code, out, err = opro(
            capsys,
            "run",
            str(project),
            "--steps",
            "2",
            "--samples",
            "3",
            "--timeout",
            "0.5",
            "--max-retries",
            "8",
            *roles(srv.base_url),
            "--no-format-check",  # the check's calls would meet the injected faults too
        )
        served_scorer = srv.stats.successes_by_model["fake-scorer"]
    assert code == 0, err
    with ProjectStore.open(project) as store:
        answers = store.conn.execute(
            "SELECT COUNT(*) FROM example_result WHERE error = ''"
        ).fetchone()[0]
        per_example = store.conn.execute(
            "SELECT candidate_id, example_id, COUNT(*) FROM example_result"
            " GROUP BY candidate_id, example_id HAVING COUNT(*) > 1"
        ).fetchall()
        ok_scorer_calls = store.conn.execute(
            "SELECT COUNT(*) FROM llm_call WHERE role = 'scorer' AND error = '' AND cached = 0"
        ).fetchone()[0]
    assert per_example == []
    # Every successful response the server counted is stored once, and nothing else is.
    assert answers == ok_scorer_calls == served_scorer
    assert srv.stats.statuses[429] + srv.stats.statuses[500] > 0
