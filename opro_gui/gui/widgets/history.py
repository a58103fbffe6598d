"""The history panel: runs of the project, a lazy sortable/filterable table of every candidate,
and the step detail pane; starts replays and forks of the selected step."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from opro_gui.gui.models.history_model import (
    COL_INDEX,
    COL_REASON,
    COL_SCORE,
    COL_SOLUTION,
    COL_STATUS,
    COL_STEP,
    INDEX_ROLE,
    STATUSES,
    STEP_ROLE,
    CandidateHistoryModel,
    StatusFilterProxy,
)
from opro_gui.gui.widgets.flow_layout import flow_row
from opro_gui.gui.widgets.history_people import PeopleBar
from opro_gui.gui.widgets.step_detail import StepDetailPane
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.services.pages import RunHeader
from opro_gui.services.status import status_label

from ..document import ProjectDocument, ProjectOpened, RunsChanged, RunSelected

RUN_LABEL_MIN_CHARS = 24
TABLE_MIN_HEIGHT = 90  # a few rows: the dock can shrink well below its natural height
TABLE_SHARE = 0.5  # of the panel, for the table; the step detail gets the rest
SIDE_BY_SIDE_MIN_WIDTH = 900  # table and step detail side by side from this width ...
SIDE_BY_SIDE_RATIO = 1.6  # ... when the panel is this many times wider than tall


def _narrow_columns(table: QTableView) -> None:
    """Step, #, status, score and reason start as wide as their usual values (a reason is
    mostly empty; its tooltip has it whole); the solution column takes the rest."""
    fm = table.fontMetrics()
    pad = 2 * fm.averageCharWidth() + 16  # cell margins and the sort arrow
    for col, sample in (
        (COL_STEP, "Step"),
        (COL_INDEX, "000"),
        (COL_STATUS, "incomplete"),
        (COL_SCORE, "-1,234,567"),
        (COL_REASON, "not parsed"),
    ):
        table.horizontalHeader().resizeSection(col, fm.horizontalAdvance(sample) + pad)


def run_label(header: RunHeader) -> str:
    """A run in the runs list; the status word is the run view's (services.status)."""
    text = f"Run {header.run_id} — {status_label(header.status)}, {header.steps_completed} step(s)"
    if header.parent_run_id is not None:
        text += f" (fork of run {header.parent_run_id} at step {header.fork_step})"
    return text


