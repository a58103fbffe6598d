"""Models per project in the app (issue 11 item 1): each project runs with its own optimizer
and scorer, shown in the window; presets fill a project's models and are never changed by
opening or running one; Model settings edits the open project's models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from test_gui_prompt_baseline import responder as prompt_responder
from test_gui_shell import run_to_end, tsp_responder

from opro_gui.core.models import RunSettings
from opro_gui.gui import main_window as mw
from opro_gui.gui import settings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    win = MainWindow()
    qtbot.addWidget(win)
    return win


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        mw.QMessageBox, "warning", lambda _p, title, text, *a: shown.append(f"{title}: {text}")
    )
    return shown


def _presets(base_url: str) -> None:
    settings.save_profiles({"preset": {"base_url": base_url, "model": "preset-model"}})
    settings.set_role_profile("optimizer", "preset")
    settings.set_role_profile("scorer", "preset")


def _host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0]


def test_each_project_runs_with_its_own_models_and_the_presets_stay_untouched(
    qtbot: Any, window: MainWindow, fake_server: Any, tmp_path: Path, messages: list[str]
) -> None:
    preset = fake_server(tsp_responder(), record_bodies=True).start()
    tsp_srv = fake_server(tsp_responder(), record_bodies=True).start()
    prompt_srv = fake_server(prompt_responder(), record_bodies=True).start()
    _presets(preset.base_url)
    profiles_before = settings.load_profiles()
    tsp_path = tmp_path / "tour.opro"
    with ProjectSession.create(tsp_path, "tsp", shell_projects.default_spec("tsp")) as s:
        s.set_project_models(EndpointConfig(tsp_srv.base_url, "tsp-opt", concurrency=3))
    stem = next(s for s, (_l, k) in shell_projects.example_catalog().items() if k == "prompt")
    prompt_path = shell_projects.ensure_example(stem)
    with ProjectSession.open(prompt_path) as s:
        s.set_project_models(
            EndpointConfig(prompt_srv.base_url, "prompt-opt"),
            EndpointConfig(prompt_srv.base_url, "prompt-scorer", concurrency=4),
        )
    window.model_panel.reload()

    assert window.open_project(tsp_path)
    tsp_host = _host(tsp_srv.base_url)
    assert window.model_line.text() == f"optimizer tsp-opt at {tsp_host}"  # no scorer for TSP
    assert window.model_panel.model_combo.currentText() == "tsp-opt"  # the form shows it
    assert window.model_panel.concurrency.value() == 3
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        assert window.start_run(RunSettings(max_steps=2, samples_per_step=2))
        said = window.status_label.text()  # Run says what it will use before spending
    qtbot.waitUntil(lambda: not window.controller.is_running, timeout=10_000)
    qtbot.waitUntil(lambda: not window.run_view.analysis_pending, timeout=10_000)
    assert said == (
        f"Starting run 1, up to step 2 — tour.opro: optimizer tsp-opt at {tsp_host}; "
        "checking the models first"
    )

    assert window.open_project(prompt_path)
    host = _host(prompt_srv.base_url)
    assert window.model_line.text() == f"optimizer prompt-opt at {host} · scorer prompt-scorer"
    run_to_end(qtbot, window, RunSettings(max_steps=1, samples_per_step=2))

    # server side: each server saw only its own project's model names; the preset none
    assert {b["model"] for b in tsp_srv.stats.bodies} == {"tsp-opt"}
    sent = [(b["model"], float(b.get("temperature") or 0)) for b in prompt_srv.stats.bodies]
    assert {m for m, t in sent if t > 0} == {"prompt-opt"}  # optimizer samples at 1.0
    assert {m for m, t in sent if t == 0} == {"prompt-scorer"}  # the scorer at 0
    assert preset.stats.bodies == []
    # each run recorded its own endpoints; the presets are exactly as before
    for path, model in ((tsp_path, "tsp-opt"), (prompt_path, "prompt-opt")):
        with ProjectSession.open(path) as s:
            opt, sc = s.endpoints(s.latest_run_id())
            assert (opt.model, opt.base_url) == (model, (tsp_srv if model == "tsp-opt" else
                                                         prompt_srv).base_url)  # fmt: skip
            assert s.project_models().optimizer == opt
        if model == "prompt-opt":
            assert sc is not None and (sc.model, sc.concurrency) == ("prompt-scorer", 4)
    assert settings.load_profiles() == profiles_before
    assert settings.role_profile("optimizer") == settings.role_profile("scorer") == "preset"
    assert not messages


def test_model_settings_edit_the_open_project_and_save_a_preset_keeps_what_was_typed(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _presets("http://127.0.0.1:8080/v1")
    window.model_panel.reload()
    path = tmp_path / "tour.opro"
    assert window.new_project("tsp", path)
    # a new project starts from the preset in use, stored with it
    with ProjectSession.open(path) as s:
        assert s.project_models().optimizer.model == "preset-model"
    panel = window.model_panel
    panel.base_url.setText("http://127.0.0.1:11434/v1")
    panel.model_combo.setCurrentText("qwen2.5:7b")
    assert panel.apply_to_project()
    assert window.model_line.text() == "optimizer qwen2.5:7b at 127.0.0.1:11434"
    with ProjectSession.open(path) as s:
        stored = s.project_models().optimizer
    assert (stored.base_url, stored.model) == ("http://127.0.0.1:11434/v1", "qwen2.5:7b")
    assert settings.load_profiles()["preset"]["model"] == "preset-model"  # not the profile
    # "Save as preset…" asks for a name and keeps every field as typed
    from opro_gui.gui.widgets import model_settings

    monkeypatch.setattr(
        model_settings.QInputDialog, "getText", lambda *a, **k: ("local qwen", True)
    )
    assert panel.save_current()
    assert settings.load_profiles()["local qwen"]["model"] == "qwen2.5:7b"
    assert panel.base_url.text() == "http://127.0.0.1:11434/v1"
    assert panel.model_combo.currentText() == "qwen2.5:7b"
    # choosing a preset fills the open project's optimizer (saved with it)
    panel.optimizer_combo.setCurrentText("preset")
    panel.optimizer_combo.textActivated.emit("preset")  # as a click on it would
    with ProjectSession.open(path) as s:
        assert s.project_models().optimizer.model == "preset-model"
    assert window.model_line.text() == "optimizer preset-model at 127.0.0.1:8080"


def test_new_preset_without_a_project_keeps_the_typed_fields(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from opro_gui.gui.widgets import model_settings

    settings.set_settings_dir(tmp_path / "settings")
    panel = model_settings.ModelSettingsPanel()
    qtbot.addWidget(panel)
    panel.base_url.setText("http://127.0.0.1:1234/v1")
    panel.model_combo.setCurrentText("picked-from-the-list")
    monkeypatch.setattr(model_settings.QInputDialog, "getText", lambda *a, **k: ("mine", True))
    assert panel.profile_combo.currentText() == ""  # no preset yet: Save asks for a name
    assert panel.save_current()
    assert settings.load_profiles()["mine"]["base_url"] == "http://127.0.0.1:1234/v1"
    assert panel.model_combo.currentText() == "picked-from-the-list"
    panel.base_url.setText("http://127.0.0.1:5678/v1")
    panel.new_button.click()  # New… with fields filled in saves them too, clearing nothing
    assert panel.base_url.text() == "http://127.0.0.1:5678/v1"
    assert settings.load_profiles()["mine"]["base_url"] == "http://127.0.0.1:5678/v1"
