"""The scorer's answers of one instruction as a table (input, gold, raw and parsed answer,
correct), and the proxy that sorts it and filters it by text or to the wrong answers only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from opro_gui.core.models import Verdict
from opro_gui.services.inspection import AnswerRow

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
RIGHT, WRONG, FAILED = "✓", "✗", "failed"


def verdicts_text(verdicts: Sequence[Verdict]) -> str:
    """Each evaluator's score and reason on one answer (empty with the paper's grading alone)."""
    parts = []
    for v in verdicts:
        score = "-" if v.score is None else f"{v.score:g}"
        parts.append(f"{v.name} {score}: {v.reason}")
    return "; ".join(parts)


def correct_mark(correct: bool | None) -> str:
    return FAILED if correct is None else (RIGHT if correct else WRONG)


@dataclass(frozen=True)
class AnswerColumn:
    header: str
    key: str  # the AnswerRow field shown
    text: Callable[[AnswerRow], str]
    sort: Callable[[AnswerRow], Any]


ANSWER_COLUMNS = [
    AnswerColumn("#", "example_id", lambda r: str(r.example_id), lambda r: r.example_id),
    AnswerColumn("Input", "input", lambda r: r.input, lambda r: r.input.casefold()),
    AnswerColumn("Gold", "gold", lambda r: r.gold, lambda r: r.gold.casefold()),
    AnswerColumn("Raw answer", "raw_answer", lambda r: r.raw_answer, lambda r: r.raw_answer),
    AnswerColumn("Parsed", "parsed_answer", lambda r: r.parsed_answer, lambda r: r.parsed_answer),
    AnswerColumn(
        "Correct",
        "correct",
        lambda r: correct_mark(r.correct),
        lambda r: -1 if r.correct is None else int(r.correct),
    ),  # fmt: skip
    AnswerColumn(
        "Verdicts",
        "verdicts",
        lambda r: verdicts_text(r.verdicts),
        lambda r: verdicts_text(r.verdicts),
    ),  # fmt: skip
    AnswerColumn("Error", "error", lambda r: r.error, lambda r: r.error),
]
#: Columns shown only when some row has something in them.
OPTIONAL_KEYS = ("verdicts", "error")


class AnswersModel(QAbstractTableModel):
    """Rows are ``AnswerRow``; cells show one line unless ``wrap`` is on (then the full text);
    a cell's full text and a failed request's error are its tooltip."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(ANSWER_COLUMNS)
        self._rows: list[AnswerRow] = []
        self._wrap = False

    def set_rows(self, rows: Sequence[AnswerRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_wrap(self, wrap: bool) -> None:
        if wrap != self._wrap:
            self._wrap = wrap
            if self._rows:
                last = self.index(len(self._rows) - 1, len(self.columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)

    def row_data(self, row: int) -> AnswerRow:
        return self._rows[row]

    def column_of(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def empty_columns(self) -> list[int]:
        """The optional columns (verdicts, error) that no row fills."""
        return [
            self.column_of(key) for key in OPTIONAL_KEYS
            if not any(self.columns[self.column_of(key)].text(r) for r in self._rows)
        ]  # fmt: skip

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = col.text(row)
            return text if self._wrap else " ".join(text.split("\n")).strip()
        if role == SORT_ROLE:
            return col.sort(row)
        if role == Qt.ItemDataRole.ToolTipRole and col.key == "example_id":
            return f"The prompt sent to the scorer:\n\n{row.prompt}"
        if role == Qt.ItemDataRole.ToolTipRole:
            text = col.text(row)
            tip = text if len(text) > 40 or "\n" in text else ""
            if row.error and col.key != "error":
                tip = f"{tip}\n\nError: {row.error}".strip()
            return tip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col.key in ("example_id", "correct"):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class AnswersFilter(QSortFilterProxyModel):
    """Sorts by each column's value; keeps rows that contain the filter text (input, gold,
    raw or parsed answer, case-insensitive) and, with ``only_wrong``, the wrong ones."""

    SEARCHED = ("input", "gold", "raw_answer", "parsed_answer")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._only_wrong = False

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange()

    def set_only_wrong(self, on: bool) -> None:
        self.beginFilterChange()
        self._only_wrong = on
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # Qt override
        model = self.sourceModel()
        if not isinstance(model, AnswersModel):
            return True
        row = model.row_data(source_row)
        if self._only_wrong and not row.wrong:
            return False
        if not self._text:
            return True
        return any(self._text in str(getattr(row, k)).casefold() for k in self.SEARCHED)

    def lessThan(self, left: Index, right: Index) -> bool:  # Qt override
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)
