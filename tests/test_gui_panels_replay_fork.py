"""Replay and fork dialogs against a real project file and the suite's OpenAI-compatible server."""

from __future__ import annotations

import pytest
from gui_helpers import make_tsp_project, no_thread_left  # noqa: F401

from opro_gui.gui.widgets.fork import ForkDialog
from opro_gui.gui.widgets.history import HistoryPanel
from opro_gui.gui.widgets.replay import ReplayDialog
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")

TOUR = "<trace> 0,1,2,3,4,5,6 </trace>"


@pytest.fixture
def server(fake_server):
    return fake_server(lambda prompt, body: f"A better tour: {TOUR}").start()


@pytest.fixture
def project(tmp_path, server):
    return make_tsp_project(tmp_path / "tsp.opro", steps=3, samples=4, base_url=server.base_url)


def _replay_count(path, run_id=1, step=None):
    with ProjectSession.open(path, readonly=True) as s:
        return len(s.store.replays(run_id, step))


def test_replay_stores_and_shows_answers(qtbot, project, server):
    profiles = {
        "local": {
            **EndpointConfig(server.base_url, "fake-scorer").to_public_dict(),
            "preset": "custom",
        }
    }
    dialog = ReplayDialog(project, 1, 2, profiles)
    qtbot.addWidget(dialog)
    with ProjectSession.open(project, readonly=True) as s:
        original = s.step_detail(1, 2).meta_prompt
    assert dialog.prompt_edit.toPlainText() == original
    assert "<trace>" in dialog.original_view.toPlainText()
    assert "verdicts" in dialog.original_view.toPlainText()  # the originals' parse verdicts
    assert _replay_count(project) == 0

    dialog.profile_combo.setCurrentIndex(dialog.profile_combo.findData("local"))
    dialog.samples_spin.setValue(2)
    dialog.prompt_edit.setPlainText(original + "\nBe brief.")
    with qtbot.waitSignal(dialog.replay_stored, timeout=20000) as blocker:
        dialog.send()
    replay_id = blocker.args[0]
    assert _replay_count(project, step=2) == 1
    assert dialog.stored_replay_ids() == [replay_id]
    shown = dialog.replay_view.toPlainText()
    assert TOUR in shown and "scored score" in shown
    assert server.stats.models[-1] == "fake-scorer"
    assert server.stats.prompts[-1].endswith("Be brief.")
    with ProjectSession.open(project, readonly=True) as s:
        stored = s.store.replays(1, 2)[0]
    assert stored.endpoint["model"] == "fake-scorer"
    assert stored.candidates[0].score is not None

    again = ReplayDialog(project, 1, 2, profiles)  # stored replays are listed on open
    qtbot.addWidget(again)
    assert again.stored_replay_ids() == [replay_id]


def test_replay_error_is_reported(qtbot, project):
    dialog = ReplayDialog(project, 1, 0, {})  # step 0 has no meta-prompt to replay
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.replay_failed, timeout=20000) as blocker:
        dialog.send()
    assert "no optimization step 0" in blocker.args[0]
    assert not dialog.error_label.isHidden()
    assert dialog.send_button.isEnabled()


def test_fork_creates_run_with_template(qtbot, project):
    dialog = ForkDialog(project, 1, 2)
    qtbot.addWidget(dialog)
    assert dialog.step_spin.value() == 2
    dialog.settings_form.steps_spin.setValue(7)
    dialog.template_editor.text_edit.setPlainText("Cities {points}\n{history}\nShorter please.")
    with qtbot.waitSignal(dialog.run_forked, timeout=20000) as blocker:
        dialog.fork()
    new_id = blocker.args[0]
    with ProjectSession.open(project, readonly=True) as s:
        assert s.run_ids() == [1, new_id]
        run = s.store.run(new_id)
        assert run.parent_run_id == 1 and run.fork_step == 2
        assert run.spec_override is not None
        assert run.spec_override["template"].endswith("Shorter please.")
        assert s.run_settings(new_id).max_steps == 7
        assert s.store.last_step(new_id) == 2


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on dialog.show()
def test_history_panel_fork_flow(qtbot, project):
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)
    panel.select_candidate(1, 0)
    panel.fork_button.click()
    assert len(panel._dialogs) == 1
    dialog = panel._dialogs[0]
    with qtbot.waitSignal(panel.run_forked, timeout=20000) as blocker:
        dialog.fork()
    assert panel.runs_combo.count() == 2
    assert panel.current_run_id() == blocker.args[0]
    panel.model.fetch_all()
    assert panel.model.rowCount() > 0
    qtbot.waitUntil(lambda: not panel._dialogs)  # the finished dialog was released


def test_replay_stop_cancels_a_hanging_call(qtbot, tmp_path, fake_server):
    from openai_server import Faults

    from opro_gui.gui.worker import Worker

    hanging = fake_server(faults=Faults(hang_rate=1.0, hang_seconds=30)).start()
    path = make_tsp_project(tmp_path / "h.opro", steps=2, samples=2, base_url=hanging.base_url)
    dialog = ReplayDialog(path, 1, 1, {})
    qtbot.addWidget(dialog)
    dialog.send()
    qtbot.waitUntil(lambda: hanging.stats.requests >= 1, timeout=10000)
    assert dialog.is_running()
    calls = Worker.active()
    dialog.stop()
    assert not dialog.is_running() and dialog.send_button.isEnabled()
    assert calls and all(c.token is not None and c.token.cancelled for c in calls)
    assert Worker.quit_all(10000)  # the worker returns promptly once cancelled
    assert _replay_count(path) == 0
