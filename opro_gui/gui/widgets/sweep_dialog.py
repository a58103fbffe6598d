"""Run ▸ Sweep…: one task over optimizer models × seeds as runs of the open project, in the
background; at the end the comparison opens. The grid and its runs are services.sweep's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.services.sweep import expand_grid, sweep_file

from ..worker import run_in_background


class SweepDialog(QDialog):
    sweep_finished = Signal(list)  # the runs' references
    sweep_failed = Signal(str)

    def __init__(
        self,
        project: str | Path,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None,
        base: RunSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.project, self.optimizer, self.scorer, self.base = str(project), optimizer, scorer, base
        self.cancel = CancelToken()
        self.optimizer_models = QLineEdit(optimizer.model)
        self.scorer_models = QLineEdit(scorer.model if scorer else "")
        self.scorer_models.setEnabled(scorer is not None)
        self.seeds = QLineEdit("0,1")
        self.steps = QSpinBox(minimum=1, maximum=100_000, value=base.max_steps)
        self.parallel = QSpinBox(minimum=1, maximum=16, value=2)
        self.message = QLabel("Runs one run per combination; running the same sweep again "
                              "continues it.")  # fmt: skip
        form = QFormLayout(self)
        form.addRow("Optimizer models (comma-separated)", self.optimizer_models)
        form.addRow("Scorer models", self.scorer_models)
        form.addRow("Seeds", self.seeds)
        form.addRow("Steps per run", self.steps)
        form.addRow("Runs at once", self.parallel)
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self._on_buttons_rejected)
        form.addRow(self.buttons)

    def start(self) -> None:
        try:
            seeds = [int(s) for s in self.seeds.text().split(",") if s.strip()]
            opt = [m.strip() for m in self.optimizer_models.text().split(",") if m.strip()]
            sc: list[str | None] = [
                m.strip() for m in self.scorer_models.text().split(",") if m.strip()
            ] or [self.scorer.model if self.scorer else None]
            points = expand_grid(opt, sc if self.scorer else [None], seeds)
        except ValueError as exc:  # ProjectError is one too
            self.message.setText(f"Cannot sweep: {exc}")
            return
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.message.setText(f"Sweeping {len(points)} runs…")
        run_in_background(
            sweep_file, self.project, points, self.steps.value(), self.base, self.optimizer,
            self.scorer, self.parallel.value(), None, self.cancel,
            on_done=self._on_sweep_done, on_error=self._on_sweep_error, owner=self,
            token=self.cancel,
        )  # fmt: skip

    def _on_sweep_done(self, refs: Any) -> None:
        self.message.setText(f"Done: {len(refs)} runs.")
        self.sweep_finished.emit(list(refs))
        self.accept()

    def _on_sweep_error(self, exc: BaseException) -> None:
        self.message.setText(f"The sweep stopped: {exc}")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        self.sweep_failed.emit(str(exc))

    def _on_buttons_rejected(self) -> None:
        self.cancel.cancel()
        self.reject()
