"""The editable TSP coordinate table: one row per point, columns x and y."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

Index = QModelIndex | QPersistentModelIndex
Points = tuple[tuple[float, float], ...]


def _num(value: Any) -> float | None:
    try:
        x = float(str(value).strip())
    except ValueError:
        return None
    return x if x == x and abs(x) != float("inf") else None


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class PointsTableModel(QAbstractTableModel):
    """Points as an immutable tuple value (so undo can store snapshots); cells edit in place."""

    points_edited = Signal()  # a cell edit, or points replaced by set_points / add / remove

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[float, float]] = []

    def points(self) -> Points:
        return tuple(self._points)

    def set_points(self, points: Sequence[Sequence[float]]) -> None:
        self.beginResetModel()
        self._points = [(float(p[0]), float(p[1])) for p in points]
        self.endResetModel()
        self.points_edited.emit()

    def add_point(self, x: float = 0.0, y: float = 0.0) -> None:
        row = len(self._points)
        self.beginInsertRows(QModelIndex(), row, row)
        self._points.append((float(x), float(y)))
        self.endInsertRows()
        self.points_edited.emit()

    def remove_rows(self, rows: Sequence[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._points):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._points[row]
                self.endRemoveRows()
        self.points_edited.emit()

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._points)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return ("x", "y")[section] if 0 <= section < 2 else None
        return str(section)  # node number as the optimizer sees it

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._points):
            return None
        value = self._points[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _show(value)
        if role == Qt.ItemDataRole.EditRole:
            return _show(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        x = _num(value)
        if x is None:
            return False
        row, col = index.row(), index.column()
        point = list(self._points[row])
        if point[col] == x:
            return False
        point[col] = x
        self._points[row] = (point[0], point[1])
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])
        self.points_edited.emit()
        return True
