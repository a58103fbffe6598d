"""The glass-box pane of one step: the exact meta-prompt, raw completions, parse verdicts and,
for prompt tasks, the scorer's per-example answers of the selected candidate."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opro_gui.core.models import Candidate
from opro_gui.gui.models.answers_model import RIGHT, correct_mark
from opro_gui.gui.models.dict_table import Column, DictTableModel
from opro_gui.gui.models.history_model import Formatter, format_score
from opro_gui.gui.widgets.answers_table import AnswersTable
from opro_gui.services.inspection import StepView

VERDICT_COLUMNS = [
    Column("#", "index"),
    Column("Completion", "completion_index", lambda v: completion_number(v)),
    Column("Status", "status"),
    Column("Score", "score", format_score),
    Column("Reason", "reason"),
    Column("Text", "text"),
]


def completion_number(index: Any) -> str:
    """A stored 0-based completion index as shown: from 1, as `opro history` prints them."""
    if not isinstance(index, int):
        return ""
    if index == -2:  # core.models.HUMAN_ORIGIN: added by a person
        return "human"
    return "initial" if index < 0 else str(index + 1)


def completions_text(completions: list[str]) -> str:
    n = len(completions)  # numbered from 1, as `opro history` prints them
    parts = [f"──── completion {i} of {n} ────\n{text}" for i, text in enumerate(completions, 1)]
    return "\n\n".join(parts) if parts else "(no completions: step 0 scores the initial solutions)"


def candidate_text(c: Candidate) -> str:
    """A candidate's solution as text (the offending snippet of one that did not parse)."""
    if c.solution is None:
        return c.text
    return c.solution if isinstance(c.solution, str) else json.dumps(c.solution)


def table_view(model: DictTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.verticalHeader().setVisible(False)
    return view


class StepDetailPane(QWidget):
    """Shows a step (``services.inspection.step_view``); read-only."""

    verdict_selected = Signal(int, int)  # step, candidate index (a click in the verdicts table)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._detail: StepView | None = None
        self.fmt: Formatter = format_score  # the kind's way of writing a score
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.header_label = QLabel("Select a candidate to see its step.")
        self.header_label.setWordWrap(True)
        self.meta_prompt_view = QPlainTextEdit(readOnly=True)
        self.meta_prompt_view.setObjectName("meta_prompt_view")
        self.meta_prompt_view.setFont(mono)
        self.completions_view = QPlainTextEdit(readOnly=True)
        self.completions_view.setObjectName("completions_view")
        self.completions_view.setFont(mono)
        columns = [
            Column(c.header, c.key, lambda v: "" if v is None else self.fmt(v))
            if c.key == "score" else c
            for c in VERDICT_COLUMNS
        ]  # fmt: skip
        self.verdict_model = DictTableModel(columns, self)
        self.verdict_view = table_view(self.verdict_model)
        self.verdict_view.clicked.connect(self._on_verdict_view_clicked)
        self.answers = AnswersTable()
        self.records_model = self.answers.model  # every answer; ``answers.proxy``: as shown
        self.records_view = self.answers.view
        self.records_label = self.answers.label
        records_page = self.answers

        self.tabs = QTabWidget()
        self.tabs.addTab(self.meta_prompt_view, "Meta-prompt")
        self.tabs.addTab(self.completions_view, "Raw completions")
        self.tabs.addTab(self.verdict_view, "Verdicts")
        self._records_tab = self.tabs.addTab(records_page, "Scorer answers")
        self.tabs.setTabVisible(self._records_tab, False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header_label)
        lay.addWidget(self.tabs)

    # -- API -----------------------------------------------------------------------------
    @property
    def detail(self) -> StepView | None:
        return self._detail

    def show_detail(self, detail: StepView | None, candidate_index: int | None = None) -> None:
        """Show a step and the per-example answers of one candidate."""
        same = (
            detail is not None
            and self._detail is not None
            and (detail.run_id, detail.step) == (self._detail.run_id, self._detail.step)
        )
        self._detail = detail
        if detail is None:
            self.header_label.setText("Select a candidate to see its step.")
            self.meta_prompt_view.clear()
            self.completions_view.clear()
            self.verdict_model.set_rows([])
            self.answers.set_rows([])
            self.tabs.setTabVisible(self._records_tab, False)
            return
        if not same:
            step = detail.detail
            self.meta_prompt_view.setPlainText(step.meta_prompt or "")
            self.completions_view.setPlainText(completions_text(list(step.completions)))
            self.verdict_model.set_rows(step.candidates)
            self.header_label.setText(self._header(detail))
        self.tabs.setTabVisible(self._records_tab, bool(detail.answers))
        self.show_candidate(candidate_index)

    def show_candidate(self, candidate_index: int | None) -> None:
        cands = self._detail.detail.candidates if self._detail else ()
        cand = next((c for c in cands if c.index == candidate_index), None)
        if cand is None or self._detail is None:
            self.answers.set_rows([])
            self.records_label.setText("Select a candidate to see the scorer's answers.")
            return
        for row in range(self.verdict_model.rowCount()):
            if self.verdict_model.row_data(row).index == candidate_index:
                self.verdict_view.selectRow(row)
                break
        rows = self._detail.answers.get(cand.index, ())
        self.answers.set_rows(rows)
        right = sum(1 for r in rows if r.correct)
        failed = sum(1 for r in rows if r.correct is None)
        text = candidate_text(cand)
        short = text if len(text) <= 80 else text[:77] + "..."
        note = f", {failed} failed request(s) ({correct_mark(None)})" if failed else ""
        self.records_label.setText(
            f"Candidate {cand.index} ({short!r}): {right}/{len(rows)} correct ({RIGHT}){note}"
        )

    def _header(self, view: StepView) -> str:
        detail = view.detail
        cands = detail.candidates
        counts: dict[str, int] = {}
        for c in cands:
            counts[str(c.status)] = counts.get(str(c.status), 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        calls = [c.record for c in detail.calls]
        models = sorted({c.model_reported or c.model_requested for c in calls} - {""})
        tokens = sum(c.prompt_tokens + c.completion_tokens for c in calls)
        best = self.fmt(detail.row.best_score)
        text = (
            f"Run {view.run_id}, step {view.step}: {len(cands)} candidates ({parts}); "
            f"best so far {best}"
        )
        if detail.row.optimal:
            text += " (optimal)"
        if calls:
            text += f"; {len(calls)} call(s), {tokens} tokens"
        if models:
            text += f"; model(s): {', '.join(models)}"
        return text

    def _on_verdict_view_clicked(self, index: Any) -> None:
        if self._detail is None or not index.isValid():
            return
        cand = self.verdict_model.row_data(index.row())
        self.show_candidate(cand.index)
        self.verdict_selected.emit(self._detail.step, cand.index)
