"""The prompt-optimization domain view: the best instruction so far, selectable as text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..themes import PlotColors

EMPTY_TEXT = "No instruction scored yet."


class InstructionView(QWidget):
    tab_title = "Best instruction"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(EMPTY_TEXT)
        self.label.setObjectName("best_instruction_label")
        self.label.setWordWrap(True)
        self.label.setContentsMargins(12, 12, 12, 12)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)

    def reset(self) -> None:
        self.label.setText(EMPTY_TEXT)

    def set_problem(self, problem: Any, facts: dict[str, Any]) -> None:
        """The instance has no picture: only the best instruction is shown."""

    def show_best(
        self, solutions: Sequence[Any], scores: Sequence[float], fmt: Callable[[float | None], str]
    ) -> None:
        if not solutions or solutions[-1] is None:
            self.reset()
            return
        shown = fmt(scores[-1] if scores else None)
        self.label.setText(
            f"Best instruction so far (training accuracy {shown}):\n\n{solutions[-1]!s}"
        )

    def apply_colors(self, colors: PlotColors) -> None:
        """Follows the application palette."""
