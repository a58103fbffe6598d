"""GUI pieces of issue 15: evaluators in the prompt panel, add/star/exclude in History, and the
Batch API switch of the test evaluation."""

from __future__ import annotations

import json

import pytest
from gui_helpers import no_thread_left  # noqa: F401
from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.core.models import RunSettings
from opro_gui.gui.widgets.history import HistoryPanel
from opro_gui.gui.widgets.shell_evaluate import TestEvaluation
from opro_gui.gui.widgets.task_editor import TaskEditor
from opro_gui.llm import EndpointConfig
from opro_gui.storage import ProjectStore

pytestmark = pytest.mark.usefixtures("no_thread_left")


def test_evaluators_are_chosen_in_the_prompt_panel(qtbot) -> None:
    editor = TaskEditor()
    qtbot.addWidget(editor)
    spec = {"kind": "prompt", "examples": ArithmeticWorld.examples(10), "train_ids": [0, 1, 2]}
    editor.load("prompt", spec, RunSettings())
    panel = editor.panels["prompt"]
    assert panel.evaluators.text_edit.toPlainText() == ""
    assert "evaluators" not in editor.current_spec()
    panel.evaluators.add_buttons["Judge"].click()
    panel.evaluators.add_buttons["Length"].click()
    chosen = editor.current_spec()["evaluators"]
    assert [e["type"] for e in chosen] == ["paper", "judge", "length"]
    assert editor.validation_errors() == []
    panel.evaluators.text_edit.setPlainText('{"evaluators": [{"type": "judge"}]}')
    assert any("needs a 'rubric'" in e for e in editor.validation_errors())
    assert not panel.evaluators.error.isHidden()
    panel.evaluators.text_edit.setPlainText('{"chat": {"placement": "system_after"}}')
    assert editor.validation_errors() == []
    assert editor.current_spec()["chat"] == {"placement": "system_after"}


def test_history_adds_stars_and_excludes(qtbot, tmp_path, fake_server, capsys) -> None:
    project = make_project(tmp_path, capsys)
    with fake_server(ArithmeticWorld()) as srv:
        assert opro(capsys, "run", str(project), "--steps", "1", "--samples", "2",
                    *roles(srv.base_url))[0] == 0  # fmt: skip
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    assert panel.people.add_button.isEnabled() and not panel.people.star_button.isEnabled()
    panel.select_candidate(0, 0)
    assert panel.people.star_button.isEnabled()
    panel.people.star_button.click()
    panel.people.exclude_button.click()
    assert panel.people.add("Mine, step by step.") is not None
    assert panel.count_label.text() == "add stored for step 2"
    with ProjectStore.open(project) as store:
        actions = [(a["action"], a["step"], a["text"]) for a in store.human_actions(1)]
    assert actions == [("star", 0, "Solve it."), ("exclude", 2, "Solve it."),
                       ("add", 2, "Mine, step by step.")]  # fmt: skip
    verdicts = panel.detail_pane.verdict_model
    origin_col = [c.key for c in verdicts.columns].index("completion_index")
    assert verdicts.index(0, origin_col).data() == "initial"
    panel.set_project(None)


def test_the_test_evaluation_can_go_through_the_batch_api(
    qtbot, tmp_path, fake_server, capsys
) -> None:
    project = make_project(tmp_path, capsys)
    with fake_server(ArithmeticWorld()) as srv:
        assert opro(capsys, "run", str(project), "--steps", "1", "--samples", "2",
                    *roles(srv.base_url))[0] == 0  # fmt: skip
        before = srv.stats.requests
        evaluation = TestEvaluation()
        scorer = EndpointConfig(base_url=srv.base_url, model="fake-scorer")
        with qtbot.waitSignal(evaluation.evaluation_finished, timeout=30_000) as done:
            evaluation.start(project, 1, scorer, top=1, batch=True, poll_interval=0.01)
        assert srv.stats.batches_created == 1 and srv.stats.requests == before
    assert [r.label for r in done.args[0]] == [
        "top-1",
        "baseline: empty",
        'baseline: "Let\'s think step by step."',
    ]
    summary = json.loads(opro(capsys, "show", str(project), "--json")[1])
    assert summary["runs"][0]["best_test_accuracy"] is not None


def test_scorer_answers_show_each_evaluators_verdict(qtbot, tmp_path, fake_server, capsys) -> None:
    from scripted_models import ExtractionWorld
    from test_evaluators_e2e import new_extraction_project, run

    project = new_extraction_project(tmp_path, capsys)
    with fake_server(ExtractionWorld()) as srv:
        run(capsys, project, srv.base_url, steps=1)
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    panel.select_candidate(0, 0)
    records = panel.detail_pane.records_model
    col = [c.key for c in records.columns].index("verdicts")
    assert records.index(0, col).data() == (
        "schema 0: not valid JSON: Expecting value: line 1 column 1 (char 0); "
        "judge 0.5: names the person but is not JSON."
    )
    panel.set_project(None)
