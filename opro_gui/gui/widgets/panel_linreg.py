"""Task editor page for linear regression: the true w and b and the noise seed."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QWidget

from opro_gui.gui.widgets.panel_undo import UndoBinder

_DERIVED = ("x", "y", "name")  # data generated from (w, b, seed): regenerated when they change


class LinRegPanel(QWidget):
    def __init__(self, binder: UndoBinder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: dict[str, Any] = {}
        self.w_spin = QSpinBox(minimum=-1000, maximum=1000, value=15)
        self.b_spin = QSpinBox(minimum=-1000, maximum=1000, value=14)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        note = QLabel(
            "50 points y = w·x + b + N(0, 1) noise, x = 1…50. The optimizer sees (w, b) pairs "
            "and their losses; it never sees w and b."
        )
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("True w:", self.w_spin)
        form.addRow("True b:", self.b_spin)
        form.addRow("Noise seed:", self.seed_spin)
        form.addRow(note)
        binder.bind_widget("w", self.w_spin)
        binder.bind_widget("b", self.b_spin)
        binder.bind_widget("noise seed", self.seed_spin)

    def _params(self) -> tuple[int, int, int]:
        return self.w_spin.value(), self.b_spin.value(), self.seed_spin.value()

    def load(self, spec: dict[str, Any]) -> None:
        self._base = dict(spec)
        self.w_spin.setValue(int(spec.get("w_true", 15)))
        self.b_spin.setValue(int(spec.get("b_true", 14)))
        self.seed_spin.setValue(int(spec.get("seed", 0)))
        self._loaded = self._params()

    def spec(self) -> dict[str, Any]:
        """The loaded spec with the edited fields changed (identical when nothing was edited)."""
        if self._base and self._params() == getattr(self, "_loaded", None):
            return dict(self._base)
        w, b, seed = self._params()
        spec = {**self._base, "kind": "linreg", "w_true": w, "b_true": b, "seed": seed}
        for key in _DERIVED:
            spec.pop(key, None)
        return spec

    def validation_errors(self) -> list[str]:
        return []  # the spin boxes only allow valid values
