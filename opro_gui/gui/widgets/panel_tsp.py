"""Task editor page for TSP: generate n seeded points, import CSV/TSPLIB, edit the coordinate
table, preview the points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opro_gui.gui.models.points_model import PointsTableModel
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.problems.tsp import TSPProblem, load_tsp_file

# Keys the editor derives from the points: dropped from the spec when the points change.
_DERIVED = ("optimum",)


def error_label() -> QLabel:
    """The red inline message under a field (hidden when empty)."""
    label = QLabel()
    label.setObjectName("validation_message")
    label.setStyleSheet("color: #c62828;")
    label.setWordWrap(True)
    label.hide()
    return label


def show_error(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class TSPPanel(QWidget):
    points_changed = Signal()

    def __init__(self, binder: UndoBinder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: dict[str, Any] = {}
        self._base_points: tuple[tuple[float, float], ...] = ()
        self.n_spin = QSpinBox(minimum=3, maximum=2000, value=10)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Replace the points by n random integer points (seeded)")
        self.generate_button.clicked.connect(self._on_generate_button_clicked)
        self.import_button = QPushButton("Import CSV/TSPLIB…")
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.model = PointsTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(150)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton("Add point")
        self.add_button.clicked.connect(lambda: self.model.add_point())
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.points_error = error_label()
        self.import_error = error_label()
        self.preview = pg.PlotWidget()
        self.preview.setMinimumHeight(160)
        self.preview.setMaximumHeight(240)
        self.preview.setBackground(None)  # follow the window palette (light/dark themes)
        self.preview.setAspectLocked(True)
        self.preview.hideButtons()
        self._scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush("#1e88e5"), pen=None)
        self.preview.addItem(self._scatter)

        form = QFormLayout()
        form.addRow("Points (n):", self.n_spin)
        form.addRow("Seed:", self.seed_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        edit_buttons = QHBoxLayout()
        edit_buttons.addWidget(self.add_button)
        edit_buttons.addWidget(self.remove_button)
        edit_buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.import_error)
        lay.addWidget(self.table, 1)
        lay.addLayout(edit_buttons)
        lay.addWidget(self.points_error)
        lay.addWidget(self.preview)

        self.binder = binder
        binder.bind_widget("number of points", self.n_spin)
        binder.bind_widget("TSP seed", self.seed_spin)
        fid = binder.bind(
            "points", self.model.points_edited, self.model.points, self.model.set_points
        )
        self.model.points_edited.connect(lambda: binder.seal(fid))  # one command per cell edit
        self.model.points_edited.connect(self._on_model_points_edited)

    # -- spec ----------------------------------------------------------------------------
    def load(self, spec: dict[str, Any]) -> None:
        self._base = dict(spec)
        points = spec.get("points") or TSPProblem.generate(self.n_spin.value(), 0).points
        self.seed_spin.setValue(int(spec.get("seed", 0)))
        self.n_spin.setValue(len(points))
        self.model.set_points(points)
        self._base_points = self.model.points()

    def spec(self) -> dict[str, Any]:
        """The loaded spec with the edited fields changed (identical when nothing was edited)."""
        spec = {**self._base, "kind": "tsp"}
        if self.seed_spin.value() != int(self._base.get("seed", -1)):
            spec["seed"] = self.seed_spin.value()
        if self.model.points() != self._base_points or "points" not in spec:
            spec["points"] = [[x, y] for x, y in self.model.points()]
            for key in (*_DERIVED, "name"):
                spec.pop(key, None)
        return spec

    def validation_errors(self) -> list[str]:
        pts = self.model.points()
        errors = []
        if len(pts) < 3:
            errors.append(f"A TSP instance needs at least 3 points (now {len(pts)}).")
        notes = list(errors)
        if len(set(pts)) < len(pts):  # allowed (distance 0), but rarely intended
            notes.append("Note: some points are identical.")
        show_error(self.points_error, " ".join(notes))
        return errors

    # -- handlers ------------------------------------------------------------------------
    def _on_generate_button_clicked(self) -> None:
        problem = TSPProblem.generate(self.n_spin.value(), self.seed_spin.value())
        self.binder.seal()
        self.model.set_points(problem.points)
        show_error(self.import_error, "")

    def _on_import_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import TSP points", "", "TSP files (*.tsp *.csv *.txt);;All files (*)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> bool:
        try:
            problem = load_tsp_file(path)
        except (OSError, ValueError) as exc:
            show_error(self.import_error, f"Cannot import {path.name}: {exc}")
            return False
        show_error(self.import_error, "")
        self.binder.seal()
        self.model.set_points(problem.points)
        return True

    def _on_remove_button_clicked(self) -> None:
        rows = [i.row() for i in self.table.selectionModel().selectedRows()]
        if rows:
            self.model.remove_rows(rows)

    def _on_model_points_edited(self) -> None:
        pts = self.model.points()
        self._scatter.setData([p[0] for p in pts], [p[1] for p in pts])
        self.validation_errors()
        self.points_changed.emit()
