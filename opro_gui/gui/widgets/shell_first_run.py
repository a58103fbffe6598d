"""First run: no endpoint configured yet. Says so plainly and offers local servers found on
loopback, an OPENAI_API_KEY in the environment, or a base URL + key form."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from opro_gui.llm import EndpointConfig
from opro_gui.llm.presets import list_models
from opro_gui.llm.secrets import SecretStoreError, set_key
from opro_gui.services.servers import find_local_servers

from .. import settings
from ..worker import Worker, run_in_background

OPENAI_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


class FirstRunDialog(QDialog):
    """On accept: ``profile_name`` and ``profile`` (a public endpoint dict + "preset")."""

    def __init__(self, parent: QWidget | None = None, detect: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect a model")
        self.profile_name = ""
        self.profile: dict[str, Any] = {}
        self._found: list[Any] = []
        self._call: Worker | None = None

        intro = QLabel(
            "No model endpoint is configured yet. OPRO needs an OpenAI-compatible server: the "
            "optimizer proposes solutions, and for prompt tasks a scorer answers questions. "
            "Pick one of the options below; you can change it later in Model settings."
        )
        intro.setWordWrap(True)

        local = QGroupBox("1. A server on this computer (Ollama, LM Studio, vLLM, llama.cpp)")
        self.local_list = QListWidget()
        self.detect_button = QPushButton("Look for local servers")
        self.use_local_button = QPushButton("Use selected")
        self.use_local_button.setEnabled(False)
        ll = QVBoxLayout(local)
        ll.addWidget(self.local_list)
        row = QHBoxLayout()
        row.addWidget(self.detect_button)
        row.addWidget(self.use_local_button)
        ll.addLayout(row)

        env = QGroupBox("2. OpenAI with the key in $OPENAI_API_KEY")
        has_env = bool(os.environ.get("OPENAI_API_KEY"))
        self.env_label = QLabel(
            "OPENAI_API_KEY is set in the environment."
            if has_env
            else "OPENAI_API_KEY is not set in this environment."
        )
        self.env_model = QLineEdit(OPENAI_DEFAULT_MODEL)
        self.use_env_button = QPushButton("Use OpenAI")
        self.use_env_button.setEnabled(has_env)
        el = QFormLayout(env)
        el.addRow(self.env_label)
        el.addRow("Model", self.env_model)
        el.addRow(self.use_env_button)

        form = QGroupBox("3. Any OpenAI-compatible server")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://host/v1")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("kept in the OS keyring; empty for local servers")
        self.model_edit = QLineEdit()
        self.use_form_button = QPushButton("Use this server")
        fl = QFormLayout(form)
        fl.addRow("Base URL", self.url_edit)
        fl.addRow("API key", self.key_edit)
        fl.addRow("Model", self.model_edit)
        fl.addRow(self.use_form_button)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        for w in (intro, local, env, form, self.status_label, buttons):
            lay.addWidget(w)

        self.detect_button.clicked.connect(self.detect)
        self.local_list.currentRowChanged.connect(
            lambda row: self.use_local_button.setEnabled(row >= 0)
        )
        self.use_local_button.clicked.connect(self._on_use_local_button_clicked)
        self.use_env_button.clicked.connect(self._on_use_env_button_clicked)
        self.use_form_button.clicked.connect(self._on_use_form_button_clicked)
        if detect:
            self.detect()

    # -- local servers ---------------------------------------------------------------------
    def detect(self) -> None:
        self.detect_button.setEnabled(False)
        self.status_label.setText("Looking for servers on 127.0.0.1 …")
        self._call = run_in_background(
            find_local_servers, on_done=self._on_detect_done, on_error=self._on_error, owner=self
        )

    def _on_detect_done(self, found: list[Any]) -> None:
        self._call = None
        self.detect_button.setEnabled(True)
        self._found = list(found)
        self.local_list.clear()
        for p in self._found:
            models = f": {', '.join(p.models[:3])}" if p.models else ""
            self.local_list.addItem(f"{p.name} at {p.base_url}{models}")
        self.status_label.setText(
            f"{len(found)} local server(s) found." if found else "No local server answered."
        )

    def _on_use_local_button_clicked(self) -> None:
        row = self.local_list.currentRow()
        if not 0 <= row < len(self._found):
            return
        p = self._found[row]
        cfg = p.config("")
        self.status_label.setText(f"Asking {p.name} for its models …")
        self._call = run_in_background(
            list_models,
            cfg,
            on_done=lambda models: self._on_local_models(p, models),
            on_error=self._on_error,
            owner=self,
        )

    def _on_local_models(self, p: Any, models: list[str]) -> None:
        self._call = None
        if not models:
            self.status_label.setText(f"{p.name} lists no models; load one in it first.")
            return
        self._finish(p.name, p.config(models[0]), p.name)

    def _on_error(self, exc: BaseException) -> None:
        self._call = None
        self.detect_button.setEnabled(True)
        self.status_label.setText(f"✗ {type(exc).__name__}: {exc}")

    # -- other options ---------------------------------------------------------------------
    def _on_use_env_button_clicked(self) -> None:
        model = self.env_model.text().strip() or OPENAI_DEFAULT_MODEL
        self._finish("OpenAI", EndpointConfig(base_url=OPENAI_URL, model=model), "OpenAI")

    def _on_use_form_button_clicked(self) -> None:
        url, model = self.url_edit.text().strip(), self.model_edit.text().strip()
        if not url.startswith(("http://", "https://")) or not model:
            self.status_label.setText("Enter a base URL (http:// or https://) and a model name.")
            return
        name = "Custom server"
        key = self.key_edit.text().strip()
        cfg = EndpointConfig(base_url=url, model=model, api_key_env="", keyring_profile=name)
        if key:
            try:
                set_key(name, key)
            except SecretStoreError as exc:
                self.status_label.setText(
                    f"✗ {exc}. Put the key in an environment variable instead and set it in "
                    "Model settings."
                )
                return
        self._finish(name, cfg, "Custom")

    def _finish(self, name: str, cfg: EndpointConfig, preset: str) -> None:
        self.profile_name = name
        self.profile = {**cfg.to_public_dict(), "preset": preset}
        self.accept()

    def done(self, result: int) -> None:  # Qt override: no call may outlive the dialog
        if self._call is not None:
            self._call.quit(2000)
            self._call = None
        super().done(result)


def choose_first_endpoint(parent: QWidget | None) -> bool:
    """Show the dialog; a chosen endpoint becomes the optimizer and scorer profile."""
    dialog = FirstRunDialog(parent)
    if dialog.exec() != FirstRunDialog.DialogCode.Accepted or not dialog.profile:
        return False
    profiles = settings.load_profiles()
    profiles[dialog.profile_name] = dialog.profile
    settings.save_profiles(profiles)
    settings.set_role_profile("optimizer", dialog.profile_name)
    settings.set_role_profile("scorer", dialog.profile_name)
    settings.set_first_run_done()
    return True
