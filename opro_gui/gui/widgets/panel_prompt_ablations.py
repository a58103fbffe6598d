"""The prompt task's §5.3 meta-prompt settings and scoring switches, as one small form."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from opro_gui.gui.widgets.panel_undo import UndoBinder

ORDER_LABELS = {
    "ascending": "ascending — best last (paper)",
    "descending": "descending — best first",
    "random": "random",
}
SCORE_LABELS = {
    "rounded": "0–100 (paper)",
    "bucketed": "buckets 0–N",
    "none": "not shown",
}
PLACEMENT_LABELS = {
    "after": "after the instructions (paper)",
    "before": "before the instructions",
}


def _combo(items: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for data, label in items.items():
        combo.addItem(label, data)
    return combo


class PromptAblationForm(QWidget):
    """Order, score format, exemplar placement, threshold, \\boxed{}, second round, lenient."""

    def __init__(self, binder: UndoBinder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.order_combo = _combo(ORDER_LABELS)
        self.score_combo = _combo(SCORE_LABELS)
        self.buckets_spin = QSpinBox(minimum=1, maximum=1000, value=20)
        self.buckets_spin.setPrefix("N = ")
        self.placement_combo = _combo(PLACEMENT_LABELS)
        self.threshold_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, decimals=2, singleStep=0.05)
        self.threshold_spin.setToolTip(
            "Hide instructions scoring below this (reference: 0.3 with GPT scorers)"
        )
        self.boxed_check = QCheckBox("Read \\boxed{} answers")
        self.boxed_check.setToolTip("The reference code does this with GPT scorers")
        self.extract_check = QCheckBox("Second-round answer extraction")
        self.lenient_check = QCheckBox("Lenient: gold inside the answer counts")
        self.lenient_check.setToolTip("An answer that contains the gold answer counts as right")
        self.lenient_check.setChecked(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Instruction order:", self.order_combo)
        form.addRow("Scores shown:", self.score_combo)
        form.addRow("", self.buckets_spin)
        form.addRow("Exemplars placed:", self.placement_combo)
        form.addRow("Score threshold:", self.threshold_spin)
        for check in (self.boxed_check, self.extract_check, self.lenient_check):
            form.addRow(check)  # the whole row: no empty label column beside it
        for name, widget in (
            ("instruction order", self.order_combo),
            ("score format", self.score_combo),
            ("score buckets", self.buckets_spin),
            ("exemplar placement", self.placement_combo),
            ("score threshold", self.threshold_spin),
            ("boxed answers", self.boxed_check),
            ("second-round extraction", self.extract_check),
            ("lenient matching", self.lenient_check),
        ):
            binder.bind_widget(name, widget)
        self.score_combo.currentIndexChanged.connect(self._on_score_combo_changed)
        self._on_score_combo_changed()

    def values(self) -> dict[str, Any]:
        return {
            "order": self.order_combo.currentData(),
            "score_format": self.score_combo.currentData(),
            "score_buckets": self.buckets_spin.value(),
            "exemplar_placement": self.placement_combo.currentData(),
            "score_threshold": round(self.threshold_spin.value(), 4),
            "boxed": self.boxed_check.isChecked(),
            "extract_again": self.extract_check.isChecked(),
            "lenient_substring": self.lenient_check.isChecked(),
        }

    def load(self, spec: dict[str, Any]) -> None:
        for combo, key, default in (
            (self.order_combo, "order", "ascending"),
            (self.score_combo, "score_format", "rounded"),
            (self.placement_combo, "exemplar_placement", "after"),
        ):
            combo.setCurrentIndex(max(0, combo.findData(spec.get(key, default))))
        self.buckets_spin.setValue(int(spec.get("score_buckets", 20)))
        self.threshold_spin.setValue(float(spec.get("score_threshold", 0.0)))
        self.boxed_check.setChecked(bool(spec.get("boxed", False)))
        self.extract_check.setChecked(bool(spec.get("extract_again", False)))
        self.lenient_check.setChecked(bool(spec.get("lenient_substring", True)))

    def _on_score_combo_changed(self, _index: int = 0) -> None:
        self.buckets_spin.setEnabled(self.score_combo.currentData() == "bucketed")
