"""Run ▸ Evaluate on the test split as a window: progress (scorer answers in / asked for), a
Cancel button and, when it ends, a table of every evaluated instruction and both baselines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opro_gui.services import EvaluationResult

from .shell_evaluate import TestEvaluation

Index = QModelIndex | QPersistentModelIndex
Formatter = Callable[[float | None], str]


def _ci(row: EvaluationResult, fmt: Formatter) -> str:
    if not row.accuracy_ci:
        return ""
    low, high = row.accuracy_ci
    return f"{fmt(low)} – {fmt(high)}"


def split_title(split: str) -> str:
    """The accuracy column's header: "Test" or the other dataset's name (transfer)."""
    return split.removeprefix("transfer:") if split.startswith("transfer:") else split.title()


class EvaluationTableModel(QAbstractTableModel):
    """Rows are ``EvaluationResult`` (what the services stored); read-only."""

    HEADERS = ("Instruction", "Text", "Train", "Test", "n", "95 % interval", "Complete")

    def __init__(self, fmt: Formatter, parent: Any = None) -> None:
        super().__init__(parent)
        self.fmt = fmt
        self._rows: list[EvaluationResult] = []
        self._split = "test"

    def set_rows(self, rows: Sequence[EvaluationResult]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._split = self._rows[0].split if self._rows else "test"
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)

    def row_data(self, row: int) -> EvaluationResult:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section == 3:
            return split_title(self._split)
        return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.ToolTipRole and col == 1:
            return r.instruction or "(the empty instruction)"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        shown = [
            r.label,
            (r.instruction or "(empty)").replace("\n", " ⏎ "),
            self.fmt(r.train_accuracy),
            self.fmt(r.accuracy),
            str(r.n_examples),
            _ci(r, self.fmt),
            "yes" if r.complete else "no: some requests failed",
        ]
        return shown[col]


class EvaluateDialog(QDialog):
    """Shows one ``TestEvaluation`` (owned by the main window); closing it does not stop the
    evaluation, Cancel does."""

    def __init__(self, evaluation: TestEvaluation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluate_dialog")
        self.setWindowTitle("Evaluate on the test split")
        self.evaluation = evaluation
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("evaluate_progress")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide)
        self.model = EvaluationTableModel(lambda v: "-" if v is None else f"{v:g}", self)
        self.table = QTableView()
        self.table.setObjectName("evaluate_results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title_label)
        lay.addWidget(self.progress_bar)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self.resize(860, 380)
        evaluation.evaluation_started.connect(self._on_evaluation_started)
        evaluation.progress_changed.connect(self._on_progress_changed)
        evaluation.evaluation_finished.connect(self._on_evaluation_finished)
        evaluation.evaluation_failed.connect(self._on_evaluation_failed)
        evaluation.evaluation_cancelled.connect(self._on_evaluation_cancelled)

    # -- API -------------------------------------------------------------------------------
    def prepare(self, where: str, title: str, fmt: Formatter) -> None:
        """Before an evaluation starts: on what, what is evaluated, and the kind's way to
        write scores."""
        self.setWindowTitle(f"Evaluate on {where}")
        self.title_label.setText(title)
        self.model.fmt = fmt
        self.model.set_rows([])
        self.status_label.setText("Starting…")

    def cancel(self) -> None:
        if self.evaluation.is_running and not self.evaluation.is_cancelling:
            self.evaluation.cancel(0)
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling…")

    def results(self) -> list[EvaluationResult]:
        return [self.model.row_data(r) for r in range(self.model.rowCount())]

    # -- handlers ----------------------------------------------------------------------------
    def _on_evaluation_started(self, counted: bool) -> None:
        self.progress_bar.setRange(0, 0 if not counted else 1)  # 0..0: busy (Batch API)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v of %m scorer answers")
        self.cancel_button.setEnabled(True)
        if not counted:
            self.status_label.setText("Waiting for the batch job…")

    def _on_progress_changed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        self.status_label.setText(f"{done} of {total} scorer answers in")

    def _on_evaluation_finished(self, rows: list[EvaluationResult]) -> None:
        self.model.set_rows(rows)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat("done")
        self.cancel_button.setEnabled(False)
        incomplete = sum(1 for r in rows if not r.complete)
        note = f"; {incomplete} incomplete (some requests failed)" if incomplete else ""
        self.status_label.setText(f"Stored {len(rows)} evaluations in the project{note}.")

    def _on_evaluation_failed(self, message: str) -> None:
        self.cancel_button.setEnabled(False)
        self.status_label.setText(f"The evaluation failed: {message}. Nothing was stored.")

    def _on_evaluation_cancelled(self) -> None:
        self.cancel_button.setEnabled(False)
        self.progress_bar.setFormat("cancelled at %v of %m")
        self.status_label.setText("Cancelled: nothing was stored.")
