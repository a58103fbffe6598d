"""The dataset preview shows what tells rows apart (middle elision, whole text in a tooltip),
and a newly loaded dataset gives a prompt task its name unless the user typed one (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle

from opro_gui.core.models import RunSettings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.models.preview_table import shared_ends
from opro_gui.gui.widgets.dataset_import import DatasetImportWidget
from opro_gui.gui.widgets.task_editor import TaskEditor
from opro_gui.services import ProjectSession

pytestmark = [
    pytest.mark.usefixtures("no_thread_left"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # the offscreen platform, on show()
]
OPENING = "Is the following sentence plausible? "
ENDINGS = (
    "Joao Moutinho caught the screen pass in the NFC championship.",
    "Jamal Murray was perfect from the line.",
    "Sam Darnold passed the puck across the blue line.",
)


def write_jsonl(path: Path, inputs: list[str], targets: list[str]) -> Path:
    lines = [json.dumps({"input": i, "target": t}) for i, t in zip(inputs, targets, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(qtbot: Any, importer: DatasetImportWidget, path: Path) -> None:
    importer.set_path(path)
    with qtbot.waitSignal(importer.dataset_loaded, timeout=10_000):
        importer.load_file()


def shown_texts(importer: DatasetImportWidget, column: int = 0) -> list[str]:
    """Each cell's text as the view paints it: elided to the column's text width."""
    view, model = importer.preview, importer.preview_model
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    width = view.columnWidth(column) - 2 * margin
    fm = view.fontMetrics()
    texts = [model.index(r, column).data() for r in range(model.rowCount())]
    return [fm.elidedText(t, view.textElideMode(), width) for t in texts]


def test_rows_sharing_a_long_opening_show_different_texts_and_full_tooltips(
    qtbot: Any, tmp_path: Path
) -> None:
    inputs = [OPENING * 3 + ending for ending in ENDINGS]  # the shared part is long
    data = write_jsonl(tmp_path / "sports.jsonl", inputs, ["yes", "yes", "no"])
    importer = DatasetImportWidget()
    qtbot.addWidget(importer)
    importer.resize(420, 400)  # a Task dock's width
    importer.show()
    qtbot.waitExposed(importer)
    load(qtbot, importer, data)
    view, model = importer.preview, importer.preview_model
    assert view.textElideMode() == Qt.TextElideMode.ElideMiddle and not view.wordWrap()
    shown = shown_texts(importer)
    assert all("…" in s for s in shown)  # too long for the column: shortened ...
    assert len(set(shown)) == 3  # ... and still different from each other
    for text, ending in zip(shown, ENDINGS, strict=True):
        assert text.endswith(ending[-12:])  # the part that differs stays visible
    tips = [model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) for r in range(3)]
    assert tips == inputs
    assert model.index(2, 1).data(Qt.ItemDataRole.ToolTipRole) == "no"
    # What the issue saw: elided at the end, every row reads the same.
    fm, width = view.fontMetrics(), view.columnWidth(0) - 8
    assert len({fm.elidedText(t, Qt.TextElideMode.ElideRight, width) for t in inputs}) == 1


def test_sports_understanding_rows_are_told_apart(
    qtbot: Any, shared_data: Path, tmp_path: Path
) -> None:
    importer = DatasetImportWidget()
    qtbot.addWidget(importer)
    importer.resize(420, 400)
    importer.show()
    qtbot.waitExposed(importer)
    load(qtbot, importer, shared_data / "BIG-Bench-Hard-data" / "sports_understanding.json")
    model = importer.preview_model
    full = [model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) for r in range(model.rowCount())]
    assert all(t.startswith("Is the following sentence plausible?") for t in full)
    assert len(set(shown_texts(importer))) == len(set(full))


# -- the task name follows the dataset --------------------------------------------------------
def bbh_like(tmp_path: Path, name: str, n: int = 6) -> Path:
    inputs = [f"{name} question {i}?" for i in range(n)]
    return write_jsonl(tmp_path / f"{name}.jsonl", inputs, ["yes"] * n)


def test_a_loaded_dataset_names_the_task_unless_the_user_typed_a_name(
    qtbot: Any, tmp_path: Path
) -> None:
    editor = TaskEditor()
    qtbot.addWidget(editor)
    first = bbh_like(tmp_path, "boolean_expressions")
    spec = {"kind": "prompt", "task_name": "boolean_expressions", "examples": [
        {"input": "True and False is", "target": "False"}] * 1}  # fmt: skip
    editor.load("prompt", spec, RunSettings())
    panel = editor.panels["prompt"]
    load(qtbot, panel.importer, bbh_like(tmp_path, "sports_understanding"))
    assert panel.task_name_edit.text() == "sports_understanding"
    assert editor.current_spec()["task_name"] == "sports_understanding"
    load(qtbot, panel.importer, first)
    assert editor.current_spec()["task_name"] == "boolean_expressions"
    panel.task_name_edit.setText("my_own_task")  # as typing does: one undoable edit
    load(qtbot, panel.importer, bbh_like(tmp_path, "date_understanding"))
    assert panel.task_name_edit.text() == "my_own_task"
    assert editor.current_spec()["task_name"] == "my_own_task"
    assert len(editor.current_spec()["examples"]) == 6  # the data did change


def new_prompt_project_with(
    qtbot: Any, win: MainWindow, path: Path, datasets: list[Path]
) -> dict[str, Any]:
    """File ▸ New (prompt), load each dataset in turn, Save; the stored task definition."""
    assert win.new_project("prompt", path)
    qtbot.waitUntil(lambda: not win.document.is_loading, timeout=10_000)
    assert win.task_editor is not None
    panel = win.task_editor.panels["prompt"]
    for data in datasets:
        load(qtbot, panel.importer, data)
    assert win.save()
    win.close()
    with ProjectSession.open(path) as session:
        return session.store.spec()


def test_a_new_prompt_project_takes_the_new_datasets_name(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    data = [bbh_like(tmp_path, "boolean_expressions"), bbh_like(tmp_path, "sports_understanding")]
    spec = new_prompt_project_with(qtbot, window, tmp_path / "new.opro", data)
    assert spec["task_name"] == "sports_understanding"
    assert [e["input"] for e in spec["examples"]][:1] == ["sports_understanding question 0?"]


def test_a_new_prompt_project_takes_the_bbh_datasets_name(
    qtbot: Any, window: MainWindow, tmp_path: Path, shared_data: Path
) -> None:
    bbh = shared_data / "BIG-Bench-Hard-data"
    data = [bbh / "boolean_expressions.json", bbh / "sports_understanding.json"]
    spec = new_prompt_project_with(qtbot, window, tmp_path / "sports.opro", data)
    assert spec["task_name"] == "sports_understanding"
    assert spec["examples"][0]["input"].startswith("Is the following sentence plausible?")


def test_shared_ends_are_whole_words_and_long_enough() -> None:
    opening = "Is the following sentence plausible? "
    assert shared_ends([opening + "A ran.", opening + "B swam."]) == (opening, "")
    assert shared_ends(["same start x", "same start y"]) == ("", "")  # too short to cut
    options = "\nOptions:\n(A) Yes\n(B) No"
    assert shared_ends(["Is it red?" + options, "Was it blue?" + options]) == ("", options)
    assert shared_ends(["only one row, however long it is"]) == ("", "")
    assert shared_ends([opening, opening + "more"]) == ("", "")  # a row that is all opening
