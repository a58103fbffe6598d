"""Model settings panel and first-run dialog: profiles without secrets, model list and
connection test as background calls against the suite's server, the first-run choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)

from opro_gui.gui import settings
from opro_gui.gui.widgets.model_settings import ModelSettingsPanel
from opro_gui.gui.widgets.shell_first_run import FirstRunDialog

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture(autouse=True)
def _settings_dir(tmp_path: Path) -> None:
    settings.set_settings_dir(tmp_path / "settings")


def test_profiles_never_store_a_key() -> None:
    settings.save_profiles({"p": {"base_url": "http://x/v1", "model": "m", "api_key": "sk-secret"}})
    assert settings.load_profiles() == {"p": {"base_url": "http://x/v1", "model": "m"}}
    ini = Path(settings._store().fileName()).read_text()
    assert "sk-secret" not in ini


def test_recent_files_newest_first_without_duplicates(tmp_path: Path) -> None:
    a, b = tmp_path / "a.opro", tmp_path / "b.opro"
    for p in (a, b, a):
        settings.add_recent_file(p)
    assert settings.recent_files() == [a.resolve(), b.resolve()]
    settings.remove_recent_file(a)
    assert settings.recent_files() == [b.resolve()]


def _panel_for(qtbot: Any, base_url: str) -> ModelSettingsPanel:
    panel = ModelSettingsPanel()
    qtbot.addWidget(panel)
    panel.profile_combo.addItem("local")
    panel.profile_combo.setCurrentText("local")
    panel.base_url.setText(base_url)
    panel.model_combo.setCurrentText("fake-optimizer")
    return panel


def test_fetch_models_and_test_connection_in_background(qtbot: Any, fake_server: Any) -> None:
    server = fake_server(models=("alpha", "fake-optimizer")).start()
    panel = _panel_for(qtbot, server.base_url)
    panel.fetch_models()
    assert not panel.refresh_models_button.isEnabled()  # busy while the call runs
    qtbot.waitUntil(lambda: panel.refresh_models_button.isEnabled(), timeout=10_000)
    items = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
    assert items == ["alpha", "fake-optimizer"]
    assert panel.model_combo.currentText() == "fake-optimizer"
    panel.test_current()
    qtbot.waitUntil(lambda: panel.test_button.isEnabled(), timeout=10_000)
    assert panel.status_label.text().startswith("✓")


def test_wrong_key_is_reported(qtbot: Any, fake_server: Any) -> None:
    server = fake_server(require_key="the-right-key").start()
    panel = _panel_for(qtbot, server.base_url)
    panel.test_current()
    qtbot.waitUntil(lambda: panel.test_button.isEnabled(), timeout=10_000)
    assert panel.status_label.text().startswith("✗")


def test_saved_profile_becomes_the_default_role(qtbot: Any, fake_server: Any) -> None:
    panel = _panel_for(qtbot, "http://127.0.0.1:8080/v1")
    panel.concurrency.setValue(4)
    panel.rpm.setValue(60)
    with qtbot.waitSignal(panel.profiles_changed):
        assert panel.save_current()
    cfg = panel.endpoint_for("optimizer")
    assert cfg is not None and cfg.base_url == "http://127.0.0.1:8080/v1"
    assert (cfg.concurrency, cfg.rpm, cfg.tpm) == (4, 60, None)
    assert panel.endpoint_for("scorer") == cfg
    assert settings.load_profiles()["local"]["preset"] == "Custom"


def test_preset_fills_url_and_key_variable(qtbot: Any) -> None:
    panel = _panel_for(qtbot, "")
    panel.preset_combo.setCurrentText("Ollama")
    assert panel.base_url.text() == "http://127.0.0.1:11434/v1"
    assert panel.key_env.text() == "OLLAMA_API_KEY"


def test_first_run_offers_environment_key_and_form(qtbot: Any) -> None:
    dialog = FirstRunDialog(detect=False)
    qtbot.addWidget(dialog)
    assert dialog.use_env_button.isEnabled()  # conftest sets a fake OPENAI_API_KEY
    dialog.use_env_button.click()
    assert dialog.profile_name == "OpenAI"
    assert dialog.profile["base_url"] == "https://api.openai.com/v1"
    assert "api_key" not in dialog.profile
    form = FirstRunDialog(detect=False)
    qtbot.addWidget(form)
    form.url_edit.setText("not a url")
    form.use_form_button.click()
    assert form.profile == {} and "base URL" in form.status_label.text()
    form.url_edit.setText("http://10.0.0.5:8000/v1")
    form.model_edit.setText("qwen")
    form.use_form_button.click()
    assert form.profile["model"] == "qwen"


def test_first_run_detects_local_servers_without_hanging(qtbot: Any) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.detect_button.isEnabled(), timeout=20_000)
    assert "server" in dialog.status_label.text()
    assert dialog.local_list.count() == len(dialog._found)


def test_first_run_names_a_server_by_its_answers(
    qtbot: Any, fake_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dialog uses the same detection as `opro models`: the port of $OPENAI_BASE_URL is
    probed, and a llama-cpp-python server there is called so, whatever its port."""
    srv = fake_server(flavor="llama-cpp-python", models=("/models/qwen.gguf",)).start()
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.detect_button.isEnabled(), timeout=20_000)
    items = [dialog.local_list.item(i).text() for i in range(dialog.local_list.count())]
    assert f"llama-cpp-python at {srv.base_url}: /models/qwen.gguf" in items


def test_key_goes_to_the_keyring_or_says_where_else(qtbot: Any) -> None:
    panel = _panel_for(qtbot, "https://api.example.com/v1")
    panel.key_env.setText("EXAMPLE_API_KEY")
    panel.key_edit.setText("sk-never-in-a-file-123456")
    panel.store_key_button.click()
    # The test keyring backend stores nothing: the panel says so and names the variable.
    text = panel.status_label.text()
    assert text == "Key stored in the OS keyring." or "EXAMPLE_API_KEY" in text
    assert panel.save_current()
    ini = Path(settings._store().fileName()).read_text()
    assert "sk-never-in-a-file" not in ini


def test_a_password_in_the_base_url_is_refused_and_not_saved(qtbot: Any) -> None:
    panel = _panel_for(qtbot, "http://dave:s3cr3t-pw@127.0.0.1:8080/v1")
    assert panel.save_current() is False
    assert "holds a user name or password" in panel.status_label.text()
    assert "s3cr3t" not in panel.status_label.text()
    assert settings.load_profiles() == {}
    panel.test_current()  # no request is attempted with it either
    assert panel.status_label.text().startswith("Invalid settings: the base URL holds")
