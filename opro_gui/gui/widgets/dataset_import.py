"""Dataset import for prompt tasks: choose a file, its format and (CSV/TSV/JSONL) the input and
target columns; loads in the background through problems.datasets and previews the examples."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opro_gui.gui.models.dict_table import Column
from opro_gui.gui.models.preview_table import PreviewModel
from opro_gui.gui.widgets.flow_layout import flow_row
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.worker import Worker, run_in_background
from opro_gui.problems.datasets import FORMATS, Dataset, load_dataset

PREVIEW_ROWS = 200
_TABULAR = (".csv", ".tsv", ".jsonl")


def file_columns(path: Path) -> list[str]:
    """Column names of a CSV/TSV header or the keys of a JSONL file's first object."""
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            if suffix == ".jsonl":
                for line in fh:
                    if line.strip():
                        first = json.loads(line)
                        return [str(k) for k in first] if isinstance(first, dict) else []
                return []
            header = next(csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","), [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error):
        return []
    return [h.strip() for h in header if h.strip()]


def embedded_dataset(examples: list[dict[str, str]], name: str, task_type: str) -> Dataset:
    """A Dataset for examples already stored in a project."""
    return Dataset(list(examples), task_type or "text", name or "embedded", "embedded")


class DatasetImportWidget(QWidget):
    """Loads a dataset; ``dataset_loaded(Dataset)`` or ``dataset_failed(str)`` follows."""

    dataset_loaded = Signal(object)
    dataset_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._call: Worker | None = None
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(
            "GSM8K, BBH, BIG-bench, MultiArith, AQuA, MMLU, CSV, TSV, JSONL"
        )
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.setToolTip("A folder of MMLU subject files (e.g. MMLU-data/test)")
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.format_combo = QComboBox()
        self.format_combo.addItem("detect", None)
        for fmt in FORMATS:
            self.format_combo.addItem(fmt, fmt)
        self.input_combo = QComboBox()
        self.target_combo = QComboBox()
        for combo in (self.input_combo, self.target_combo):  # column names can be long
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load_file)
        self.info_label = QLabel("No dataset.")
        self.info_label.setWordWrap(True)
        self.error_label = error_label()
        self.preview_model = PreviewModel(
            [Column("Input", "input"), Column("Target", "target")], self
        )
        self.preview = QTableView()
        self.preview.setObjectName("dataset_preview")
        self.preview.setModel(self.preview_model)
        # Rows often share a long opening ("Is the following sentence plausible? ..."): the
        # model shows it as "…", the view elides what is left in the middle; the tooltip has
        # the whole text.
        self.preview.setWordWrap(False)
        self.preview.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.preview.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.preview.setMinimumHeight(120)

        # Narrow rows (the Task dock is often a third of the window): the buttons wrap.
        buttons = flow_row(self.browse_button, self.folder_button)
        cols = QFormLayout()
        cols.setContentsMargins(0, 0, 0, 0)
        cols.addRow("Input:", self.input_combo)
        cols.addRow("Target:", self.target_combo)
        columns_row = QHBoxLayout()
        columns_row.addLayout(cols, 1)
        columns_row.addWidget(self.load_button, 0, Qt.AlignmentFlag.AlignBottom)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("File:", self.path_edit)
        form.addRow("", buttons)
        form.addRow("Format:", self.format_combo)
        form.addRow("Columns:", columns_row)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.error_label)
        lay.addWidget(self.info_label)
        lay.addWidget(self.preview, 1)
        self.path_edit.editingFinished.connect(self._on_path_edit_finished)
        self._set_columns([])

    # -- API -----------------------------------------------------------------------------
    def dataset(self) -> Dataset | None:
        return self._dataset

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show ``dataset`` (no signal): used by load and by undo/redo."""
        self._dataset = dataset
        self.preview_model.set_rows(dataset.examples[:PREVIEW_ROWS] if dataset else [])
        self._size_target_column()
        if dataset is None:
            self.info_label.setText("No dataset.")
            return
        text = (
            f"{dataset.name}: {len(dataset.examples)} examples ({dataset.fmt}); "
            f"task type looks {dataset.task_type_guess}."
        )
        if len(dataset.examples) > PREVIEW_ROWS:
            text += f" Preview shows the first {PREVIEW_ROWS}."
        if dataset.warnings:
            text += " " + " ".join(dataset.warnings)
        note = self.preview_model.shared_note()
        self.info_label.setText(f"{text}\n{note}" if note else text)

    def _size_target_column(self) -> None:
        """Targets are usually short: their column fits them, up to a third of the table."""
        fm = self.preview.fontMetrics()
        texts = [
            self.preview_model.index(r, 1).data() or ""
            for r in range(min(50, self.preview_model.rowCount()))
        ]
        wanted = max((fm.horizontalAdvance(t) for t in [*texts, "Target"]), default=0)
        limit = max(self.preview.viewport().width() // 3, 80)
        self.preview.setColumnWidth(1, min(wanted + 16, limit))

    def set_path(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))
        self._on_path_edit_finished()

    def load_file(self) -> None:
        """Load the chosen file with the chosen format/columns in a worker thread."""
        text = self.path_edit.text().strip()
        if not text:
            show_error(self.error_label, "Choose a dataset file first.")
            return
        if self._call is not None:
            self._call.quit()
        path = Path(text).expanduser()
        show_error(self.error_label, "")
        self.info_label.setText(f"Loading {path.name}…")
        fn = partial(
            load_dataset,
            path,
            self.format_combo.currentData(),
            self.input_combo.currentData(),
            self.target_combo.currentData(),
        )
        self._call = run_in_background(
            fn, on_done=self._on_load_done, on_error=self._on_load_error, owner=self
        )

    # -- handlers ------------------------------------------------------------------------
    def _set_columns(self, columns: list[str]) -> None:
        for combo in (self.input_combo, self.target_combo):
            combo.clear()
            combo.addItem("detect", None)
            for col in columns:
                combo.addItem(col, col)
            combo.setEnabled(bool(columns))

    def _on_browse_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import dataset",
            "",
            "Datasets (*.csv *.tsv *.jsonl *.json);;All files (*)",
        )
        if path:
            self.set_path(path)
            self.load_file()

    def _on_folder_button_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import a folder of MMLU subject files")
        if path:
            self.set_path(path)
            self.format_combo.setCurrentIndex(self.format_combo.findData("mmlu"))
            self.load_file()

    def _on_path_edit_finished(self) -> None:
        path = Path(self.path_edit.text().strip()).expanduser()
        self._set_columns(file_columns(path) if path.suffix.lower() in _TABULAR else [])

    def _on_load_done(self, dataset: Dataset) -> None:
        self._call = None
        self.set_dataset(dataset)
        self.dataset_loaded.emit(dataset)

    def _on_load_error(self, exc: BaseException) -> None:
        self._call = None
        message = str(exc) if isinstance(exc, ValueError | OSError) else repr(exc)
        show_error(self.error_label, message)
        self.info_label.setText(
            "No dataset loaded." if self._dataset is None else self.info_label.text()
        )
        self.dataset_failed.emit(message)
