"""File ▸ Export (the project as JSON or CSV, exactly as `opro export` writes it; the best
instruction or solution as text) and Edit ▸ Copy best instruction."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from opro_gui.services import ProjectError
from opro_gui.services.inspection import export_best_text, export_project, read_best_text

from .. import settings
from ..worker import run_in_background

if TYPE_CHECKING:
    from ..main_window import MainWindow

FORMATS = {"json": "JSON (*.json)", "csv": "CSV, one row per candidate (*.csv)"}


class ExportActions(QObject):
    """The actions and what they do; ``export_to`` and ``copy_best`` are also the API tests use."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._win = window
        self.json_action = QAction("Project as &JSON…", window)
        self.json_action.triggered.connect(lambda: self._ask("json"))
        self.csv_action = QAction("Project as &CSV…", window)
        self.csv_action.triggered.connect(lambda: self._ask("csv"))
        self.best_text_action = QAction("Best Instruction as &Text…", window)
        self.best_text_action.triggered.connect(lambda: self._ask("txt"))
        self.copy_best_action = QAction("&Copy Best Instruction", window)
        self.copy_best_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_best_action.triggered.connect(self.copy_best)
        doc = window.document
        for signal in (doc.project_opened, doc.run_selected, doc.project_closed):
            signal.connect(self._on_document_changed)

    def add_to(self, file_menu: QMenu) -> QMenu:
        menu = file_menu.addMenu("E&xport")
        menu.addActions([self.json_action, self.csv_action, self.best_text_action])
        menu.aboutToShow.connect(self.refresh)
        file_menu.aboutToShow.connect(self.refresh)
        return menu

    def add_copy_to(self, edit_menu: QMenu) -> None:
        edit_menu.addAction(self.copy_best_action)
        edit_menu.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        """Name the best thing by the open project's kind; enable what applies."""
        kind = self._win.document.problem_kind
        noun = (kind.solution_noun if kind is not None else "solution").title()
        self.best_text_action.setText(f"Best {noun} as &Text…")
        self.copy_best_action.setText(f"&Copy Best {noun}")
        has_project = self._win.document.path is not None
        for act in (self.json_action, self.csv_action):
            act.setEnabled(has_project)
        has_run = self._run_id() is not None
        self.best_text_action.setEnabled(has_run)
        self.copy_best_action.setEnabled(has_run)

    # -- API -------------------------------------------------------------------------------
    def export_to(self, target: str | Path, fmt: str) -> None:
        """Write ``fmt`` ("json", "csv" or "txt": the best as text) in the background; the
        status bar says when it is written, an error box why not."""
        win = self._win
        path = win.document.path
        if path is None:
            return
        run_id = self._run_id()
        if fmt == "txt" and run_id is None:
            return
        job: Callable[[], Path] = (
            partial(export_best_text, str(path), run_id, str(target))
            if fmt == "txt" and run_id is not None
            else partial(export_project, str(path), str(target), fmt)
        )
        win.statusBar().showMessage(f"Writing {target}…")
        run_in_background(
            job,
            on_done=lambda out: win.statusBar().showMessage(f"Exported to {out}", 10000),
            on_error=lambda exc: win.show_error("Export", str(exc)),
            owner=self,
        )  # fmt: skip

    def copy_best(self) -> str | None:
        """Put the shown run's best instruction (or solution) on the clipboard."""
        win = self._win
        path, run_id = win.document.path, self._run_id()
        if path is None or run_id is None:
            return None
        try:
            text = read_best_text(path, run_id)
        except ProjectError as exc:
            win.show_error("Copy", str(exc))
            return None
        if text is None:
            win.statusBar().showMessage(f"Run {run_id} has no scored solution yet.", 10000)
            return None
        QGuiApplication.clipboard().setText(text)
        win.statusBar().showMessage(f"Copied the best of run {run_id} ({len(text)} characters)")
        return text

    # -- internals -------------------------------------------------------------------------
    def _on_document_changed(self, _event: object) -> None:
        self.refresh()

    def _run_id(self) -> int | None:
        win = self._win
        return win.document.run_id if win.document.run_id is not None else win.run_view.run_id

    def _ask(self, fmt: str) -> None:
        win = self._win
        if win.document.path is None:
            return
        filt = FORMATS.get(fmt, "Text (*.txt)")
        stem = win.document.path.stem + ("-best" if fmt == "txt" else "")
        start = str(Path(settings.last_dir()) / f"{stem}.{fmt}")
        target, _ = QFileDialog.getSaveFileName(win, "Export", start, filt)
        if target:
            self.export_to(target if Path(target).suffix else f"{target}.{fmt}", fmt)
