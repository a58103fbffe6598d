"""Evaluators and chat templates end to end: the JSON-extraction example on the suite's server."""

from __future__ import annotations

import json
from pathlib import Path

from scripted_models import CapitalsWorld, ExtractionWorld

from opro_gui.cli import main
from opro_gui.storage import ProjectStore

TASKS = Path(__file__).resolve().parents[1] / "tasks"


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def new_extraction_project(tmp_path: Path, capsys) -> Path:
    project = tmp_path / "extract.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project),
        "--dataset", str(TASKS / "json_extraction" / "people.jsonl"),
        "--options", str(TASKS / "json_extraction" / "options.json"),
        "--train-ratio", "0.5", "--seed", "0",
    )  # fmt: skip
    assert code == 0, err
    return project


def run(capsys, project: Path, url: str, steps: int, samples: int = 3) -> None:
    code, _, err = opro(
        capsys, "run", str(project), "--steps", str(steps), "--samples", str(samples),
        "--base-url", url, "--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer",
    )  # fmt: skip
    assert code == 0, err


def test_json_extraction_improves_and_every_record_has_each_verdict(
    tmp_path, fake_server, capsys
) -> None:
    project = new_extraction_project(tmp_path, capsys)
    world = ExtractionWorld()
    with fake_server(world) as srv:
        run(capsys, project, srv.base_url, steps=2)
    with ProjectStore.open(project) as store:
        n_train = len(store.spec()["train_ids"])
        cands = store.candidates(1)
        scored = [c for c in cands if c.status == "scored"]
        by_text = {c.solution: c.score for c in scored}
        start = "Read this {channel} message: {input}"
        # schema 0 + judge 0.5 -> 0.25; JSON with a string age: 0 + 1; schema and judge: 1
        assert by_text[start] == 0.25
        assert by_text[start + " Reply in JSON."] == 0.5
        assert by_text[start + " Reply in JSON. Give the age as an integer."] == 1.0
        assert store.steps(1)[-1].best_score == 1.0
        for c in scored:
            records = store.records(candidate_id=c.id)
            assert len(records) == n_train
            for r in records:
                assert [v.name for v in r.verdicts] == ["schema", "judge"]
                assert all(v.reason for v in r.verdicts)
                judge = r.verdicts[1]
                assert judge.prompt.startswith("You grade an answer against a rubric.")
                assert r.raw_answer in judge.prompt
                assert r.score == sum(v.score for v in r.verdicts) / 2
            assert c.score == sum(r.score for r in records) / n_train
        meta_prompt = store.step_detail(1, 1).meta_prompt
        assert meta_prompt.rstrip().endswith(
            "The instruction is a template: keep {input} exactly as written; each is replaced "
            "by the example's text."
        )
        # the filled template is what the scorer saw: {channel} and {input} from the columns
        first = store.records(candidate_id=scored[0].id)[0]
        ex = store.examples()[first.example_id]
        assert first.prompt == f"Read this {ex['channel']} message: {ex['input']}"
        # the schema verdict names the failing field
        string_age = next(c for c in scored if c.solution == start + " Reply in JSON.")
        reason = store.records(candidate_id=string_age.id)[0].verdicts[0].reason
        assert "at age" in reason and "is not of type 'integer'" in reason
    out = tmp_path / "export.json"
    assert opro(capsys, "export", str(project), "-o", str(out))[0] == 0
    records = json.loads(out.read_text())["runs"][0]["steps"][0]["candidates"][0]["records"]
    assert [v["name"] for v in records[0]["verdicts"]] == ["schema", "judge"]
    assert records[0]["verdicts"][1]["prompt"].startswith("You grade an answer")


def test_a_template_that_drops_input_is_filtered_and_costs_no_scorer_call(
    tmp_path, fake_server, capsys
) -> None:
    project = new_extraction_project(tmp_path, capsys)
    world = ExtractionWorld()
    with fake_server(world) as srv:
        run(capsys, project, srv.base_url, steps=1)
        requests = srv.stats.requests
    with ProjectStore.open(project) as store:
        n_train = len(store.spec()["train_ids"])
        cands = store.candidates(1)
    dropped = [c for c in cands if c.text == "Describe the person as JSON."]
    assert [(c.status, c.reason) for c in dropped] == [
        ("filtered", "drops the placeholder {input}")
    ]
    scored = [c for c in cands if c.status == "scored"]
    assert len(scored) == 3  # the start, "+ Reply in JSON.", "+ Be brief."
    # every scorer request is one of a scored candidate's (plus the model check's one question,
    # issue 11; it asks no judge): none carries the dropped template
    assert len(world.scorer_prompts) == len(scored) * n_train + 1
    assert not any(p.startswith("Describe the person") for p in world.scorer_prompts)
    assert len(world.judge_prompts) == len(scored) * n_train
    # one optimizer request (n=3), and the model check's optimizer and scorer requests
    assert requests == 1 + 2 * len(scored) * n_train + 2


