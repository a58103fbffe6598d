"""People in the loop: a candidate added by hand, a star, an exclusion; stored with their step."""

from __future__ import annotations

import json

from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.storage import ProjectStore

HUMAN = "Think about each step, step by step, then step back and check."


class SlowWorld(ArithmeticWorld):
    """Never reaches 100 % (a run with the optimum found would stop before step 4)."""

    def accuracy_for(self, instruction: str) -> float:
        return min(0.9, 0.1 + 0.05 * instruction.lower().count("step"))


def test_a_human_candidate_added_after_step_3_is_in_the_meta_prompt_of_step_4(
    tmp_path, fake_server, capsys
) -> None:
    project = make_project(tmp_path, capsys)
    world = SlowWorld()
    with fake_server(world) as srv:
        args = ("--samples", "2", *roles(srv.base_url))
        assert opro(capsys, "run", str(project), "--steps", "3", *args)[0] == 0
        code, out, err = opro(capsys, "add", str(project), HUMAN, "--note", "mine")
        assert code == 0, err
        assert "scored at the start of step 4" in out
        assert opro(capsys, "run", str(project), "--steps", "4", *args)[0] == 0
    with ProjectStore.open(project) as store:
        assert HUMAN not in store.step_detail(1, 3).meta_prompt
        step4 = store.step_detail(1, 4)
        assert f"text:\n{HUMAN}\nscore:" in step4.meta_prompt
        human = [c for c in step4.candidates if c.completion_index == -2]
        assert [(c.solution, c.status, c.index) for c in human] == [(HUMAN, "scored", 0)]
        # scored on every training example like any candidate
        assert len(human[0].records) == len(store.spec()["train_ids"])
        actions = store.human_actions(1)
    assert [(a["action"], a["step"], a["applied_step"], a["note"]) for a in actions] == [
        ("add", 4, 4, "mine")
    ]
    export = tmp_path / "export.json"
    assert opro(capsys, "export", str(project), "-o", str(export))[0] == 0
    run = json.loads(export.read_text())["runs"][0]
    assert [(a["action"], a["step"], a["text"]) for a in run["human_actions"]] == [
        ("add", 4, HUMAN)
    ]
    assert [c["text"] for c in run["steps"][4]["candidates"] if c["human"]] == [HUMAN]
    out = opro(capsys, "history", str(project), "--step", "4")[1]
    assert "--- human: verdict: scored" in out and HUMAN in out


def test_excluded_candidates_leave_the_trajectory_and_stars_are_kept(
    tmp_path, fake_server, capsys
) -> None:
    project = make_project(tmp_path, capsys)
    with fake_server(SlowWorld()) as srv:
        args = ("--samples", "2", *roles(srv.base_url))
        assert opro(capsys, "run", str(project), "--steps", "2", *args)[0] == 0
        with ProjectStore.open(project) as store:
            first = next(c for c in store.candidates(1) if c.step == 0)
            assert f"text:\n{first.solution}\n" in store.step_detail(1, 2).meta_prompt
        assert opro(capsys, "exclude", str(project), "--candidate", str(first.id))[0] == 0
        assert opro(capsys, "star", str(project), "--candidate", str(first.id))[0] == 0
        assert opro(capsys, "run", str(project), "--steps", "3", *args)[0] == 0
    with ProjectStore.open(project) as store:
        assert f"text:\n{first.solution}\n" not in store.step_detail(1, 3).meta_prompt
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert [(a["action"], a["step"]) for a in run["human_actions"]] == [("exclude", 3), ("star", 0)]
    assert run["starred"] == [first.id]


def test_actions_on_unknown_candidates_or_runs_are_one_clear_error(tmp_path, capsys) -> None:
    project = make_project(tmp_path, capsys)
    code, _, err = opro(capsys, "star", str(project), "--candidate", "99")
    assert code != 0 and "no candidate with id 99" in err
    code, _, err = opro(capsys, "add", str(project), "Try harder.")
    assert code != 0 and "no such run" in err


def test_people_add_solutions_of_any_kind_written_as_the_optimizer_would(
    tmp_path, fake_server, capsys
) -> None:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "8", "--seed", "2")[0] == 0
    with fake_server(lambda prompt, body: "no idea") as srv:  # the optimizer proposes nothing
        args = ("--samples", "2", "--base-url", srv.base_url, "--no-format-check")
        assert opro(capsys, "run", str(project), "--steps", "1", *args)[0] == 0
        code, _, err = opro(capsys, "add", str(project), "<trace>0,2,4,6,1,3,5,7</trace>")
        assert code == 0, err
        assert opro(capsys, "run", str(project), "--steps", "2", *args)[0] == 0
    with ProjectStore.open(project) as store:
        step2 = store.step_detail(1, 2)
        (human,) = [c for c in step2.candidates if c.completion_index == -2]
        assert human.solution == [0, 2, 4, 6, 1, 3, 5, 7] and human.status == "scored"
        assert "<trace> 0,2,4,6,1,3,5,7 </trace>" in step2.meta_prompt


def test_a_candidate_added_while_the_run_goes_is_taken_at_its_next_step(
    tmp_path, fake_server, capsys
) -> None:
    """Like the app: the run goes on in one session while another (the History panel's)
    stores the addition; the engine takes it before its next meta-prompt."""
    from opro_gui.core.events import StepCompleted
    from opro_gui.core.models import RunSettings
    from opro_gui.llm import EndpointConfig
    from opro_gui.services import ProjectSession

    project = make_project(tmp_path, capsys)
    with fake_server(SlowWorld()) as srv:
        opt = EndpointConfig(base_url=srv.base_url, model="fake-optimizer")
        sc = EndpointConfig(base_url=srv.base_url, model="fake-scorer")
        with ProjectSession.open(project) as running:
            run_id = running.prepare_run(RunSettings(max_steps=3, samples_per_step=2), opt, sc)
            for event in running.run(run_id):
                if isinstance(event, StepCompleted) and event.record.step == 1:
                    with ProjectSession.open(project) as other:
                        assert other.add_candidate(HUMAN, run_id=run_id)["step"] == 2
    with ProjectStore.open(project) as store:
        assert HUMAN not in store.step_detail(1, 1).meta_prompt
        step2 = store.step_detail(1, 2)
        assert f"text:\n{HUMAN}\nscore:" in step2.meta_prompt
        assert [c.text for c in step2.candidates if c.completion_index == -2] == [HUMAN]
        assert [a["applied_step"] for a in store.human_actions(1)] == [2]
