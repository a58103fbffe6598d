"""The OPRO settings form: steps, samples per step, temperature, history size, stop rules,
seed and budgets — edits a RunSettings value."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from opro_gui.core.models import RunSettings
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.panel_undo import UndoBinder

OFF = "off"


def _optional_spin(maximum: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox(minimum=0, maximum=maximum)
    spin.setSpecialValueText(OFF)  # 0 shows "off" and means None
    spin.setSuffix(suffix)
    return spin


def _parse_optional_float(text: str) -> tuple[float | None, str]:
    text = text.strip()
    if not text:
        return None, ""
    try:
        value = float(text)
    except ValueError:
        return None, f"{text!r} is not a number."
    if value != value or abs(value) == float("inf"):
        return None, "Enter a finite number."
    return value, ""


class RunSettingsForm(QWidget):
    """Every RunSettings field; optional ones read "off" at zero / when empty."""

    def __init__(self, binder: UndoBinder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps_spin = QSpinBox(minimum=1, maximum=100000, value=200)
        self.samples_spin = QSpinBox(minimum=1, maximum=128, value=8)
        self.temperature_spin = QDoubleSpinBox(minimum=0.0, maximum=2.0, decimals=2, singleStep=0.1)
        self.temperature_spin.setValue(1.0)
        self.max_tokens_spin = QSpinBox(minimum=16, maximum=200000, value=1024)
        self.history_spin = QSpinBox(minimum=0, maximum=1000)
        self.history_spin.setSpecialValueText("problem default")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.target_edit = QLineEdit()
        self.target_edit.setPlaceholderText("off (e.g. 0.8 accuracy, or a tour length)")
        self.target_error = error_label()
        self.patience_spin = _optional_spin(100000, " steps")
        self.optimum_check = QCheckBox("Stop at a proven optimum")
        self.optimum_check.setToolTip("Stop when a provably optimal solution is found")
        self.optimum_check.setChecked(True)
        self.budget_tokens_spin = _optional_spin(2**31 - 1, " tokens")
        self.budget_tokens_spin.setSingleStep(10000)
        self.budget_usd_spin = QDoubleSpinBox(minimum=0.0, maximum=1e6, decimals=2, singleStep=1.0)
        self.budget_usd_spin.setSpecialValueText(OFF)
        self.budget_usd_spin.setPrefix("$")
        # the engine's self-pause rules (core/stall.py): N steps in a row, 0 turns one off
        self.pause_unparseable_spin = _optional_spin(1_000_000, " steps")
        self.pause_unparseable_spin.setObjectName("pause_after_unparseable")
        self.pause_unparseable_spin.setValue(3)
        self.pause_unparseable_spin.setToolTip(
            "Pause the run after this many steps in a row with no parseable proposal"
        )
        self.pause_zero_spin = _optional_spin(1_000_000, " steps")
        self.pause_zero_spin.setObjectName("pause_after_zero_score")
        self.pause_zero_spin.setValue(3)
        self.pause_zero_spin.setToolTip(
            "Prompt tasks: pause after this many steps in which every candidate scored 0"
        )
        self.baseline_check = QCheckBox("Equal-budget baseline")
        self.baseline_check.setToolTip("Prompt runs: no trajectory; doubles the scorer calls")
        self.temperature_note = QLabel()
        self.temperature_note.setStyleSheet("color: #a06000;")
        self.temperature_note.hide()

        form = QFormLayout(self)
        form.addRow("Steps:", self.steps_spin)
        form.addRow("Samples per step:", self.samples_spin)
        form.addRow("Temperature:", self.temperature_spin)
        form.addRow("", self.temperature_note)
        form.addRow("Max tokens per completion:", self.max_tokens_spin)
        form.addRow("History size:", self.history_spin)
        form.addRow("Seed:", self.seed_spin)
        form.addRow("Target score:", self.target_edit)
        form.addRow("", self.target_error)
        form.addRow("Patience:", self.patience_spin)
        form.addRow("", self.optimum_check)
        form.addRow("Token budget:", self.budget_tokens_spin)
        form.addRow("Cost budget:", self.budget_usd_spin)
        form.addRow("Pause after unparseable:", self.pause_unparseable_spin)
        form.addRow("Pause after all-zero scores:", self.pause_zero_spin)
        form.addRow("", self.baseline_check)

        for name, widget in (
            ("steps", self.steps_spin),
            ("samples per step", self.samples_spin),
            ("temperature", self.temperature_spin),
            ("max tokens", self.max_tokens_spin),
            ("history size", self.history_spin),
            ("seed", self.seed_spin),
            ("target score", self.target_edit),
            ("patience", self.patience_spin),
            ("stop at optimum", self.optimum_check),
            ("token budget", self.budget_tokens_spin),
            ("cost budget", self.budget_usd_spin),
            ("equal-budget baseline", self.baseline_check),
            ("pause after unparseable", self.pause_unparseable_spin),
            ("pause after zero scores", self.pause_zero_spin),
        ):
            binder.bind_widget(name, widget)
        binder.field_edited.connect(lambda _name: self.validation_errors())

    def load(self, settings: RunSettings) -> None:
        self.steps_spin.setValue(settings.max_steps)
        self.samples_spin.setValue(settings.samples_per_step)
        self.temperature_spin.setValue(settings.temperature)
        self.max_tokens_spin.setValue(settings.max_tokens)
        self.history_spin.setValue(settings.history_size or 0)
        self.seed_spin.setValue(settings.seed)
        self.target_edit.setText(
            "" if settings.target_score is None else f"{settings.target_score:g}"
        )
        self.patience_spin.setValue(settings.patience or 0)
        self.optimum_check.setChecked(settings.stop_at_optimum)
        self.budget_tokens_spin.setValue(settings.budget_tokens or 0)
        self.budget_usd_spin.setValue(settings.budget_usd or 0.0)
        self.baseline_check.setChecked(settings.baseline)
        self.pause_unparseable_spin.setValue(settings.pause_after_unparseable)
        self.pause_zero_spin.setValue(settings.pause_after_zero_score)
        self.validation_errors()

    def settings(self) -> RunSettings:
        target, _ = _parse_optional_float(self.target_edit.text())
        return RunSettings(
            max_steps=self.steps_spin.value(),
            samples_per_step=self.samples_spin.value(),
            temperature=round(self.temperature_spin.value(), 4),
            max_tokens=self.max_tokens_spin.value(),
            seed=self.seed_spin.value(),
            history_size=self.history_spin.value() or None,
            target_score=target,
            patience=self.patience_spin.value() or None,
            stop_at_optimum=self.optimum_check.isChecked(),
            budget_tokens=self.budget_tokens_spin.value() or None,
            budget_usd=self.budget_usd_spin.value() or None,
            pause_after_unparseable=self.pause_unparseable_spin.value(),
            pause_after_zero_score=self.pause_zero_spin.value(),
            baseline=self.baseline_check.isChecked(),
        )

    def validation_errors(self) -> list[str]:
        _, error = _parse_optional_float(self.target_edit.text())
        show_error(self.target_error, f"Target score: {error}" if error else "")
        hot = self.temperature_spin.value() > 1.5
        self.temperature_note.setText(
            "Above 1.5 most models answer with noise; the paper uses 1.0." if hot else ""
        )
        self.temperature_note.setVisible(hot)
        return [f"Target score: {error}"] if error else []
