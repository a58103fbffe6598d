"""The prompt task's evaluators and chat settings: JSON text with one-click starting points."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from opro_gui.problems.chat_prompts import ChatSettings
from opro_gui.problems.evaluators import parse_evaluators

from .flow_layout import flow_row
from .panel_tsp import error_label, show_error

KEYS = ("evaluators", "chat")
STARTERS: dict[str, dict[str, Any]] = {
    "Judge": {"type": "judge", "name": "judge", "weight": 1, "scale": "score",
              "rubric": "Score 1 when the answer is correct and complete, 0 otherwise."},
    "JSON Schema": {"type": "json_schema", "name": "schema", "weight": 1,
                    "schema": {"type": "object"}},
    "Contains": {"type": "contains", "name": "contains", "weight": 1, "text": ["..."]},
    "Length": {"type": "length", "name": "length", "weight": 1, "max": 100, "unit": "words"},
}  # fmt: skip


class EvaluatorsEditor(QWidget):
    """``{"evaluators": [...], "chat": {...}}`` as JSON; empty means the paper's grading."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_edit.setPlaceholderText("empty: the paper's grading against the target")
        self.text_edit.setMaximumHeight(160)
        self.error = error_label()
        self.add_buttons: dict[str, QPushButton] = {}
        for name in STARTERS:
            b = QPushButton(f"+ {name}")
            b.clicked.connect(lambda _c=False, n=name: self.add_evaluator(n))
            self.add_buttons[name] = b
        buttons = flow_row(*self.add_buttons.values())  # wraps in a narrow dock
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text_edit)
        lay.addWidget(buttons)
        lay.addWidget(self.error)
        self.text_edit.textChanged.connect(self.edited)

    def load(self, spec: dict[str, Any]) -> None:
        keys = {k: spec[k] for k in KEYS if spec.get(k) is not None}
        self.text_edit.setPlainText(json.dumps(keys, indent=1) if keys else "")

    def values(self, columns: set[str] | None = None) -> dict[str, Any]:
        """The checked keys (raises ValueError with one line on a mistake)."""
        text = self.text_edit.toPlainText().strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        if not isinstance(data, dict) or set(data) - set(KEYS):
            raise ValueError('write one object with "evaluators" and/or "chat"')
        if "evaluators" in data:
            parse_evaluators(data["evaluators"])
        if "chat" in data:
            ChatSettings.from_spec(data["chat"], columns or {"input", "target"})
        return {k: data[k] for k in KEYS if k in data}

    def check(self, columns: set[str] | None = None) -> str:
        try:
            self.values(columns)
            message = ""
        except ValueError as exc:
            message = str(exc)
        show_error(self.error, message)
        return message

    def add_evaluator(self, name: str) -> None:
        try:
            data = self.values() or {}
        except ValueError:
            return  # fix the text first; the error is shown
        evaluators = list(data.get("evaluators") or [{"type": "paper", "weight": 1}])
        used = {str(e.get("name") or e.get("type")) for e in evaluators}
        starter = dict(STARTERS[name])
        base, k = starter["name"], 2
        while starter["name"] in used:
            starter["name"] = f"{base}{k}"
            k += 1
        data["evaluators"] = [*evaluators, starter]
        self.text_edit.setPlainText(json.dumps(data, indent=1))
