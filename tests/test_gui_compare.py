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


def test_lineage_draws_each_candidate_and_its_ancestor_and_shows_the_diff(
    qtbot: Any, tmp_path: Path, fake_server: Any
) -> None:
    import json

    from scripted_models import ArithmeticWorld

    from opro_gui.gui.widgets.lineage import LineageDialog
    from opro_gui.services import ProjectSession

    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(20)) + "\n")
    project = tmp_path / "p.opro"
    assert main(["new", "prompt", str(project), "--dataset", str(data), "--initial", "Solve it.",
                 "--train-ratio", "0.5"]) == 0  # fmt: skip
    with fake_server(ArithmeticWorld()) as srv:
        assert main(["run", str(project), "--steps", "2", "--samples", "2", "--base-url",
                     srv.base_url, "--optimizer-model", "fake-optimizer", "--scorer-model",
                     "fake-scorer"]) == 0  # fmt: skip
    with ProjectSession.open(project, readonly=True) as session:
        expected = session.lineage(1)
    dialog = LineageDialog(project, 1, True)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.lineage_loaded, timeout=20000):
        pass
    xs, ys = dialog.points.getData()
    assert [(x, y) for x, y in zip(xs, ys, strict=True)] == [
        (n["step"], n["score"]) for n in expected
    ]
    by_id = {n["candidate_id"]: n for n in expected}
    ex, ey = dialog.edges.getData()
    pairs = [((ex[i], ey[i]), (ex[i + 1], ey[i + 1])) for i in range(0, len(ex), 2)]
    assert (
        pairs
        == [
            (
                (by_id[n["parent_id"]]["step"], by_id[n["parent_id"]]["score"]),
                (n["step"], n["score"]),
            )
            for n in expected
            if n["parent_id"] is not None
        ]
        and pairs
    )
    child = next(n for n in expected if n["step"] == 2)
    with qtbot.waitSignal(dialog.provenance_shown, timeout=20000) as blocker:
        dialog.select(child["candidate_id"])
    assert blocker.args == [child["candidate_id"]]
    text = dialog.detail.toPlainText()
    assert "closest ancestor: step" in text and "Go step by step" in text


def test_sweep_dialog_runs_the_grid_in_the_background(
    qtbot: Any, tmp_path: Path, fake_server: Any
) -> None:
    from opro_gui.core.models import RunSettings
    from opro_gui.gui.widgets.sweep_dialog import SweepDialog
    from opro_gui.llm import EndpointConfig
    from opro_gui.services import ProjectSession

    project = tmp_path / "s.opro"
    assert main(["new", "tsp", str(project), "--points", "8", "--seed", "2"]) == 0
    srv = fake_server(two_opt_optimizer).start()
    endpoint = EndpointConfig(base_url=srv.base_url, model="model-a")
    dialog = SweepDialog(project, endpoint, None, RunSettings(max_steps=2, samples_per_step=2))
    qtbot.addWidget(dialog)
    dialog.optimizer_models.setText("model-a, model-b")
    dialog.seeds.setText("0")
    with qtbot.waitSignal(dialog.sweep_finished, timeout=30000) as blocker:
        dialog.start()
    assert blocker.args[0] == [f"{project}:1", f"{project}:2"]
    with ProjectSession.open(project, readonly=True) as session:
        models = [session.store.run(r).optimizer["model"] for r in session.run_ids()]
    assert models == ["model-a", "model-b"]
    assert set(srv.stats.models) == {"model-a", "model-b"}


def test_run_dashboard_shows_intervals_and_paired_tests(
    qtbot: Any, tmp_path: Path, fake_server: Any
) -> None:
    import json

    from scripted_models import ArithmeticWorld

    from opro_gui.services import ProjectSession

    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(30)) + "\n")
    project = tmp_path / "p.opro"
    assert main(["new", "prompt", str(project), "--dataset", str(data), "--initial", "Solve it.",
                 "--train-ratio", "0.5"]) == 0  # fmt: skip
    with fake_server(ArithmeticWorld()) as srv:
        assert main(["run", str(project), "--steps", "2", "--samples", "2", "--base-url",
                     srv.base_url, "--optimizer-model", "fake-optimizer", "--scorer-model",
                     "fake-scorer"]) == 0  # fmt: skip
        assert main(["evaluate", str(project)]) == 0
    with ProjectSession.open(project, readonly=True) as session:
        shown = session.run_summary(1).to_json()
    settings.set_settings_dir(tmp_path / "settings")
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.run_view.analysis_done, timeout=20000):
        win.open_project(str(project))
    text = win.run_view.summary_label.text()
    lo, hi = shown["best_test_accuracy_ci"]
    assert f"test (95% CI {100 * lo:.1f}–{100 * hi:.1f}%)" in text
    for t in shown["paired_tests"]:
        assert f"vs {t['b']}: p = {t['p_value']:.3g}" in text
