"""The run dashboard (issue 11, item 3): headline figures and the random-search line on screen
while a run is going, the leaderboard, scores written per kind, labels clear of the curves."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import make_prompt_project, make_tsp_project, no_thread_left  # noqa: F401
from PySide6.QtGui import QGuiApplication
from test_gui_shell import loaded, tsp_responder, use_server

from opro_gui.core.models import RunSettings
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects
from opro_gui.problems import get_kind
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def _gated(samples: int, open_steps: int) -> tuple[Any, threading.Event]:
    """A TSP optimizer that answers the first ``open_steps`` steps' requests, then waits at
    the gate (the run stays at step ``open_steps`` until the test opens it)."""
    inner, gate, lock = tsp_responder(), threading.Event(), threading.Lock()
    calls = [0]

    def respond(prompt: str, body: dict[str, Any]) -> str:
        with lock:  # steps ask for n=samples; the model check before the run asks for 1
            calls[0] += int(body.get("n") or 1) == samples
            held = calls[0] > open_steps * samples
        if held:
            gate.wait(60)
        return str(inner(prompt, body))

    return respond, gate


def _xy(item: Any) -> tuple[list[float], list[float]]:
    x, y = item.getData()
    return ([], []) if x is None else (list(map(float, x)), list(map(float, y)))


def test_figures_and_random_search_line_are_on_screen_during_the_run(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    respond, gate = _gated(samples=4, open_steps=2)
    server = fake_server(respond).start()
    use_server(server.base_url)
    window.model_panel.reload()
    assert window.open_example("tsp-10-seed1")
    loaded(qtbot, window)
    view, kind = window.run_view, get_kind("tsp")
    run = RunSettings(max_steps=6, samples_per_step=4, stop_at_optimum=False)
    try:
        with qtbot.waitSignal(
            window.document.step_appended,
            timeout=30_000,
            check_params_cb=lambda s: s.event.record.step == 2,
        ):
            assert window.start_run(run, check=False)  # the gate counts requests: no check
        # The run is still going: step 3 waits at the gate.
        assert window.controller.is_running
        path, run_id = window.document.path, view.run_id
        with ProjectSession.open(path, readonly=True) as s:
            stats = s.store.run_stats(run_id)
            stored_rs = s.store.random_search_values(run_id)
            start = s.store.steps(run_id)[0].best_score
            reference = kind.reference_score(s.problem())
        assert stats.last_step == 2 and len(stored_rs) == 2 and None not in stored_rs
        shown = view.dashboard.figures()
        best = stats.best_score
        assert shown["steps"] == "steps done / budget: 2 / 6"
        assert shown["best"] == f"best tour length: {kind.format_score(best)}"
        assert shown["random"] == f"random search, same budget: {kind.format_score(stored_rs[-1])}"
        gap = kind.gap_percent(best, reference)
        assert shown["gap"] == f"gap to optimum: {gap:.2f} %"
        counts = stats.status_counts
        proposed, valid = sum(counts.values()), sum(counts.values()) - counts.get("invalid", 0)
        assert proposed == 8
        assert shown["valid"] == (
            f"valid proposals: {valid / proposed * 100:.0f} % ({valid} of {proposed})"
        )
        assert shown["tokens"] == f"tokens used: {stats.usage.tokens:,} tokens"
        assert stats.usage.tokens > 0
        assert shown["cost"] == f"spent: ${stats.usage.cost_usd:,.4f}"
        delta = best - start
        change = (
            "no change"
            if delta == 0
            else f"−{kind.format_score(-delta)}, −{-delta / start * 100:.1f} % (better)"
        )
        assert delta <= 0 and shown["change"] == f"change from step 0: {change}"
        assert "test" not in shown  # TSP has no held-out evaluation
        # The random search's line, from step 0 (the same starting tours) to step 2.
        plot = view.score_plot
        assert _xy(plot.random_curve) == ([0.0, 1.0, 2.0], [start, *stored_rs])
        legend = [label.text for _sample, label in plot._legend.items]
        assert "random search (same budget)" in legend
    finally:
        gate.set()
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as done:
        pass
    assert done.args[0].status == "completed"
    qtbot.waitUntil(lambda: not view.analysis_pending, timeout=15_000)
    with ProjectSession.open(path, readonly=True) as s:
        final = s.random_search_curve(run_id)
        summary = s.run_summary(run_id)
    assert len(final) == 6 and final[:2] == stored_rs  # the live values were the stored ones
    assert _xy(view.score_plot.random_curve)[1] == [start, *final]
    assert view.dashboard.figures()["steps"] == "steps done / budget: 6 / 6"
    assert view.dashboard.figures()["tokens"] == f"tokens used: {summary.usage.tokens:,} tokens"


def _ranked(path: Path, better: Any) -> list[tuple[float, int, int, str]]:
    """Every scored candidate, best first by ``better`` (ties: earlier step, then index)."""
    import functools

    with ProjectSession.open(path, readonly=True) as s:
        cands = [c for c in s.store.candidates(1) if c.status == "scored"]

    def cmp(a: Any, b: Any) -> int:
        if better(a.score, b.score):
            return -1
        if better(b.score, a.score):
            return 1
        return (a.step, a.index) < (b.step, b.index) and -1 or 1

    def text(c: Any) -> str:  # as the history table shows a solution
        return c.solution if isinstance(c.solution, str) else json.dumps(c.solution)

    ranked = sorted(cands, key=functools.cmp_to_key(cmp))
    return [(c.score, c.step, c.index, text(c)) for c in ranked]


@pytest.mark.parametrize("kind", ["tsp", "prompt"])
def test_leaderboard_ranks_by_the_kind_and_copies_the_full_text(
    qtbot: Any, window: MainWindow, tmp_path: Path, kind: str
) -> None:
    if kind == "tsp":
        path = make_tsp_project(tmp_path / "t.opro", n_points=8, steps=4, samples=4)
    else:
        path = make_prompt_project(tmp_path / "p.opro", steps=3, samples=2)
    assert window.open_project(path)
    loaded(qtbot, window)
    board = window.run_view.leaderboard
    desc = get_kind(kind)
    expected = _ranked(path, desc.better)[:10]
    rows = board.rows
    assert [(r.score, r.step, r.index, r.text) for r in rows] == expected
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    for a, b in zip(rows, rows[1:], strict=False):
        assert not desc.better(b.score, a.score)  # never a better one below a worse one
    scores = {r.score for r in rows}
    assert len(scores) > 1  # the order is tested on different scores
    table = board.table
    assert table.item(0, 1).text() == desc.format_score(rows[0].score)
    assert table.item(0, 2).text() == str(rows[0].step)
    last = len(rows) - 1
    shown = window.run_view.dashboard.figures()
    with ProjectSession.open(path, readonly=True) as s:
        summary = s.run_summary(1)
        start = s.store.steps(1)[0].best_score
    assert shown["best"] == f"best {desc.score_label}: {desc.format_score(summary.best_score)}"
    assert shown["steps"] == f"steps done / budget: {summary.steps_completed} / {summary.max_steps}"
    if desc.supports_evaluation:  # prompts: held-out accuracy, and where the run started
        assert shown["test"] == "test accuracy of the best: not evaluated"
        assert "random" not in shown and "gap" not in shown
        labels = window.run_view.score_plot.baseline_labels()
        assert f"initial instruction: {desc.format_score(start)}" in labels
    QGuiApplication.clipboard().setText("something else")
    board.copy_button(last).click()
    assert QGuiApplication.clipboard().text() == rows[last].text == expected[last][3]


def test_scores_are_written_the_kinds_way_in_the_views(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    from opro_gui.gui.widgets.lr_view import LRView
    from opro_gui.gui.widgets.tsp_view import TSPView

    lr, tsp = get_kind("linreg"), get_kind("tsp")
    lr_view = LRView()
    qtbot.addWidget(lr_view)
    lr_view._x = __import__("numpy").arange(3.0)
    lr_view.show_best([[15, 14]], [1_095_000.0], lr.format_score)
    assert lr_view.fit_label.text().endswith("(loss 1,095,000)")
    tsp_view = TSPView()
    qtbot.addWidget(tsp_view)
    tsp_view.set_instance([[0, 0], [1, 0], [1, 1]], None, 1_234_567.0)
    tsp_view.show_best([[0, 1, 2]], [2_345_678.0], tsp.format_score)
    assert "length 2,345,678" in tsp_view.gap_label.text()
    assert "optimum 1,234,567" in tsp_view.gap_label.text()
    # The plot's baseline labels and the run view's fallback use the same writing.
    path = make_tsp_project(tmp_path / "t.opro", n_points=7, steps=2, samples=2)
    assert window.open_project(path)
    loaded(qtbot, window)
    with ProjectSession.open(path, readonly=True) as s:
        facts = s.problem().summary()
    labels = window.run_view.score_plot.baseline_labels()
    assert f"nearest neighbour: {tsp.format_score(facts['nearest_neighbour'])}" in labels
    window.run_view.score_plot.set_baselines([("optimum", 1_095_000.0)])
    assert window.run_view.score_plot.baseline_labels() == ["optimum: 1,095,000"]
    from opro_gui.gui.models.history_model import format_score

    assert format_score(1_095_000.0) == "1,095,000" and format_score(None) == ""


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on show()
def test_plot_labels_sit_outside_the_data_area(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    """The optimum's label is never crossed by the best-so-far line: every label of the plot
    (baselines and curves) is laid out under the plot, outside the view box."""
    path = make_tsp_project(tmp_path / "t.opro", n_points=7, steps=3, samples=4)
    window.resize(1280, 800)
    window.show()
    assert window.open_project(path)
    loaded(qtbot, window)
    qtbot.waitExposed(window)
    plot = window.run_view.score_plot
    item = plot.plot_widget.getPlotItem()
    item.layout.activate()
    QGuiApplication.processEvents()
    data_area = item.vb.sceneBoundingRect()
    labels = plot.label_items()
    texts = [lab.text for lab in labels]
    assert any(t.startswith("optimum") for t in texts) and "best so far" in texts
    for lab in labels:
        rect = lab.sceneBoundingRect()
        assert rect.height() > 0 and rect.width() > 0
        assert not rect.intersects(data_area), lab.text
    # ... and inside the plot widget (not pushed out of sight).
    scene_rect = plot.plot_widget.sceneRect()
    assert all(scene_rect.contains(lab.sceneBoundingRect()) for lab in labels)


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on show()
def test_the_leaderboard_goes_under_the_plot_when_the_view_is_narrow(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from opro_gui.gui.widgets.leaderboard import BESIDE_MIN_WIDTH
    from opro_gui.gui.widgets.run_view import RunView

    view = RunView()
    qtbot.addWidget(view)
    view.resize(BESIDE_MIN_WIDTH + 300, 700)
    view.show()
    qtbot.waitExposed(view)
    assert view.splitter.orientation() == Qt.Orientation.Horizontal
    view.resize(BESIDE_MIN_WIDTH - 200, 700)
    qtbot.waitUntil(lambda: view.splitter.orientation() == Qt.Orientation.Vertical)
    plot, board = view.splitter.widget(0), view.splitter.widget(1)
    assert board.geometry().top() >= plot.geometry().bottom()  # under the plot, full width
    assert board.width() == plot.width() == view.splitter.width()
    # every dashboard tile still fits in the narrow view (fewer tiles per row)
    for tile in view.dashboard.tiles.values():
        if not tile.isHidden():
            assert view.dashboard.rect().contains(tile.geometry())
