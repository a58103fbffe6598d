"""The models of the open project in the window: one line ("optimizer X at Y · scorer Z"),
Model settings following the open project (its edits saved with it), and the question asked
when the model check before a run finds that a model does not answer in the format."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from opro_gui.llm import EndpointConfig
from opro_gui.problems import ProblemKind
from opro_gui.services import ProjectError
from opro_gui.services.model_probe import ModelCheck
from opro_gui.services.project_models import model_line

__all__ = ["ModelCheck", "ModelLine", "ask_run_anyway", "model_line"]

RUN_ANYWAY = "Run anyway"


class ModelLine(QLabel):
    """Always names the models the open project runs with, and where they come from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_line")
        self.show_models(None, None, None)

    def show_models(
        self,
        kind: ProblemKind | None,
        optimizer: EndpointConfig | None,
        scorer: EndpointConfig | None,
        note: str = "",
    ) -> None:
        if kind is None:
            self.setText("")
            self.setToolTip("")
            return
        line = model_line(kind, optimizer, scorer)
        self.setText(line + (f" ({note})" if note else ""))
        urls = [f"optimizer: {optimizer.base_url}"] if optimizer else []
        if kind.needs_scorer and (scorer or optimizer):
            urls.append(f"scorer: {(scorer or optimizer).base_url}")  # type: ignore[union-attr]
        self.setToolTip("\n".join(urls) + "\nChange them in Model settings.")


def ask_run_anyway(parent: QWidget, check: ModelCheck) -> bool:
    """The check failed: show why and what came back; True when the user runs anyway."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The model check failed")
    box.setText(
        f"The {check.role} {check.reason}.\n\nA run would likely spend its budget on answers "
        "nothing can be read from. Check the model in Model settings, or run anyway."
    )
    box.setDetailedText(f"Its answer began:\n{check.raw or '(empty)'}\n\n({check.spent()})")
    run = box.addButton(RUN_ANYWAY, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is run


class WindowModels(QObject):
    """Keeps the window's model line, Model settings and the project's stored models in step;
    after a failed model check asks whether to run anyway (``retry``: what Run was given)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.line = ModelLine()
        window.statusBar().insertWidget(0, self.line)
        self.retry: tuple[Any, bool] | None = None
        window.document.project_opened.connect(self._on_project_opened)
        window.document.load_failed.connect(self._on_load_failed)
        window.controller.model_checked.connect(self._on_model_checked)
        window.controller.running_changed.connect(self._on_running_changed)
        window.model_panel.project_models_changed.connect(self._on_project_models_changed)
        window.model_panel.profiles_changed.connect(self.show)

    def show(self) -> None:
        w = self.window
        kind = w.document.problem_kind if w.session is not None else None
        note = "" if w.model_panel.project_has_models() else "from the presets"
        self.line.show_models(kind, w.endpoint("optimizer"), w.endpoint("scorer"), note)

    def _on_project_opened(self, _opened: object) -> None:
        w = self.window
        try:
            models = w.session.project_models() if w.session is not None else None
        except ProjectError:  # unreadable models: as if none were stored (the presets apply)
            models = None
        w.model_panel.set_project(
            w.document.problem_kind, *((models.optimizer, models.scorer) if models else ())
        )
        self.show()

    def _on_load_failed(self, failed: Any) -> None:
        if failed.fatal:  # the project was closed
            self.window.model_panel.set_project(None)
            self.show()

    def _on_project_models_changed(self, optimizer: Any, scorer: Any) -> None:
        """Model settings edited the open project's models: saved with the project."""
        w = self.window
        if w.session is not None:
            try:
                w.session.set_project_models(optimizer, scorer)
            except ProjectError as exc:
                w.show_error("Cannot save the project's models", str(exc))
        self.show()

    def _on_model_checked(self, check: ModelCheck) -> None:
        status = self.window.status_label
        if check.ok:
            status.setText(f"Model check passed ({check.spent()}); running…")
        elif not check.unreachable:  # an unreachable server: the run says why itself
            status.setText(f"Not started: the {check.role} {check.reason}")

    def _on_running_changed(self, running: bool) -> None:
        """A failed model check ended the job: ask, and run without the check if told to."""
        check, retry = self.window.controller.last_check, self.retry
        if running or retry is None or check is None or check.ok or check.unreachable:
            return
        self.retry = None
        if not self.window._closed and ask_run_anyway(self.window, check):
            self.window.start_run(retry[0], new_run=retry[1], check=False)
