"""Help ▸ Documentation, Keyboard Shortcuts and Cite the Paper (issue 11 item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import no_thread_left  # noqa: F401  (fixture)
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog

import opro_gui
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import help_dialogs

pytestmark = pytest.mark.usefixtures("no_thread_left")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[QDialog]:
    """Dialogs the Help actions open, recorded instead of run modally."""
    out: list[QDialog] = []
    for cls in (help_dialogs.ShortcutsDialog, help_dialogs.CitationDialog):
        monkeypatch.setattr(cls, "exec", lambda self: out.append(self) or 0)
    return out


def help_menu_texts(win: MainWindow) -> list[str]:
    (menu,) = [a.menu() for a in win.menuBar().actions() if a.text() == "&Help"]
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_help_menu_lists_documentation_shortcuts_citation_and_about(window: MainWindow) -> None:
    assert help_menu_texts(window) == [
        "&Documentation",
        "&Keyboard Shortcuts",
        "&Cite the Paper…",
        "&About OPRO Studio",
    ]


def test_documentation_opens_the_readme_desktop_section(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    window.menus.docs_action.trigger()
    assert opened == [(REPO / "README.md").as_uri() + "#the-desktop-app"]
    assert "\n## The desktop app\n" in (REPO / "README.md").read_text(encoding="utf-8")
    # Installed without the source tree: the homepage from the package metadata, same section.
    monkeypatch.setattr(opro_gui, "__file__", str(REPO / "nowhere" / "pkg" / "__init__.py"))
    assert help_dialogs.documentation_url().toString() == (
        "https://github.com/opro-studio/opro-studio#the-desktop-app"
    )


def test_shortcuts_dialog_is_built_from_the_window_actions(
    window: MainWindow, shown: list[QDialog]
) -> None:
    extra = QAction("Jump Somewhere", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    window.menus.shortcuts_action.trigger()
    (dialog,) = shown
    table = dialog.table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Run"] == "Ctrl+R"
    assert rows["Run as New Run"] == "Ctrl+Shift+R"
    assert rows["Stop"] == "Ctrl+."
    assert rows["Open"] == QKeySequence(QKeySequence.StandardKey.Open).toString(
        QKeySequence.SequenceFormat.NativeText
    )
    assert rows["Jump Somewhere"] == "Ctrl+Alt+J"  # added after the menus: read, not listed
    with_keys = [a for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert table.rowCount() == len(with_keys)
    assert "About OPRO Studio" not in rows  # no shortcut, not listed


def test_citation_dialog_shows_and_copies_the_bibtex(
    window: MainWindow, shown: list[QDialog]
) -> None:
    window.menus.cite_action.trigger()
    (dialog,) = shown
    text = dialog.text.toPlainText()
    assert text.startswith("@inproceedings{yang2024large,")
    assert "title     = {Large Language Models as Optimizers}" in text
    for author in ("Yang, Chengrun", "Wang, Xuezhi", "Lu, Yifeng", "Liu, Hanxiao",
                   "Le, Quoc V.", "Zhou, Denny", "Chen, Xinyun"):  # fmt: skip
        assert author in text
    assert "year      = {2024}" in text and "Learning Representations (ICLR)" in text
    assert dialog.text.isReadOnly()
    QGuiApplication.clipboard().clear()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
