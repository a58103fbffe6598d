"""History panel: lazy candidate model, status filter, sorting, step detail, runs list."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import make_tsp_project, no_thread_left  # noqa: F401
from PySide6.QtCore import QModelIndex, Qt

from opro_gui.gui.models.dict_table import DictTableModel
from opro_gui.gui.models.history_model import (
    COL_SCORE,
    COL_STATUS,
    STATUS_ROLE,
    STEP_ROLE,
    CandidateHistoryModel,
    StatusFilterProxy,
)
from opro_gui.gui.widgets.history import HistoryPanel
from opro_gui.gui.widgets.step_detail import VERDICT_COLUMNS
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tsp_project(tmp_path / "tsp.opro", steps=6, samples=4)


@pytest.fixture
def session(project: Path):
    s = ProjectSession.open(project, readonly=True)
    yield s
    s.close()


@pytest.fixture
def document(qtbot, project: Path):
    """The project document the history model pages its rows from."""
    from opro_gui.gui.document import ProjectDocument

    doc = ProjectDocument()
    doc.open(project)
    yield doc
    doc.close()


def test_history_model_passes_modeltester(qtmodeltester, document):
    model = CandidateHistoryModel(chunk_size=5)
    model.set_source(document, 1)
    qtmodeltester.check(model, force_py=True)
    model.fetch_all()
    qtmodeltester.check(model, force_py=True)
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_statuses({"scored"})
    qtmodeltester.check(proxy, force_py=True)


def test_lazy_fetch_reads_in_chunks(session, document):
    total = len(session.store.candidates(1))  # 5 initial + 6 steps x 4
    model = CandidateHistoryModel(chunk_size=4)
    model.set_source(document, 1)
    assert model.rowCount() == 0 and model.canFetchMore()
    model.fetchMore(QModelIndex())
    first = model.rowCount()
    assert first == 4  # one page of rows from SQL, not everything
    model.fetchMore(QModelIndex())
    assert first < model.rowCount() < total
    model.fetch_all()
    assert model.rowCount() == total
    assert not model.canFetchMore()
    assert model.fetch_count >= 3
    steps = [model.index(r, 0).data(STEP_ROLE) for r in range(model.rowCount())]
    assert steps == sorted(steps)


def test_refresh_appends_new_steps_without_reset(tmp_path, qtbot):
    from gui_helpers import ScriptedOptimizer

    from opro_gui.core.models import RunSettings
    from opro_gui.gui.document import ProjectDocument

    path = make_tsp_project(tmp_path / "live.opro", steps=2, samples=4)
    reader = ProjectDocument()
    reader.open(path)
    model = CandidateHistoryModel(chunk_size=1000)
    model.set_source(reader, 1)
    model.fetch_all()
    before = model.rowCount()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    with ProjectSession.open(path) as writer:  # the "worker" continues the run to step 4
        writer.store.update_run_config(
            1,
            RunSettings(max_steps=4, samples_per_step=4, stop_at_optimum=False).to_dict(),
            writer.store.run(1).optimizer,
            None,
        )
        for _ in writer.engine(1, optimizer=ScriptedOptimizer(7, seed=9)).events():
            pass
    added = model.refresh()
    assert added == 8 and model.rowCount() == before + 8
    assert resets == []
    assert model.refresh() == 0
    reader.close()
    reader.deleteLater()


def test_status_filter_and_sort(document):
    model = CandidateHistoryModel()
    model.set_source(document, 1)
    model.fetch_all()
    statuses = {model.index(r, 0).data(STATUS_ROLE) for r in range(model.rowCount())}
    assert {"scored", "invalid"} <= statuses
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_statuses({"invalid"})
    shown = [proxy.index(r, COL_STATUS).data() for r in range(proxy.rowCount())]
    assert shown and set(shown) == {"invalid"}
    proxy.set_statuses({"scored"})
    proxy.sort(COL_SCORE, Qt.SortOrder.AscendingOrder)
    scores = [float(proxy.index(r, COL_SCORE).data()) for r in range(proxy.rowCount())]
    assert scores == sorted(scores) and len(scores) > 5
    proxy.sort(COL_SCORE, Qt.SortOrder.DescendingOrder)
    assert float(proxy.index(0, COL_SCORE).data()) == max(scores)


def test_panel_shows_meta_prompt_of_selected_step(qtbot, project, session):
    panel = HistoryPanel(chunk_size=4)
    qtbot.addWidget(panel)
    panel.set_project(project)
    assert panel.runs_combo.count() == 1
    with qtbot.waitSignal(panel.candidate_selected) as blocker:
        panel.select_candidate(3, 2)  # beyond the first chunk: fetched on demand
    assert blocker.args == [3, 2]
    expected = session.step_detail(1, 3).meta_prompt
    assert panel.detail_pane.meta_prompt_view.toPlainText() == expected
    assert "<trace>" in panel.detail_pane.completions_view.toPlainText()
    assert panel.selected_candidate() == (3, 2)
    assert panel.replay_button.isEnabled()
    verdicts = panel.detail_pane.verdict_model
    assert verdicts.rowCount() == 4
    panel.set_project(None)
    assert panel.model.rowCount() == 0 and panel.detail_pane.detail is None


def test_panel_filter_boxes_hide_rows(qtbot, project):
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    panel.model.fetch_all()
    total = panel.proxy.rowCount()
    panel.status_boxes["scored"].setChecked(False)
    remaining = {panel.proxy.index(r, COL_STATUS).data() for r in range(panel.proxy.rowCount())}
    assert panel.proxy.rowCount() < total and "scored" not in remaining
    panel.select_candidate(0, 0)  # a scored row: its filter box is switched back on
    assert panel.status_boxes["scored"].isChecked()
    assert panel.selected_candidate() == (0, 0)
    assert not panel.replay_button.isEnabled()  # step 0 has no meta-prompt to replay


def test_runs_combo_switches_runs(qtbot, project):
    with ProjectSession.open(project) as s:
        forked = s.fork(1, 2)
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project, run_id=1)
    assert panel.runs_combo.count() == 2
    assert panel.current_run_id() == 1
    with qtbot.waitSignal(panel.run_selected) as blocker:
        panel.show_run(forked)
    assert blocker.args == [forked]
    panel.model.fetch_all()
    steps = {panel.model.index(r, 0).data(STEP_ROLE) for r in range(panel.model.rowCount())}
    assert max(steps) == 2
    assert "fork of run 1" in panel.runs_combo.currentText()


def test_detail_models_pass_modeltester(qtmodeltester, session):
    model = DictTableModel(VERDICT_COLUMNS)
    model.set_rows(session.step_detail(1, 2).to_json()["candidates"])
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 4


def test_prompt_detail_shows_scorer_answers(qtbot, tmp_path):
    from gui_helpers import make_prompt_project

    path = make_prompt_project(tmp_path / "prompt.opro", steps=2, samples=2)
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(path)
    panel.select_candidate(1, 0)
    pane = panel.detail_pane
    assert pane.tabs.isTabVisible(pane.tabs.indexOf(pane.records_view.parentWidget()))
    records = pane.records_model
    assert records.rowCount() == 6  # the training split: 6 of 12 examples
    row = records.row_data(0)
    assert "what is" in row.prompt and row.raw_answer.startswith("The answer is")
    i = row.example_id  # the example's own input and expected answer sit beside the answer
    assert (row.input, row.gold) == (f"what is {i} plus {i + 1}?", str(2 * i + 1))
    correct_col = [c.key for c in records.columns].index("correct")
    assert records.index(0, correct_col).data() == "✓"  # "carefully" instructions score
    assert "6/6 correct" in pane.records_label.text()
    panel.select_candidate(0, 0)  # the initial instruction: every answer off by one
    assert "0/6 correct" in pane.records_label.text()
    assert records.index(0, correct_col).data() == "✗"


def test_unreadable_project_reports_instead_of_raising(qtbot, project):
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    panel.session.store.conn.close()  # the connection is gone (like a vanished network drive)
    with qtbot.waitSignal(panel.error_occurred) as blocker:
        panel.refresh()
    assert "Cannot read the history" in blocker.args[0]
    assert panel.count_label.text() == blocker.args[0]
    project.unlink()
    project.write_bytes(b"this is no longer a database")
    with qtbot.waitSignal(panel.error_occurred) as blocker:
        panel.set_project(project)  # reopening fails cleanly too
    assert "not a SQLite database" in blocker.args[0]
    assert panel.session is None and panel.runs_combo.count() == 0
    assert panel.count_label.text() == blocker.args[0]


def test_the_run_list_calls_an_interrupted_run_what_show_calls_it(tmp_path: Path) -> None:
    import socket

    from opro_gui.gui.widgets.history import run_label
    from opro_gui.services.pages import run_header

    path = tmp_path / "s.opro"
    spec = {"points": [[0, 0], [3, 0], [0, 4]]}
    with ProjectSession.create(path, "tsp", spec) as session:
        run_id = session.store.create_run({"max_steps": 3}, {"model": "m", "base_url": "u"}, None)
        dead = 2**22 + 12345  # above the default pid_max: no such process
        mark = f"written by process {dead} on {socket.gethostname()}"
        session.store.set_status(run_id, "running", mark)
        assert session.run_summary(run_id).status == "interrupted"
        assert run_label(run_header(session, run_id)) == "Run 1 — interrupted, 0 step(s)"
