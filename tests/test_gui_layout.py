"""Room to read (issue 11 item 4): View ▸ Layout ▸ Set Up / Watch / Inspect, no clipped control
of the Task, Model settings or History panes at 1280×800, and history with room for rows and
the meta-prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import make_prompt_project, no_thread_left  # noqa: F401  (fixture)
from layout_check import clipped_in_every_tab
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QTabBar

from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets.shell_docks import LAYOUTS, pane_width

pytestmark = [
    pytest.mark.usefixtures("no_thread_left"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # the offscreen platform, on show()
]
SMALL = QSize(1280, 800)
LARGE = QSize(1600, 1000)


def settle() -> None:
    for _ in range(3):  # queued layout requests, then the geometry they cause
        QApplication.processEvents()


@pytest.fixture
def window(window: MainWindow, qtbot: Any) -> MainWindow:
    """The suite's main window (gui_helpers), shown at 1280×800."""
    window.resize(SMALL)
    window.show()
    qtbot.waitExposed(window)
    settle()  # the first-start layout is applied on the first turn of the event loop
    return window


def open_and_wait(qtbot: Any, win: MainWindow, what: str | Path) -> None:
    ok = win.open_example(what) if isinstance(what, str) else win.open_project(what)
    assert ok
    qtbot.waitUntil(lambda: not win.document.is_loading, timeout=10_000)
    settle()


def use_layout(win: MainWindow, name: str, size: QSize = SMALL) -> None:
    win.resize(size)
    settle()
    win.apply_layout(name)
    settle()


def dock(win: MainWindow, key: str) -> QDockWidget:
    return win._docks[key]


def area(widget: Any) -> int:
    return int(widget.width() * widget.height())


def select_first_candidate(qtbot: Any, win: MainWindow) -> None:
    assert win.history is not None
    win.history.table.selectRow(1)
    qtbot.waitUntil(lambda: win.history.detail_pane.detail is not None)
    settle()


# -- the View ▸ Layout menu ---------------------------------------------------------------------
def test_view_layout_menu_lists_three_layouts_with_shortcuts(window: MainWindow) -> None:
    (view,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&View"]
    (layout_menu,) = [a.menu() for a in view.actions() if a.text() == "&Layout"]
    shown = [(a.text(), a.shortcut().toString()) for a in layout_menu.actions()]
    assert shown == [("&Set Up", "Ctrl+1"), ("&Watch", "Ctrl+2"), ("&Inspect", "Ctrl+3")]
    window.menus.layout_actions["inspect"].trigger()
    settle()
    assert window.layout_name == "inspect"
    assert window.menus.layout_actions["inspect"].isChecked()
    assert not window.menus.layout_actions["setup"].isChecked()


def test_first_start_is_set_up(window: MainWindow) -> None:
    task, models, history = dock(window, "task"), dock(window, "models"), dock(window, "history")
    assert window.layout_name == "setup"
    assert window.menus.layout_actions["setup"].isChecked()
    assert task.isVisible() and not models.isHidden() and not history.isVisible()
    assert task.height() > 0.9 * window.centralWidget().height()  # full height
    assert task.width() >= pane_width(task)


def test_set_up_puts_task_and_model_settings_side_by_side(window: MainWindow) -> None:
    use_layout(window, "setup", LARGE)
    task, models = dock(window, "task"), dock(window, "models")
    assert task.isVisible() and models.isVisible()
    assert window.tabifiedDockWidgets(task) == []  # both shown at once, not as tabs
    assert task.geometry().right() < models.geometry().left()
    assert task.width() >= pane_width(task) and models.width() >= pane_width(models)
    assert clipped_panes(window) == []


def test_set_up_uses_tabs_when_the_window_is_too_narrow_for_both(window: MainWindow) -> None:
    task, models = dock(window, "task"), dock(window, "models")
    # Room beside the run view for the wider pane, not for both.
    needs = sorted([pane_width(task), pane_width(models)])
    width = window.centralWidget().minimumSizeHint().width() + needs[1] + needs[0] // 2
    use_layout(window, "setup", QSize(width, 700))
    assert window.size() == QSize(width, 700)
    assert window.tabifiedDockWidgets(task) == [models]
    assert task.isVisible() and task.width() >= pane_width(task)
    assert clipped_panes(window) == []
    models.raise_()
    settle()
    assert models.isVisible() and models.width() >= pane_width(models)
    assert clipped_panes(window) == []


def test_watch_gives_the_plot_most_of_the_window(window: MainWindow) -> None:
    use_layout(window, "watch")
    assert not dock(window, "task").isVisible() and not dock(window, "models").isVisible()
    assert dock(window, "history").isVisible()
    assert area(window.run_view) > 0.5 * area(window)
    assert area(window.run_view) > 1.5 * area(dock(window, "history"))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["1280x800", "1600x1000"])
def test_inspect_gives_history_and_step_detail_room_to_read(
    qtbot: Any, window: MainWindow, tmp_path: Path, size: QSize
) -> None:
    open_and_wait(qtbot, window, make_prompt_project(tmp_path / "p.opro", steps=4, samples=4))
    use_layout(window, "inspect", size)
    select_first_candidate(qtbot, window)
    history = window.history
    assert history is not None
    assert dock(window, "history").height() > 0.6 * window.height()
    assert window.run_view.height() < 0.3 * window.height()
    # Wide and short: the table beside the step detail, both the full height of the dock.
    assert history.splitter.orientation() == Qt.Orientation.Horizontal
    table, meta = history.table, history.detail_pane.meta_prompt_view
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    lines = meta.viewport().height() // meta.fontMetrics().lineSpacing()
    assert rows >= (15 if size == SMALL else 20)  # the issue saw two
    assert lines >= (25 if size == SMALL else 35)  # and about four
    assert table.columnWidth(4) > 0.35 * table.viewport().width()  # the solution column


