"""The open project's part of Model settings: its optimizer and scorer shown and edited in the
form, presets filling them, and the endpoint each role runs with."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout

from opro_gui.llm import EndpointConfig
from opro_gui.problems import ProblemKind

from .. import settings

CUSTOM = "Custom"
ROLES = ("optimizer", "scorer")


def endpoint_from_profile(profile: dict[str, Any]) -> EndpointConfig:
    return EndpointConfig.from_dict(profile)


class ProjectModelsMixin:
    """Mixed into ModelSettingsPanel (which builds the widgets and signals used here)."""

    _kind: ProblemKind | None
    _project: dict[str, EndpointConfig | None]
    _profiles: dict[str, dict[str, Any]]
    _loading: bool
    edit_combo: Any
    edit_row: Any
    form_group: Any
    profile_combo: Any
    status_label: Any
    project_models_changed: Any

    def current_config(self) -> EndpointConfig:
        raise NotImplementedError

    def _show_profile(self, name: str) -> None:
        raise NotImplementedError

    def _show_config(self, cfg: EndpointConfig | None, preset_name: str, keyring: str) -> None:
        raise NotImplementedError

    def endpoint_for(self, role: str) -> EndpointConfig | None:
        """The open project's endpoint for ``role`` (its scorer falls back to its optimizer);
        without one (a new project, or no project) the preset chosen for the role."""
        project = self._project.get(role) or (
            self._project["optimizer"] if role == "scorer" else None
        )
        if self._kind is not None and project is not None:
            return project
        return self.preset_for(role)

    def preset_for(self, role: str) -> EndpointConfig | None:
        name = settings.role_profile(role) or (
            settings.role_profile("optimizer") if role == "scorer" else ""
        )
        prof = self._profiles.get(name)
        try:
            return endpoint_from_profile(prof) if prof else None
        except (TypeError, ValueError):  # a preset edited by hand
            return None

    def project_has_models(self) -> bool:
        return self._kind is not None and self._project["optimizer"] is not None

    def set_project(
        self,
        kind: ProblemKind | None,
        optimizer: EndpointConfig | None = None,
        scorer: EndpointConfig | None = None,
    ) -> None:
        """Show (and from now on edit) the open project's models; ``kind`` None: no project.
        A project without stored models shows the presets it would start from."""
        self._kind = kind
        self._project = {"optimizer": optimizer, "scorer": scorer}
        self._show_project_controls()

    def complete_config(self, failed: str) -> EndpointConfig | None:
        """The form's endpoint when it has a base URL and a model; else None, and the status
        line says why, after ``failed`` ("Not saved", "Not used")."""
        try:
            cfg: EndpointConfig = self.current_config()
        except ValueError as exc:
            self.status_label.setText(f"{failed}: {exc}")
            return None
        if not cfg.base_url or not cfg.model:
            self.status_label.setText(f"{failed}: a base URL and a model are needed.")
            return None
        return cfg

    def apply_to_project(self) -> bool:
        """The form becomes the open project's endpoint for the role being edited."""
        if self._kind is None:
            self.status_label.setText("Open a project first: its models are saved with it.")
            return False
        cfg = self.complete_config("Not used")
        if cfg is None:
            return False
        self._set_project_role(self._edit_role(), cfg)
        self.status_label.setText(f"The project's {self._edit_role()} is now {cfg.model}.")
        return True

    def _on_profile_chosen(self, name: str) -> None:
        """A preset chosen by name while a project is open fills the project's model."""
        if self._kind is not None and name in self._profiles:
            self._show_profile(name)
            self.apply_to_project()

    # -- the open project ------------------------------------------------------------------
    def _edit_role(self) -> str:
        return str(self.edit_combo.currentData() or "optimizer")

    def _set_project_role(self, role: str, cfg: EndpointConfig | None) -> None:
        if role == "optimizer" and self._project["optimizer"] is None and self._kind is not None:
            # the first model given to a project: its scorer starts from the scorer preset
            self._project["scorer"] = self._project["scorer"] or (
                self.preset_for("scorer") if self._kind.needs_scorer else None
            )
        self._project[role] = cfg
        self.project_models_changed.emit(self._project["optimizer"], self._project["scorer"])

    def _show_project_controls(self) -> None:
        kind = self._kind
        self._loading = True
        self.edit_combo.clear()
        if kind is not None:
            self.edit_combo.addItem("optimizer", "optimizer")
            if kind.needs_scorer:
                self.edit_combo.addItem("scorer", "scorer")
        self._loading = False
        self.edit_row.setVisible(kind is not None)
        form = self.form_group.layout()
        label = form.labelForField(self.edit_row) if isinstance(form, QFormLayout) else None
        if label is not None:
            label.setVisible(kind is not None)
        self.form_group.setTitle("The open project's models" if kind else "Preset")
        if kind is not None:
            self.profile_combo.setCurrentIndex(-1)
            self._on_edit_combo_changed()
        else:
            self._show_profile(self.profile_combo.currentText())

    def _on_edit_combo_changed(self, *_: object) -> None:
        if self._loading or self._kind is None:
            return
        role = self._edit_role()
        cfg = self.endpoint_for(role)
        name = settings.role_profile(role)
        self._show_config(cfg, (self._profiles.get(name) or {}).get("preset", CUSTOM),
                          cfg.keyring_profile if cfg else "")  # fmt: skip
