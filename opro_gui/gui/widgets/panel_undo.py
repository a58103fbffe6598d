"""Undo/redo of form edits: each field edit is one QUndoCommand; consecutive edits of the same
field (keystrokes) merge until the field loses focus or another field is edited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
)

_ID_BASE = 4000  # QUndoCommand ids of field edits (any int other than -1 enables merging)


class FieldCommand(QUndoCommand):
    """Set one bound field from ``old`` to ``new``."""

    def __init__(self, binder: UndoBinder, field_id: int, old: Any, new: Any) -> None:
        super().__init__(f"Edit {binder.field_name(field_id)}")
        self.binder, self.field_id, self.old, self.new = binder, field_id, old, new
        self.sealed = False

    def id(self) -> int:  # Qt override
        return _ID_BASE + self.field_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # Qt override
        if self.sealed or not isinstance(other, FieldCommand) or other.field_id != self.field_id:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)  # typed back to the start: drop the command
        return True

    def redo(self) -> None:
        self.binder.apply(self.field_id, self.new)

    def undo(self) -> None:
        self.binder.apply(self.field_id, self.old)


class UndoBinder(QObject):
    """Connects form widgets to a QUndoStack. A field is (getter, setter, change signal)."""

    field_edited = Signal(str)  # field name, after any user edit, undo or redo

    def __init__(self, stack: QUndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self._fields: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = []
        self._values: list[Any] = []
        self._applying = 0

    def field_name(self, field_id: int) -> str:
        return self._fields[field_id][0]

    # -- binding -------------------------------------------------------------------------
    def bind(
        self, name: str, signal: Any, getter: Callable[[], Any], setter: Callable[[Any], None]
    ) -> int:
        field_id = len(self._fields)
        self._fields.append((name, getter, setter))
        self._values.append(getter())
        signal.connect(lambda *_: self._on_field_changed(field_id))
        return field_id

    def bind_widget(self, name: str, widget: Any) -> int:
        """Bind a standard input widget by its natural value."""
        if isinstance(widget, QSpinBox | QDoubleSpinBox):
            fid = self.bind(name, widget.valueChanged, widget.value, widget.setValue)
        elif isinstance(widget, QCheckBox):
            fid = self.bind(name, widget.toggled, widget.isChecked, widget.setChecked)
        elif isinstance(widget, QComboBox):

            def set_combo(value: Any, combo: QComboBox = widget) -> None:
                combo.setCurrentIndex(max(0, combo.findData(value)))

            fid = self.bind(name, widget.currentIndexChanged, widget.currentData, set_combo)
        elif isinstance(widget, QLineEdit):
            fid = self.bind(name, widget.textChanged, widget.text, widget.setText)
        elif isinstance(widget, QPlainTextEdit):
            fid = self.bind(name, widget.textChanged, widget.toPlainText, widget.setPlainText)
        else:
            raise TypeError(f"cannot bind {type(widget).__name__}")
        if isinstance(widget, QLineEdit | QAbstractSpinBox):
            widget.editingFinished.connect(lambda: self.seal(fid))
        return fid

    # -- state ---------------------------------------------------------------------------
    def sync(self) -> None:
        """Take the widgets' current values as the baseline (after a programmatic load)."""
        self._values = [getter() for _, getter, _ in self._fields]

    def rebase(self, field_id: int) -> None:
        """Take one field's current value as its baseline (it was changed as a consequence
        of another, undoable edit)."""
        self._values[field_id] = self._fields[field_id][1]()

    def seal(self, field_id: int | None = None) -> None:
        """End merging: the next edit of the field becomes a new command."""
        idx = self.stack.index() - 1
        cmd = self.stack.command(idx) if idx >= 0 else None
        if isinstance(cmd, FieldCommand) and (field_id is None or cmd.field_id == field_id):
            cmd.sealed = True

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Programmatic changes inside this block push no commands; the baseline is re-read."""
        self._applying += 1
        try:
            yield
        finally:
            self._applying -= 1
            self.sync()

    @property
    def applying(self) -> bool:
        return self._applying > 0

    def apply(self, field_id: int, value: Any) -> None:
        name, getter, setter = self._fields[field_id]
        self._applying += 1
        try:
            if getter() != value:
                setter(value)
            self._values[field_id] = value
        finally:
            self._applying -= 1
        self.field_edited.emit(name)

    def _on_field_changed(self, field_id: int) -> None:
        if self._applying:
            return
        new = self._fields[field_id][1]()
        old = self._values[field_id]
        if new == old:
            return
        self._values[field_id] = new
        top = self.stack.command(self.stack.index() - 1) if self.stack.index() > 0 else None
        if isinstance(top, FieldCommand) and top.field_id != field_id:
            top.sealed = True
        self.stack.push(FieldCommand(self, field_id, old, new))
