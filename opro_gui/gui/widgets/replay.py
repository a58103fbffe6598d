"""The replay dialog: send a step's meta-prompt (an editable copy) to any model profile, in a
background thread, optionally scored; the new answers' scores in a table beside the originals,
a line comparing the replay's best with the original step's; stored replays listed."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opro_gui.core.cancel import CancelToken
from opro_gui.core.rows import ReplayRow
from opro_gui.gui.models.dict_table import Column, DictTableModel, cell
from opro_gui.gui.models.history_model import Formatter, format_score
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.step_detail import completion_number, completions_text, table_view
from opro_gui.gui.worker import Worker, run_in_background
from opro_gui.llm import EndpointConfig
from opro_gui.problems import get_kind
from opro_gui.services import ProjectSession, ReplayResult
from opro_gui.services.inspection import replay_summary
from opro_gui.services.pages import replay_setup


def run_replay(
    path: Path,
    run_id: int,
    step: int,
    profile: dict[str, Any] | None,
    samples: int,
    meta_prompt: str,
    temperature: float,
    score: bool,
    cancel: CancelToken,
) -> ReplayResult:
    """Runs in the worker thread: its own session, closed before returning."""
    endpoint = EndpointConfig.from_dict(profile) if profile else None
    with ProjectSession.open(path) as session:
        return session.replay(
            run_id, step, endpoint=endpoint, samples=samples, meta_prompt=meta_prompt,
            temperature=temperature, score=score, cancel=cancel,
        )  # fmt: skip


def answers_text(replay: Any, fmt: Formatter = format_score, error: str = "") -> str:
    """Completions followed by the verdict of every candidate parsed from them (``replay``: a
    stored step or replay, typed or as exported)."""
    lines = [completions_text(list(cell(replay, "completions") or []))]
    cands = cell(replay, "candidates") or []
    if cands:
        lines.append("\n──── verdicts ────")
        for c in cands:
            score, reason = cell(c, "score"), cell(c, "reason")
            shown = "" if score is None else f" score {fmt(score)}"
            why = f" ({reason})" if reason else ""
            lines.append(
                f"[{completion_number(cell(c, 'completion_index'))}] {cell(c, 'status')}"
                f"{shown}{why}: {cell(c, 'text') or ''}"
            )
    error = error or (cell(replay, "error") or "")
    if error:
        lines.append(f"\nThe request failed: {error}")
    return "\n".join(lines)


def answer_columns(fmt: Formatter) -> list[Column]:
    """The columns of an answers table: the original step's candidates or a replay's."""
    return [
        Column("Completion", "completion_index", completion_number),
        Column("Status", "status"),
        Column("Score", "score", lambda v: "" if v is None else fmt(v)),
        Column("Reason", "reason"),
        Column("Text", "text"),
    ]


class ReplayDialog(QDialog):
    replay_stored = Signal(int)  # replay id
    replay_failed = Signal(str)

    def __init__(
        self,
        project_path: Path,
        run_id: int,
        step: int,
        profiles: dict[str, dict[str, Any]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Replay run {run_id}, step {step}")
        self.project_path, self.run_id, self.step = Path(project_path), run_id, step
        self._profiles = dict(profiles)
        self._call: Worker | None = None
        self._errors: dict[int, str] = {}  # a replay's failed request (not stored)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        setup = replay_setup(self.project_path, run_id, step)
        detail, settings, optimizer = setup.detail, setup.settings, setup.optimizer
        replays, kind = setup.replays, setup.kind
        self._original_prompt = detail.meta_prompt if detail else ""
        self._original = detail.candidates if detail else ()
        self._kind = get_kind(kind)

        self.profile_combo = QComboBox()
        self.profile_combo.addItem(f"The run's optimizer ({optimizer.model})", None)
        for name in sorted(self._profiles):
            model = self._profiles[name].get("model", "")
            self.profile_combo.addItem(f"{name} ({model})", name)
        self.samples_spin = QSpinBox(minimum=1, maximum=128, value=settings.samples_per_step)
        self.temperature_spin = QDoubleSpinBox(minimum=0.0, maximum=2.0, decimals=2, singleStep=0.1)
        self.temperature_spin.setValue(settings.temperature)
        self.score_check = QCheckBox("Score the parsed answers")
        self.score_check.setChecked(True)
        self.prompt_edit = QPlainTextEdit(self._original_prompt)
        self.prompt_edit.setFont(mono)
        restore = QPushButton("Restore the original meta-prompt")
        restore.clicked.connect(lambda: self.prompt_edit.setPlainText(self._original_prompt))
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.status_label = QLabel()
        self.error_label = error_label()
        self.original_view = QPlainTextEdit(readOnly=True)
        self.original_view.setFont(mono)
        self._fmt = self._kind.format_score
        self.original_view.setPlainText(answers_text(detail or {}, self._fmt))
        self.original_model = DictTableModel(answer_columns(self._fmt), self)
        self.original_model.set_rows(self._original)
        self.replay_view = QPlainTextEdit(readOnly=True)
        self.replay_view.setObjectName("replay_answers")
        self.replay_view.setFont(mono)
        self.replay_model = DictTableModel(answer_columns(self._fmt), self)
        self.summary_label = QLabel("Send the meta-prompt to compare a replay with this step.")
        self.summary_label.setObjectName("replay_summary")
        self.summary_label.setWordWrap(True)
        bold = self.summary_label.font()
        bold.setBold(True)
        self.summary_label.setFont(bold)
        self.replays_list = QListWidget()
        self.replays_list.setObjectName("stored_replays")
        self.replays_list.currentItemChanged.connect(self._on_replays_list_changed)

        form = QFormLayout()
        form.addRow("Model:", self.profile_combo)
        form.addRow("Samples:", self.samples_spin)
        form.addRow("Temperature:", self.temperature_spin)
        form.addRow("", self.score_check)
        buttons = QHBoxLayout()
        buttons.addWidget(restore)
        buttons.addStretch(1)
        buttons.addWidget(self.status_label)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        replay_box = QWidget()
        box = QVBoxLayout(replay_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.summary_label)
        box.addWidget(_tabs(self.replay_model, self.replay_view), 1)
        answers = QSplitter(Qt.Orientation.Horizontal)
        answers.addWidget(
            _titled(f"Original step {step}", _tabs(self.original_model, self.original_view))
        )
        answers.addWidget(_titled("Replay answers", replay_box))
        answers.addWidget(_titled("Stored replays of this step", self.replays_list))
        answers.setSizes([420, 420, 200])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(
            _titled("Meta-prompt (edit freely; the run is not changed)", self.prompt_edit)
        )
        split.addWidget(answers)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(split, 1)
        lay.addWidget(self.error_label)
        lay.addLayout(buttons)
        self.resize(1100, 760)
        for replay in replays:
            self._add_replay_item(replay)

    # -- API -----------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._call is not None and self._call.is_running()

    def send(self) -> None:
        if self.is_running():
            return
        name = self.profile_combo.currentData()
        profile = self._profiles.get(name) if name else None
        token = CancelToken()
        fn = partial(
            run_replay, self.project_path, self.run_id, self.step, profile,
            self.samples_spin.value(), self.prompt_edit.toPlainText(),
            self.temperature_spin.value(), self.score_check.isChecked(), token,
        )  # fmt: skip
        show_error(self.error_label, "")
        self.status_label.setText("Waiting for the model…")
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._call = run_in_background(
            fn, on_done=self._on_replay_done, on_error=self._on_replay_error,
            owner=self, token=token,
        )  # fmt: skip

    def stop(self) -> None:
        if self._call is not None:
            self._call.quit()
            self._call = None
        self.status_label.setText("Stopped.")
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def stored_replay_ids(self) -> list[int]:
        return [self.replays_list.item(i).data(Qt.ItemDataRole.UserRole).id
                for i in range(self.replays_list.count())]  # fmt: skip

    # -- handlers ------------------------------------------------------------------------
    def _add_replay_item(self, replay: ReplayRow) -> QListWidgetItem:
        model = replay.endpoint.get("model", "")
        when = time.strftime("%H:%M:%S", time.localtime(replay.created_at or time.time()))
        n = len(replay.completions)
        edited = " (edited prompt)" if replay.meta_prompt != self._original_prompt else ""
        item = QListWidgetItem(f"#{replay.id} {when} — {model}, {n} answer(s){edited}")
        item.setData(Qt.ItemDataRole.UserRole, replay)
        self.replays_list.addItem(item)
        return item

    def _on_replay_done(self, result: ReplayResult) -> None:
        self._call = None
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        stored = ReplayRow(
            id=result.id, run_id=result.run_id, step=result.step, created_at=time.time(),
            endpoint={"model": result.model}, meta_prompt=result.meta_prompt,
            completions=result.completions, candidates=result.candidates,
        )  # fmt: skip
        self._errors[result.id] = result.error
        item = self._add_replay_item(stored)
        self.replays_list.setCurrentItem(item)
        scored = [c for c in result.candidates if c.score is not None]
        self.status_label.setText(
            f"Stored replay #{result.id}: {len(result.completions)} answer(s), "
            f"{len(scored)} scored."
        )
        if result.error:
            show_error(self.error_label, f"The model call failed: {result.error}")
        self.replay_stored.emit(int(result.id))

    def show_replay(self, replay: ReplayRow) -> None:
        """A replay's answers, their scores and how its best compares with the original's."""
        error = self._errors.get(replay.id, "")
        self.replay_view.setPlainText(answers_text(replay, self._fmt, error))
        self.replay_model.set_rows(replay.candidates)
        self.summary_label.setText(
            replay_summary(self._kind, self._original, replay.candidates, len(replay.completions))
        )

    def _on_replay_error(self, exc: BaseException) -> None:
        self._call = None
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status_label.setText("")
        show_error(self.error_label, f"Replay failed: {exc}")
        self.replay_failed.emit(str(exc))

    def _on_replays_list_changed(self, current: QListWidgetItem | None, _prev: Any) -> None:
        if current is not None:
            self.show_replay(current.data(Qt.ItemDataRole.UserRole))

    def done(self, result: int) -> None:  # Qt override: closing stops a replay in flight
        if self._call is not None:
            self._call.quit()
            self._call = None
        super().done(result)


def fit_columns(view: QTableView, model: DictTableModel) -> None:
    """Short columns as wide as their contents, the text the rest; a column nobody fills
    (no reasons) is hidden."""
    header = view.horizontalHeader()
    for col, c in enumerate(model.columns):
        filled = any(cell(model.row_data(r), c.key) for r in range(model.rowCount()))
        view.setColumnHidden(col, c.key == "reason" and not filled)
        mode = QHeaderView.ResizeMode
        header.setSectionResizeMode(col, mode.Stretch if c.key == "text" else mode.ResizeToContents)


def _tabs(model: DictTableModel, text: QPlainTextEdit) -> QTabWidget:
    """Scores in a table first, the raw completions behind the second tab."""
    tabs = QTabWidget()
    view = table_view(model)
    view.setObjectName("answers_table")
    model.modelReset.connect(lambda: fit_columns(view, model))
    fit_columns(view, model)
    tabs.addTab(view, "Scores")
    tabs.addTab(text, "Completions")
    return tabs


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(QLabel(title))
    lay.addWidget(widget, 1)
    return box
