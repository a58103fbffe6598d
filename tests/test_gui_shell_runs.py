"""GUI shell runs beyond TSP and the error paths: wrong key, newer project file, warnings about
unparseable proposals and random search, linear regression, first run, Save."""

from __future__ import annotations

import math
import random
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from test_gui_shell import (  # noqa: F401  (gc fixture)
    THREE,
    run_to_end,
    tsp_responder,
    use_server,
)

from opro_gui.core.models import RunSettings
from opro_gui.gui import main_window as mw
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_first_run, shell_projects
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")


def test_wrong_key_pauses_the_run_and_says_so(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    server = fake_server(tsp_responder(), require_key="the-right-key").start()
    use_server(server.base_url, max_retries=0)
    window.model_panel.reload()
    window.open_example("tsp-10-seed1")
    finished = run_to_end(qtbot, window, THREE)
    assert finished.status == "paused"
    assert len(messages) == 1 and "wrong API key" in messages[0]
    assert "OPENAI_API_KEY" in messages[0]
    assert "sk-test" not in messages[0]  # the key itself is never shown


def test_newer_project_file_is_refused_with_advice(
    window: MainWindow, tmp_path: Path, messages: list[str]
) -> None:
    path = shell_projects.ensure_example("tsp-10-seed1", tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    assert not window.open_project(path)
    assert "newer OPRO Studio" in messages[0] and "Nothing was changed" in messages[0]


def test_unparseable_proposals_and_random_search_are_flagged(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    server = fake_server(lambda prompt, body: "Here is a shorter tour: trust me.").start()
    use_server(server.base_url)
    window.model_panel.reload()
    window.open_example("tsp-10-seed1")
    # without the model check (issue 11), which would stop this optimizer before step 1
    finished = run_to_end(qtbot, window, THREE, check=False)
    assert finished.status == "completed"
    banner = "\n".join(window.run_view.banner_messages)
    assert "could not be parsed" in banner
    assert "Reasons: 12 no <trace> answer" in banner  # issue 16: the reasons, by category
    assert "owed to the model: 12, to strict parsing: 0" in banner
    assert "no better than a random search" in banner
    assert not window.run_view.banner.isHidden()
    assert not messages  # warnings in the run view, not message boxes


def test_linear_regression_run_draws_fit_and_trajectory(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    rng = random.Random(0)
    server = fake_server(lambda p, b: f"[{rng.randint(12, 18)}, {rng.randint(11, 17)}]").start()
    use_server(server.base_url)
    window.model_panel.reload()
    window.open_example("linreg-w15-b14")
    run_to_end(qtbot, window, RunSettings(max_steps=3, samples_per_step=4, stop_at_optimum=False))
    view = window.run_view
    xs, ys = view.domain_view.trajectory.getData()
    assert len(xs) == 4  # best pair after steps 0..3
    assert "Best fit: y =" in view.domain_view.fit_label.text()
    # losses are drawn on a log axis
    best = view.summary.best_score
    assert view.score_plot.best_curve.getData()[1][-1] == pytest.approx(math.log10(best))


def test_first_run_choice_starts_the_run(
    qtbot: Any, window: MainWindow, fake_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_server(tsp_responder()).start()

    def choose(dialog: Any) -> int:
        dialog.url_edit.setText(server.base_url)
        dialog.model_edit.setText("fake-optimizer")
        dialog.use_form_button.click()
        return dialog.result()

    monkeypatch.setattr(shell_first_run.FirstRunDialog, "exec", choose)
    monkeypatch.setattr(shell_first_run.FirstRunDialog, "detect", lambda self: None)
    window.open_example("tsp-10-seed1")
    finished = run_to_end(qtbot, window, THREE)
    assert finished.status == "completed"
    assert settings.role_profile("optimizer") == "Custom server"
    assert window.model_panel.endpoint_for("optimizer").base_url == server.base_url


def test_save_writes_the_edited_task(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    if window.task_editor is None:
        pytest.skip("task editor not available")
    window.open_example("tsp-10-seed1")
    spec = window.session.store.spec()
    spec["name"] = "renamed instance"
    monkeypatch.setattr(window.task_editor, "current_spec", lambda: spec)
    assert window.save()
    path = window.session.path
    window.close()
    with ProjectSession.open(path) as s:
        assert s.store.spec()["name"] == "renamed instance"


def test_title_marks_unsaved_task_edits_and_edit_menu_has_undo(window: MainWindow) -> None:
    if window.task_editor is None:
        pytest.skip("task editor not available")
    from PySide6.QtGui import QUndoCommand

    window.open_example("tsp-10-seed1")
    assert "*" not in window.windowTitle()
    window.task_editor.undo_stack.push(QUndoCommand("an edit"))
    assert window.windowTitle().startswith("tsp-10-seed1.opro *")
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    undo, redo = edit.actions()[:2]
    assert undo.shortcut().toString() == "Ctrl+Z" and redo.isEnabled() is False
    window.task_editor.undo_stack.undo()
    assert "*" not in window.windowTitle()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the evaluate window, offscreen
def test_prompt_run_then_held_out_evaluation_marks_the_plot(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    def respond(prompt: str, body: dict[str, Any]) -> str:
        if float(body.get("temperature") or 0) > 0:  # the optimizer samples at temperature 1
            return "<INS>Evaluate the expression one operator at a time.</INS>"
        return "True"

    server = fake_server(respond).start()
    use_server(server.base_url)
    window.model_panel.reload()
    stem = next(s for s, (_l, kind) in shell_projects.example_catalog().items() if kind == "prompt")
    window.open_example(stem)
    assert not window.menus.evaluate_action.isEnabled()  # no run yet
    finished = run_to_end(qtbot, window, RunSettings(max_steps=2, samples_per_step=2))
    assert finished.status in ("completed", "no_improvement", "target_reached"), finished.reason
    assert window.menus.evaluate_action.isEnabled()
    analysis = qtbot.waitSignal(window.run_view.analysis_done, timeout=30_000)
    with analysis, qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=30_000) as done:
        assert window.evaluate_test()
    rows = done.args[0]
    assert any(r.label == "top-1" for r in rows)
    assert len(window.run_view.score_plot.test_markers.data) >= 1
    assert any("(test)" in label for label in window.run_view.score_plot.baseline_labels())
    assert "Test evaluation stored" in window.status_label.text()
    assert not messages


@pytest.mark.parametrize("kind", ["tsp", "linreg", "prompt"])
def test_new_project_of_each_kind(window: MainWindow, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"new-{kind}.opro"
    assert window.new_project(kind, path)
    assert window.session.kind == kind and path.exists()
    assert not window.new_project(kind, path)  # never overwrites an existing file
    assert "already exists" in window.last_message


def test_eta_text() -> None:
    from opro_gui.gui.widgets.shell_status import eta_text

    assert eta_text([], 10) == ""
    assert eta_text([2.0, 4.0], 0) == ""
    assert eta_text([0.01], 5) == "ETA <1 s"
    assert eta_text([3.0, 3.0], 10) == "ETA 30 s"
    assert eta_text([60.0], 30) == "ETA 30 min"
    assert eta_text([600.0], 30) == "ETA 5.0 h"


def test_missing_endpoint_is_said_at_start(window: MainWindow, qtbot: Any) -> None:
    assert window.status_label.text() == mw.NO_ENDPOINT_TEXT
    use_server("http://127.0.0.1:11434/v1")
    configured = MainWindow()
    qtbot.addWidget(configured)
    assert configured.status_label.text() == "Ready"


def test_shutdown_timeout_detaches_the_thread_instead_of_destroying_it(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    from opro_gui.gui.worker import Worker

    gate = threading.Event()

    def slow(prompt: str, body: dict[str, Any]) -> str:
        gate.wait(20)
        return tsp_responder()(prompt, body)

    server = fake_server(slow).start()
    use_server(server.base_url)
    window.model_panel.reload()
    window.open_example("tsp-10-seed1")
    assert window.start_run(RunSettings(max_steps=5, samples_per_step=1))
    qtbot.waitUntil(lambda: server.stats.requests >= 1, timeout=10_000)
    assert not window.controller.shutdown(timeout_ms=0)  # the worker is still in its call
    assert not window.controller.is_running
    worker = Worker._detached[-1]
    assert worker.parent() is None  # closing the window cannot destroy its running thread
    gate.set()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=20_000)  # the token stops it
    assert worker not in Worker._detached


def test_budget_pause_advises_raising_the_budget(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    server = fake_server(tsp_responder()).start()
    use_server(server.base_url)
    window.model_panel.reload()
    window.open_example("tsp-10-seed1")
    steps: list[int] = []
    window.controller.step_started.connect(lambda ev: steps.append(ev.step))
    finished = run_to_end(qtbot, window, RunSettings(max_steps=10, budget_tokens=1))
    assert finished.status == "paused" and "token budget reached" in finished.reason
    assert steps == [1]
    assert len(messages) == 1 and "Raise the budget" in messages[0]  # services.status


def test_run_on_a_finished_run_follows_plan_run_and_says_so_first(
    qtbot: Any, window: MainWindow, fake_server: Any, messages: list[str]
) -> None:
    server = fake_server(tsp_responder()).start()
    use_server(server.base_url)
    window.model_panel.reload()
    window.open_example("tsp-10-seed1")
    assert run_to_end(qtbot, window, THREE).status == "completed"
    assert window.session is not None
    expected = window.session.plan_run(THREE)  # the rule the CLI follows too
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as blocker:
        assert window.start_run(THREE)
        said = window.status_label.text()  # before the worker's first event arrives
    qtbot.waitUntil(lambda: not window.controller.is_running, timeout=10_000)
    qtbot.waitUntil(lambda: not window.run_view.analysis_pending, timeout=10_000)
    assert blocker.args[0].status == "completed"
    assert window.last_plan == expected and expected.is_new and expected.run_id == 2
    assert said.startswith(
        "Run 1 already ended (completed: step budget of 3 used) after step 3: starting run 2, "
        "up to step 3 — tsp-10-seed1.opro: optimizer fake-optimizer at "
    )
    assert window.session.run_ids() == [1, 2] and messages == []
