"""Task editor: kinds, spec round trip, undo/redo of field edits, inline validation, models."""

from __future__ import annotations

import pytest
from gui_helpers import no_thread_left  # noqa: F401

from opro_gui.core.models import RunSettings
from opro_gui.gui.models.points_model import PointsTableModel
from opro_gui.gui.widgets.task_editor import TaskEditor
from opro_gui.problems import make_problem
from opro_gui.problems.tsp import TSPProblem

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def editor(qtbot):
    widget = TaskEditor()
    qtbot.addWidget(widget)
    return widget


def test_points_model_passes_modeltester(qtmodeltester):
    model = PointsTableModel()
    model.set_points([(0, 0), (1, 2), (3, 4)])
    qtmodeltester.check(model, force_py=True)
    assert model.setData(model.index(1, 0), "7.5")
    assert model.points()[1] == (7.5, 2.0)
    assert not model.setData(model.index(1, 0), "abc")


def test_load_and_spec_round_trip_tsp(editor):
    spec = TSPProblem.generate(8, seed=5).to_spec()
    editor.load("tsp", spec, RunSettings(max_steps=12, samples_per_step=4))
    assert editor.current_kind() == "tsp"
    out = editor.current_spec()
    assert out["points"] == spec["points"] and out["optimum"] == spec["optimum"]
    assert editor.run_settings().max_steps == 12
    assert editor.run_settings().samples_per_step == 4
    assert editor.validation_errors() == []
    assert make_problem("tsp", out).n == 8
    assert editor.undo_stack.count() == 0
    assert not editor.kind_combo.isEnabled()  # a project's kind is fixed


def test_undo_redo_restores_values(editor, qtbot):
    form = editor.run_form
    with qtbot.waitSignal(editor.spec_edited):
        form.steps_spin.setValue(50)
    form.samples_spin.setValue(3)
    assert editor.undo_stack.count() == 2
    editor.undo_stack.undo()
    assert form.samples_spin.value() == 8 and form.steps_spin.value() == 50
    editor.undo_stack.undo()
    assert form.steps_spin.value() == 200
    assert editor.run_settings() == RunSettings()
    editor.undo_stack.redo()
    editor.undo_stack.redo()
    assert editor.run_settings().max_steps == 50 and editor.run_settings().samples_per_step == 3


def test_keystrokes_merge_into_one_command(editor, qtbot):
    edit = editor.run_form.target_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "0.85")
    assert edit.text() == "0.85"
    assert editor.undo_stack.count() == 1  # four keystrokes, one command
    assert editor.run_settings().target_score == 0.85
    edit.editingFinished.emit()  # leaving the field seals the command
    qtbot.keyClicks(edit, "5")
    assert editor.undo_stack.count() == 2
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert edit.text() == "" and editor.run_settings().target_score is None


def test_validation_message_for_bad_value(editor, qtbot):
    form = editor.run_form
    qtbot.keyClicks(form.target_edit, "abc")
    errors = editor.validation_errors()
    assert errors and "not a number" in errors[0]
    assert not form.target_error.isHidden()
    assert "not a number" in form.target_error.text()
    editor.undo_stack.undo()
    assert editor.validation_errors() == []
    assert form.target_error.isHidden()


def test_tsp_point_edits_are_undoable_and_validated(editor):
    panel = editor.panels["tsp"]
    before = panel.model.points()
    panel.model.setData(panel.model.index(0, 0), "42")
    panel.model.setData(panel.model.index(0, 1), "43")
    assert panel.model.points()[0] == (42.0, 43.0)
    assert editor.undo_stack.count() == 2  # one command per cell edit
    editor.undo_stack.undo()
    assert panel.model.points()[0] == (42.0, before[0][1])
    editor.undo_stack.undo()
    assert panel.model.points() == before
    panel.model.set_points([(0, 0), (1, 1)])
    errors = editor.validation_errors()
    assert any("at least 3 points" in e for e in errors)
    assert not panel.points_error.isHidden()
    editor.undo_stack.undo()
    assert editor.validation_errors() == []


def test_generate_and_import(editor, tmp_path):
    panel = editor.panels["tsp"]
    panel.n_spin.setValue(6)
    panel.seed_spin.setValue(2)
    panel.generate_button.click()
    assert panel.model.points() == tuple(TSPProblem.generate(6, 2).points)
    assert "optimum" not in editor.current_spec()
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n0,0\n3,0\n3,4\n0,4\n")
    assert panel.import_file(csv)
    assert len(panel.model.points()) == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,zero\n")
    assert not panel.import_file(bad)
    assert not panel.import_error.isHidden()
    assert len(panel.model.points()) == 4
    editor.undo_stack.undo()  # the import
    assert len(panel.model.points()) == 6


def test_kind_switch_linreg(editor):
    editor.kind_combo.setCurrentIndex(editor.kind_combo.findData("linreg"))
    assert editor.current_kind() == "linreg"
    panel = editor.panels["linreg"]
    panel.w_spin.setValue(3)
    spec = editor.current_spec()
    assert spec["w_true"] == 3 and spec["kind"] == "linreg"
    assert make_problem("linreg", spec).w_true == 3
    assert editor.validation_errors() == []
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert editor.current_kind() == "tsp"
    assert editor.stack.currentIndex() == 0


