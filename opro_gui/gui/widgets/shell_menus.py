"""The main window's menus and their file-dialog handlers (File, Edit, Run, View, Help)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from opro_gui.services import ProjectError, ProjectSession

from .. import settings
from ..kinds import new_project_kinds
from . import help_dialogs
from .shell_export import ExportActions
from .shell_projects import example_catalog

if TYPE_CHECKING:
    from ..main_window import MainWindow

APP_TITLE = "OPRO Studio"
FILE_FILTER = "OPRO projects (*.opro);;All files (*)"


class ShellMenus(QObject):
    """Builds the menu bar of ``window``; its actions are attributes (run_action, ...)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._win = window
        self._build()

    def _action(self, text: str, slot: Any, shortcut: Any = None) -> QAction:
        win = self._win
        act = QAction(text, win)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        return act

    def _build(self) -> None:
        win = self._win
        mb = win.menuBar()
        m = mb.addMenu("&File")
        self.new_action = self._action(
            "&New…", self._on_new_action_triggered, QKeySequence.StandardKey.New
        )
        self.open_action = self._action(
            "&Open…", self._on_open_action_triggered, QKeySequence.StandardKey.Open
        )
        self.save_action = self._action("&Save", win.save, QKeySequence.StandardKey.Save)
        self.save_as_action = self._action(
            "Save &As…", self._on_save_as_action_triggered, QKeySequence.StandardKey.SaveAs
        )
        self.export_plot_action = self._action(
            "Export &Plot…", self._on_export_plot_action_triggered
        )
        self.new_from_paper_action = self._action(
            "New from the &Paper…", self._on_new_from_paper_action_triggered
        )
        self.new_from_paper_action.setToolTip(
            "A prompt-optimization project set up as one of the paper's experiments"
        )
        m.addActions([self.new_action, self.new_from_paper_action, self.open_action])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.examples_menu = m.addMenu("&Examples")
        for stem, (label, _kind) in example_catalog().items():
            self.examples_menu.addAction(label, functools.partial(win.open_example, stem))
        m.addSeparator()
        self.export_report_action = self._action(
            "Export &Report…", self._on_export_report_action_triggered
        )
        m.addActions(
            [
                self.save_action,
                self.save_as_action,
                self.export_plot_action,
                self.export_report_action,
            ]
        )
        self.exports = ExportActions(win)  # File ▸ Export ▸ JSON, CSV, best as text
        self.export_menu = self.exports.add_to(m)
        m.addSeparator()
        m.addAction(self._action("&Quit", win.close, QKeySequence.StandardKey.Quit))
        e = mb.addMenu("&Edit")
        stack = getattr(win.task_editor, "undo_stack", None)
        if stack is not None:
            undo, redo = (
                stack.createUndoAction(win, "&Undo"),
                stack.createRedoAction(win, "&Redo"),
            )
            undo.setShortcut(QKeySequence.StandardKey.Undo)
            redo.setShortcut(QKeySequence.StandardKey.Redo)
            e.addActions([undo, redo])
        self.exports.add_copy_to(e)
        r = mb.addMenu("&Run")
        self.run_action = self._action("&Run", lambda: win.start_run(), "Ctrl+R")
        self.new_run_action = self._action(
            "Run as &New Run", lambda: win.start_run(new_run=True), "Ctrl+Shift+R"
        )
        self.pause_action = self._action("&Pause", win.pause_run, "Ctrl+P")
        self.stop_action = self._action("&Stop", win.stop_run, "Ctrl+.")
        r.addActions([self.run_action, self.new_run_action, self.pause_action, self.stop_action])
        r.addSeparator()
        self.evaluate_action = self._action(
            "&Evaluate on the Test Split", lambda: win.evaluate_test(), "Ctrl+E"
        )
        self.evaluate_action.setToolTip(
            "Score the best instructions (by training accuracy) and the baselines on held-out data"
        )
        self.transfer_action = self._action(
            "Evaluate on &Another Dataset…", self._on_transfer_action_triggered
        )
        self.transfer_action.setToolTip(
            "Transfer (paper §5.2.3): score the best instructions on another dataset file"
        )
        r.addActions([self.evaluate_action, self.transfer_action])
        self.batch_action = QAction("Evaluate through the &Batch API (half price)", win)
        self.batch_action.setCheckable(True)
        self.batch_action.setToolTip(
            "Send the evaluation's scorer requests as one batch job: cheaper, slower; if the app "
            "closes meanwhile, evaluating again picks the same batch up"
        )
        r.addAction(self.batch_action)
        self.compare_action = self._action("&Compare Runs…", self._on_compare_action_triggered)
        self.lineage_action = self._action("&Lineage of This Run…", self._on_lineage_triggered)
        self.sweep_action = self._action("S&weep…", self._on_sweep_action_triggered)
        r.addActions([self.sweep_action, self.compare_action, self.lineage_action])
        v = mb.addMenu("&View")
        from .shell_docks import LAYOUTS

        lay = v.addMenu("&Layout")
        layouts = QActionGroup(win)
        self.layout_actions: dict[str, QAction] = {}
        for key, (label, shortcut, tip) in LAYOUTS.items():
            act = self._action(label, lambda _=False, k=key: win.apply_layout(k), shortcut)
            act.setCheckable(True)
            act.setChecked(key == win.layout_name)
            act.setToolTip(tip)
            layouts.addAction(act)
            lay.addAction(act)
            self.layout_actions[key] = act
        for dock in win._docks.values():
            v.addAction(dock.toggleViewAction())
        t = v.addMenu("&Theme")
        group = QActionGroup(win)
        self.theme_actions: dict[str, QAction] = {}
        for key, label in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            act = self._action(label, lambda _=False, k=key: win.set_theme(k))
            act.setCheckable(True)
            group.addAction(act)
            t.addAction(act)
            self.theme_actions[key] = act
        h = mb.addMenu("&Help")
        self.docs_action = self._action(
            "&Documentation", lambda: QDesktopServices.openUrl(help_dialogs.documentation_url()),
            QKeySequence.StandardKey.HelpContents,
        )  # fmt: skip
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", lambda: help_dialogs.ShortcutsDialog(win).exec()
        )
        self.cite_action = self._action(
            "&Cite the Paper…", lambda: help_dialogs.CitationDialog(win).exec()
        )
        h.addActions([self.docs_action, self.shortcuts_action, self.cite_action])
        h.addSeparator()
        h.addAction(self._action("&About OPRO Studio", self._on_about_action_triggered))

    def _fill_recent_menu(self) -> None:
        win = self._win
        self.recent_menu.clear()
        files = settings.recent_files()
        for p in files:
            self.recent_menu.addAction(str(p), functools.partial(win.open_project, p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- menu handlers ---------------------------------------------------------------------
    def _on_new_action_triggered(self) -> None:
        win = self._win
        choices = new_project_kinds()
        labels = list(choices)
        label, ok = QInputDialog.getItem(win, "New project", "Problem kind:", labels, 0, False)
        if not ok:
            return
        kind = choices[label]
        path, _ = QFileDialog.getSaveFileName(win, "New project", settings.last_dir(), FILE_FILTER)
        if path:
            win.new_project(kind, _with_suffix(path))

    def _on_new_from_paper_action_triggered(self) -> None:
        from opro_gui.services.presets import PRESETS, prompt_spec_from_file

        win = self._win
        labels = [f"{p.name} — {p.reproduces}" for p in PRESETS.values()]
        label, ok = QInputDialog.getItem(
            win,
            "New from the paper",
            "Experiment (figure or table it reproduces):",
            labels,
            0,
            False,
        )
        if not ok:
            return
        name = label.split(" — ", 1)[0]
        data, _ = QFileDialog.getOpenFileName(
            win,
            f"Dataset for {name} ({PRESETS[name].dataset})",
            settings.last_dir(),
            "Datasets (*.json *.jsonl *.tsv *.csv);;All files (*)",
        )
        if not data:
            return
        path, _ = QFileDialog.getSaveFileName(win, "New project", settings.last_dir(), FILE_FILTER)
        if not path:
            return
        try:
            spec, warnings = prompt_spec_from_file(data, preset=name)
            ProjectSession.create(_with_suffix(path), "prompt", spec).close()
        except (ProjectError, ValueError) as exc:
            win.show_error("Cannot create the project", str(exc))
            return
        if win.open_project(_with_suffix(path)) and warnings:
            win.status_label.setText("Note: " + "; ".join(warnings))

    def _on_transfer_action_triggered(self) -> None:
        win = self._win
        path, _ = QFileDialog.getOpenFileName(
            win,
            "Evaluate on another dataset",
            settings.last_dir(),
            "Datasets (*.json *.jsonl *.tsv *.csv);;All files (*)",
        )
        if path:
            win.evaluate_test(dataset=path)

    def _on_compare_action_triggered(self) -> None:
        from .compare_dialog import CompareDialog

        win = self._win
        if win.session is None:
            return
        self.compare_dialog = CompareDialog([str(win.session.path)], win)
        self.compare_dialog.show()

    def _on_sweep_action_triggered(self) -> None:
        from opro_gui.core.models import RunSettings

        from .compare_dialog import CompareDialog
        from .sweep_dialog import SweepDialog

        win = self._win
        optimizer = win.endpoint("optimizer")
        if win.session is None or optimizer is None:
            win.show_error("Sweep", "Open a project and choose an optimizer model first.")
            return
        scorer = (
            (win.endpoint("scorer") or optimizer) if win.session.problem_kind.needs_scorer else None
        )
        run_id = win.session.latest_run_id()
        base = win.session.run_settings(run_id) if run_id is not None else RunSettings()
        self.sweep_dialog = SweepDialog(win.session.path, optimizer, scorer, base, win)

        def compare(refs: list[str]) -> None:
            if len(refs) > 1:
                self.compare_dialog = CompareDialog(refs, win)
                self.compare_dialog.show()

        self.sweep_dialog.sweep_finished.connect(compare)
        self.sweep_dialog.show()

    def _on_lineage_triggered(self) -> None:
        from .lineage import LineageDialog

        win = self._win
        run_id = win.run_view.run_id
        if win.session is None or run_id is None:
            return
        better = win.session.problem_kind.higher_is_better
        self.lineage_dialog = LineageDialog(win.session.path, run_id, better, win)
        self.lineage_dialog.show()

    def _on_export_report_action_triggered(self) -> None:
        win = self._win
        if win.session is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            win, "Export report", settings.last_dir(), "HTML report (*.html)"
        )
        if path:
            self.export_report_to(path if path.endswith(".html") else path + ".html")

    def export_report_to(self, target: str) -> None:
        """Write the open project's HTML report in the background; the status bar says when."""
        from opro_gui.services.report_html import export_report

        from ..worker import run_in_background

        win = self._win
        if win.session is None:
            return
        win.statusBar().showMessage(f"Writing the report to {target}…")
        run_in_background(
            export_report,
            str(win.session.path),
            target,
            on_done=lambda out: win.statusBar().showMessage(f"Report written to {out}", 10000),
            on_error=lambda exc: win.show_error("Export report", str(exc)),
            owner=self,
        )

    def _on_open_action_triggered(self) -> None:
        win = self._win
        path, _ = QFileDialog.getOpenFileName(win, "Open project", settings.last_dir(), FILE_FILTER)
        if path:
            win.open_project(path)

    def _on_save_as_action_triggered(self) -> None:
        win = self._win
        if win.session is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            win, "Save a copy as", settings.last_dir(), FILE_FILTER
        )
        if path:
            win.save_as(_with_suffix(path))

    def _on_export_plot_action_triggered(self) -> None:
        win = self._win
        path, _ = QFileDialog.getSaveFileName(
            win, "Export plot", settings.last_dir(), "PNG image (*.png);;SVG drawing (*.svg)"
        )
        if path:
            out = win.run_view.export_current(path)
            win.status_label.setText(f"Plot written to {out}")

    def _on_about_action_triggered(self) -> None:
        win = self._win
        try:
            from opro_gui.about import about_text

            text = about_text()
        except ImportError:
            text = APP_TITLE
        QMessageBox.about(win, f"About {APP_TITLE}", text)


def _with_suffix(path: str) -> Path:
    p = Path(path)
    return p if p.suffix else p.with_suffix(".opro")
