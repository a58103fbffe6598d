"""The main window: menus, docks and status bar; opens projects and starts, pauses and stops
runs through the RunController. Widgets render; nothing here scores or builds prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from opro_gui.core.events import RunFinished, RunStarted, StepCompleted, StepStarted
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.llm.secrets import resolve_key
from opro_gui.services import ProjectError, ProjectSession
from opro_gui.services.plan import RunPlan
from opro_gui.services.status import needs_attention, status_text, stop_message

from . import settings, themes
from .document import (
    LoadFailed,
    PreviewLoaded,
    ProjectDocument,
    ProjectOpened,
    RunSelected,
    SummaryLoaded,
    UpgradeStarted,
)
from .run_controller import RunController
from .widgets import model_line
from .widgets.evaluate_dialog import EvaluateDialog
from .widgets.model_settings import ModelSettingsPanel
from .widgets.run_view import RunView
from .widgets.shell_docks import DEFAULT_LAYOUT, LAYOUTS, add_docks, apply_layout, optional_widget
from .widgets.shell_evaluate import TestEvaluation, results_text
from .widgets.shell_first_run import choose_first_endpoint
from .widgets.shell_menus import ShellMenus
from .widgets.shell_projects import default_spec, ensure_example
from .widgets.shell_status import RunStatusBar

APP_TITLE = "OPRO Studio"
HISTORY_REFRESH_MS = 150
NO_ENDPOINT_TEXT = (
    "No model endpoint is configured yet: Run offers servers found on this computer, "
    "$OPENAI_API_KEY or any server address (or see Model settings)."
)


def _remember_opened(path: Path) -> None:
    settings.add_recent_file(path)
    settings.set_last_dir(path.parent)


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(APP_TITLE)
        self.resize(1280, 820)
        saved_layout = settings.window_layout_name()  # View ▸ Layout; applied on first show
        self.layout_name = saved_layout if saved_layout in LAYOUTS else DEFAULT_LAYOUT
        self.document = ProjectDocument(self)
        self.last_message = ""
        self.last_plan: RunPlan | None = None  # what the latest Run said it would do
        self._closed = False
        self.controller = RunController(self)
        self.evaluation = TestEvaluation(self)
        self.evaluate_dialog = EvaluateDialog(self.evaluation, self)
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(HISTORY_REFRESH_MS)
        self._history_timer.timeout.connect(self._on_history_timer_timeout)
        self.run_view = RunView()
        self.run_view.set_document(self.document)
        self.setCentralWidget(self.run_view)
        self.model_panel = ModelSettingsPanel()
        self.task_editor = optional_widget("task_editor", "TaskEditor")
        self.history = optional_widget("history", "HistoryPanel")
        self._docks = add_docks(
            self,
            {
                "task": ("Task", self.task_editor),
                "models": ("Model settings", self.model_panel),
                "history": ("History", self.history),
            },
        )
        self._build_status_bar()
        self.menus = ShellMenus(self)
        self._connect()
        self.models = model_line.WindowModels(self)  # the open project's models, always in view
        self.model_line = self.models.line
        self.theme_choice = settings.theme()
        self.apply_theme()
        geometry, state = settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self._needs_default_layout = state is None
        if self.endpoint("optimizer") is None:
            self.status_label.setText(NO_ENDPOINT_TEXT)
        self._update_actions()

    # -- construction ----------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.status = RunStatusBar(self.statusBar())
        self.status_label, self.usage_label = self.status.message, self.status.usage

    @property
    def session(self) -> ProjectSession | None:
        """The document's session (the task's writes, save as); views render from signals."""
        return self.document.session

    def _connect(self) -> None:
        d = self.document
        d.project_opened.connect(self._on_document_project_opened)
        d.run_selected.connect(self._on_document_run_selected)
        d.preview_loaded.connect(self._on_document_preview_loaded)
        d.summary_loaded.connect(self._on_document_summary_loaded)
        d.load_failed.connect(self._on_document_load_failed)
        d.upgrade_started.connect(self._on_document_upgrade_started)
        c = self.controller
        c.run_started.connect(self._on_controller_run_started)
        c.step_started.connect(self._on_controller_step_started)
        c.step_completed.connect(self._on_controller_step_completed)
        c.baseline_step_completed.connect(self.run_view.add_baseline_event)
        c.run_finished.connect(self._on_controller_run_finished)
        c.run_failed.connect(self._on_controller_run_failed)
        c.run_stopped.connect(
            lambda: self.status.run_ended("Stopped during the model check; no run was started")
        )
        c.running_changed.connect(lambda _running: self._update_actions())
        self.evaluation.evaluation_finished.connect(self._on_evaluation_finished)
        self.evaluation.evaluation_failed.connect(self._on_evaluation_failed)
        self.evaluation.evaluation_cancelled.connect(self._on_evaluation_cancelled)
        self.model_panel.profiles_changed.connect(self._on_model_panel_profiles_changed)
        self.run_view.candidate_clicked.connect(self._on_run_view_candidate_clicked)
        if self.task_editor is not None:
            self.task_editor.undo_stack.cleanChanged.connect(lambda _clean: self._update_title())
        if self.history is not None:
            self.history.set_document(self.document)
            self.history.set_profiles(settings.load_profiles())
            self.history.candidate_selected.connect(self._on_history_candidate_selected)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    # -- projects --------------------------------------------------------------------------
    def open_project(self, path: str | Path) -> bool:
        if self.controller.is_running:
            self.show_error(
                "A run is in progress", "Stop or pause the run before opening another project."
            )
            return False
        path = Path(path)
        try:
            self.document.open(path)  # every view resets on project_opened
        except ProjectError as exc:
            if not path.exists():
                settings.remove_recent_file(path)
            self.show_error("Cannot open the project", f"{exc}\n\nNothing was changed.")
            return False
        # Settings are written on the next turn of the event loop: the open returns sooner.
        QTimer.singleShot(0, lambda: _remember_opened(path))
        self._update_title()
        self._update_actions()
        if self.document.upgrading is None:
            self.status_label.setText(f"Opened {path.name}")
        return True

    def _on_document_upgrade_started(self, u: UpgradeStarted) -> None:
        self._upgraded_path: Path | None = u.path
        self.status_label.setText(
            f"Upgrading {u.path.name} to this version's file format… (it opens when done)"
        )

    def _on_document_project_opened(self, p: ProjectOpened) -> None:
        upgraded = getattr(self, "_upgraded_path", None)
        if upgraded is not None and upgraded.resolve() == p.path.resolve():  # after its upgrade
            self._upgraded_path = None
            self.status_label.setText(f"Opened {p.path.name} (upgraded)")
            self._update_title()
            self._update_actions()
        self.status.set_usage(None)  # the run's summary fills it in
        if self.task_editor is not None:
            self.task_editor.load(p.kind, p.spec, p.run_settings)

    def _on_document_run_selected(self, r: RunSelected) -> None:
        if self.task_editor is not None and r.run_id is None:
            self.task_editor.template_editor.set_history(None)

    def _on_document_preview_loaded(self, p: PreviewLoaded) -> None:
        """The template preview shows what the optimizer would see next in this run."""
        if self.task_editor is not None and p.run_id == self.document.run_id:
            self.task_editor.template_editor.set_history(list(p.history), p.step, p.history_size)

    def _on_document_load_failed(self, failed: LoadFailed) -> None:
        if failed.fatal:  # found by the full check in the background: the project was closed
            self._update_title()
            self._update_actions()
            self.show_error("Cannot open the project", f"{failed.message}\n\nNothing was changed.")

    def _on_document_summary_loaded(self, loaded: SummaryLoaded) -> None:
        if not self.controller.is_running and loaded.run_id == self.document.run_id:
            self.status.set_usage(loaded.summary.usage.to_dict())

    def new_project(self, kind: str, path: str | Path) -> bool:
        # a new project starts from the models in use (the open project's, else the presets)
        optimizer, scorer = self.endpoint("optimizer"), self.endpoint("scorer")
        try:
            with ProjectSession.create(path, kind, default_spec(kind)) as created:
                if optimizer is not None:
                    created.set_project_models(optimizer, scorer)
        except (ProjectError, ValueError) as exc:
            self.show_error("Cannot create the project", str(exc))
            return False
        return self.open_project(path)

    def open_example(self, stem: str) -> bool:
        try:
            path = ensure_example(stem)
        except (ProjectError, ValueError, OSError) as exc:
            self.show_error("Cannot create the example", str(exc))
            return False
        return self.open_project(path)

    def save(self) -> bool:
        """Steps are saved as they complete; Save writes the edited task definition."""
        if self.session is None or self.task_editor is None:
            return self.session is not None
        if self.controller.is_running:
            self.show_error(
                "A run is in progress", "The task can be changed once the run has stopped."
            )
            return False
        errors = self.task_editor.validation_errors()
        if errors:
            self.show_error("The task has errors", "\n".join(errors))
            return False
        try:
            self.document.update_spec(self.task_editor.current_spec())
        except (ProjectError, ValueError) as exc:
            self.show_error("Cannot save the task", str(exc))
            return False
        self.task_editor.undo_stack.setClean()
        self.status_label.setText("Saved")
        self._update_title()
        return True

    def save_as(self, target: str | Path) -> bool:
        if self.session is None:
            return False
        if self.controller.is_running:
            self.show_error("A run is in progress", "Pause or stop the run, then save a copy.")
            return False
        if not self.save():
            return False
        try:
            self.document.save_as(target)
        except ProjectError as exc:
            self.show_error("Cannot save a copy", str(exc))
            return False
        return self.open_project(target)

    # -- runs ------------------------------------------------------------------------------
    def endpoint(self, role: str) -> EndpointConfig | None:
        return self.model_panel.endpoint_for(role)

    def start_run(
        self, run_settings: RunSettings | None = None, *, new_run: bool = False, check: bool = True
    ) -> bool:
        """Check everything a run needs, say plainly what is missing, then start the worker
        (``check``: after one model check call, see ``services.model_probe``)."""
        if self.controller.is_running:
            return False
        if self.session is None:
            self.show_error("No project", "Open a project or create one (File ▸ New) first.")
            return False
        optimizer = self.endpoint("optimizer")
        if optimizer is None and (
            not self.offer_first_run() or (optimizer := self.endpoint("optimizer")) is None
        ):
            self.status_label.setText("Not started: no model endpoint is configured.")
            return False
        kind = self.document.problem_kind
        scorer = self.endpoint("scorer") if kind is not None and kind.needs_scorer else None
        for cfg in (optimizer, scorer):
            if (
                cfg is not None
                and not cfg.is_local
                and not resolve_key(cfg.api_key_env, cfg.keyring_profile)
            ):
                self.show_error(
                    "No API key",
                    f"The profile for {cfg.model} at {cfg.base_url} has no key. Set the "
                    f"environment variable {cfg.api_key_env or '(none)'} or store a key in "
                    "Model settings.",
                )
                return False
        if run_settings is None and self.task_editor is not None:
            errors = self.task_editor.validation_errors()
            if errors:
                self.show_error("The task has errors", "\n".join(errors))
                return False
            spec_changed = self.task_editor.current_spec() != self.document.spec()
            if spec_changed and not self.save():
                return False
            run_settings = self.task_editor.run_settings()
        else:
            spec_changed = False
        if run_settings is None:
            run_settings = self.document.latest_run_settings()
        try:  # the same rule as `opro run`, said before anything is spent
            plan = self.document.plan_run(run_settings, new_run=new_run, spec_changed=spec_changed)
        except ProjectError as exc:
            self.show_error("The run cannot start", str(exc))
            return False
        self.last_plan = plan
        assert self.document.path is not None
        self.models.retry = (run_settings, new_run) if check else None
        self.controller.start(
            self.document.path, run_settings, optimizer, scorer, new_run=plan.is_new,
            check=check, continues=None if plan.is_new else plan.run_id,
        )  # fmt: skip
        what = model_line.model_line(kind, optimizer, scorer)
        checking = "; checking the models first" if check else ""
        self.status_label.setText(f"{plan.message} — {self.document.path.name}: {what}{checking}")
        return True

    def pause_run(self) -> None:
        if self.controller.is_running:
            self.controller.pause()
            self.status_label.setText("Pausing after the current step…")

    def stop_run(self) -> None:
        if self.controller.is_running:
            self.controller.cancel()
            self.status_label.setText("Stopping…")

    def evaluate_test(self, dataset: str | None = None) -> bool:
        """Held-out accuracy of the best instructions and the baselines (prompt runs), on the
        test split or on another dataset file (transfer)."""
        run_id = self.run_view.run_id
        kind = self.document.problem_kind
        if kind is None or not kind.supports_evaluation:
            return False
        if run_id is None:
            return False
        if self.evaluation.is_running:  # its window was closed: show it again, same job
            self.evaluate_dialog.show()
            self.evaluate_dialog.raise_()
            return True
        if self.controller.is_running:
            return False
        assert self.document.path is not None
        where = Path(dataset).name if dataset else "the test split"
        self.evaluate_dialog.prepare(
            where,
            f"Run {run_id} on {where}: the best instructions by "
            "training accuracy and the baselines",
            kind.format_score,
        )
        self.evaluation.start(
            self.document.path, run_id, self.endpoint("scorer"), dataset=dataset,
            batch=self.menus.batch_action.isChecked() and not dataset,
        )  # fmt: skip
        self.evaluate_dialog.show()
        self.status_label.setText(f"Evaluating on {where}…")
        self._update_actions()
        return True

    def _on_evaluation_finished(self, rows: list[Any]) -> None:
        text = results_text(rows)
        self.status_label.setText(text)
        self.run_view.update_analysis()
        self._update_actions()

    def _on_evaluation_cancelled(self) -> None:
        self.status_label.setText("Evaluation cancelled: nothing was stored.")
        self._update_actions()

    def _on_evaluation_failed(self, message: str) -> None:
        self._update_actions()
        self.show_error("The test evaluation failed", f"{message}\n\nNothing was lost.")

    def offer_first_run(self) -> bool:
        """No endpoint configured: show the first-run choices. True when one was chosen."""
        if not choose_first_endpoint(self):
            return False
        self.model_panel.reload()
        self._on_model_panel_profiles_changed()
        return True

    def _on_controller_run_started(self, run_id: int, event: RunStarted) -> None:
        self.document.refresh_runs()
        self.document.select_run(run_id)
        self.run_view.begin_run(event.max_steps)
        self.status.run_started(run_id, event.first_step, event.max_steps)

    def _on_controller_step_started(self, event: StepStarted) -> None:
        optimizer = self.endpoint("optimizer")
        model = f" ({optimizer.model})" if optimizer is not None else ""
        self.status_label.setText(f"Step {event.step}: waiting for the optimizer{model}…")

    def _on_controller_step_completed(self, event: StepCompleted) -> None:
        r = event.record
        if self.controller.run_id is not None:
            self.document.append_step(event, self.controller.run_id)
        if self.history is not None and not self._history_timer.isActive():
            self._history_timer.start()  # coalesced: at most one table refresh per interval
        best = self.run_view.fmt(r.best_score) if r.best_score is not None else None
        self.status.step_completed(r.step, r.finished_at - r.started_at, best, event.totals)

    def _on_controller_run_finished(self, event: RunFinished) -> None:
        self._history_timer.stop()
        if self.history is not None:
            self.history.refresh()
        self.run_view.finish_run()  # the document re-reads the summary and the preview
        self.status.run_ended(f"Run {status_text(event.status, event.reason)}")
        if needs_attention(event.cause):
            self.show_error(
                "The run stopped", stop_message(event.cause, event.reason, event.last_step)
            )

    def _on_controller_run_failed(self, message: str) -> None:
        self.status.run_ended("Run failed")
        self.show_error("The run could not start", f"{message}\n\nNothing was lost.")

    # -- view ------------------------------------------------------------------------------
    def set_theme(self, choice: str) -> None:
        self.theme_choice = choice
        settings.set_theme(choice)
        self.apply_theme()

    def apply_theme(self) -> None:
        app = QApplication.instance()
        dark = themes.is_dark(self.theme_choice)
        if isinstance(app, QApplication):
            colors = themes.apply_theme(app, dark)
        else:
            colors = themes.plot_colors(dark)
        self.run_view.apply_colors(colors)
        if self.theme_choice in self.menus.theme_actions:
            self.menus.theme_actions[self.theme_choice].setChecked(True)

    def _on_color_scheme_changed(self, *_: object) -> None:
        if self.theme_choice == "system":
            self.apply_theme()

    def show_error(self, title: str, text: str) -> None:
        """One message box saying what happened and what to do."""
        self.last_message = f"{title}: {text}"
        QMessageBox.warning(self, title, text)

    def _update_title(self) -> None:
        if self.document.path is None:
            self.setWindowTitle(APP_TITLE)
            return
        dirty = self.task_editor is not None and not self.task_editor.undo_stack.isClean()
        self.setWindowTitle(f"{self.document.path.name}{' *' if dirty else ''} — {APP_TITLE}")

    def _update_actions(self) -> None:
        running, has = self.controller.is_running, self.session is not None
        for act in (self.menus.run_action, self.menus.new_run_action):
            act.setEnabled(has and not running)
        can_evaluate = (
            has
            and not running
            and not self.evaluation.is_running
            and self.document.problem_kind is not None
            and self.document.problem_kind.supports_evaluation
            and self.run_view.run_id is not None
        )
        # while an evaluation runs, Evaluate shows its window again (closing it does not cancel)
        self.menus.evaluate_action.setEnabled(can_evaluate or self.evaluation.is_running)
        self.menus.transfer_action.setEnabled(can_evaluate)
        self.menus.pause_action.setEnabled(running)
        self.menus.stop_action.setEnabled(running)
        for act in (
            self.menus.new_action,
            self.menus.open_action,
            self.menus.save_action,
            self.menus.save_as_action,
        ):
            act.setEnabled(not running)
        self.menus.recent_menu.setEnabled(not running)
        self.menus.examples_menu.setEnabled(not running)

    def _on_model_panel_profiles_changed(self) -> None:
        if self.task_editor is not None:
            self.task_editor.undo_stack.cleanChanged.connect(lambda _clean: self._update_title())
        if self.history is not None:
            self.history.set_profiles(settings.load_profiles())

    def _on_run_view_candidate_clicked(self, step: int, index: int) -> None:
        if self.history is not None:
            self.history.select_candidate(step, index)

    def _on_history_candidate_selected(self, step: int, index: int) -> None:
        self.run_view.select_candidate(step, index)

    def _on_history_timer_timeout(self) -> None:
        if self.history is not None:
            self.history.refresh()

    def apply_layout(self, name: str) -> None:
        """View ▸ Layout: arrange the docks for setting up, watching or inspecting."""
        apply_layout(self, self._docks, name)
        self.layout_name = name
        settings.set_window_layout_name(name)
        self.menus.layout_actions[name].setChecked(True)

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if self._needs_default_layout:  # dock sizes only apply once the window is laid out
            self._needs_default_layout = False
            QTimer.singleShot(0, lambda: self.apply_layout(self.layout_name))

    # -- closing ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        """Cancel a run in flight (completed steps are on disk), then close everything."""
        c = self.controller
        if not self._closed:
            self._closed = True
            # Events still queued from the worker arrive after the session is closed: drop them.
            for sig in (
                c.run_started,
                c.step_completed,
                c.run_finished,
                c.run_failed,
                c.run_stopped,
            ):
                sig.disconnect()
        c.shutdown()
        self.evaluation.cancel()
        self._history_timer.stop()
        self.run_view.cancel_background()
        self.model_panel.shutdown()
        settings.save_window_layout(self.saveGeometry(), self.saveState())
        self.document.close()
        super().closeEvent(event)
