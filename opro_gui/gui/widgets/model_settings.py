"""Model settings: the open project's optimizer and scorer (base URL, model from /v1/models,
limits; saved with the project) and named profiles, the presets that fill them. Keys never reach
a project or settings file (only the name of their variable or keyring entry)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from opro_gui.llm import EndpointConfig
from opro_gui.llm.presets import PRESETS, list_models, preset, test_connection
from opro_gui.llm.secrets import SecretStoreError, set_key
from opro_gui.problems import ProblemKind

from .. import settings
from ..worker import Worker, run_in_background
from .model_settings_project import CUSTOM, ROLES, ProjectModelsMixin, endpoint_from_profile

__all__ = ["CUSTOM", "ROLES", "ModelSettingsPanel", "endpoint_from_profile"]


class ModelSettingsPanel(ProjectModelsMixin, QWidget):
    """With a project open the form edits the project's models (``project_models_changed``
    carries them to be saved with the project); presets fill them. ``profiles_changed``
    after every change to the presets."""

    profiles_changed = Signal()
    project_models_changed = Signal(object, object)  # optimizer, scorer EndpointConfig | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profiles: dict[str, dict[str, Any]] = settings.load_profiles()
        self._call: Worker | None = None
        self._loading = False
        self._kind: ProblemKind | None = None  # the open project's kind; None: no project
        self._project: dict[str, EndpointConfig | None] = dict.fromkeys(ROLES)
        self._keyring_name = ""  # the keyring entry of the endpoint in the form

        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setObjectName("optimizer_profile")
        self.scorer_combo = QComboBox()
        self.scorer_combo.setObjectName("scorer_profile")
        roles = QGroupBox("Presets")
        roles.setToolTip(
            "Choosing a preset fills the open project's model; new projects start from them"
        )
        rf = QFormLayout(roles)
        rf.addRow("Optimizer", self.optimizer_combo)
        rf.addRow("Scorer (prompt tasks)", self.scorer_combo)
        self.edit_combo = QComboBox()
        self.edit_combo.setObjectName("model_edit_role")
        self.apply_button = QPushButton("Use for this project")
        self.apply_button.setObjectName("model_apply")

        self.profile_combo = QComboBox()
        self.new_button = QPushButton("New…")
        self.delete_button = QPushButton("Delete")
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([CUSTOM, *(p.name for p in PRESETS)])
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("http://127.0.0.1:11434/v1")
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.refresh_models_button = QPushButton("Fetch models")
        self.key_env = QLineEdit()
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("stored in the OS keyring, never in files")
        self.store_key_button = QPushButton("Store key")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["chat", "completion"])
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSpecialValueText("run setting")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 256)
        self.rpm = QSpinBox()
        self.rpm.setRange(0, 1_000_000)
        self.rpm.setSpecialValueText("unlimited")
        self.tpm = QSpinBox()
        self.tpm.setRange(0, 100_000_000)
        self.tpm.setSpecialValueText("unlimited")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        self.save_button = QPushButton("Save as preset…")
        self.test_button = QPushButton("Test connection")
        self.status_label = QLabel()
        self.status_label.setObjectName("model_status")
        self.status_label.setWordWrap(True)

        prof = self.form_group = QGroupBox("Preset")
        pf = QFormLayout(prof)
        self.edit_row = QWidget()
        erow = QHBoxLayout(self.edit_row)
        erow.setContentsMargins(0, 0, 0, 0)
        erow.addWidget(self.edit_combo, 1)
        erow.addWidget(self.apply_button)
        pf.addRow("This project's", self.edit_row)
        row = QHBoxLayout()
        row.addWidget(self.profile_combo, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        pf.addRow("Preset name", row)
        pf.addRow("Server type", self.preset_combo)
        pf.addRow("Base URL", self.base_url)
        mrow = QHBoxLayout()
        mrow.addWidget(self.model_combo, 1)
        mrow.addWidget(self.refresh_models_button)
        pf.addRow("Model", mrow)
        pf.addRow("Key variable", self.key_env)
        krow = QHBoxLayout()
        krow.addWidget(self.key_edit, 1)
        krow.addWidget(self.store_key_button)
        pf.addRow("API key", krow)
        pf.addRow("Mode", self.mode_combo)
        pf.addRow("Max tokens", self.max_tokens)
        pf.addRow("Concurrency", self.concurrency)
        pf.addRow("Requests/min", self.rpm)
        pf.addRow("Tokens/min", self.tpm)
        pf.addRow("Timeout", self.timeout)
        brow = QHBoxLayout()
        brow.addWidget(self.save_button)
        brow.addWidget(self.test_button)
        pf.addRow(brow)
        pf.addRow(self.status_label)

        lay = QVBoxLayout(self)
        lay.addWidget(roles)
        lay.addWidget(prof)
        lay.addStretch(1)

        self.profile_combo.currentTextChanged.connect(self._on_profile_combo_changed)
        self.preset_combo.currentTextChanged.connect(self._on_preset_combo_changed)
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.save_button.clicked.connect(self.save_current)
        self.apply_button.clicked.connect(self.apply_to_project)
        self.edit_combo.currentIndexChanged.connect(self._on_edit_combo_changed)
        self.test_button.clicked.connect(self.test_current)
        self.refresh_models_button.clicked.connect(self.fetch_models)
        self.store_key_button.clicked.connect(self._on_store_key_button_clicked)
        # chosen by the user (even the same preset again): fills the open project's model
        self.optimizer_combo.textActivated.connect(
            lambda name: self._on_role_changed("optimizer", name)
        )
        self.scorer_combo.textActivated.connect(lambda name: self._on_role_changed("scorer", name))
        self.profile_combo.textActivated.connect(self._on_profile_chosen)
        self.reload()
        self._show_project_controls()

    # -- public ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read profiles and roles from settings."""
        self._loading = True
        self._profiles = settings.load_profiles()
        names = sorted(self._profiles)
        for combo, role in ((self.optimizer_combo, "optimizer"), (self.scorer_combo, "scorer")):
            combo.clear()
            combo.addItems(names)
            chosen = settings.role_profile(role)
            if chosen in self._profiles:
                combo.setCurrentText(chosen)
        current = self.profile_combo.currentText()
        self.profile_combo.clear()
        self.profile_combo.addItems(names)
        if self._kind is not None:
            self.profile_combo.setCurrentIndex(self.profile_combo.findText(current))
        self._loading = False
        if self._kind is None:
            self._show_profile(self.profile_combo.currentText())

    def profiles(self) -> dict[str, dict[str, Any]]:
        return dict(self._profiles)

    def current_config(self) -> EndpointConfig:
        name = self._keyring_name or self.profile_combo.currentText().strip()
        return EndpointConfig(
            base_url=self.base_url.text().strip(),
            model=self.model_combo.currentText().strip(),
            api_key_env=self.key_env.text().strip(),
            keyring_profile=name,
            mode=self.mode_combo.currentText(),
            max_tokens=self.max_tokens.value() or None,
            timeout=self.timeout.value(),
            concurrency=self.concurrency.value(),
            rpm=self.rpm.value() or None,
            tpm=self.tpm.value() or None,
        )

    def save_current(self) -> bool:
        """Save what the form holds as a preset: under the chosen name, or (none chosen, or
        a project's models in the form) a name asked for. What was typed is kept."""
        name = self.profile_combo.currentText().strip()
        if not name or self._kind is not None:
            name, ok = QInputDialog.getText(self, "Save as preset", "Preset name:", text=name)
            name = name.strip()
            if not ok or not name:
                return False
        return self.save_as_preset(name)

    def save_as_preset(self, name: str) -> bool:
        cfg = self.complete_config("Not saved")
        if cfg is None:
            return False
        data = cfg.to_public_dict()
        data["preset"] = self.preset_combo.currentText()
        self._profiles[name] = data
        settings.save_profiles(self._profiles)
        for role in ("optimizer", "scorer"):
            if not settings.role_profile(role):
                settings.set_role_profile(role, name)
        self.status_label.setText(f"Preset {name!r} saved.")
        self.reload()
        self._loading = True  # choosing its name must not reload (or re-apply) the form
        self.profile_combo.setCurrentText(name)
        self._loading = False
        self.profiles_changed.emit()
        return True

    def test_current(self) -> None:
        self._call_endpoint(test_connection, "Testing {url} …", self._on_test_done)

    def fetch_models(self) -> None:
        self._call_endpoint(list_models, "Fetching the model list …", self._on_models_done)

    def _call_endpoint(self, fn: Any, status: str, on_done: Any) -> None:
        """Run ``fn(config, key)`` in the background for the profile as edited."""
        try:
            cfg = self.current_config()
        except ValueError as exc:
            self.status_label.setText(f"Invalid settings: {exc}")
            return
        key = self.key_edit.text().strip() or None
        self.status_label.setText(status.format(url=cfg.base_url))
        self._start(fn, cfg, key, on_done=on_done)

    def shutdown(self) -> None:
        if self._call is not None:
            self._call.quit(2000)
            self._call = None

    # -- internals -------------------------------------------------------------------------
    def _start(self, fn: Any, *args: Any, on_done: Any) -> None:
        if self._call is not None:
            self._call.quit()
        self.test_button.setEnabled(False)
        self.refresh_models_button.setEnabled(False)
        self._call = run_in_background(
            fn, *args, on_done=on_done, on_error=self._on_call_error, owner=self
        )

    def _call_ended(self) -> None:
        self._call = None
        self.test_button.setEnabled(True)
        self.refresh_models_button.setEnabled(True)

    def _on_test_done(self, result: tuple[bool, str, list[str]]) -> None:
        self._call_ended()
        ok, message, models = result
        self.status_label.setText(("✓ " if ok else "✗ ") + message)
        if models:
            self._fill_models(models)

    def _on_models_done(self, models: list[str]) -> None:
        self._call_ended()
        self._fill_models(models)
        self.status_label.setText(f"{len(models)} models on the server.")

    def _on_call_error(self, exc: BaseException) -> None:
        self._call_ended()
        self.status_label.setText(f"✗ {type(exc).__name__}: {exc}")

    def _fill_models(self, models: list[str]) -> None:
        current = self.model_combo.currentText()
        self.model_combo.clear()
        self.model_combo.addItems(models)
        self.model_combo.setCurrentText(current or (models[0] if models else ""))

    def _show_profile(self, name: str) -> None:
        prof = self._profiles.get(name)
        try:
            cfg = endpoint_from_profile(prof) if prof else None
        except (TypeError, ValueError):
            cfg = None
        self._show_config(cfg, (prof or {}).get("preset", CUSTOM), name)

    def _show_config(self, cfg: EndpointConfig | None, preset_name: str, keyring: str) -> None:
        cfg = cfg or EndpointConfig(base_url="", model="")
        self._keyring_name = keyring
        self._loading = True
        self.preset_combo.setCurrentText(preset_name)
        self.base_url.setText(cfg.base_url)
        self.model_combo.setCurrentText(cfg.model)
        self.key_env.setText(cfg.api_key_env)
        self.key_edit.clear()
        self.mode_combo.setCurrentText(cfg.mode)
        self.max_tokens.setValue(cfg.max_tokens or 0)
        self.concurrency.setValue(cfg.concurrency)
        self.rpm.setValue(cfg.rpm or 0)
        self.tpm.setValue(cfg.tpm or 0)
        self.timeout.setValue(cfg.timeout)
        self._loading = False

    def _on_profile_combo_changed(self, name: str) -> None:
        if not self._loading and self._kind is None:
            self._show_profile(name)

    def _on_preset_combo_changed(self, name: str) -> None:
        if self._loading or name == CUSTOM:
            return
        p = preset(name)
        self.base_url.setText(p.base_url)
        self.key_env.setText(p.api_key_env)
        self.status_label.setText(p.notes)

    def _on_new_button_clicked(self) -> None:
        """A new preset from what the form holds (what was typed is kept)."""
        name, ok = QInputDialog.getText(self, "New preset", "Preset name:")
        name = name.strip()
        if not ok or not name:
            return
        if self.base_url.text().strip() and self.model_combo.currentText().strip():
            self.save_as_preset(name)
            return
        self._loading = True  # nothing to save yet: name it, keep the form as it is
        if self.profile_combo.findText(name) < 0:
            self.profile_combo.addItem(name)
        self.profile_combo.setCurrentText(name)
        self._loading = False
        self._keyring_name = name

    def _on_delete_button_clicked(self) -> None:
        name = self.profile_combo.currentText()
        if name in self._profiles:
            del self._profiles[name]
            settings.save_profiles(self._profiles)
            self.reload()
            self.profiles_changed.emit()

    def _on_store_key_button_clicked(self) -> None:
        name = self.profile_combo.currentText().strip()
        key = self.key_edit.text().strip()
        if not name or not key:
            self.status_label.setText("Enter a profile name and a key first.")
            return
        try:
            set_key(name, key)
        except SecretStoreError as exc:
            self.status_label.setText(
                f"✗ {exc}. Set the key in the environment variable {self.key_env.text()} instead."
            )
            return
        self.key_edit.clear()
        self.status_label.setText("Key stored in the OS keyring.")

    def _on_role_changed(self, role: str, name: str) -> None:
        if not self._loading and name:
            settings.set_role_profile(role, name)
            self.profiles_changed.emit()
            if self._kind is not None and (role == "optimizer" or self._kind.needs_scorer):
                self._set_project_role(role, self.preset_for(role))  # the preset fills it
                if self._edit_role() == role:
                    self._on_edit_combo_changed()
