"""GUI: the Compare dialog overlays the runs' best-so-far curves (by step or by tokens), and
File ▸ Export Report writes the HTML report in the background."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from scripted_models import two_opt_optimizer

from opro_gui.cli import main
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets.compare_dialog import CompareDialog
from opro_gui.services.report_html import SECTIONS

pytestmark = pytest.mark.usefixtures("no_thread_left")


def _project(tmp_path: Path, fake_server: Any) -> Path:
    project = tmp_path / "t.opro"
    assert main(["new", "tsp", str(project), "--points", "9", "--seed", "6"]) == 0
    with fake_server(two_opt_optimizer) as srv:
        for samples in ("2", "3"):
            code = main(["run", str(project), "--steps", "3", "--samples", samples, "--new-run",
                         "--base-url", srv.base_url, "--model", "fake-optimizer"])  # fmt: skip
            assert code == 0
    return project


def test_compare_dialog_plots_each_runs_curve_by_step_and_by_tokens(
    qtbot: Any, tmp_path: Path, fake_server: Any
) -> None:
    project = _project(tmp_path, fake_server)
    conn = sqlite3.connect(project)
    expected = {}
    for run_id in (1, 2):
        steps = conn.execute(
            "SELECT step, best_score FROM step WHERE run_id = ? ORDER BY step", (run_id,)
        ).fetchall()
        tokens = dict(
            conn.execute(
                "SELECT step, SUM(prompt_tokens + completion_tokens) FROM llm_call"
                " WHERE run_id = ? GROUP BY step",
                (run_id,),
            ).fetchall()
        )
        cumulative, spent = [], 0
        for s, _ in steps:
            spent += tokens.get(s, 0)
            cumulative.append(float(spent))
        expected[f"t.opro:{run_id}"] = ([float(s) for s, _ in steps], [b for _, b in steps],
                                        cumulative)  # fmt: skip
    conn.close()
    dialog = CompareDialog([str(project)])
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.comparison_loaded, timeout=20000):
        pass
    assert set(dialog.curve_items) == set(expected)
    for ref, (xs, ys, _) in expected.items():
        x, y = dialog.curve_items[ref].getData()
        assert list(x) == xs and list(y) == ys
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 0).text() == "t.opro:1"
    dialog.align.setCurrentIndex(1)
    for ref, (_, ys, tokens) in expected.items():
        x, y = dialog.curve_items[ref].getData()
        assert list(x) == tokens and list(y) == ys
    assert dialog.plot.getPlotItem().getAxis("bottom").labelText == "tokens spent"


def test_compare_dialog_says_why_it_cannot_compare(qtbot: Any, tmp_path: Path) -> None:
    project = tmp_path / "empty.opro"
    assert main(["new", "tsp", str(project), "--points", "5"]) == 0
    dialog = CompareDialog([str(project)])
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.comparison_failed, timeout=20000) as blocker:
        pass
    assert "has no runs yet" in blocker.args[0]
    assert "has no runs yet" in dialog.message.text()


def test_export_report_from_the_file_menu(
    qtbot: Any, tmp_path: Path, fake_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, fake_server)
    settings.set_settings_dir(tmp_path / "settings")
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(str(project))
    qtbot.waitUntil(lambda: win.session is not None, timeout=10000)
    target = tmp_path / "out.html"
    monkeypatch.setattr(
        "opro_gui.gui.widgets.shell_menus.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(tmp_path / "out"), ""),
    )
    win.menus.export_report_action.trigger()
    qtbot.waitUntil(lambda: "Report written" in win.statusBar().currentMessage(), timeout=20000)
    html = target.read_text(encoding="utf-8")
    for section_id, heading in SECTIONS:
        assert f"<section id='{section_id}'><h2>{heading}</h2>" in html
