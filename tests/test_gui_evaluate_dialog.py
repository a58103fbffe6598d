"""Run ▸ Evaluate on the test split in the window (issue 11 item 6): progress from the worker,
Cancel that leaves nothing stored, and a result table of the instructions and both baselines."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from PySide6.QtCore import Qt
from scripted_models import ArithmeticWorld
from test_gui_shell import loaded, use_server
from test_prompt_e2e import make_project, opro, roles

from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.worker import Worker
from opro_gui.storage import ProjectStore

pytestmark = [
    pytest.mark.usefixtures("no_thread_left"),
    # the offscreen platform, on dialog.show() and raise_()
    pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise"),
]


class GatedWorld(ArithmeticWorld):
    """ArithmeticWorld whose scorer, once ``armed``, answers ``free`` more requests and then
    holds every further one until ``gate`` is set (a slow server, without sleeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.free = 0
        self.gate = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if self.armed and "scorer" in str(body.get("model", "")):
            with self._lock:
                self.free -= 1
                hold = self.free < 0
            if hold:
                self.gate.wait(30)
        return super().__call__(prompt, body)


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_project(tmp_path, capsys)


def open_window(qtbot: Any, tmp_path: Path, project: Path, base_url: str) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    # Two requests at a time: the evaluation reports every 8 answers (services.inspection).
    use_server(base_url, model="fake-scorer", concurrency=2)
    win = MainWindow()
    qtbot.addWidget(win)
    win.model_panel.reload()
    assert win.open_project(project)
    loaded(qtbot, win)
    return win


def cache_size(project: Path) -> int:
    with ProjectStore.open(project) as store:
        return int(store.conn.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0])


def train_run(capsys: Any, project: Path, base_url: str) -> None:
    code = opro(capsys, "run", str(project), "--steps", "2", "--samples", "2", *roles(base_url))
    assert code[0] == 0, code[2]


def test_test_evaluation_can_be_cancelled_and_stores_nothing(
    qtbot: Any, tmp_path: Path, project: Path, fake_server: Any, capsys: Any
) -> None:
    world = GatedWorld()
    with fake_server(world) as srv:
        train_run(capsys, project, srv.base_url)
        cached_before = cache_size(project)
        win = open_window(qtbot, tmp_path, project, srv.base_url)
        dialog = win.evaluate_dialog
        world.free, world.armed = 8, True  # the first slice of 8 answers, then the server stalls
        try:
            with qtbot.waitSignal(
                win.evaluation.progress_changed, timeout=20_000,
                check_params_cb=lambda done, total: done == 8,
            ) as progress:  # fmt: skip
                assert win.menus.evaluate_action.isEnabled()
                win.menus.evaluate_action.trigger()
            assert dialog.isVisible() and win.evaluation.is_running
            done, total = progress.args
            # 20 test examples x (top-3 + 2 baselines) + 20 training examples x 2 baselines
            assert total == 20 * 5 + 20 * 2
            assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (8, total)
            assert dialog.status_label.text() == f"8 of {total} scorer answers in"
            # Closing the window does not cancel; Evaluate shows the same job's window again.
            dialog.close()
            assert not dialog.isVisible() and win.evaluation.is_running
            assert win.menus.evaluate_action.isEnabled()
            win.menus.evaluate_action.trigger()
            assert dialog.isVisible() and win.evaluation.is_running
            assert dialog.progress_bar.value() == 8  # not restarted
            with qtbot.waitSignal(win.evaluation.evaluation_cancelled, timeout=5_000):
                dialog.cancel_button.click()
                assert dialog.status_label.text() == "Cancelling…"
        finally:
            world.gate.set()
        assert not win.evaluation.is_running
        assert not [w for w in Worker.active() if w.objectName() == "opro-evaluate"]
        assert dialog.model.rowCount() == 0
        assert dialog.status_label.text() == "Cancelled: nothing was stored."
        assert win.menus.evaluate_action.isEnabled()
    assert cache_size(project) == cached_before  # the 8 answers were not kept for free
    with ProjectStore.open(project) as store:
        assert store.evaluations(1) == []
        calls = [c for c in store.calls(1) if c.evaluation_id is not None]
        assert calls == []
    shown = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    assert shown["test_evaluations"] == [] and shown["best_test_accuracy"] is None


def test_test_evaluation_table_lists_instructions_and_both_baselines_with_train_and_test(
    qtbot: Any, tmp_path: Path, project: Path, fake_server: Any, capsys: Any
) -> None:
    with fake_server(ArithmeticWorld()) as srv:
        train_run(capsys, project, srv.base_url)
        win = open_window(qtbot, tmp_path, project, srv.base_url)
        seen: list[tuple[int, int]] = []
        win.evaluation.progress_changed.connect(lambda d, t: seen.append((d, t)))
        with qtbot.waitSignal(win.evaluation.evaluation_finished, timeout=30_000):
            win.menus.evaluate_action.trigger()
        qtbot.waitUntil(lambda: not win.run_view.analysis_pending, timeout=10_000)
    assert seen[0] == (0, 140) and seen[-1] == (140, 140)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    model = win.evaluate_dialog.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:4] == ["Instruction", "Text", "Train", "Test"]
    table = [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]
    shown = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    stored = shown["test_evaluations"]
    pct = "{:.1f}%".format
    assert [r[0] for r in table] == [
        "top-1", "top-2", "top-3", "baseline: empty", 'baseline: "Let\'s think step by step."'
    ]  # fmt: skip
    assert table == [
        [
            e["label"],
            e["instruction"] or "(empty)",
            pct(100 * e["train_accuracy"]),
            pct(100 * e["test_accuracy"]),
        ]
        for e in stored
    ]
    assert all(e["complete"] and e["n_examples"] == 20 for e in stored)
    # The baselines were never proposed by the run: they were scored on its training split.
    assert all(e["train_accuracy"] is not None for e in stored)
    # The baselines' test accuracies are drawn on the score plot as labelled lines.
    lines = win.run_view.score_plot.baseline_labels()  # in the legend under the plot
    for e in stored[3:]:
        assert f"{e['label']} (test): {pct(100 * e['test_accuracy'])}" in lines
