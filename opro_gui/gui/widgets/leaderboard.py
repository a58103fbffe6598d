"""The leaderboard beside the score plot: the shown run's best candidates (rank, score, step,
text) best first by the kind's direction, each with a button that copies its full text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opro_gui.services.pages import LeaderRow

#: Rows read (top N in SQL) and shown.
TOP_N = 10
#: Below this width the leaderboard goes under the plot instead of beside it.
BESIDE_MIN_WIDTH = 760
HEADERS = ("#", "score", "step", "text", "")
_TEXT_CHARS = 300  # a long instruction is cut in the cell; the tooltip and Copy have all of it


class Leaderboard(QWidget):
    """``candidate_chosen(step, index)`` when a row is double-clicked."""

    candidate_chosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("leaderboard")
        self.rows: list[LeaderRow] = []
        self.title = QLabel("Best candidates")
        self.title.setObjectName("leaderboard_title")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("leaderboard_table")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in (0, 1, 2, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        self.table.setMinimumWidth(220)
        self.setMinimumHeight(48)  # the title and a row: short layouts squeeze it, it scrolls
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.table, 1)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt's name)
        return QSize(380, super().sizeHint().height())

    def set_score_label(self, label: str) -> None:
        """The score column's header, with its unit (the kind's label)."""
        self.table.setHorizontalHeaderItem(1, QTableWidgetItem(label))

    def set_rows(self, rows: Sequence[LeaderRow], fmt: Callable[[float | None], str]) -> None:
        """Show ``rows`` (already best first); unchanged rows cost nothing."""
        rows = list(rows)
        if rows == self.rows:
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            text = " ".join(row.text.split())
            cells = (str(row.rank), fmt(row.score), str(row.step), text[:_TEXT_CHARS])
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if c < 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setToolTip(row.text if c == 3 else value)
                self.table.setItem(r, c, item)
            self.table.setCellWidget(r, 4, self._copy_button(r))
        self.title.setText(f"Best candidates (top {len(rows)})" if rows else "Best candidates")

    def clear(self) -> None:
        self.rows = []
        self.table.setRowCount(0)
        self.title.setText("Best candidates")

    def copy_row(self, r: int) -> str:
        """Put row ``r``'s full text on the clipboard; returns it."""
        text = self.rows[r].text
        QGuiApplication.clipboard().setText(text)
        return text

    def copy_button(self, r: int) -> QToolButton:
        button = self.table.cellWidget(r, 4)
        assert isinstance(button, QToolButton)
        return button

    def _copy_button(self, r: int) -> QToolButton:
        button = QToolButton()
        button.setText("Copy")
        button.setObjectName("leaderboard_copy")
        button.setToolTip("Copy the full text to the clipboard")
        button.setAutoRaise(True)
        button.clicked.connect(lambda _checked=False, row=r: self.copy_row(row))
        return button

    def _on_table_cell_double_clicked(self, r: int, _c: int) -> None:
        if 0 <= r < len(self.rows):
            self.candidate_chosen.emit(self.rows[r].step, self.rows[r].index)


class PlotAndBoard(QSplitter):
    """The plot (tabs) with the leaderboard beside it, or under it when the run view is
    narrow (docks open on both sides), so neither is squeezed until its labels are cut."""

    def __init__(self, plot: QWidget, board: Leaderboard) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.setObjectName("run_splitter")
        self.addWidget(plot)
        self.addWidget(board)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.setSizes([1000, 520])  # the leaderboard's text needs room too

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt's name)
        beside = self.width() >= BESIDE_MIN_WIDTH
        if beside != (self.orientation() == Qt.Orientation.Horizontal):
            self.setOrientation(Qt.Orientation.Horizontal if beside else Qt.Orientation.Vertical)
            self.setSizes([1000, 520] if beside else [1000, 400])
        super().resizeEvent(event)
