"""The glass-box pane of one step: the exact meta-prompt, raw completions, parse verdicts and,
for prompt tasks, the scorer's per-example answers of the selected candidate."""

from __future__ import annotations

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

from opro_gui.gui.models.dict_table import Column, DictTableModel
from opro_gui.gui.models.history_model import Formatter, format_score, solution_text


def verdicts_text(verdicts: list[dict[str, Any]]) -> str:
    """Each evaluator's score and reason on one answer (empty with the paper's grading alone)."""
    parts = []
    for v in verdicts:
        score = "-" if v.get("score") is None else f"{v['score']:g}"
        parts.append(f"{v.get('name')} {score}: {v.get('reason', '')}")
    return "; ".join(parts)


def _yes_no(value: Any) -> str:
    return "" if value is None else ("yes" if value else "no")


VERDICT_COLUMNS = [
    Column("#", "index"),
    Column("Completion", "completion_index", lambda v: completion_number(v)),
    Column("Status", "status"),
    Column("Score", "score", format_score),
    Column("Reason", "reason"),
    Column("Text", "text"),
]
RECORD_COLUMNS = [
    Column("Example", "example_id"),
    Column("Prompt", "prompt"),
    Column("Raw answer", "raw_answer"),
    Column("Parsed", "parsed_answer"),
    Column("Correct", "correct", _yes_no),
    Column("Verdicts", "verdicts", lambda v: verdicts_text(v or [])),
    Column("Error", "error"),
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


def _table(model: DictTableModel) -> QTableView:
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
    """Shows ``ProjectSession.step_detail(run_id, step)``; read-only."""

    verdict_selected = Signal(int, int)  # step, candidate index (a click in the verdicts table)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._detail: dict[str, Any] | None = None
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
        self.verdict_view = _table(self.verdict_model)
        self.verdict_view.clicked.connect(self._on_verdict_view_clicked)
        self.records_model = DictTableModel(RECORD_COLUMNS, self)
        self.records_view = _table(self.records_model)
        self.records_label = QLabel()
        records_page = QWidget()
        box = QVBoxLayout(records_page)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.records_label)
        box.addWidget(self.records_view)

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
    def detail(self) -> dict[str, Any] | None:
        return self._detail

    def show_detail(
        self, detail: dict[str, Any] | None, candidate_index: int | None = None
    ) -> None:
        """Show a step (a ``step_detail`` dict) and the per-example answers of one candidate."""
        same = (
            detail is not None
            and self._detail is not None
            and (detail["run_id"], detail["step"]) == (self._detail["run_id"], self._detail["step"])
        )
        self._detail = detail
        if detail is None:
            self.header_label.setText("Select a candidate to see its step.")
            self.meta_prompt_view.clear()
            self.completions_view.clear()
            self.verdict_model.set_rows([])
            self.records_model.set_rows([])
            self.tabs.setTabVisible(self._records_tab, False)
            return
        if not same:
            self.meta_prompt_view.setPlainText(detail["meta_prompt"] or "")
            self.completions_view.setPlainText(completions_text(detail["completions"] or []))
            self.verdict_model.set_rows(detail["candidates"])
            self.header_label.setText(self._header(detail))
        has_records = any(c.get("records") for c in detail["candidates"])
        self.tabs.setTabVisible(self._records_tab, has_records)
        self.show_candidate(candidate_index)

    def show_candidate(self, candidate_index: int | None) -> None:
        cands = self._detail["candidates"] if self._detail else []
        cand = next((c for c in cands if c["index"] == candidate_index), None)
        if cand is None:
            self.records_model.set_rows([])
            self.records_label.setText("Select a candidate to see the scorer's answers.")
            return
        for row in range(self.verdict_model.rowCount()):
            if self.verdict_model.row_data(row)["index"] == candidate_index:
                self.verdict_view.selectRow(row)
                break
        records = cand.get("records") or []
        self.records_model.set_rows(records)
        right = sum(1 for r in records if r.get("correct"))
        failed = sum(1 for r in records if r.get("correct") is None)
        text = solution_text(cand)
        short = text if len(text) <= 80 else text[:77] + "..."
        note = f", {failed} failed request(s)" if failed else ""
        self.records_label.setText(
            f"Candidate {cand['index']} ({short!r}): {right}/{len(records)} correct{note}"
        )

    def _header(self, detail: dict[str, Any]) -> str:
        cands = detail["candidates"]
        counts: dict[str, int] = {}
        for c in cands:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        calls = detail.get("calls") or []
        models = sorted(
            {c.get("model_reported") or c.get("model_requested") for c in calls} - {None, ""}
        )
        tokens = sum(
            (c.get("prompt_tokens") or 0) + (c.get("completion_tokens") or 0) for c in calls
        )
        best = self.fmt(detail.get("best_score"))
        text = f"Run {detail['run_id']}, step {detail['step']}: {len(cands)} candidates ({parts}); best so far {best}"
        if detail.get("optimal"):
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
        self.show_candidate(cand["index"])
        self.verdict_selected.emit(self._detail["step"], cand["index"])