def test_template_override_and_preview(editor, qtbot):
    editor.load("tsp", TSPProblem.generate(5, seed=1).to_spec(), RunSettings())
    tmpl = editor.template_editor
    tmpl.refresh_preview()
    assert "(0):" in tmpl.preview_text()  # the points, rendered by the problem itself
    assert "<trace>" in tmpl.preview_text()  # the initial tours with their lengths
    assert editor.current_spec().get("template") is None
    tmpl.text_edit.setPlainText("Points: {points}\nTours:\n{history}\nGive a better tour.")
    with qtbot.waitSignal(tmpl.preview_updated) as blocker:
        pass  # debounced
    assert blocker.args[0].startswith("Points: (0):")
    assert editor.current_spec()["template"].startswith("Points:")
    editor.undo_stack.undo()
    assert "template" not in editor.current_spec()


def test_prompt_kind_with_dataset(editor, qtbot, tmp_path):
    data = tmp_path / "toy.csv"
    rows = "\n".join(f"what is {i}+{i}?,{2 * i}" for i in range(20))
    data.write_text("question,answer\n" + rows + "\n")
    editor.kind_combo.setCurrentIndex(editor.kind_combo.findData("prompt"))
    panel = editor.panels["prompt"]
    assert any("Import a dataset" in e for e in editor.validation_errors())
    panel.importer.set_path(data)
    assert panel.importer.input_combo.findData("question") >= 0
    panel.importer.input_combo.setCurrentIndex(panel.importer.input_combo.findData("question"))
    panel.importer.target_combo.setCurrentIndex(panel.importer.target_combo.findData("answer"))
    with qtbot.waitSignal(panel.importer.dataset_loaded, timeout=10000):
        panel.importer.load_file()
    assert panel.importer.preview_model.rowCount() == 20
    panel.ratio_spin.setValue(0.5)
    spec = editor.current_spec()
    assert len(spec["examples"]) == 20 and spec["examples"][0]["target"] == "0"
    problem = make_problem("prompt", spec)
    assert len(problem.train_ids) == 10
    assert editor.validation_errors() == []
    panel.style_combo.setCurrentIndex(panel.style_combo.findData("text"))
    panel.position_combo.setCurrentIndex(panel.position_combo.findData("before_Q"))
    assert any("not before_Q" in e for e in editor.validation_errors())
    assert not panel.style_error.isHidden()


def _stored_specs(tmp_path):
    from opro_gui.problems.datasets import load_dataset
    from opro_gui.problems.linear_regression import LinearRegressionProblem
    from opro_gui.problems.prompt_opt import spec_from_dataset
    from opro_gui.services import ProjectSession

    data = tmp_path / "toy.jsonl"
    data.write_text(
        "".join(f'{{"input": "{i} plus {i}?", "target": "{2 * i}"}}\n' for i in range(30))
    )
    specs = {
        "tsp": TSPProblem.generate(6, 2).to_spec(),
        "linreg": LinearRegressionProblem(3, 4, seed=1).to_spec(),
        "prompt": spec_from_dataset(load_dataset(data), train_ratio=0.3),
    }
    out = {}
    for kind, spec in specs.items():
        with ProjectSession.create(tmp_path / f"{kind}.opro", kind, spec) as s:
            out[kind] = s.store.spec()
    return out


def test_unedited_spec_equals_stored_spec(editor, tmp_path):
    """The window compares current_spec() with the stored spec to decide whether the task
    changed (and a new run is needed): an untouched editor must give back the same dict."""
    for kind, stored in _stored_specs(tmp_path).items():
        editor.load(kind, stored, RunSettings())
        assert editor.current_spec() == stored, kind
        assert editor.validation_errors() == [], kind


def test_prompt_edit_changes_only_that_key(editor, tmp_path):
    stored = _stored_specs(tmp_path)["prompt"]
    editor.load("prompt", stored, RunSettings())
    panel = editor.panels["prompt"]
    panel.exemplar_spin.setValue(1)
    spec = editor.current_spec()
    assert spec["exemplar_count"] == 1
    assert {k: v for k, v in spec.items() if k != "exemplar_count"} == {
        k: v for k, v in stored.items() if k != "exemplar_count"
    }
    panel.ratio_spin.setValue(0.5)
    spec = editor.current_spec()
    assert "train_ids" not in spec and spec["train_ratio"] == 0.5
    assert len(make_problem("prompt", spec).train_ids) == 15


def test_strict_reference_parsing_is_a_project_setting(editor):
    """Issue 16: the task page's switch writes the spec key, undoably, and reads it back."""
    spec = TSPProblem.generate(8, seed=5).to_spec()
    editor.load("tsp", spec, RunSettings())
    assert "strict_reference_parsing" not in editor.current_spec()
    editor.strict_check.setChecked(True)
    assert editor.current_spec()["strict_reference_parsing"] is True
    assert make_problem("tsp", editor.current_spec()).strict  # type: ignore[attr-defined]
    editor.undo_stack.undo()
    assert "strict_reference_parsing" not in editor.current_spec()
    editor.load("tsp", {**spec, "strict_reference_parsing": True}, RunSettings())
    assert editor.strict_check.isChecked() and editor.current_spec() == {
        **spec,
        "strict_reference_parsing": True,
    }