class HistoryPanel(QWidget):
    """Every candidate of a run and the exact step behind it.

    Renders from a ProjectDocument (the window's, or its own after ``set_project``);
    ``refresh()`` after each completed step appends the new rows. Replay and fork dialogs open from here (``set_profiles`` gives them
    the model profiles); ``run_forked`` tells the window about a new run."""

    candidate_selected = Signal(int, int)  # step, index
    replay_requested = Signal(int, int)  # run, step
    fork_requested = Signal(int, int)  # run, step
    run_forked = Signal(int)  # new run id
    run_selected = Signal(int)  # the runs combo switched to this run
    error_occurred = Signal(str)  # a read failed; also shown in the panel's status line

    def __init__(self, parent: QWidget | None = None, chunk_size: int = 200) -> None:
        super().__init__(parent)
        self._document: ProjectDocument | None = None
        self._profiles: dict[str, dict[str, Any]] = {}
        self._detail_key: tuple[int, int] | None = None
        self.open_dialogs = True  # False: only emit the *_requested signals
        self._dialogs: list[QWidget] = []

        self.runs_combo = QComboBox()
        self.runs_combo.setObjectName("runs_combo")
        self.runs_combo.currentIndexChanged.connect(self._on_runs_combo_changed)
        self.runs_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )  # a long run label must not widen the panel: it shows whole when there is room
        self.runs_combo.setMinimumContentsLength(RUN_LABEL_MIN_CHARS)
        self.status_boxes: dict[str, QCheckBox] = {}
        runs_row = QHBoxLayout()
        runs_row.addWidget(QLabel("Run:"))
        runs_row.addWidget(self.runs_combo, 1)
        for status in STATUSES:
            box = QCheckBox(status)
            box.setChecked(True)
            box.toggled.connect(self._on_status_box_toggled)
            self.status_boxes[status] = box
        filters = flow_row(QLabel("Show:"), *self.status_boxes.values())

        self.model = CandidateHistoryModel(chunk_size=chunk_size, parent=self)
        self.proxy = StatusFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("history_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # keep (step, index) order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_SOLUTION, QHeaderView.ResizeMode.Stretch)
        _narrow_columns(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)

        self.detail_pane = StepDetailPane()
        self.detail_pane.verdict_selected.connect(self.select_candidate)

        self.replay_button = QPushButton("Replay step…")
        self.replay_button.setToolTip("Send this step's meta-prompt again, to any model")
        self.replay_button.clicked.connect(self._on_replay_button_clicked)
        self.fork_button = QPushButton("Fork from step…")
        self.fork_button.setToolTip(
            "Start a new run from this step with another template or settings"
        )
        self.fork_button.clicked.connect(self._on_fork_button_clicked)
        self.count_label = QLabel()
        self.people = PeopleBar()
        self.people.action_done.connect(self.count_label.setText)
        self.people.action_failed.connect(self.error_occurred)
        self.count_label.setWordWrap(True)
        actions = flow_row(self.people, self.replay_button, self.fork_button)

        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addLayout(runs_row)
        top_lay.addWidget(filters)
        top_lay.addWidget(self.table, 1)
        top_lay.addWidget(self.count_label)
        top_lay.addWidget(actions)
        self.table.setMinimumHeight(TABLE_MIN_HEIGHT)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("history_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.detail_pane)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

        self.error_occurred.connect(self.count_label.setText)
        self.replay_requested.connect(self._on_self_replay_requested)
        self.fork_requested.connect(self._on_self_fork_requested)
        self._update_actions()

    # -- public API ----------------------------------------------------------------------
    @property
    def session(self) -> ProjectSession | None:
        return self._document.session if self._document is not None else None

    @property
    def project_path(self) -> Path | None:
        return self._document.path if self._document is not None else None

    def current_run_id(self) -> int | None:
        return self.model.run_id

    def set_profiles(self, profiles: dict[str, dict[str, Any]]) -> None:
        """Model profiles (gui.settings.load_profiles()) offered by the replay dialog."""
        self._profiles = dict(profiles)

    def set_document(self, document: ProjectDocument) -> None:
        """Render the project and run the document shows."""
        self._document = document
        document.project_opened.connect(self._on_document_project_opened)
        document.run_selected.connect(self._on_document_run_selected)
        document.runs_changed.connect(self._on_document_runs_changed)
        document.project_closed.connect(self._on_document_project_closed)

    def set_project(self, path: Path | None, run_id: int | None = None) -> None:
        """Standalone use: show ``run_id`` (default: the latest run) of the project at
        ``path`` through a document of the panel's own; None clears."""
        if self._document is None:
            self.set_document(ProjectDocument(self))
        assert self._document is not None
        if path is None:
            self._document.close()
            return
        try:
            self._document.open(path, run_id)
        except ProjectError as exc:
            self._document.close()
            self.error_occurred.emit(str(exc))

    def refresh(self) -> None:
        """New steps of the shown run (and new runs) appear; shown rows are kept."""
        if self._document is None or self._document.session is None:
            return
        try:
            self._document.refresh_runs()
            self.model.refresh()
        except ProjectError as exc:  # the file went away or is locked
            self.error_occurred.emit(f"Cannot read the history: {exc}")
            return
        self._update_actions()

    def show_run(self, run_id: int) -> None:
        idx = self.runs_combo.findData(run_id)
        if idx >= 0:
            self.runs_combo.setCurrentIndex(idx)

    def select_candidate(self, step: int, index: int) -> None:
        """Select candidate (step, index) in the table, fetching and unfiltering as needed."""
        row = self.model.row_of(step, index)
        if row is None:
            return
        src = self.model.index(row, 0)
        status = self.model.row_data(row).status
        if status not in self.proxy.statuses():
            self.status_boxes[status].setChecked(True)
        proxy_index = self.proxy.mapFromSource(src)
        if proxy_index.isValid():
            self.table.selectionModel().setCurrentIndex(
                proxy_index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(proxy_index)

    def selected_candidate(self) -> tuple[int, int] | None:
        current = self.table.selectionModel().currentIndex()
        if not current.isValid():
            return None
        return int(current.data(STEP_ROLE)), int(current.data(INDEX_ROLE))

    def close_project(self) -> None:
        self.set_project(None)

    # -- internals -----------------------------------------------------------------------
    def _fill_runs(self, runs: tuple[RunHeader, ...], run_id: int | None) -> None:
        self.runs_combo.blockSignals(True)
        self.runs_combo.clear()
        for header in runs:
            self.runs_combo.addItem(run_label(header), header.run_id)
        if run_id is not None:
            self.runs_combo.setCurrentIndex(self.runs_combo.findData(run_id))
        self.runs_combo.blockSignals(False)

    def _on_document_project_opened(self, p: ProjectOpened) -> None:
        self._fill_runs(p.runs, p.run_id)

    def _on_document_runs_changed(self, r: RunsChanged) -> None:
        self._fill_runs(r.runs, self.model.run_id)

    def _on_document_run_selected(self, r: RunSelected) -> None:
        self.runs_combo.blockSignals(True)
        self.runs_combo.setCurrentIndex(self.runs_combo.findData(r.run_id))
        self.runs_combo.blockSignals(False)
        self._load_run(r.run_id)

    def _on_document_project_closed(self, _closed: object) -> None:
        self.runs_combo.clear()
        self._load_run(None)

    def _load_run(self, run_id: int | None) -> None:
        self._detail_key = None
        self.detail_pane.show_detail(None)
        doc = self._document if run_id is not None else None
        self.model.set_source(doc, run_id)
        if doc is not None:
            self.detail_pane.fmt = doc.format_score
        self._update_actions()
        # The first page is read on the next turn of the event loop: opening a project
        # draws the window first.
        QTimer.singleShot(0, self, partial(self._fetch_first_page, doc, run_id))

    def _fetch_first_page(self, doc: object, run_id: int | None) -> None:
        if self.model.run_id != run_id or self._document is not doc or doc is None:
            return  # another run or project since
        if self.model.canFetchMore() and self.model.rowCount() == 0:
            self.model.fetchMore()
            self._update_actions()

    def _update_actions(self) -> None:
        selected = self.selected_candidate()
        can_step = selected is not None and selected[0] > 0
        self.replay_button.setEnabled(can_step)
        self.fork_button.setEnabled(selected is not None)
        self.people.set_target(self.project_path, self.model.run_id, selected)
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        more = "+" if self.model.canFetchMore() else ""
        if self.session is None:
            self.count_label.setText("No project open.")
        elif self.model.run_id is None:
            self.count_label.setText("No runs yet.")
        else:
            self.count_label.setText(f"{shown} of {total}{more} candidates shown")

    def _on_runs_combo_changed(self, idx: int) -> None:
        run_id = self.runs_combo.itemData(idx)
        if run_id is not None and run_id != self.model.run_id and self._document is not None:
            self._document.select_run(run_id)
            self.run_selected.emit(run_id)

    def _on_status_box_toggled(self, _checked: bool) -> None:
        self.proxy.set_statuses(s for s, box in self.status_boxes.items() if box.isChecked())
        self._update_actions()

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        if not current.isValid() or self._document is None or self.model.run_id is None:
            return
        step, index = int(current.data(STEP_ROLE)), int(current.data(INDEX_ROLE))
        key = (self.model.run_id, step)
        if key != self._detail_key:
            try:
                detail = self._document.step_detail(*key)
            except ProjectError as exc:
                self.error_occurred.emit(f"Cannot read step {step}: {exc}")
                return
            self._detail_key = key
            self.detail_pane.show_detail(detail, index)
        else:
            self.detail_pane.show_candidate(index)
        self.candidate_selected.emit(step, index)

    def _on_replay_button_clicked(self) -> None:
        selected = self.selected_candidate()
        if selected and self.model.run_id is not None:
            self.replay_requested.emit(self.model.run_id, selected[0])

    def _on_fork_button_clicked(self) -> None:
        selected = self.selected_candidate()
        if selected and self.model.run_id is not None:
            self.fork_requested.emit(self.model.run_id, selected[0])

    def _on_self_replay_requested(self, run_id: int, step: int) -> None:
        if not self.open_dialogs or self.project_path is None:
            return
        from opro_gui.gui.widgets.replay import ReplayDialog

        try:
            dialog = ReplayDialog(self.project_path, run_id, step, self._profiles, self)
        except ProjectError as exc:
            self.error_occurred.emit(f"Cannot replay step {step}: {exc}")
            return
        self._show_dialog(dialog)

    def _on_self_fork_requested(self, run_id: int, step: int) -> None:
        if not self.open_dialogs or self.project_path is None:
            return
        from opro_gui.gui.widgets.fork import ForkDialog

        try:
            dialog = ForkDialog(self.project_path, run_id, step, self)
        except ProjectError as exc:
            self.error_occurred.emit(f"Cannot fork run {run_id}: {exc}")
            return
        dialog.run_forked.connect(self._on_fork_dialog_run_forked)
        self._show_dialog(dialog)

    def _show_dialog(self, dialog: Any) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.show()

    def _on_dialog_finished(self, _result: int) -> None:
        # Drop our reference and delete later, outside the dialog's own signal emission.
        dialog = self.sender()
        self._dialogs = [d for d in self._dialogs if d is not dialog]
        if dialog is not None:
            dialog.deleteLater()

    def _on_fork_dialog_run_forked(self, new_run_id: int) -> None:
        self.refresh()
        if self._document is not None:
            self._document.select_run(new_run_id)
        self.run_forked.emit(new_run_id)

    def resizeEvent(self, event: Any) -> None:  # Qt override
        """A wide, short panel (a bottom dock) puts the table beside the step detail, so both
        get the full height; a tall one stacks them."""
        super().resizeEvent(event)
        w, h = self.width(), self.height()
        wide = w >= SIDE_BY_SIDE_MIN_WIDTH and w >= SIDE_BY_SIDE_RATIO * h
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.splitter.orientation():
            self.splitter.setOrientation(orientation)
            total = w if wide else h
            self.splitter.setSizes([int(total * TABLE_SHARE), total - int(total * TABLE_SHARE)])

    def closeEvent(self, event: Any) -> None:  # Qt override
        if self._document is not None and self._document.parent() is self:
            self._document.close()
        super().closeEvent(event)
