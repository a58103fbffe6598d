"""The scorer answers of one instruction: a sortable table with a text filter, an "only wrong"
switch and word wrap on demand; verdict and error columns appear only when something fills them,
and the raw answer column takes the width left."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opro_gui.gui.models.answers_model import AnswersFilter, AnswersModel
from opro_gui.services.inspection import AnswerRow

#: Starting widths of the text columns (characters are elided beyond; the last one stretches).
#: Columns as wide as their contents, up to this many pixels; input and raw answer share the rest.
SHORT = ("example_id", "gold", "parsed_answer", "correct")
SHORT_MAX = 160
STRETCHED = ("input", "raw_answer")
WIDTHS = {"verdicts": 220, "error": 220}


class AnswersTable(QWidget):
    """``set_rows`` fills it; ``model`` holds every row, ``proxy`` what is shown, in order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AnswersModel(self)
        self.proxy = AnswersFilter(self)
        self.proxy.setSourceModel(self.model)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("answers_filter")
        self.filter_edit.setPlaceholderText("Filter input, gold or answers…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.only_wrong_check = QCheckBox("Only wrong")
        self.only_wrong_check.setToolTip("Show only the answers that were wrong or failed")
        self.only_wrong_check.toggled.connect(self._on_only_wrong_toggled)
        self.wrap_check = QCheckBox("Wrap text")
        self.wrap_check.setToolTip("Show every cell's full text over several lines")
        self.wrap_check.toggled.connect(self.set_wrap)
        self.count_label = QLabel()
        self.view = QTableView()
        self.view.setObjectName("answers_view")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for key in STRETCHED:  # the long texts share the room the short columns leave
            header.setSectionResizeMode(self.model.column_of(key), QHeaderView.ResizeMode.Stretch)
        for key, width in WIDTHS.items():
            self.view.setColumnWidth(self.model.column_of(key), width)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.only_wrong_check)
        bar.addWidget(self.wrap_check)
        bar.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)

    # -- API -------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[AnswerRow]) -> None:
        self.model.set_rows(rows)
        hidden = set(self.model.empty_columns())
        for col in range(self.model.columnCount()):
            self.view.setColumnHidden(col, col in hidden)
        header = self.view.horizontalHeader()
        for key in SHORT:
            col = self.model.column_of(key)
            fit = max(header.sectionSizeHint(col), self.view.sizeHintForColumn(col))
            self.view.setColumnWidth(col, min(SHORT_MAX, fit))
        self._update_count()
        if self.wrap_check.isChecked():
            self.view.resizeRowsToContents()

    def set_wrap(self, wrap: bool) -> None:
        """Full text over several lines (rows grow to fit) or one elided line per cell."""
        if self.wrap_check.isChecked() != wrap:
            self.wrap_check.setChecked(wrap)  # comes back here through ``toggled``
            return
        self.model.set_wrap(wrap)
        self.view.setWordWrap(wrap)
        self.view.setTextElideMode(
            Qt.TextElideMode.ElideNone if wrap else Qt.TextElideMode.ElideMiddle
        )
        if wrap:
            self.view.resizeRowsToContents()
        else:
            height = self.view.verticalHeader().defaultSectionSize()
            for row in range(self.proxy.rowCount()):
                self.view.setRowHeight(row, height)

    def shown_rows(self) -> list[AnswerRow]:
        """The rows as shown: filtered and in the table's order."""
        return [
            self.model.row_data(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
            for r in range(self.proxy.rowCount())
        ]

    # -- handlers --------------------------------------------------------------------------
    def _on_filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._after_filter()

    def _on_only_wrong_toggled(self, on: bool) -> None:
        self.proxy.set_only_wrong(on)
        self._after_filter()

    def _after_filter(self) -> None:
        self._update_count()
        if self.wrap_check.isChecked():
            self.view.resizeRowsToContents()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {total}" if shown != total else f"{total} answers")
