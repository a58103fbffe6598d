"""The app's run pauses itself against an optimizer answering only garbage (issue 11 item 2):
after 3 steps, with the reason shown, having sent only 3 steps' worth of optimizer calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from test_gui_shell import run_to_end, use_server  # noqa: F401  (gc fixture)

from opro_gui.core.models import RunSettings
from opro_gui.gui import main_window as mw
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        mw.QMessageBox, "warning", lambda _p, title, text, *a: shown.append(f"{title}: {text}")
    )
    return shown


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def test_garbage_optimizer_pauses_the_app_run_after_three_steps(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    server = fake_server(lambda prompt, body: "A shorter tour? Trust me.", record_bodies=True)
    server.start()
    use_server(server.base_url)
    window.model_panel.reload()
    assert window.open_example("tsp-10-seed1")
    steps: list[int] = []
    window.controller.step_completed.connect(lambda ev: steps.append(ev.record.step))
    finished = run_to_end(
        qtbot, window, RunSettings(max_steps=20, samples_per_step=2, stop_at_optimum=False)
    )
    assert (finished.status, str(finished.cause)) == ("paused", "optimizer_unparseable")
    assert steps == [0, 1, 2, 3]
    assert sum(int(b.get("n", 1)) for b in server.stats.bodies) == 3 * 2
    assert len(messages) == 1
    assert "no parseable proposal from the optimizer for 3 steps in a row" in messages[0]
    assert "try a larger model or check the model name" in messages[0]


def test_the_settings_form_keeps_the_stored_pause_counts(qtbot: Any) -> None:
    from PySide6.QtGui import QUndoStack

    from opro_gui.gui.widgets.panel_run_settings import RunSettingsForm
    from opro_gui.gui.widgets.panel_undo import UndoBinder

    stack = QUndoStack()
    form = RunSettingsForm(UndoBinder(stack))
    qtbot.addWidget(form)
    assert form.settings().pause_after_unparseable == 3  # nothing loaded: the defaults
    form.load(RunSettings(max_steps=9, pause_after_unparseable=0, pause_after_zero_score=5))
    form.steps_spin.setValue(12)
    got = form.settings()
    assert (got.max_steps, got.pause_after_unparseable, got.pause_after_zero_score) == (12, 0, 5)
