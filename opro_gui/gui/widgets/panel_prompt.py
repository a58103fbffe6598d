"""Task editor page for prompt optimization: dataset, task type, instruction position,
meta-prompt style, split, initial instructions and exemplars."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from opro_gui.gui.widgets.dataset_import import DatasetImportWidget, embedded_dataset
from opro_gui.gui.widgets.panel_evaluators import KEYS as EVALUATOR_KEYS
from opro_gui.gui.widgets.panel_evaluators import EvaluatorsEditor
from opro_gui.gui.widgets.panel_prompt_ablations import PromptAblationForm
from opro_gui.gui.widgets.panel_tsp import error_label, show_error
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.problems.answers import TASK_TYPES
from opro_gui.problems.datasets import paper_defaults
from opro_gui.problems.prompt_meta import CRITERIA
from opro_gui.problems.prompt_opt import DEFAULT_INITIAL

POSITION_LABELS = {
    "Q_begin": "Q_begin — before the question",
    "Q_end": "Q_end — after the question",
    "A_begin": "A_begin — start of the answer",
    "before_Q": "before_Q — own line before Q:",
}
STYLE_LABELS = {  # short: the combo sets the Task pane's minimum width
    "ins": "ins — <INS>, instruction-tuned",
    "bracket": "bracket — square brackets",
    "text": "text — <TEXT>, base model",
}


def _combo(items: dict[str, str] | tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    pairs = items.items() if isinstance(items, dict) else ((i, i) for i in items)
    for data, label in pairs:
        combo.addItem(label, data)
    return combo


class InstructionList(QWidget):
    """An editable list of instructions (double-click to edit)."""

    instructions_edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.itemChanged.connect(lambda _item: self.instructions_edited.emit())
        add = QPushButton("Add")
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._on_remove_clicked)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)

    def instructions(self) -> tuple[str, ...]:
        return tuple(self.list.item(i).text() for i in range(self.list.count()))

    def set_instructions(self, values: Any) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for text in values:
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.instructions_edited.emit()

    def _on_add_clicked(self) -> None:
        self.set_instructions((*self.instructions(), "New instruction"))
        self.list.editItem(self.list.item(self.list.count() - 1))

    def _on_remove_clicked(self) -> None:
        rows = {i.row() for i in self.list.selectedIndexes()}
        self.set_instructions(t for i, t in enumerate(self.instructions()) if i not in rows)


class PromptPanel(QWidget):
    def __init__(self, binder: UndoBinder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: dict[str, Any] = {}
        self._loaded_form: dict[str, Any] = {}
        self._loaded_dataset: Any = None
        self._auto_name = ""  # the task name the panel itself put in (loaded, or a dataset's)
        self.importer = DatasetImportWidget()
        self.dataset_error = error_label()
        self.task_name_edit = QLineEdit()
        self.task_name_edit.setPlaceholderText("e.g. gsm8k, object_counting (sets paper defaults)")
        self.task_type_combo = _combo({"": "detect from the targets", **{t: t for t in TASK_TYPES}})
        self.position_combo = _combo(POSITION_LABELS)
        self.style_combo = _combo(STYLE_LABELS)
        self.style_combo.setToolTip(
            "ins: an instruction-tuned optimizer writes between <INS> tags; text: a base "
            "(pre-trained) optimizer continues <TEXT>; bracket: square brackets"
        )
        self.style_error = error_label()
        self.ratio_spin = QDoubleSpinBox(minimum=0.001, maximum=1.0, decimals=3, singleStep=0.05)
        self.ratio_spin.setValue(0.2)
        self.split_seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.split_error = error_label()
        self.instructions = InstructionList()
        self.instructions_error = error_label()
        self.exemplar_spin = QSpinBox(minimum=0, maximum=50, value=3)
        self.criterion_combo = _combo(tuple(CRITERIA))
        self.evaluators = EvaluatorsEditor()
        self._loaded_evaluators: dict[str, Any] = {}

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow dock: field below
        form.addRow("Task name:", self.task_name_edit)
        form.addRow("Task type:", self.task_type_combo)
        form.addRow("Instruction position:", self.position_combo)
        form.addRow("Meta-prompt style:", self.style_combo)
        form.addRow("", self.style_error)
        form.addRow("Training share:", self.ratio_spin)
        form.addRow("Split seed:", self.split_seed_spin)
        form.addRow("", self.split_error)
        form.addRow("Initial instructions:", self.instructions)
        form.addRow("", self.instructions_error)
        form.addRow("Exemplars per step:", self.exemplar_spin)
        form.addRow("Exemplar choice:", self.criterion_combo)
        form.addRow("Evaluators, chat:", self.evaluators)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>Dataset</b>"))
        lay.addWidget(self.importer, 1)
        lay.addWidget(self.dataset_error)
        lay.addLayout(form)
        ablations_title = QLabel("<b>Meta-prompt and scoring</b> (the paper's §5.3 ablations)")
        ablations_title.setWordWrap(True)
        lay.addWidget(ablations_title)
        self.ablations = PromptAblationForm(binder)
        lay.addWidget(self.ablations)

        self.binder = binder
        ds_field = binder.bind(
            "dataset",
            self.importer.dataset_loaded,
            self.importer.dataset,
            self.importer.set_dataset,
        )
        self.importer.dataset_loaded.connect(lambda _d: binder.seal(ds_field))
        self.importer.dataset_loaded.connect(self._on_importer_dataset_loaded)
        binder.bind_widget("task name", self.task_name_edit)
        binder.bind_widget("task type", self.task_type_combo)
        binder.bind_widget("instruction position", self.position_combo)
        binder.bind_widget("meta-prompt style", self.style_combo)
        binder.bind_widget("training share", self.ratio_spin)
        binder.bind_widget("split seed", self.split_seed_spin)
        binder.bind(
            "initial instructions",
            self.instructions.instructions_edited,
            self.instructions.instructions,
            self.instructions.set_instructions,
        )
        binder.bind_widget("exemplar count", self.exemplar_spin)
        binder.bind_widget("exemplar choice", self.criterion_combo)
        binder.field_edited.connect(lambda _name: self.validation_errors())
        self.evaluators.edited.connect(self.validation_errors)
        self.instructions.set_instructions(DEFAULT_INITIAL)

    # -- spec ----------------------------------------------------------------------------
    def _form(self) -> dict[str, Any]:
        return {
            "task_name": self.task_name_edit.text().strip(),
            "task_type": self.task_type_combo.currentData() or None,
            "position": self.position_combo.currentData(),
            "style": self.style_combo.currentData(),
            "train_ratio": round(self.ratio_spin.value(), 6),
            "seed": self.split_seed_spin.value(),
            "initial_instructions": list(self.instructions.instructions()),
            "exemplar_count": self.exemplar_spin.value(),
            "criterion": self.criterion_combo.currentData(),
            **self.ablations.values(),
        }

    def load(self, spec: dict[str, Any]) -> None:
        self._base = dict(spec)
        examples = spec.get("examples") or []
        name = str(spec.get("task_name", ""))
        self.importer.set_dataset(
            embedded_dataset(examples, name, str(spec.get("task_type") or "")) if examples else None
        )
        self.task_name_edit.setText(name)
        self._auto_name = name
        self.task_type_combo.setCurrentIndex(
            max(0, self.task_type_combo.findData(spec.get("task_type") or ""))
        )
        self.position_combo.setCurrentIndex(
            max(0, self.position_combo.findData(spec.get("position", "Q_begin")))
        )
        self.style_combo.setCurrentIndex(
            max(0, self.style_combo.findData(spec.get("style", "ins")))
        )
        train_ids = spec.get("train_ids")
        ratio = spec.get("train_ratio")
        if ratio is None:
            ratio = (
                len(train_ids) / len(examples)
                if train_ids and examples
                else paper_defaults(name or "custom")["train_ratio"]
            )
        self.ratio_spin.setValue(float(ratio))
        self.split_seed_spin.setValue(int(spec.get("seed", 0)))
        self.instructions.set_instructions(spec.get("initial_instructions") or DEFAULT_INITIAL)
        self.exemplar_spin.setValue(int(spec.get("exemplar_count", 3)))
        self.criterion_combo.setCurrentIndex(
            max(0, self.criterion_combo.findData(spec.get("criterion", "random")))
        )
        self.ablations.load(spec)
        self.evaluators.load(spec)
        self._loaded_evaluators = {k: spec[k] for k in EVALUATOR_KEYS if k in spec}
        self._loaded_form = self._form()
        self._loaded_dataset = self.importer.dataset()

    def spec(self) -> dict[str, Any]:
        """The loaded spec with the edited fields changed (identical when nothing was edited)."""
        spec = dict(self._base)
        now = self._form()
        loaded = self._loaded_form if self._base else {}
        changed = {k for k, v in now.items() if k not in loaded or loaded[k] != v}
        new_data = self.importer.dataset() is not self._loaded_dataset or not self._base
        for key in changed:
            spec[key] = now[key]
        if new_data:
            ds = self.importer.dataset()
            spec["examples"] = [dict(e) for e in ds.examples] if ds else []
        if new_data or changed & {"train_ratio", "seed"}:
            spec.pop("train_ids", None)  # the split follows the (new) data, ratio and seed
            spec["train_ratio"] = now["train_ratio"]
        if "task_type" in changed and now["task_type"] is None:
            spec.pop("task_type", None)  # detect from the targets
        if "task_name" in changed:
            spec.pop("task_phrase", None)  # derived from the task name
        try:
            chosen = self.evaluators.values(self._columns())
        except ValueError:
            chosen = self._loaded_evaluators  # shown as an error; the spec keeps what it had
        if chosen != self._loaded_evaluators:
            for key in EVALUATOR_KEYS:
                spec.pop(key, None)
            spec.update(chosen)
        return spec

    def _columns(self) -> set[str]:
        ds = self.importer.dataset()
        if not ds or not ds.examples:
            return {"input", "target"}
        return set.intersection(*(set(e) for e in ds.examples))

    def validation_errors(self) -> list[str]:
        errors: list[str] = []
        ds = self.importer.dataset()
        msg = "" if ds else "Import a dataset: the scorer needs examples to measure accuracy."
        show_error(self.dataset_error, msg)
        errors += [msg] if msg else []
        msg = ""
        if (
            self.style_combo.currentData() == "text"
            and self.position_combo.currentData() == "before_Q"
        ):
            msg = "The base-model <TEXT> style supports Q_begin, Q_end and A_begin, not before_Q."
        show_error(self.style_error, msg)
        errors += [msg] if msg else []
        msg = ""
        if ds and int(self.ratio_spin.value() * len(ds.examples)) == 0:
            msg = f"{self.ratio_spin.value():g} of {len(ds.examples)} examples leaves no training example."
        show_error(self.split_error, msg)
        errors += [msg] if msg else []
        texts = self.instructions.instructions()
        msg = ""
        if not texts:
            msg = "Give at least one initial instruction (it may be empty text)."
        show_error(self.instructions_error, msg)
        errors += [msg] if msg else []
        msg = self.evaluators.check(self._columns())
        errors += [msg] if msg else []
        return errors

    def _on_importer_dataset_loaded(self, dataset: Any) -> None:
        """The task name follows the dataset unless the user typed a name of their own."""
        current = self.task_name_edit.text().strip()
        if current and current != self._auto_name:
            return
        self._auto_name = dataset.name
        self.task_name_edit.setText(dataset.name)
        defaults = paper_defaults(dataset.name)
        self.ratio_spin.setValue(defaults["train_ratio"])
