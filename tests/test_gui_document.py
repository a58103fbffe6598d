"""The project document: opening B after A leaves nothing of A on screen, one status wording
for a run everywhere, a kind from the test suite alone in the window, bounded reads on open."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import toy_kind
from gui_helpers import make_tsp_project

from opro_gui.core.models import RunSettings
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects
from opro_gui.problems import register_kind, unregister_kind
from opro_gui.services import ProjectSession


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    from opro_gui.gui import main_window

    monkeypatch.setattr(
        main_window.QMessageBox, "warning", lambda _p, title, text, *a: shown.append(title)
    )
    return shown


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages: list[str]):
    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def loaded(qtbot: Any, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.document.is_loading, timeout=15_000)
    # Not shown offscreen: apply the autorange a paint would apply.
    win.run_view.score_plot.plot_widget.getPlotItem().getViewBox().updateAutoRange()


def _xs(item: Any) -> list[float]:
    x = item.getData()[0]
    return [] if x is None else list(x)


def on_screen(win: MainWindow) -> dict[str, Any]:
    """Every label, axis, legend and table the window shows about the open project."""
    view, plot = win.run_view, win.run_view.score_plot
    item = plot.plot_widget.getPlotItem()
    domain = view.domain_view
    texts = [view.summary_label.text(), view.banner.text()]
    for name in ("gap_label", "fit_label", "label"):
        if domain is not None and hasattr(domain, name):
            texts.append(getattr(domain, name).text())
    history = win.history
    return {
        "texts": texts,
        "baselines": plot.baseline_labels(),
        "axis": item.getAxis("left").labelText,
        "legend": [label.text for _sample, label in plot._legend.items],
        "points": plot.point_count,
        "best": len(_xs(plot.best_curve)),
        "x_range": item.viewRange()[0],
        "y_range": item.viewRange()[1],
        "runs": [history.runs_combo.itemText(i) for i in range(history.runs_combo.count())],
        "rows": history.model.rowCount(),
        "tab": view.tabs.tabText(view.tabs.currentIndex()),
        "visible_tabs": [
            view.tabs.tabText(i) for i in range(view.tabs.count()) if view.tabs.isTabVisible(i)
        ],
    }


def test_opening_b_after_a_shows_only_b(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    a = make_tsp_project(tmp_path / "a.opro", n_points=7, steps=3, samples=4)
    assert window.open_project(a)
    loaded(qtbot, window)
    seen_a = on_screen(window)
    with ProjectSession.open(a, readonly=True) as s:
        facts_a = s.problem().summary()
        scored_a = sum(c.status == "scored" for c in s.store.candidates(1))
    assert seen_a["points"] == scored_a and seen_a["best"] == 4 and seen_a["rows"] > 0
    assert seen_a["runs"] == ["Run 1 — completed, 3 step(s)"]
    assert f"nearest neighbour: {facts_a['nearest_neighbour']:g}" in seen_a["baselines"]

    # B: the 12-city TSPLIB example, no run yet (the 615 / 603 / 603).
    assert window.open_example("tsp-sample-12")
    loaded(qtbot, window)
    seen_b = on_screen(window)
    assert seen_b["baselines"] == [
        "nearest neighbour: 615",
        "farthest insertion: 603",
        "optimum: 603",
    ]
    assert seen_b["points"] == seen_b["best"] == seen_b["rows"] == 0
    assert seen_b["runs"] == []
    assert seen_b["texts"][0] == "No run yet. Press Run (Ctrl+R) to start."
    assert "No tour yet" in seen_b["texts"]
    assert seen_b["legend"] == ["candidates", "best so far"]
    assert seen_b["visible_tabs"] == ["Score", "Tour"]

    # C: linear regression: no TSP line, view or label is left, and the empty y axis is sane.
    assert window.open_example("linreg-w15-b14")
    loaded(qtbot, window)
    seen_c = on_screen(window)
    with ProjectSession.open(window.document.path, readonly=True) as s:
        loss = s.problem().summary()["optimum_loss"]
    assert seen_c["baselines"] == [f"integer optimum: {loss:g}"]
    assert seen_c["axis"] == "loss (lower is better)"
    assert seen_c["visible_tabs"] == ["Score", "Fit"]
    assert seen_c["points"] == seen_c["rows"] == 0 and seen_c["runs"] == []
    low, high = seen_c["y_range"]
    assert -10 < low < high < 20  # log10 units: never 1e-300 .. 1e300
    assert seen_a["x_range"][1] > 3 and seen_c["x_range"][1] < 2  # A's 3 steps are gone
    everything = " ".join(seen_c["texts"] + seen_c["baselines"] + seen_c["legend"])
    for old in ("615", "603", "nearest neighbour", "farthest", "tour"):
        assert old not in everything


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_interrupted_run_has_one_wording_in_history_and_run_view(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = make_tsp_project(tmp_path / "killed.opro", steps=2, samples=2)
    with ProjectSession.open(path) as s:  # as a killed `opro run` leaves it
        mark = f"written by process {_dead_pid()} on {socket.gethostname()}"
        s.store.set_status(1, "running", mark)
    assert window.open_project(path)
    loaded(qtbot, window)
    combo = window.history.runs_combo.itemText(0)
    summary = window.run_view.summary_label.text()
    assert combo == "Run 1 — interrupted, 2 step(s)"
    assert summary.startswith("Run 1: interrupted: the process running it stopped")
    assert "running" not in combo and ": running" not in summary


@pytest.fixture
def onemax() -> Iterator[None]:
    register_kind(toy_kind.KIND)
    toy_kind.flip_optimizer.counter = 0  # type: ignore[attr-defined]
    yield
    unregister_kind("onemax")


def test_a_kind_from_the_test_suite_opens_runs_plots_and_lists_its_history(
    qtbot: Any, window: MainWindow, tmp_path: Path, fake_server: Any, onemax: None
) -> None:
    path = tmp_path / "bits.opro"
    ProjectSession.create(path, "onemax", toy_kind.OneMaxProblem(12, 0).to_spec()).close()
    server = fake_server(toy_kind.flip_optimizer).start()
    settings.save_profiles(
        {"fake": {"base_url": server.base_url, "model": "fake-optimizer", "preset": "Custom"}}
    )
    settings.set_role_profile("optimizer", "fake")
    window.model_panel.reload()
    assert window.open_project(path)
    loaded(qtbot, window)
    view = window.run_view
    assert view.kind == "onemax" and view.domain_view is None  # no GUI entry: plot only
    assert view.score_plot.plot_widget.getPlotItem().getAxis("left").labelText == "ones"
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as done:
        assert window.start_run(RunSettings(max_steps=3, samples_per_step=2))
    assert done.args[0].status == "completed"
    qtbot.waitUntil(lambda: not view.analysis_pending, timeout=15_000)
    with ProjectSession.open(path, readonly=True) as s:
        cands = s.store.candidates(1)
        best = s.run_summary(1).best_score
    scored = [c for c in cands if c.status == "scored"]
    assert view.score_plot.point_count == len(scored)
    assert _xs(view.score_plot.best_curve) == [0, 1, 2, 3]
    assert f"best {best:g}" in view.summary_label.text()
    window.history.refresh()
    window.history.model.fetch_all()
    assert window.history.model.rowCount() == len(cands)
    assert window.history.runs_combo.itemText(0) == "Run 1 — completed, 3 step(s)"


def test_opening_reads_one_page_of_the_history(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = make_tsp_project(tmp_path / "long.opro", steps=12, samples=30)
    window.history.model.chunk_size = 50
    assert window.open_project(path)
    loaded(qtbot, window)
    model = window.history.model
    assert model.fetch_count == 1 and model.rowCount() == 50  # one page, more on demand
    assert model.canFetchMore()
    with ProjectSession.open(path, readonly=True) as s:
        total = len(s.store.candidates(1))
    model.fetch_all()
    assert model.rowCount() == total


def test_damage_found_by_the_background_check_closes_the_project_with_one_message(
    qtbot: Any,
    window: MainWindow,
    tmp_path: Path,
    messages: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page scan (O(file size)) runs in the background: what it finds closes the project
    and says so once, like a failure on the GUI thread would."""
    from opro_gui.gui import document
    from opro_gui.services import ProjectError

    def torn(path: Path, run_id: int | None) -> Iterator[object]:
        raise ProjectError(f"{path.name} is damaged and cannot be read (page 7)")
        yield  # a generator, like the real read

    path = make_tsp_project(tmp_path / "torn.opro", steps=1, samples=2)
    monkeypatch.setattr(document, "read_project", torn)
    assert window.open_project(path)  # the cheap checks on the GUI thread pass
    qtbot.waitUntil(lambda: bool(messages), timeout=15_000)
    assert messages == ["Cannot open the project"]
    assert window.last_message.startswith("Cannot open the project: torn.opro is damaged")
    assert window.document.path is None and window.windowTitle() == "OPRO Studio"
    assert window.history.runs_combo.count() == 0 and window.run_view.kind == ""


