"""A read-only table model over a list of rows (dicts or typed rows) with declared columns
(the step detail's and the replay's tables)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
RAW_ROLE = Qt.ItemDataRole.UserRole + 1


class Column:
    """One column: header, the dict key or attribute and how to show its value."""

    def __init__(
        self, header: str, key: str, fmt: Callable[[Any], str] | None = None, width: int = 0
    ) -> None:
        self.header, self.key, self.width = header, key, width
        self.fmt = fmt or (lambda v: "" if v is None else str(v))


def cell(row: Any, key: str) -> Any:
    """A row's value for a column: a dict's item or a typed row's attribute."""
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


class DictTableModel(QAbstractTableModel):
    """Rows are dicts or typed rows (dataclasses); the full value of a cell is its tooltip
    (cells show one line)."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_data(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].header
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        col = self.columns[index.column()]
        value = cell(self._rows[index.row()], col.key)
        if role == Qt.ItemDataRole.DisplayRole:
            return col.fmt(value).replace("\n", " ⏎ ")
        if role == Qt.ItemDataRole.ToolTipRole:
            text = col.fmt(value)
            return text if len(text) > 40 or "\n" in text else None
        if role == RAW_ROLE:
            return value if isinstance(value, int | float | str | bool) else col.fmt(value)
        return None
