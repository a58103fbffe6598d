"""Inspecting prompts (issue 11 item 5) and File ▸ Export (item 6): the scorer answers table,
the replay's scores and its summary line, exports equal to `opro export`'s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from scripted_models import ArithmeticWorld
from test_gui_shell import loaded
from test_prompt_e2e import make_project, opro, roles

from opro_gui.core.models import ExampleRecord
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets.answers_table import AnswersTable
from opro_gui.gui.widgets.history import HistoryPanel
from opro_gui.gui.widgets.replay import ReplayDialog
from opro_gui.services import ProjectSession
from opro_gui.services.inspection import answer_rows

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def project(tmp_path: Path, capsys: Any, fake_server: Any) -> Path:
    """A prompt project on the suite's arithmetic data, two steps run against the server."""
    path = make_project(tmp_path, capsys)
    with fake_server(ArithmeticWorld()) as srv:
        code = opro(
            capsys, "run", str(path), "--steps", "2", "--samples", "2", *roles(srv.base_url)
        )
        assert code[0] == 0, code[2]
    return path


def column(table: AnswersTable, key: str) -> list[str]:
    col = table.model.column_of(key)
    return [table.proxy.index(r, col).data() for r in range(table.proxy.rowCount())]


def test_scorer_answers_table_has_gold_sorts_filters_and_wraps(qtbot: Any, project: Path) -> None:
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    panel.select_candidate(0, 0)  # the initial instruction "Solve it.": some right, most wrong
    table = panel.detail_pane.answers
    with ProjectSession.open(project, readonly=True) as s:
        spec = s.store.spec()
        cand = next(c for c in s.store.candidates(1) if (c.step, c.index) == (0, 0))
        records = sorted(s.store.records(candidate_id=cand.id), key=lambda r: r.example_id)
    assert len(records) == len(spec["train_ids"]) == 20
    headers = [table.model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers[:6] == ["#", "Input", "Gold", "Raw answer", "Parsed", "Correct"]
    # Sorted by example; input and gold are the dataset's, beside what the scorer said.
    assert column(table, "gold") == [spec["examples"][r.example_id]["target"] for r in records]
    assert column(table, "input") == [spec["examples"][r.example_id]["input"] for r in records]
    assert column(table, "raw_answer") == [r.raw_answer for r in records]
    assert column(table, "correct") == ["✓" if r.correct else "✗" for r in records]
    # No verdicts (paper grading) and no errors: those columns take no room.
    hidden = [table.view.isColumnHidden(c) for c in range(8)]
    assert hidden == [False] * 6 + [True, True]
    right = sum(1 for r in records if r.correct)
    assert 0 < right < 20
    # Sorting by Correct puts the wrong answers first, then the right ones.
    table.view.sortByColumn(table.model.column_of("correct"), Qt.SortOrder.AscendingOrder)
    assert column(table, "correct") == ["✗"] * (20 - right) + ["✓"] * right
    # Only wrong.
    table.only_wrong_check.setChecked(True)
    assert [r.example_id for r in table.shown_rows()] == sorted(
        r.example_id for r in records if not r.correct
    )
    assert table.count_label.text() == f"{20 - right} of 20"
    table.only_wrong_check.setChecked(False)
    # A text filter over input, gold and answers.
    wanted = spec["examples"][records[3].example_id]["input"]
    table.filter_edit.setText(wanted.upper())
    assert [r.input for r in table.shown_rows()] == [wanted]
    table.filter_edit.clear()
    assert table.proxy.rowCount() == 20
    # Wrap on demand: the view wraps and rows grow to their full text; off again, one line.
    one_line = table.view.rowHeight(0)
    long_answer = "The answer is\nclearly this, after a long line of reasoning " * 3
    rows = answer_rows(None, [ExampleRecord(0, "Q?", long_answer, "7", False)])
    table.set_rows(rows)
    table.view.setColumnWidth(table.model.column_of("raw_answer"), 120)
    table.wrap_check.setChecked(True)
    assert table.view.wordWrap() and table.view.rowHeight(0) > 2 * one_line
    assert table.proxy.index(0, table.model.column_of("raw_answer")).data() == long_answer
    table.wrap_check.setChecked(False)
    assert not table.view.wordWrap() and table.view.rowHeight(0) == one_line
    assert "\n" not in table.proxy.index(0, table.model.column_of("raw_answer")).data()
    panel.set_project(None)


def test_error_column_appears_only_with_errors(qtbot: Any) -> None:
    table = AnswersTable()
    qtbot.addWidget(table)
    ok = ExampleRecord(1, "Q1", "The answer is 3.", "3", True)
    failed = ExampleRecord(2, "Q2", "", "", None, "HTTP 500: server error")
    error_col = table.model.column_of("error")
    table.set_rows(answer_rows(None, [ok]))
    assert table.view.isColumnHidden(error_col)
    table.set_rows(answer_rows(None, [ok, failed]))
    assert not table.view.isColumnHidden(error_col)
    correct_col = table.model.column_of("correct")
    assert table.proxy.index(1, correct_col).data() == "failed"
    assert "HTTP 500" in table.proxy.index(1, correct_col).data(Qt.ItemDataRole.ToolTipRole)
    table.only_wrong_check.setChecked(True)  # a failed request is not a right answer
    assert [r.example_id for r in table.shown_rows()] == [2]


def test_replay_shows_scores_in_a_table_and_compares_with_the_original(
    qtbot: Any, project: Path, fake_server: Any
) -> None:
    with fake_server(ArithmeticWorld()) as srv:
        with ProjectSession.open(project) as s:  # the run's endpoints point at this server
            s.store.conn.execute(
                "UPDATE run SET optimizer = json_set(optimizer, '$.base_url', ?),"
                " scorer = json_set(scorer, '$.base_url', ?)", (srv.base_url, srv.base_url)
            )  # fmt: skip
            s.store.conn.commit()
        dialog = ReplayDialog(project, 1, 2, {})
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.replay_stored, timeout=30_000) as stored:
            dialog.send()
    with ProjectSession.open(project, readonly=True) as s:
        replay = next(r for r in s.store.replays(1, 2) if r.id == stored.args[0])
        original = s.store.step_detail(1, 2)
    assert original is not None
    mine = max(c.score for c in replay.candidates if c.score is not None)
    theirs = max(c.score for c in original.candidates if c.status == "scored")
    word = "better" if mine > theirs else "worse" if mine < theirs else "the same"
    parsed = len({c.completion_index for c in replay.candidates if c.solution is not None})
    n = len(replay.completions)
    assert dialog.summary_label.text() == (
        f"Replay best {100 * mine:.1f}% vs original {100 * theirs:.1f}% "
        f"({100 * (mine - theirs):+.1f} points, {word}), {parsed} of {n} parsed"
    )
    model = dialog.replay_model
    score_col = [c.key for c in model.columns].index("score")
    assert [model.index(r, score_col).data() for r in range(model.rowCount())] == [
        f"{100 * c.score:.1f}%" for c in replay.candidates
    ]
    originals = dialog.original_model
    assert originals.rowCount() == len(original.candidates)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, project: Path) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.open_project(project)
    loaded(qtbot, win)
    return win


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_file_export_writes_what_opro_export_writes(
    qtbot: Any, window: MainWindow, project: Path, tmp_path: Path, capsys: Any, fmt: str
) -> None:
    ours, cli = tmp_path / f"gui.{fmt}", tmp_path / f"cli.{fmt}"
    window.menus.exports.export_to(ours, fmt)
    qtbot.waitUntil(ours.exists, timeout=10_000)
    qtbot.waitUntil(lambda: "Exported to" in window.statusBar().currentMessage(), timeout=10_000)
    assert opro(capsys, "export", str(project), "--format", fmt, "-o", str(cli))[0] == 0
    if fmt == "csv":
        assert ours.read_text() == cli.read_text()
    else:
        a, b = json.loads(ours.read_text()), json.loads(cli.read_text())
        assert a.pop("exported_at") and b.pop("exported_at")
        assert a == b


