"""The run history as a lazy table: candidates fetched step by step in chunks, plus a
status filter / sort proxy. Reads through a ProjectSession opened in the GUI thread."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from opro_gui.core.rows import candidate_json

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


def format_score(score: float | None, percent: bool = False) -> str:
    """Scores as the user thinks of them: lengths/losses as numbers, accuracies in percent."""
    if score is None:
        return ""
    if percent:
        return f"{score * 100:.1f}%"
    return str(int(score)) if float(score).is_integer() else f"{score:.4g}"


def solution_text(row: dict[str, Any]) -> str:
    sol = row.get("solution")
    if sol is None:
        return str(row.get("text") or "")
    if isinstance(sol, str):
        return sol
    return json.dumps(sol, ensure_ascii=False)


class CandidateHistoryModel(QAbstractTableModel):
    """Candidates of one run, one row each, ordered by (step, index).

    Lazy: only step numbers are read up front; ``fetchMore`` reads whole steps until at least
    ``chunk_size`` new rows arrived. ``refresh()`` learns about steps written since (a live
    run) and appends their rows without reloading what is shown."""

    def __init__(self, chunk_size: int = 200, parent: Any = None) -> None:
        super().__init__(parent)
        self.chunk_size = max(1, chunk_size)
        self._session: Any = None
        self._run_id: int | None = None
        self._rows: list[dict[str, Any]] = []
        self._pending: deque[int] = deque()  # steps on disk not yet read
        self._known_last = -1  # last step number seen on disk
        self._fetching = False
        self.percent = False  # prompt tasks: accuracies shown in percent
        self.fetch_count = 0  # how many fetchMore calls read rows (tests check chunking)

    # -- source --------------------------------------------------------------------------
    def set_source(self, session: Any, run_id: int | None) -> None:
        """Show ``run_id`` of ``session`` (a ProjectSession), or nothing."""
        self.beginResetModel()
        self._session, self._run_id = session, run_id
        self.percent = getattr(session, "kind", "") == "prompt"
        self._rows = []
        self._pending.clear()
        self._known_last = -1
        self.fetch_count = 0
        self.endResetModel()
        self._learn_steps()

    @property
    def run_id(self) -> int | None:
        return self._run_id

    def _learn_steps(self) -> int:
        if self._session is None or self._run_id is None:
            return 0
        new = [s.step for s in self._session.store.steps(self._run_id, first=self._known_last + 1)]
        new = [s for s in new if s > self._known_last]
        if new:
            self._pending.extend(new)
            self._known_last = new[-1]
        return len(new)

    def refresh(self) -> int:
        """Pick up steps completed since the last look; returns the number of new rows shown.
        Rows already shown stay; if everything was fetched, the new steps are fetched too."""
        was_complete = not self._pending
        before = len(self._rows)
        if self._learn_steps() and was_complete:
            while self._pending:
                self.fetchMore(QModelIndex())
        return len(self._rows) - before

    # -- lazy fetching -------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and bool(self._pending) and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        # Views and testers may ask for more while rows are being inserted: ignore them then,
        # or a nested fetch would insert later steps before this batch.
        if parent.isValid() or not self._pending or self._fetching:
            return
        self._fetching = True
        try:
            batch: list[dict[str, Any]] = []
            while self._pending and len(batch) < self.chunk_size:
                step = self._pending.popleft()
                batch.extend(
                    candidate_json(c) for c in self._session.store.candidates(self._run_id, step)
                )
            self.fetch_count += 1
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
        """The row of candidate (step, index), fetching further chunks when needed."""
        while True:
            for r, row in enumerate(self._rows):
                if row["step"] == step and row["index"] == index:
                    return r
            if (
                not fetch
                or not self.canFetchMore()
                or (self._rows and self._rows[-1]["step"] > step)
            ):
                return None
            self.fetchMore()

    def row_data(self, row: int) -> dict[str, Any]:
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
                return row.get("text") or solution_text(row)
            if col == COL_REASON:
                return row.get("reason") or None
            return None
        if role == SORT_ROLE:
            return self._sort_value(row, col)
        if role == STEP_ROLE:
            return row["step"]
        if role == INDEX_ROLE:
            return row["index"]
        if role == STATUS_ROLE:
            return row["status"]
        if role == Qt.ItemDataRole.ForegroundRole and row["status"] in _DIM:
            return QBrush(QColor(_DIM[row["status"]]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_STEP, COL_INDEX, COL_SCORE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: dict[str, Any], col: int) -> str:
        if col == COL_STEP:
            return str(row["step"])
        if col == COL_INDEX:
            return str(row["index"])
        if col == COL_STATUS:
            return str(row["status"])
        if col == COL_SCORE:
            return format_score(row["score"], self.percent)
        if col == COL_SOLUTION:
            text = solution_text(row).replace("\n", " ")
            return text if len(text) <= 160 else text[:157] + "..."
        return str(row.get("reason") or "")

    @staticmethod
    def _sort_value(row: dict[str, Any], col: int) -> Any:
        if col == COL_STEP:
            return row["step"] * 100000 + row["index"]
        if col == COL_INDEX:
            return row["index"]
        if col == COL_SCORE:
            # unscored rows sort after every scored one in ascending order
            return float("inf") if row["score"] is None else float(row["score"])
        if col == COL_STATUS:
            return str(row["status"])
        if col == COL_SOLUTION:
            return solution_text(row)
        return str(row.get("reason") or "")


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
