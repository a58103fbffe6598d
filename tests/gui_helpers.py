"""GUI test helpers: the main-window fixtures most GUI tests share (``window``, ``messages``),
a fixture that fails a test leaving a QThread running, the suite's server as the model, and
project builders."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def running_qthreads() -> list[object]:
    """Every live QThread object (ours or Qt's wrappers) that is still running."""
    import shiboken6
    from PySide6.QtCore import QThread

    main = shiboken6.getCppPointer(QThread.currentThread())
    # type(), not isinstance(): proxies (lazy modules) answer __class__ by importing things.
    return [
        o
        for o in gc.get_objects()
        if issubclass(type(o), QThread)
        and shiboken6.isValid(o)
        and shiboken6.getCppPointer(o) != main
        and o.isRunning()
    ]


def assert_no_thread_left() -> None:
    """Fails when a background job or any QThread is still running (then stops them)."""
    from opro_gui.gui.worker import Worker

    left = [w for w in Worker.active() if not w.wait(0)]
    stopped = Worker.quit_all(5000)
    assert not left, f"{len(left)} background job(s) still running at teardown"
    assert stopped
    assert not running_qthreads(), "a QThread is still running at teardown"


@pytest.fixture
def no_thread_left(qtbot: object) -> Iterator[None]:
    """Fails the test when a background job or any QThread is still running at teardown
    (conftest applies the same check to every GUI test module)."""
    yield
    assert_no_thread_left()


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The window's message boxes, recorded instead of shown (they would block offscreen)."""
    from opro_gui.gui import main_window

    shown: list[str] = []
    monkeypatch.setattr(
        main_window.QMessageBox,
        "warning",
        lambda _p, title, text, *a: shown.append(f"{title}: {text}"),
    )
    return shown


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages: list[str]) -> Any:
    """A main window (not shown) with its settings and example projects under tmp_path."""
    from opro_gui.gui import settings
    from opro_gui.gui.main_window import MainWindow
    from opro_gui.gui.widgets import shell_projects

    settings.set_settings_dir(tmp_path / "settings")
    monkeypatch.setattr(shell_projects, "user_examples_dir", lambda: tmp_path / "examples")
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def use_server(base_url: str, name: str = "fake", **extra: Any) -> None:
    """One model profile at ``base_url`` serving as optimizer and scorer."""
    from opro_gui.gui import settings

    profile = {"base_url": base_url, "model": "fake-optimizer", "preset": "Custom", **extra}
    settings.save_profiles({name: profile})
    settings.set_role_profile("optimizer", name)
    settings.set_role_profile("scorer", name)


def loaded(qtbot: Any, win: Any) -> None:
    """Opening reads in the background: wait until the project document has read it all."""
    qtbot.waitUntil(lambda: not win.document.is_loading, timeout=10_000)


def run_to_end(qtbot: Any, win: Any, run_settings: Any, **kw: Any) -> Any:
    """Start a run from the window and wait for its end and the analysis after it; the
    RunFinished event."""
    with qtbot.waitSignal(win.controller.run_finished, timeout=30_000) as blocker:
        assert win.start_run(run_settings, **kw)
    qtbot.waitUntil(lambda: not win.controller.is_running, timeout=10_000)
    qtbot.waitUntil(lambda: not win.run_view.analysis_pending, timeout=10_000)
    return blocker.args[0]


class ScriptedOptimizer:
    """An LLMClient that answers every optimizer request with seeded random tours of
    ``n_points`` nodes; every ``bad_every``-th completion is unparseable."""

    def __init__(self, n_points: int, seed: int = 0, bad_every: int = 4) -> None:
        import random

        self._n = n_points
        self._rng = random.Random(seed)
        self._bad_every = bad_every
        self._count = 0

    @property
    def model(self) -> str:
        return "scripted-optimizer"

    def complete(self, requests, cancel=None):  # type: ignore[no-untyped-def]
        from opro_gui.core.models import CallRecord
        from opro_gui.core.ports import LLMResult

        results = []
        for req in requests:
            texts = []
            for _ in range(req.n):
                self._count += 1
                if self._bad_every and self._count % self._bad_every == 0:
                    texts.append("I cannot find a better tour.")
                    continue
                rest = list(range(1, self._n))
                self._rng.shuffle(rest)
                texts.append("<trace> " + ",".join(map(str, [0, *rest])) + " </trace>")
            call = CallRecord(role=req.role, model_requested=self.model, model_reported=self.model)
            results.append(LLMResult(texts=tuple(texts), call=call))
        return results


def make_tsp_project(
    path: Path, *, n_points: int = 7, steps: int = 3, samples: int = 4, base_url: str = ""
) -> Path:
    """A real project file with one TSP run of ``steps`` optimization steps."""
    from opro_gui.core.models import RunSettings
    from opro_gui.llm import EndpointConfig
    from opro_gui.problems.tsp import TSPProblem
    from opro_gui.services import ProjectSession

    spec = TSPProblem.generate(n_points, seed=3).to_spec()
    endpoint = EndpointConfig(base_url=base_url or "http://127.0.0.1:9/v1", model="fake-optimizer")
    settings = RunSettings(max_steps=steps, samples_per_step=samples, stop_at_optimum=False)
    with ProjectSession.create(path, "tsp", spec) as session:
        run_id = session.prepare_run(settings, endpoint)
        engine = session.engine(run_id, optimizer=ScriptedOptimizer(n_points))
        for _ in engine.events():
            pass
    return path


class ScriptedPromptModel:
    """Optimizer and scorer in one: proposes numbered instructions (no digits: spelled out)
    and answers arithmetic questions "what is A plus B" right when the instruction says
    "carefully", wrong otherwise."""

    WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

    def __init__(self) -> None:
        self._proposed = 0

    @property
    def model(self) -> str:
        return "scripted-prompt-model"

    def complete(self, requests, cancel=None):  # type: ignore[no-untyped-def]
        import re

        from opro_gui.core.models import CallRecord
        from opro_gui.core.ports import LLMResult

        results = []
        for req in requests:
            if req.role == "optimizer":
                texts = []
                for _ in range(req.n):
                    word = self.WORDS[self._proposed % len(self.WORDS)]
                    self._proposed += 1
                    texts.append(f"<INS>Add the numbers carefully, attempt {word}.</INS>")
            else:
                m = re.search(r"what is (\d+) plus (\d+)", req.prompt)
                total = int(m.group(1)) + int(m.group(2)) if m else 0
                right = "carefully" in req.prompt
                texts = [f"The answer is {total if right else total + 1}."]
            call = CallRecord(role=req.role, model_requested=self.model, model_reported=self.model)
            results.append(LLMResult(texts=tuple(texts), call=call))
        return results


def make_prompt_project(path: Path, *, steps: int = 2, samples: int = 2) -> Path:
    """A real prompt-optimization project with per-example scorer records."""
    from opro_gui.core.models import RunSettings
    from opro_gui.llm import EndpointConfig
    from opro_gui.services import ProjectSession

    examples = [
        {"input": f"what is {i} plus {i + 1}?", "target": str(2 * i + 1)} for i in range(12)
    ]
    spec = {
        "examples": examples,
        "train_ratio": 0.5,
        "task_name": "toy_sum",
        "task_type": "numeric",
    }
    endpoint = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="scripted-prompt-model")
    settings = RunSettings(max_steps=steps, samples_per_step=samples)
    model = ScriptedPromptModel()
    with ProjectSession.create(path, "prompt", spec) as session:
        run_id = session.prepare_run(settings, endpoint)
        for _ in session.engine(run_id, optimizer=model, scorer=model).events():
            pass
    return path
