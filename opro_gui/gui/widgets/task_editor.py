"""The task editor: problem kind and its settings (TSP / linear regression / prompt), the
meta-prompt template and the OPRO run settings, with inline validation and undo/redo."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from opro_gui.core.models import RunSettings
from opro_gui.gui.kinds import editor_kinds, gui_kind, kind_label
from opro_gui.gui.widgets.panel_run_settings import RunSettingsForm
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.gui.widgets.template_editor import SECTIONS_KEY, TEMPLATE_KEY, TemplateEditor
from opro_gui.problems import make_problem
from opro_gui.problems.local_scoring import STRICT_KEY

CHECK_DELAY_MS = 250  # the full task check (the problem's own constructor) after edits settle


class FormScroll(QScrollArea):
    """Scrolls a form up and down; as wide at least as the form needs, so the editor's (and
    its dock's) minimum width says what the widest page needs."""

    def minimumSizeHint(self) -> QSize:  # Qt override
        hint = super().minimumSizeHint()
        inner = self.widget()
        if inner is None:
            return hint
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        width = inner.minimumSizeHint().width() + bar + 2 * self.frameWidth()
        return QSize(max(hint.width(), width), hint.height())


def _scroll(widget: QWidget) -> QScrollArea:
    area = FormScroll()
    area.setWidgetResizable(True)
    area.setWidget(widget)  # scrolls sideways only in a dock narrower than the form's minimum
    form = widget.layout()
    if isinstance(form, QFormLayout):  # a narrow dock puts a long row's field below its label
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return area


class TaskEditor(QWidget):
    """Edits (kind, spec, RunSettings). Each field edit is one undo command on ``undo_stack``
    (the window puts Undo/Redo in its Edit menu); ``spec_edited`` after every change."""

    spec_edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.binder = UndoBinder(self.undo_stack, self)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kind_combo")
        self.panels: dict[str, Any] = {}
        self._pages: dict[str, QWidget] = {}
        self.stack = QStackedWidget()
        for kind in editor_kinds():  # the GUI kind registry: one panel per editable kind
            make_panel = gui_kind(kind).editor
            assert make_panel is not None
            self.panels[kind] = make_panel(self.binder)
            self.kind_combo.addItem(kind_label(kind), kind)
            self._pages[kind] = _scroll(self.panels[kind])
            self.stack.addWidget(self._pages[kind])
        self._no_panel = QLabel("This kind of task is edited from the command line.")
        self._no_panel.setWordWrap(True)
        self.stack.addWidget(self._no_panel)
        self.binder.bind_widget("problem kind", self.kind_combo)
        self.template_editor = TemplateEditor(self.binder)
        self.run_form = RunSettingsForm(self.binder)
        self.task_error = error_label()
        self.task_error.setObjectName("task_validation_message")
        self.strict_check = QCheckBox("Parse answers exactly as the reference code")
        self.strict_check.setToolTip(
            "strict_reference_parsing: only the first <trace>/[w, b]/<INS> of an answer is read "
            "and a tour must start at node 0. Off: every one is tried, cycles are rotated, and "
            "the repair is recorded in the verdict."
        )
        self.binder.bind_widget("strict reference parsing", self.strict_check)

        task_page = QWidget()
        task_lay = QVBoxLayout(task_page)
        kind_form = QFormLayout()
        kind_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        kind_form.addRow("Problem:", self.kind_combo)
        task_lay.addLayout(kind_form)
        task_lay.addWidget(self.stack, 1)
        task_lay.addWidget(self.strict_check)
        task_lay.addWidget(self.task_error)
        self.tabs = QTabWidget()
        self.tabs.addTab(task_page, "Task")
        self.tabs.addTab(self.template_editor, "Meta-prompt template")
        self.tabs.addTab(_scroll(self.run_form), "OPRO settings")
        self.status_label = QLabel()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs, 1)

        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check_task)
        self.binder.field_edited.connect(self._on_binder_field_edited)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        self.load(editor_kinds()[0], {}, RunSettings(), kind_locked=False)

    # -- API -----------------------------------------------------------------------------
    def load(
        self, kind: str, spec: dict[str, Any], settings: RunSettings, kind_locked: bool = True
    ) -> None:
        """Show a task; clears the undo history. A project's kind is fixed, so the kind
        selector is disabled unless ``kind_locked`` is False (a task not yet saved)."""
        self._spec = dict(spec)
        with self.binder.loading():
            if kind not in self.panels and self.kind_combo.findData(kind) < 0:
                self.kind_combo.addItem(kind_label(kind), kind)  # a kind with no panel
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
            self._show_panel(kind)
            if kind in self.panels:
                self.panels[kind].load(spec)
            self.strict_check.setChecked(bool(spec.get(STRICT_KEY, False)))
            self.run_form.load(settings)
            self.template_editor.set_task(kind, self._panel_spec(kind))
        self.undo_stack.clear()
        self.kind_combo.setEnabled(not kind_locked)
        self.kind_combo.setToolTip(
            "A project's problem kind is fixed: create a new project for another kind."
            if kind_locked
            else ""
        )
        self._check_task()

    def current_kind(self) -> str:
        return str(self.kind_combo.currentData())

    def current_spec(self) -> dict[str, Any]:
        """The task definition as edited; equal to the loaded spec when nothing was edited."""
        kind = self.current_kind()
        spec = self._panel_spec(kind)
        override = self.template_editor.spec_override()
        if self.template_editor.has_sections:
            if override or SECTIONS_KEY in spec:
                spec[SECTIONS_KEY] = override.get(SECTIONS_KEY, {})
        elif override:
            spec[TEMPLATE_KEY] = override[TEMPLATE_KEY]
        else:
            spec.pop(TEMPLATE_KEY, None)
        if self.strict_check.isChecked():
            spec[STRICT_KEY] = True
        else:
            spec.pop(STRICT_KEY, None)
        return spec

    def _panel_spec(self, kind: str) -> dict[str, Any]:
        panel = self.panels.get(kind)
        return panel.spec() if panel is not None else dict(self._spec)

    def _show_panel(self, kind: str) -> None:
        self.stack.setCurrentWidget(self._pages.get(kind, self._no_panel))

    def run_settings(self) -> RunSettings:
        return self.run_form.settings()

    def validation_errors(self) -> list[str]:
        """Every problem with the current values (also shown under the fields); [] = valid."""
        panel = self.panels.get(self.current_kind())
        errors = list(panel.validation_errors()) if panel is not None else []
        errors += self.run_form.validation_errors()
        if not errors:
            errors += self._check_task()
        return errors

    # -- internals -----------------------------------------------------------------------
    def _check_task(self) -> list[str]:
        """The problem's own validation of the spec (messages from the problems layer)."""
        self._check_timer.stop()
        kind = self.current_kind()
        panel = self.panels.get(kind)
        if panel is not None and panel.validation_errors():
            show_error(self.task_error, "")
            return []
        try:
            make_problem(kind, self.current_spec())
        except Exception as exc:  # noqa: BLE001 - any rejection is a message for the user
            text = f"The task is not valid: {exc}"
            show_error(self.task_error, text)
            return [text]
        show_error(self.task_error, "")
        return []

    def _on_kind_combo_changed(self, _index: int) -> None:
        self._show_panel(self.current_kind())

    def _on_binder_field_edited(self, name: str) -> None:
        kind = self.current_kind()
        panel = self.panels.get(kind)
        if name != "template" and panel is not None:
            panel.validation_errors()
            self.template_editor.update_task(kind, panel.spec())
        self._check_timer.start()
        self.spec_edited.emit()
