"""Help ▸ Documentation, Keyboard Shortcuts and Cite the Paper: the URL, and two small dialogs."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import opro_gui
from opro_gui.about import HOMEPAGE

DOCS_SECTION = "the-desktop-app"  # the README's "## The desktop app" heading, as an anchor

CITATION = """@inproceedings{yang2024large,
  title     = {Large Language Models as Optimizers},
  author    = {Yang, Chengrun and Wang, Xuezhi and Lu, Yifeng and Liu, Hanxiao and
               Le, Quoc V. and Zhou, Denny and Chen, Xinyun},
  booktitle = {The Twelfth International Conference on Learning Representations (ICLR)},
  year      = {2024},
  eprint    = {2309.03409},
  archivePrefix = {arXiv},
  url       = {https://arxiv.org/abs/2309.03409}
}
"""


def documentation_url() -> QUrl:
    """The README's desktop-app section: the README beside the package when running from a
    checkout (it matches this version and works offline), else the project homepage."""
    readme = Path(opro_gui.__file__).resolve().parents[1] / "README.md"
    url = QUrl.fromLocalFile(str(readme)) if readme.is_file() else QUrl(_homepage())
    url.setFragment(DOCS_SECTION)
    return url


def _homepage() -> str:
    try:
        meta = importlib.metadata.metadata("opro-studio")
    except importlib.metadata.PackageNotFoundError:
        return HOMEPAGE
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage" and url.strip():
            return url.strip()
    return HOMEPAGE


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(action, shortcuts) for every action of ``window`` that has a shortcut, in the order
    the actions were made; "&" accelerators and "…" removed."""
    rows: list[tuple[str, str]] = []
    for act in window.findChildren(QAction):
        keys = [k for k in act.shortcuts() if not k.isEmpty()]
        if not keys:
            continue
        name = act.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")
        shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
        rows.append((name, shown))
    return rows


class ShortcutsDialog(QDialog):
    """A table of the window's keyboard shortcuts, read from its actions."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(420, 360)


class CitationDialog(QDialog):
    """The OPRO paper's BibTeX entry, selectable, with a Copy button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cite the OPRO Paper")
        note = QLabel(
            "OPRO Studio implements Optimization by PROmpting from Yang et al., "
            "“Large Language Models as Optimizers”, ICLR 2024. To cite it:"
        )
        note.setWordWrap(True)
        self.text = QPlainTextEdit(CITATION, self)
        self.text.setReadOnly(True)
        self.copy_button = QPushButton("&Copy BibTeX", self)
        self.copy_button.clicked.connect(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(620, 300)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(CITATION)
