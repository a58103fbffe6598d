"""Template editor: prompt sections, live preview from a run's history, errors; dataset columns."""

from __future__ import annotations

import json

import pytest
from gui_helpers import make_prompt_project, make_tsp_project, no_thread_left  # noqa: F401
from PySide6.QtGui import QUndoStack

from opro_gui.gui.widgets.dataset_import import DatasetImportWidget, file_columns
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.gui.widgets.template_editor import TemplateEditor
from opro_gui.problems.linear_regression import LinearRegressionProblem
from opro_gui.services import ProjectSession, pages

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def editor(qtbot):
    stack = QUndoStack()
    widget = TemplateEditor(UndoBinder(stack))
    widget.stack = stack
    qtbot.addWidget(widget)
    return widget


def test_prompt_sections_preview_from_run_history(editor, tmp_path):
    path = make_prompt_project(tmp_path / "p.opro", steps=2, samples=2)
    with ProjectSession.open(path, readonly=True) as session:
        editor.set_task("prompt", session.store.spec())
        sections = [editor.section_combo.itemText(i) for i in range(editor.section_combo.count())]
        assert "header" in sections and "footer" in sections
        history, step, size = pages.history_top(session, 1, with_records=True)
        editor.set_history(history, step, size)  # only the top of the history is read
        editor.refresh_preview()
        preview = editor.preview_text()
        assert "Add the numbers carefully" in preview  # the run's instructions and scores
        next_step = session.store.last_step(1) + 1  # the run stops at 100 % accuracy
        assert editor.preview_label.text() == f"Preview for step {next_step}"
        assert preview == session.problem(1).render_meta_prompt(
            session.store.load_state(1, True, with_records=True).history, next_step, 20
        )
    editor.section_combo.setCurrentIndex(sections.index("footer"))
    editor.text_edit.setPlainText("Write a new instruction, please.")
    editor.refresh_preview()
    assert editor.preview_text().rstrip().endswith("Write a new instruction, please.")
    assert editor.spec_override() == {"templates": {"footer": "Write a new instruction, please."}}
    editor.section_combo.setCurrentIndex(sections.index("header"))
    assert editor.text_edit.toPlainText() != "Write a new instruction, please."
    editor.stack.undo()  # the footer edit, whichever section is shown
    assert editor.spec_override() == {}


def test_linreg_preview_uses_initial_pairs_and_reports_errors(editor):
    spec = LinearRegressionProblem(2, 5, seed=0).to_spec()
    editor.set_task("linreg", spec)
    editor.refresh_preview()
    assert "input:" in editor.preview_text() and "value:" in editor.preview_text()
    assert editor.preview_label.text() == "Preview from the initial solutions"
    editor.set_task("tsp", {"kind": "tsp", "points": [[0, 0], [1, 1]]})  # too few points
    editor.refresh_preview()
    assert not editor.error_label.isHidden()
    assert editor.preview_text() == ""


def test_reset_restores_paper_wording(editor, tmp_path):
    path = make_tsp_project(tmp_path / "t.opro", steps=1, samples=2)
    with ProjectSession.open(path, readonly=True) as session:
        spec = session.store.spec()
    editor.set_task("tsp", {**spec, "template": "Just {points} and {history}."})
    assert editor.spec_override() == {"template": "Just {points} and {history}."}
    editor.reset_button.click()
    assert editor.spec_override() == {}
    assert "{points}" in editor.text_edit.toPlainText()


def test_dataset_columns_for_jsonl(qtbot, tmp_path):
    data = tmp_path / "qa.jsonl"
    rows = [{"id": i, "q": f"{i} times two?", "a": str(2 * i)} for i in range(8)]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert file_columns(data) == ["id", "q", "a"]
    widget = DatasetImportWidget()
    qtbot.addWidget(widget)
    widget.set_path(data)
    widget.input_combo.setCurrentIndex(widget.input_combo.findData("q"))
    widget.target_combo.setCurrentIndex(widget.target_combo.findData("a"))
    with qtbot.waitSignal(widget.dataset_loaded, timeout=10000) as blocker:
        widget.load_file()
    dataset = blocker.args[0]
    # other columns are kept for chat templates' {placeholders} (issue 15)
    assert dataset.examples[3] == {"input": "3 times two?", "target": "6", "id": "3"}
    assert widget.preview_model.rowCount() == 8
    widget.set_path(tmp_path / "missing.csv")
    with qtbot.waitSignal(widget.dataset_failed, timeout=10000):
        widget.load_file()
    assert not widget.error_label.isHidden()
    assert widget.dataset() is dataset  # a failed import keeps the loaded data
