"""GUI: a prompt run with the equal-budget baseline on draws both curves live and reports both
numbers; the §5.3 form in the task panel writes the spec."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import no_thread_left, run_to_end, use_server  # noqa: F401  (fixture)
from PySide6.QtGui import QUndoStack

from opro_gui.core.models import RunSettings
from opro_gui.gui.main_window import MainWindow
from opro_gui.gui.widgets import shell_projects
from opro_gui.gui.widgets.panel_prompt import PromptPanel
from opro_gui.gui.widgets.panel_run_settings import RunSettingsForm
from opro_gui.gui.widgets.panel_undo import UndoBinder
from opro_gui.services import ProjectSession

pytestmark = pytest.mark.usefixtures("no_thread_left")


def responder() -> Any:
    counter = itertools.count(1)

    def respond(prompt: str, body: dict[str, Any]) -> str:
        if float(body.get("temperature") or 0) > 0:  # the optimizer samples at temperature 1
            kind = "Trajectory" if "score:" in prompt else "Fresh"
            return f"<INS>{kind} idea number {next(counter)}.</INS>"
        h = hashlib.sha256(prompt.encode()).digest()[0]
        return "True" if h % 2 else "False"

    return respond


def test_prompt_run_with_baseline_draws_both_curves(
    qtbot: Any, window: MainWindow, fake_server: Any
) -> None:
    server = fake_server(responder()).start()
    use_server(server.base_url)
    window.model_panel.reload()
    stem = next(s for s, (_l, kind) in shell_projects.example_catalog().items() if kind == "prompt")
    assert window.open_example(stem)
    live: list[int] = []
    window.controller.baseline_step_completed.connect(lambda ev: live.append(ev.record.step))
    finished = run_to_end(
        qtbot,
        window,
        RunSettings(max_steps=3, samples_per_step=2, stop_at_optimum=False, baseline=True),
    )
    assert finished.status == "completed", finished.reason
    assert live == [0, 1, 2, 3]
    plot = window.run_view.score_plot
    assert list(plot.baseline_curve.xData) == [0, 1, 2, 3]
    assert list(plot.best_curve.xData) == [0, 1, 2, 3]
    assert "no-trajectory baseline (same budget)" in [t.text for _s, t in plot._legend.items]
    summary = window.run_view.summary
    assert summary is not None and summary.prompt is not None
    assert summary.prompt.baseline is not None
    assert summary.prompt.baseline.best_train_accuracy is not None
    assert "no-trajectory baseline" in window.run_view.summary_label.text()
    with ProjectSession.open(window.session.path, readonly=True) as s:
        assert s.run_ids() == [1]
        assert s.sent_per_step(1) == s.sent_per_step(2) and sum(s.sent_per_step(1).values()) == 6
        curve = s.baseline_curve(1)
    assert [100 * v for _s, v in curve] == pytest.approx(list(plot.baseline_curve.yData))


def test_run_settings_form_has_the_baseline_switch(qtbot: Any) -> None:
    form = RunSettingsForm(UndoBinder(QUndoStack()))
    qtbot.addWidget(form)
    assert form.settings().baseline is False  # off by default
    form.baseline_check.setChecked(True)
    assert form.settings().baseline is True
    form.load(RunSettings())
    assert not form.baseline_check.isChecked()


def test_prompt_panel_ablation_form_writes_the_spec(qtbot: Any) -> None:
    panel = PromptPanel(UndoBinder(QUndoStack()))
    qtbot.addWidget(panel)
    spec = {"examples": [{"input": f"q{i}", "target": str(i)} for i in range(5)]}
    panel.load({**spec, "order": "descending", "boxed": True})
    form = panel.ablations
    assert form.order_combo.currentData() == "descending" and form.boxed_check.isChecked()
    assert not form.buckets_spin.isEnabled()
    form.score_combo.setCurrentIndex(form.score_combo.findData("bucketed"))
    assert form.buckets_spin.isEnabled()
    form.lenient_check.setChecked(False)
    out = panel.spec()
    assert out["score_format"] == "bucketed" and out["lenient_substring"] is False
    assert out["order"] == "descending" and out["boxed"] is True


def test_new_from_the_paper_creates_the_preset_project(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opro_gui.gui.widgets import shell_menus

    data = tmp_path / "sports_understanding.json"
    examples = [{"input": f"Is sentence {i} plausible?", "target": "yes"} for i in range(10)]
    data.write_text(json.dumps({"canary": "x", "examples": examples}))
    asked: list[list[str]] = []

    def pick(_parent: Any, _title: str, _label: str, items: list[str], *_a: Any) -> Any:
        asked.append(items)
        return next(i for i in items if i.startswith("bbh-sports_understanding-text-bison ")), True

    monkeypatch.setattr(shell_menus.QInputDialog, "getItem", pick)
    monkeypatch.setattr(shell_menus.QFileDialog, "getOpenFileName", lambda *a: (str(data), ""))
    out = tmp_path / "paper"
    monkeypatch.setattr(shell_menus.QFileDialog, "getSaveFileName", lambda *a: (str(out), ""))
    window.menus.new_from_paper_action.trigger()
    assert any("Table 7" in item for item in asked[0])
    assert window.session is not None and window.session.path == out.with_suffix(".opro")
    problem = window.session.problem()
    facts = problem.summary()
    assert facts["preset"] == "bbh-sports_understanding-text-bison"
    assert (facts["position"], facts["style"]) == ("Q_begin", "bracket")
    assert problem.initial_solutions() == [""]
    assert window.session.default_run_settings() == RunSettings(
        max_steps=200, samples_per_step=8, temperature=1.0
    )


def test_dataset_import_reads_a_folder_of_mmlu_files(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opro_gui.gui.widgets import dataset_import

    folder = tmp_path / "test"
    folder.mkdir()
    (folder / "anatomy_test.csv").write_text("Q1,a,b,c,d,B\nQ2,a,b,c,d,C\n")
    (folder / "virology_test.csv").write_text("Q3,a,b,c,d,A\n")
    widget = dataset_import.DatasetImportWidget()
    qtbot.addWidget(widget)
    monkeypatch.setattr(dataset_import.QFileDialog, "getExistingDirectory", lambda *a: str(folder))
    with qtbot.waitSignal(widget.dataset_loaded, timeout=10_000) as loaded:
        widget._on_folder_button_clicked()
    dataset = loaded.args[0]
    assert (dataset.fmt, dataset.name, len(dataset.examples)) == ("mmlu", "mmlu", 3)
    assert [e["target"] for e in dataset.examples] == ["B", "C", "A"]


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the evaluate window, offscreen
def test_evaluate_on_another_dataset_from_the_menu(
    qtbot: Any, window: MainWindow, fake_server: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from opro_gui.gui.widgets import shell_menus

    server = fake_server(responder()).start()
    use_server(server.base_url)
    window.model_panel.reload()
    stem = next(s for s, (_l, kind) in shell_projects.example_catalog().items() if kind == "prompt")
    assert window.open_example(stem)
    run_to_end(qtbot, window, RunSettings(max_steps=1, samples_per_step=2))
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"input": f"Is {i} even?", "target": "True"}) + "\n"
                             for i in range(6)))  # fmt: skip
    monkeypatch.setattr(shell_menus.QFileDialog, "getOpenFileName", lambda *a: (str(other), ""))
    assert window.menus.transfer_action.isEnabled()
    analysis = qtbot.waitSignal(window.run_view.analysis_done, timeout=30_000)
    with analysis, qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=30_000) as done:
        window.menus.transfer_action.trigger()
    rows = done.args[0]
    assert {r.split for r in rows} == {"transfer:other"}
    assert all(r.n_examples == 6 for r in rows)
    assert window.status_label.text().startswith("Transfer evaluation on other stored")
    top = next(r for r in rows if r.label == "top-1")
    assert top.accuracy is not None
    assert f"other {100 * top.accuracy:.1f}%" in window.run_view.summary_label.text()