def test_the_left_docks_do_not_stop_the_history_splitter(window: MainWindow) -> None:
    """Task and Model settings tabbed on the left, history below: the history can take most
    of the height (the left docks' minimum height used to stop it)."""
    task, models, history = dock(window, "task"), dock(window, "models"), dock(window, "history")
    window.tabifyDockWidget(task, models)
    for d in (task, models, history):
        d.show()
    settle()
    window.resizeDocks([history], [int(0.75 * window.height())], Qt.Orientation.Vertical)
    settle()
    assert history.height() > 0.6 * window.height()
    # The left docks' own minimum is a few lines (it was 555 px: the model settings form).
    assert max(task.minimumSizeHint().height(), models.minimumSizeHint().height()) < 100
    assert window.minimumSizeHint().height() <= SMALL.height()


def test_the_chosen_layout_is_remembered(qtbot: Any, window: MainWindow) -> None:
    use_layout(window, "inspect")
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    settle()
    assert again.layout_name == "inspect"
    assert again.menus.layout_actions["inspect"].isChecked()
    assert dock(again, "history").isVisible() and not dock(again, "task").isVisible()
    # The offscreen screen is smaller than 1280×800: the restored window is fitted to it and
    # keeps the shape: the history most of the height.
    assert dock(again, "history").height() > 0.6 * again.height()
    again.close()


# -- nothing clipped at 1280×800 ----------------------------------------------------------------
def clipped_panes(win: QMainWindow) -> list[str]:
    found: list[str] = []
    for key, d in win._docks.items():  # type: ignore[attr-defined]
        if d.isVisible():
            d.widget().setObjectName(d.widget().objectName() or key)
            found += clipped_in_every_tab(d.widget())
    return found


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["1280x800", "1600x1000"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_no_control_is_clipped(
    qtbot: Any, window: MainWindow, tmp_path: Path, layout: str, size: QSize
) -> None:
    """Each layout, each kind's task pane, every tab of every pane shown in turn."""
    prompt = make_prompt_project(tmp_path / "p.opro", steps=2, samples=3)
    shown: list[set[str]] = []
    for project in ("tsp-10-seed1", "linreg-w15-b14", prompt):
        open_and_wait(qtbot, window, project)
        use_layout(window, layout, size)
        if project == prompt:
            select_first_candidate(qtbot, window)
        assert window.size() == size  # the window's minimum fits the screen
        assert clipped_panes(window) == []
        shown.append({k for k, d in window._docks.items() if not d.isHidden()})
        for d in window._docks.values():  # a dock tabbed behind another: brought to the front
            if not d.isHidden() and not d.isVisible():
                d.raise_()
                settle()
                assert clipped_panes(window) == []
    expected = {"setup": {"task", "models"}, "watch": {"history"}, "inspect": {"history"}}
    assert shown == [expected[layout]] * 3


def test_no_control_is_clipped_with_every_dock_shown(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    """Watch, then Task and Model settings shown again from the View menu: tabbed on the left,
    the history below, the plot in the middle; each pane brought to the front in turn."""
    open_and_wait(qtbot, window, make_prompt_project(tmp_path / "p.opro", steps=2, samples=3))
    use_layout(window, "watch")
    for key in ("task", "models"):
        dock(window, key).toggleViewAction().trigger()
    settle()
    select_first_candidate(qtbot, window)
    assert window.tabifiedDockWidgets(dock(window, "task")) == [dock(window, "models")]
    for key in ("task", "models"):
        dock(window, key).raise_()
        settle()
        assert dock(window, key).isVisible() and dock(window, "history").isVisible()
        assert clipped_panes(window) == []


def test_switching_layouts_leaves_no_stray_tab_bar(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    """Qt leaves a dock tab bar on screen when docks are re-added or taken out of a tab group
    (seen over the History's buttons after Set Up as tabs, then Inspect): the layouts hide it;
    a tab bar stays only under Task and Model settings shown as tabs."""
    open_and_wait(qtbot, window, make_prompt_project(tmp_path / "p.opro", steps=2, samples=3))
    task, models = dock(window, "task"), dock(window, "models")
    window.tabifyDockWidget(task, models)  # Set Up as tabs (a narrow window)
    steps = [(n, SMALL) for n in ("watch", "inspect", "setup", "watch")]
    steps += [(n, LARGE) for n in ("setup", "watch", "setup", "inspect", "setup")]
    for name, size in steps:  # at 1600×1000 Set Up is side by side: tabs split again
        use_layout(window, name, size)
        inside = [
            bar
            for bar in window.findChildren(
                QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly
            )
            if bar.isVisible() and bar.count() and window.rect().intersects(bar.geometry())
        ]
        expected = 1 if name == "setup" and models in window.tabifiedDockWidgets(task) else 0
        assert len(inside) == expected, (name, size)
        if expected:
            assert inside[0].geometry().top() >= task.geometry().bottom()