def test_show_reports_the_judges_agreement_with_gold_labels(tmp_path, fake_server, capsys) -> None:
    project = new_extraction_project(tmp_path, capsys)
    with fake_server(ExtractionWorld()) as srv:
        run(capsys, project, srv.base_url, steps=2)
    summary = json.loads(opro(capsys, "show", str(project), "--json")[1])
    agreement = summary["runs"][0]["judge_agreement"]
    with ProjectStore.open(project) as store:
        verdicts = [
            v
            for c in store.candidates(1)
            for r in store.records(candidate_id=c.id)
            for v in r.verdicts
            if v.name == "judge"
        ]
    assert agreement["labelled"] == len(verdicts) > 0
    assert agreement["agree"] == sum(1 for v in verdicts if v.agrees)
    code, out, _ = opro(capsys, "verdicts", str(project), "--candidate", "1")
    assert code == 0
    assert "schema (x1): 0" in out and "judge (x1): 0.5  names the person but is not JSON" in out


def test_short_answer_judge_agreement_with_gold_labels(tmp_path, fake_server, capsys) -> None:
    data = TASKS / "short_answer" / "capitals.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    capitals = {r["input"].split("of ")[1].rstrip("?"): r["target"] for r in rows}
    project = tmp_path / "caps.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project), "--dataset", str(data),
        "--options", str(TASKS / "short_answer" / "options.json"), "--train-ratio", "1.0",
    )  # fmt: skip
    assert code == 0, err
    with fake_server(CapitalsWorld(capitals)) as srv:
        run(capsys, project, srv.base_url, steps=2, samples=1)
    with ProjectStore.open(project) as store:
        scored = {c.solution: c for c in store.candidates(1) if c.status == "scored"}
        start = store.records(candidate_id=scored["Answer the question."].id)
        judge = [r.verdicts[0] for r in start]
    # long answers: the judge passes all 16 (fooled on the 2 wrong cities); gold agrees on 14
    assert [v.score for v in judge] == [1.0] * 16
    assert sum(1 for v in judge if v.agrees) == 14
    assert sorted(scored) == [
        "Answer the question.",
        "Answer the question. Name only the city.",
        "Answer the question. Name only the city. Think carefully.",
    ]
    assert scored["Answer the question. Name only the city. Think carefully."].score == 1.0
    summary = json.loads(opro(capsys, "show", str(project), "--json")[1])
    # steps 1 and 2 (short answers): the judge agrees with the gold label on all 32
    assert summary["runs"][0]["judge_agreement"] == {"agree": 46, "labelled": 48, "rate": 0.9583}
    assert (
        "judge agreement with gold labels: 46 of 48 (95.8%)"
        in opro(capsys, "show", str(project))[1]
    )


def test_judge_prompts_are_replayed_from_the_record(tmp_path, fake_server, capsys) -> None:
    project = new_extraction_project(tmp_path, capsys)
    world = ExtractionWorld()
    with fake_server(world) as srv:
        run(capsys, project, srv.base_url, steps=1)
        sent = len(world.judge_prompts)
        # the same judge at temperature 0: answered from the project's response cache
        code, out, err = opro(capsys, "verdicts", str(project), "--candidate", "1", "--replay")
        assert code == 0, err
        assert len(world.judge_prompts) == sent
        assert out.endswith("10 of 10 judge verdicts unchanged\n")
        # another judge model: the stored prompts go out again, exactly as stored
        code, out, err = opro(
            capsys, "verdicts", str(project), "--candidate", "1", "--replay", "--json",
            "--model", "other-judge",
        )  # fmt: skip
        assert code == 0, err
    with ProjectStore.open(project) as store:
        stored = [r.verdicts[1].prompt for r in store.records(candidate_id=1)]
    assert sorted(world.judge_prompts[sent:]) == sorted(stored)
    assert [r["score"] for r in json.loads(out)] == [0.5] * 10


def test_the_judge_uses_its_own_model_profile(tmp_path, fake_server, capsys) -> None:
    options = json.loads((TASKS / "json_extraction" / "options.json").read_text())
    options["evaluators"][1]["model"] = "fake-judge"
    opts = tmp_path / "options.json"
    opts.write_text(json.dumps(options))
    project = tmp_path / "judged.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project),
        "--dataset", str(TASKS / "json_extraction" / "people.jsonl"),
        "--options", str(opts), "--train-ratio", "0.5",
    )  # fmt: skip
    assert code == 0, err
    with fake_server(ExtractionWorld()) as srv:
        run(capsys, project, srv.base_url, steps=1)
        sent = list(zip(srv.stats.models, srv.stats.prompts, strict=True))
    judged = [m for m, p in sent if p.startswith("You grade an answer against a rubric.")]
    scored = [m for m, p in sent if m != "fake-optimizer" and not p.startswith("You grade")]
    assert set(judged) == {"fake-judge"} and set(scored) == {"fake-scorer"}
    with ProjectStore.open(project) as store:
        roles = {c.record.role: c.record.model_requested for c in store.calls(1)}
    assert roles == {"optimizer": "fake-optimizer", "scorer": "fake-scorer", "judge": "fake-judge"}