def test_an_older_file_is_upgraded_off_the_gui_thread_then_opens(
    qtbot: Any,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json
    import sqlite3
    import threading

    from test_run_stats import build, make_version_1

    from opro_gui.cli import main
    from opro_gui.storage import schema

    path = build(tmp_path / "old.opro", "tsp")
    assert main(["show", str(path), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    make_version_1(path)
    upgraded_in: list[threading.Thread] = []
    real_upgrade = schema.upgrade

    def upgrade(conn: Any, version: int) -> None:
        upgraded_in.append(threading.current_thread())
        real_upgrade(conn, version)

    monkeypatch.setattr(schema, "upgrade", upgrade)
    assert window.open_project(path)
    # Nothing was read or written on the GUI thread yet: the upgrade runs in the background.
    assert window.document.upgrading == path and window.document.session is None
    assert window.status_label.text().startswith("Upgrading old.opro")
    loaded(qtbot, window)
    assert upgraded_in and threading.main_thread() not in upgraded_in
    assert window.document.upgrading is None and window.document.path == path
    assert window.document.run_id == expected["runs"][-1]["id"]
    assert window.status_label.text() == "Opened old.opro (upgraded)"
    assert window.windowTitle().startswith("old.opro")
    window.document.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert main(["show", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected  # the upgraded file reads the same


def test_background_values_reach_the_views_one_per_turn_in_read_order(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    """What the background read finds is handed over one value per turn of the event loop:
    anything posted meanwhile (input, paints, a zero timer) runs between two views' drawing."""
    from PySide6.QtCore import QTimer

    path = make_tsp_project(tmp_path / "p.opro", steps=4)
    doc = window.document
    seen: list[tuple[str, int]] = []

    def on(name: str) -> Any:
        def record(_payload: object) -> None:
            seen.append((name, doc.pending_values))
            QTimer.singleShot(0, lambda: seen.append(("turn", doc.pending_values)))

        return record

    for name in ("project_loaded", "run_loaded", "summary_loaded", "preview_loaded"):
        getattr(doc, name).connect(on(name))
    doc.curve_loaded.connect(on("curve_loaded"))
    assert window.open_project(path)
    assert doc.wait_loaded()  # everything is read: only the handing over is left
    loaded(qtbot, window)
    views = [name for name, _ in seen if name != "turn"]
    assert views == [
        "project_loaded",
        "run_loaded",
        "summary_loaded",
        "preview_loaded",
        "curve_loaded",
    ]
    # After each value, the zero timer it started ran before the next value was handed over.
    assert [name for name, _ in seen][:9] == [x for v in views for x in (v, "turn")][:9]
    assert [pending for name, pending in seen if name != "turn"] == [5, 4, 3, 2, 1]
