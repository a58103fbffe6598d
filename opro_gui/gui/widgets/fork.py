"""The fork dialog: a new run that starts from a step of an existing run, with edited run
settings and/or meta-prompt template (ProjectSession.fork, in a background thread)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opro_gui.core.models import RunSettings
from opro_gui.gui.widgets.panel_run_settings import RunSettingsForm
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.gui.widgets.template_editor import TemplateEditor
from opro_gui.gui.worker import Worker, run_in_background
from opro_gui.services import ProjectSession
from opro_gui.services.pages import fork_setup, history_top_at


def run_fork(
    path: Path, run_id: int, step: int, settings: RunSettings, override: dict[str, Any]
) -> int:
    """Runs in the worker thread: its own session, closed before returning."""
    with ProjectSession.open(path) as session:
        return session.fork(run_id, step, settings, override or None)


class ForkDialog(QDialog):
    run_forked = Signal(int)  # the new run's id
    fork_failed = Signal(str)

    def __init__(
        self, project_path: Path, run_id: int, step: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Fork run {run_id}")
        self.project_path, self.run_id = Path(project_path), run_id
        self._call: Worker | None = None
        self.new_run_id: int | None = None
        setup = fork_setup(self.project_path, run_id)
        kind, spec, settings, last = setup.kind, setup.spec, setup.settings, setup.last_step

        self.step_spin = QSpinBox(
            minimum=0, maximum=max(0, last), value=min(max(0, step), max(0, last))
        )
        self.step_spin.valueChanged.connect(self._on_step_spin_changed)
        self._stack = QUndoStack(self)
        binder = UndoBinder(self._stack, self)
        self.settings_form = RunSettingsForm(binder)
        self.template_editor = TemplateEditor(binder)
        with binder.loading():
            self.settings_form.load(settings)
            self.template_editor.set_task(kind, spec)
        self._settings_size = settings.history_size
        self._on_step_spin_changed(self.step_spin.value())
        undo = QPushButton("Undo edit")
        undo.clicked.connect(self._stack.undo)
        self._stack.canUndoChanged.connect(undo.setEnabled)
        undo.setEnabled(False)

        self.error_label = error_label()
        self.status_label = QLabel()
        tabs = QTabWidget()
        tabs.addTab(self.settings_form, "OPRO settings")
        tabs.addTab(self.template_editor, "Meta-prompt template")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.fork_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.fork_button.setText("Fork")
        self.buttons.accepted.connect(self.fork)
        self.buttons.rejected.connect(self.reject)
        self.buttons.addButton(undo, QDialogButtonBox.ButtonRole.ResetRole)
        form = QFormLayout()
        form.addRow("Continue from step:", self.step_spin)
        note = QLabel(
            f"The new run copies run {run_id}'s steps up to this one and continues with the "
            "settings and template below. The original run is not changed."
        )
        note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(tabs, 1)
        lay.addWidget(self.error_label)
        lay.addWidget(self.status_label)
        lay.addWidget(self.buttons)
        self.resize(900, 650)

    def fork(self) -> None:
        """Create the run in a worker thread; ``run_forked`` and accept() follow."""
        if self._call is not None and self._call.is_running():
            return
        errors = self.settings_form.validation_errors()
        if not self.template_editor.error_label.isHidden():
            errors.append(self.template_editor.error_label.text())
        if errors:
            show_error(self.error_label, " ".join(errors))
            return
        show_error(self.error_label, "")
        fn = partial(
            run_fork, self.project_path, self.run_id, self.step_spin.value(),
            self.settings_form.settings(), self.template_editor.spec_override(),
        )  # fmt: skip
        self.fork_button.setEnabled(False)
        self.status_label.setText("Creating the run…")
        self._call = run_in_background(
            fn, on_done=self._on_fork_done, on_error=self._on_fork_error, owner=self
        )

    def _on_step_spin_changed(self, step: int) -> None:
        shown = history_top_at(self.project_path, self.run_id, step)  # the top only
        self.template_editor.set_history(shown, step + 1, self._settings_size)

    def _on_fork_done(self, new_run_id: int) -> None:
        self._call = None
        self.new_run_id = int(new_run_id)
        self.status_label.setText(f"Created run {new_run_id}.")
        self.run_forked.emit(self.new_run_id)
        self.accept()

    def _on_fork_error(self, exc: BaseException) -> None:
        self._call = None
        self.fork_button.setEnabled(True)
        self.status_label.setText("")
        show_error(self.error_label, f"Cannot fork: {exc}")
        self.fork_failed.emit(str(exc))

    def done(self, result: int) -> None:  # Qt override
        if self._call is not None:
            self._call.quit()
            self._call = None
        super().done(result)
