"""The run history as a lazy table: candidates fetched page by page, plus a
status filter / sort proxy. Pages rows from SQL through the project document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from opro_gui.problems.kinds import format_number
from opro_gui.services.pages import CandidateRow

STATUSES = ("scored", "invalid", "duplicate", "filtered", "incomplete")
COLUMNS = ("Step", "#", "Status", "Score", "Solution", "Reason")
COL_STEP, COL_INDEX, COL_STATUS, COL_SCORE, COL_SOLUTION, COL_REASON = range(len(COLUMNS))

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # a comparable raw value per column
STEP_ROLE = Qt.ItemDataRole.UserRole + 2
INDEX_ROLE = Qt.ItemDataRole.UserRole + 3
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4

_DIM = {
    "invalid": "#b00020",
    "duplicate": "#808080",
    "filtered": "#a06000",
    "incomplete": "#a06000",
}

Index = QModelIndex | QPersistentModelIndex


Formatter = Callable[[float | None], str]


def format_score(score: float | None) -> str:
    """A score when no kind says how to write it (the kind's descriptor usually does)."""
    if score is None:
        return ""
    return format_number(score)


def solution_text(row: CandidateRow | dict[str, Any]) -> str:
    """A candidate's solution as text (a page row, or a step detail's candidate dict)."""
    if isinstance(row, dict):
        sol, text = row.get("solution"), str(row.get("text") or "")
    else:
        sol, text = row.solution, row.text
    if sol is None:
        return text
    if isinstance(sol, str):
        return sol
    return json.dumps(sol, ensure_ascii=False)


class HistoryReader(Protocol):
    """Where the model pages its rows from (the project document)."""

    def candidates_page(
        self, run_id: int, offset: int, limit: int, upto_step: int | None = None
    ) -> list[CandidateRow]: ...

    def candidate_position(self, run_id: int, step: int, index: int) -> int | None: ...

    def last_step(self, run_id: int) -> int: ...

    def format_score(self, score: float | None) -> str: ...


class CandidateHistoryModel(QAbstractTableModel):
    """Candidates of one run, one row each, ordered by (step, index).

    Lazy: nothing is counted up front (a count alone scans a million rows); ``fetchMore``
    reads the next page of ``chunk_size`` rows from SQL until a page comes back short. ``refresh()`` learns about steps written since (a live run)
    and appends their rows without reloading what is shown."""

    def __init__(self, chunk_size: int = 200, parent: Any = None) -> None:
        super().__init__(parent)
        self.chunk_size = max(1, chunk_size)
        self._reader: HistoryReader | None = None
        self._run_id: int | None = None
        self._rows: list[CandidateRow] = []
        self._exhausted = True  # every row up to _known_last is shown
        self._known_last = -1  # last step number seen on disk
        self._fetching = False
        self.fmt: Formatter = format_score  # the kind's own way of writing a score
        self.fetch_count = 0  # how many fetchMore calls read rows (tests check chunking)

    # -- source --------------------------------------------------------------------------
    def set_source(self, reader: HistoryReader | None, run_id: int | None) -> None:
        """Show ``run_id`` read through ``reader``, or nothing."""
        self.beginResetModel()
        self._reader, self._run_id = reader, run_id
        self.fmt = reader.format_score if reader is not None else format_score
        self._rows = []
        self._exhausted = True
        self._known_last = -1
        self.fetch_count = 0
        self.endResetModel()
        self._learn_steps()

    @property
    def run_id(self) -> int | None:
        return self._run_id

    def _learn_steps(self) -> bool:
        if self._reader is None or self._run_id is None:
            return False
        last = self._reader.last_step(self._run_id)
        if last <= self._known_last:
            return False
        self._known_last = last
        self._exhausted = False
        return True

    def refresh(self) -> int:
        """Pick up steps completed since the last look; returns the number of new rows shown.
        Rows already shown stay; if everything was fetched, the new rows are fetched too."""
        was_complete = self._exhausted
        before = len(self._rows)
        if self._learn_steps() and was_complete:
            while self.canFetchMore():
                self.fetchMore(QModelIndex())
        return len(self._rows) - before

    # -- lazy fetching -------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        # Views and testers may ask for more while rows are being inserted: ignore them then,
        # or a nested fetch would insert later rows before this batch.
        if not self.canFetchMore(parent) or self._reader is None or self._run_id is None:
            return
        self._fetching = True
        try:
            batch = self._reader.candidates_page(
                self._run_id, len(self._rows), self.chunk_size, self._known_last
            )
            self.fetch_count += 1
            self._exhausted = len(batch) < self.chunk_size
            if batch:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
                self._rows.extend(batch)
                self.endInsertRows()
        finally:
            self._fetching = False

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    # -- lookup --------------------------------------------------------------------------
    def row_of(self, step: int, index: int, fetch: bool = True) -> int | None:
        """The row of candidate (step, index), fetching the pages up to it when needed."""
        if self._reader is None or self._run_id is None:
            return None
        if step > self._known_last:
            return None
        pos = self._reader.candidate_position(self._run_id, step, index)
        if pos is None:
            return None
        while fetch and pos >= len(self._rows) and self.canFetchMore():
            self.fetchMore()
        if pos < len(self._rows) and (self._rows[pos].step, self._rows[pos].index) == (
            step,
            index,
        ):
            return pos
        return None

    def row_data(self, row: int) -> CandidateRow:
        return self._rows[row]

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_SOLUTION:
                return row.text or solution_text(row)
            if col == COL_REASON:
                return row.reason or None
            return None
        if role == SORT_ROLE:
            return self._sort_value(row, col)
        if role == STEP_ROLE:
            return row.step
        if role == INDEX_ROLE:
            return row.index
        if role == STATUS_ROLE:
            return row.status
        if role == Qt.ItemDataRole.ForegroundRole and row.status in _DIM:
            return QBrush(QColor(_DIM[row.status]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_STEP, COL_INDEX, COL_SCORE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: CandidateRow, col: int) -> str:
        if col == COL_STEP:
            return str(row.step)
        if col == COL_INDEX:
            return str(row.index)
        if col == COL_STATUS:
            return row.status
        if col == COL_SCORE:
            return "" if row.score is None else self.fmt(row.score)
        if col == COL_SOLUTION:
            text = solution_text(row).replace("\n", " ")
            return text if len(text) <= 160 else text[:157] + "..."
        return row.reason

    @staticmethod
    def _sort_value(row: CandidateRow, col: int) -> Any:
        if col == COL_STEP:
            return row.step * 100000 + row.index
        if col == COL_INDEX:
            return row.index
        if col == COL_SCORE:
            # unscored rows sort after every scored one in ascending order
            return float("inf") if row.score is None else float(row.score)
        if col == COL_STATUS:
            return row.status
        if col == COL_SOLUTION:
            return solution_text(row)
        return row.reason


class StatusFilterProxy(QSortFilterProxyModel):
    """Sorts by raw values and shows only the chosen candidate statuses."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._statuses: frozenset[str] = frozenset(STATUSES)
        self.setSortRole(SORT_ROLE)

    def statuses(self) -> frozenset[str]:
        return self._statuses

    def set_statuses(self, statuses: Any) -> None:
        wanted = frozenset(statuses)
        if wanted == self._statuses:
            return
        self.beginFilterChange()
        self._statuses = wanted
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        src = self.sourceModel()
        status = src.data(src.index(source_row, COL_STATUS, source_parent), STATUS_ROLE)
        return status in self._statuses
