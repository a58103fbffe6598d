"""Stop in the GUI ends a run whose scorer is taking its time, without waiting for the answer.

The scorer of the suite's real server holds each answer for a minute; the test waits at most
10 s for the run to end after Stop, so passing proves the run did not wait for the answer
(the measured latency is printed by ``bench/stop_latency.py``, not asserted here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import assert_no_thread_left, no_thread_left  # noqa: F401  (fixture)
from scripted_models import SLOW_ANSWER_S, SlowScorer
from test_gui_shell import use_server

from opro_gui.core.models import RunSettings, StopCause
from opro_gui.gui import main_window as mw
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects
from opro_gui.storage import ProjectStore

pytestmark = pytest.mark.usefixtures("no_thread_left")

AFTER_STOP_MS = 10_000  # how long the test waits for the run to end after Stop


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    shown: list[str] = []
    monkeypatch.setattr(mw.QMessageBox, "warning", lambda _p, t, text, *a: shown.append(text))
    win = MainWindow()
    win.shown = shown  # type: ignore[attr-defined]
    qtbot.addWidget(win)
    return win


def test_stop_ends_a_slow_scoring_step_without_waiting_for_the_answer(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    scorer = SlowScorer(quick=1)
    server = fake_server(scorer).start()
    try:
        use_server(server.base_url, timeout=SLOW_ANSWER_S * 3)  # no deadline comes to the rescue
        window.model_panel.reload()
        stem = next(s for s, (_l, k) in shell_projects.example_catalog().items() if k == "prompt")
        assert window.open_example(stem)
        qtbot.waitUntil(lambda: not window.document.is_loading, timeout=10_000)
        # no model check: its scorer question would be the slow answer stopped here
        assert window.start_run(RunSettings(max_steps=3, samples_per_step=2), check=False)
        qtbot.waitUntil(scorer.arrived.is_set, timeout=30_000)  # scoring has begun
        assert window.controller.is_running
        assert window.controller.last_check is None  # no model check was asked for
        with qtbot.waitSignal(window.controller.run_finished, timeout=AFTER_STOP_MS) as done:
            window.stop_run()
        qtbot.waitUntil(lambda: not window.controller.is_running, timeout=AFTER_STOP_MS)
        assert not scorer.release.is_set()  # no answer was let through to end the step
        finished = done.args[0]
        assert (finished.status, finished.cause) == ("cancelled", StopCause.USER_CANCEL)
        assert "Traceback" not in finished.reason and not window.shown  # type: ignore[attr-defined]
        assert window.document.path is not None
        with ProjectStore.open(window.document.path, readonly=True) as store:
            run = store.run(store.run_ids()[-1])
            assert (run.status, run.stop_cause) == ("cancelled", StopCause.USER_CANCEL)
        qtbot.waitUntil(lambda: not window.run_view.analysis_pending, timeout=AFTER_STOP_MS)
        assert_no_thread_left()  # the run's worker thread is gone, not detached
    finally:
        scorer.release.set()


def test_stop_during_the_model_check_is_not_reported_as_a_failure(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    """Stop while the model check waits on the slow scorer: the job ends at once, with no
    error dialog ("Cancelled:" was shown as "The run could not start") and no run written."""
    scorer = SlowScorer(quick=0)
    server = fake_server(scorer).start()
    try:
        use_server(server.base_url, timeout=SLOW_ANSWER_S * 3)
        window.model_panel.reload()
        stem = next(s for s, (_l, k) in shell_projects.example_catalog().items() if k == "prompt")
        assert window.open_example(stem)
        qtbot.waitUntil(lambda: not window.document.is_loading, timeout=10_000)
        assert window.start_run(RunSettings(max_steps=3, samples_per_step=2))
        qtbot.waitUntil(scorer.arrived.is_set, timeout=30_000)  # the check's scorer probe
        assert window.controller.last_check is None
        with qtbot.waitSignal(window.controller.run_stopped, timeout=AFTER_STOP_MS):
            window.stop_run()
        qtbot.waitUntil(lambda: not window.controller.is_running, timeout=AFTER_STOP_MS)
        assert not window.shown  # type: ignore[attr-defined]
        assert window.status.message.text() == "Stopped during the model check; no run was started"
        assert window.document.path is not None
        with ProjectStore.open(window.document.path, readonly=True) as store:
            assert store.run_ids() == []
        assert_no_thread_left()
    finally:
        scorer.release.set()