def test_best_instruction_as_text_and_copy(
    qtbot: Any, window: MainWindow, project: Path, tmp_path: Path, capsys: Any
) -> None:
    best = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert best["best_instruction"]
    window.menus.exports.refresh()
    assert window.menus.exports.best_text_action.text() == "Best Instruction as &Text…"
    assert window.menus.exports.copy_best_action.text() == "&Copy Best Instruction"
    target = tmp_path / "best.txt"
    window.menus.exports.export_to(target, "txt")
    qtbot.waitUntil(target.exists, timeout=10_000)
    assert target.read_text() == best["best_instruction"] + "\n"
    window.menus.exports.copy_best_action.trigger()
    assert QGuiApplication.clipboard().text() == best["best_instruction"]


def test_replay_summary_is_worded_by_the_kind() -> None:
    from opro_gui.core.models import Candidate, CandidateStatus
    from opro_gui.core.rows import ReplayCandidate
    from opro_gui.problems import get_kind
    from opro_gui.services.inspection import replay_summary

    tsp = get_kind("tsp")  # lower is better; lengths as integers with thousands separators
    original = [
        Candidate(3, 0, 0, [0, 1, 2], "0,1,2", CandidateStatus.SCORED, score=1250.0),
        Candidate(3, 1, 1, [0, 2, 1], "0,2,1", CandidateStatus.SCORED, score=1300.0),
    ]
    replayed = [
        ReplayCandidate(0, "0,2,1", [0, 2, 1], "scored", score=1234.0),
        ReplayCandidate(1, "no tour here", None, "invalid", "no <trace>"),
    ]
    assert replay_summary(tsp, original, replayed, 2) == (
        "Replay best 1,234 vs original 1,250 (-16, better), 1 of 2 parsed"
    )
    unscored = [ReplayCandidate(0, "0,2,1", [0, 2, 1], "parsed")]
    assert replay_summary(tsp, original, unscored, 1) == (
        "Replay not scored (original best 1,250), 1 of 1 parsed"
    )
    prompt = get_kind("prompt")
    mine = [ReplayCandidate(0, "Go.", "Go.", "scored", score=0.62)]
    theirs = [Candidate(2, 0, 0, "Be.", "Be.", CandidateStatus.SCORED, score=0.58)]
    assert replay_summary(prompt, theirs, mine, 1) == (
        "Replay best 62.0% vs original 58.0% (+4.0 points, better), 1 of 1 parsed"
    )


def test_export_menu_names_the_best_by_kind(qtbot: Any, tmp_path: Path) -> None:
    settings.set_settings_dir(tmp_path / "settings")
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.new_project("tsp", tmp_path / "t.opro")
    loaded(qtbot, win)
    exports = win.menus.exports
    exports.refresh()
    assert exports.best_text_action.text() == "Best Solution as &Text…"
    assert exports.copy_best_action.text() == "&Copy Best Solution"
    assert exports.json_action.isEnabled()
    assert not exports.copy_best_action.isEnabled()  # no run yet: nothing to copy
