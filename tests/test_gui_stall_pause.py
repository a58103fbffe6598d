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
from opro_gui.gui.widgets import model_line, shell_projects
from opro_gui.services import ProjectSession

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
    qtbot: Any,
    window: MainWindow,
    fake_server: Any,
    messages: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = fake_server(lambda prompt, body: "A shorter tour? Trust me.", record_bodies=True)
    server.start()
    use_server(server.base_url)
    window.model_panel.reload()
    assert window.open_example("tsp-10-seed1")
    asked: list[Any] = []  # the model check catches it first; the user runs anyway
    monkeypatch.setattr(model_line, "ask_run_anyway", lambda _p, check: asked.append(check) or 1)
    steps: list[int] = []
    window.controller.step_completed.connect(lambda ev: steps.append(ev.record.step))
    finished = run_to_end(
        qtbot, window, RunSettings(max_steps=20, samples_per_step=2, stop_at_optimum=False)
    )
    assert len(asked) == 1 and asked[0].role == "optimizer"
    assert (finished.status, str(finished.cause)) == ("paused", "optimizer_unparseable")
    assert steps == [0, 1, 2, 3]
    # one completion for the check, then exactly three steps of two samples
    assert [int(b.get("n", 1)) for b in server.stats.bodies] == [1, 2, 2, 2]
    assert len(messages) == 1
    assert "no parseable proposal from the optimizer for 3 steps in a row" in messages[0]
    assert "try a larger model or check the model name" in messages[0]


def test_the_model_check_stops_a_garbage_optimizer_before_any_step(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str], model_check_questions
) -> None:
    server = fake_server(lambda prompt, body: "A shorter tour? Trust me.", record_bodies=True)
    server.start()
    use_server(server.base_url)
    window.model_panel.reload()
    assert window.open_example("tsp-10-seed1")
    with qtbot.waitSignal(window.controller.model_checked, timeout=30_000) as checked:
        assert window.start_run(RunSettings(max_steps=20, samples_per_step=2))
    qtbot.waitUntil(lambda: not window.controller.is_running, timeout=10_000)
    check = checked.args[0]
    assert (check.ok, check.role, check.requests) == (False, "optimizer", 1)
    assert "did not answer in the task's format (no <trace> tag)" in check.reason
    assert check.raw == "A shorter tour? Trust me."
    assert model_check_questions == [check]  # asked once; answered Cancel
    assert "Not started: the optimizer did not answer" in window.status_label.text()
    # one request of one completion, the real first meta-prompt; nothing else was spent
    (body,) = server.stats.bodies
    assert int(body.get("n", 1)) == 1 and "<trace>" in body["messages"][-1]["content"]
    with ProjectSession.open(window.session.path) as s:
        assert s.run_ids() == []  # no run was created
    assert not messages


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
    # the counts are controls of the form (issue 11): "off" at 0
    assert form.pause_unparseable_spin.text() == "off"
    form.pause_unparseable_spin.setValue(7)
    form.pause_zero_spin.setValue(0)
    got = form.settings()
    assert (got.pause_after_unparseable, got.pause_after_zero_score) == (7, 0)
    stack.undo()  # edits of the counts are undoable like every other field
    assert form.settings().pause_after_zero_score == 5
