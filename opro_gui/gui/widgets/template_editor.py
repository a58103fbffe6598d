"""The meta-prompt template editor with a live preview rendered by the problem itself
(``render_meta_prompt``) from the run's history, or from the initial solutions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from opro_gui.core.models import Scored
from opro_gui.gui.widgets.flow_layout import flow_row
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.problems import make_problem

from ..kinds import descriptor, gui_kind

DEBOUNCE_MS = 300
SECTIONS_KEY, TEMPLATE_KEY = "templates", "template"  # several named sections, or one text


def default_sections(kind: str, spec: dict[str, Any]) -> dict[str, str]:
    """The problem's own template(s) for ``spec`` without the user's override: a problem
    with named ``sections`` (prompt optimization) or with one ``template``."""
    base = {k: v for k, v in spec.items() if k not in (SECTIONS_KEY, TEMPLATE_KEY)}
    problem: Any = make_problem(kind, base)
    sections = getattr(problem, "sections", None)
    if isinstance(sections, dict):
        return dict(sections)
    return {TEMPLATE_KEY: problem.template}


def _has_sections(defaults: dict[str, str]) -> bool:
    return bool(defaults) and TEMPLATE_KEY not in defaults


class TemplateEditor(QWidget):
    """Edits the spec's template override: ``template`` (TSP, linear regression) or the
    ``templates`` sections (prompt optimization). ``spec_override()`` is {} when unchanged."""

    template_edited = Signal()
    preview_updated = Signal(str)  # the rendered meta-prompt (empty on error)

    def __init__(self, binder: UndoBinder | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = ""
        self._multi = False  # named sections (stored under "templates") or one "template"
        self._spec: dict[str, Any] = {}
        self._defaults: dict[str, str] = {}
        self._overrides: dict[str, str] = {}
        self._history: list[Scored] | None = None
        self._step = 1
        self._history_size: int | None = None
        self._binder = binder
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.section_combo = QComboBox()
        self.section_combo.currentIndexChanged.connect(self._on_section_combo_changed)
        self.reset_button = QPushButton("Reset to the paper's wording")
        self.reset_button.clicked.connect(self._on_reset_button_clicked)
        self.placeholder_label = QLabel()
        self.placeholder_label.setWordWrap(True)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setFont(mono)
        self.text_edit.textChanged.connect(self._on_text_edit_changed)
        self.preview = QPlainTextEdit(readOnly=True)
        self.preview.setObjectName("template_preview")
        self.preview.setFont(mono)
        self.preview_label = QLabel("Preview")
        self.error_label = error_label()
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_preview)

        # The sections differ per kind: the combo follows its items; the row wraps when narrow.
        self.section_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        top = flow_row(QLabel("Section:"), self.section_combo, self.reset_button)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(top)
        left_lay.addWidget(self.placeholder_label)
        left_lay.addWidget(self.text_edit, 1)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.preview_label)
        right_lay.addWidget(self.preview, 1)
        split = QSplitter(Qt.Orientation.Vertical)  # fits a narrow dock
        split.addWidget(left)
        split.addWidget(right)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split, 1)
        lay.addWidget(self.error_label)
        self._field_id = -1
        if binder is not None:
            self._field_id = binder.bind(
                "template", self.template_edited, self._value, self._set_value
            )

    # -- API -----------------------------------------------------------------------------
    def set_task(self, kind: str, spec: dict[str, Any]) -> None:
        """The task whose template is edited; the spec's own override is loaded."""
        self._kind, self._spec = kind, dict(spec)
        try:
            self._defaults = default_sections(kind, spec)
        except Exception as exc:  # an incomplete task: no preview until it is valid
            self._defaults = {}
            show_error(self.error_label, f"The task is not complete yet: {exc}")
        self._multi = _has_sections(self._defaults) or SECTIONS_KEY in spec
        if self._multi:
            self._overrides = dict(spec.get(SECTIONS_KEY) or {})
        else:
            self._overrides = {TEMPLATE_KEY: spec[TEMPLATE_KEY]} if spec.get(TEMPLATE_KEY) else {}
        self.section_combo.blockSignals(True)
        self.section_combo.clear()
        for name in self._defaults:
            self.section_combo.addItem(name)
        self.section_combo.blockSignals(False)
        self.section_combo.setVisible(self._multi)
        self.placeholder_label.setText(f"Placeholders: {gui_kind(kind).placeholders}")
        self._show_section()
        if self._binder is not None and not self._binder.applying:
            self._binder.rebase(self._field_id)
        self.schedule_preview()

    def update_task(self, kind: str, spec: dict[str, Any]) -> None:
        """The task changed (points, style...): keep the override, re-render."""
        if kind != self._kind or (self._multi and self._defaults_for(spec) != self._defaults):
            keep = self.spec_override()
            self.set_task(kind, {**spec, **keep})
            return
        self._spec = dict(spec)
        self.schedule_preview()

    def set_history(
        self, history: list[Scored] | None, step: int = 1, history_size: int | None = None
    ) -> None:
        """Render the preview from this history (None: the initial solutions)."""
        self._history, self._step, self._history_size = history, step, history_size
        self.schedule_preview()

    def _defaults_for(self, spec: dict[str, Any]) -> dict[str, str]:
        try:
            return default_sections(self._kind, spec)
        except Exception:  # noqa: BLE001 - an incomplete task: keep what is shown
            return self._defaults

    @property
    def has_sections(self) -> bool:
        """Named sections stored under "templates" (else one "template" text)."""
        return self._multi

    def spec_override(self) -> dict[str, Any]:
        overrides = {k: v for k, v in self._overrides.items() if self._defaults.get(k) != v}
        if self._multi:
            return {SECTIONS_KEY: overrides} if overrides else {}
        return {TEMPLATE_KEY: overrides[TEMPLATE_KEY]} if TEMPLATE_KEY in overrides else {}

    def preview_text(self) -> str:
        return self.preview.toPlainText()

    def schedule_preview(self) -> None:
        self._timer.start()

    def refresh_preview(self) -> None:
        self._timer.stop()
        try:
            problem = make_problem(self._kind, self._effective_spec())
            history = self._history
            if history is None:
                history = self._initial_history(problem)
            size = self._history_size or problem.default_history_size
            text = problem.render_meta_prompt(history, self._step, size)
        except Exception as exc:  # the user's template or task is invalid: say why
            show_error(self.error_label, f"Cannot render the meta-prompt: {exc}")
            self.preview.setPlainText("")
            self.preview_updated.emit("")
            return
        show_error(self.error_label, "")
        where = "from the initial solutions" if self._history is None else f"for step {self._step}"
        self.preview_label.setText(f"Preview {where}")
        self.preview.setPlainText(text)
        self.preview_updated.emit(text)

    # -- internals -----------------------------------------------------------------------
    def _effective_spec(self) -> dict[str, Any]:
        spec = {k: v for k, v in self._spec.items() if k not in (TEMPLATE_KEY, SECTIONS_KEY)}
        spec.update(self.spec_override())
        return spec

    def _initial_history(self, problem: Any) -> list[Scored]:
        desc = descriptor(self._kind)
        if desc is None or desc.needs_scorer:  # scores need the scorer: show no history yet
            return []
        sols = problem.initial_solutions()
        results = problem.score(sols, None)
        return [
            Scored(s, r.score, 0) for s, r in zip(sols, results, strict=True) if r.score is not None
        ]

    def _section(self) -> str:
        return self.section_combo.currentText() or TEMPLATE_KEY

    def _show_section(self) -> None:
        name = self._section()
        text = self._overrides.get(name, self._defaults.get(name, ""))
        self.text_edit.blockSignals(True)
        self.text_edit.setPlainText(text)
        self.text_edit.blockSignals(False)

    def _value(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.spec_override().get(SECTIONS_KEY, self.spec_override()).items()))

    def _set_value(self, value: Any) -> None:
        self._overrides = dict(value)
        self._show_section()
        self.template_edited.emit()
        self.schedule_preview()

    def _on_text_edit_changed(self) -> None:
        self._overrides[self._section()] = self.text_edit.toPlainText()
        self.template_edited.emit()
        self.schedule_preview()

    def _on_section_combo_changed(self, _index: int) -> None:
        self._show_section()

    def _on_reset_button_clicked(self) -> None:
        self._overrides.pop(self._section(), None)
        self._show_section()
        self.template_edited.emit()
        self.schedule_preview()
