"""Renders the README screenshots offscreen: the main window mid-run on TSP (dashboard, plot
and leaderboard), a prompt run with its leaderboard, and the history with a stored replay.
Talks to the test suite's OpenAI-compatible server with scripted models (2-opt moves on the
best tour it is shown; instructions of fixed quality and a scorer that follows them), so no
model or key is needed.

    python resources/screenshots/make_screenshots.py [--out resources/screenshots] [--dark]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENAI_API_KEY", "sk-screenshot-not-a-real-key")

_TRACE = re.compile(r"<trace>\s*([0-9,\s]+?)\s*</trace>")
SIZE = (1600, 1000)


class TwoOptOptimizer:
    """Answers like a decent optimizer: a random 2-opt move on the best tour in the prompt;
    now and then a malformed answer, as real models give."""

    def __init__(self, seed: int = 4) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        self.gate.wait(60)
        with self._lock:
            self.calls += 1
            rng = self._rng
            traces = _TRACE.findall(prompt)
            tour = [int(t) for t in traces[-1].split(",")]  # shown worst first: last is best
            if rng.random() < 0.08:
                return "I think the following trace is shorter: 0 -> 3 -> ..."
            for _ in range(rng.choice((1, 1, 2))):
                i, j = sorted(rng.sample(range(1, len(tour)), 2))
                tour[i : j + 1] = reversed(tour[i : j + 1])
        return "<trace> " + ",".join(map(str, tour)) + " </trace>"


#: The scripted prompt optimizer's instructions: a way to work (with a made-up quality, how
#: often a scorer following it answers right) and a finishing touch that adds or costs a bit.
#: The initial instruction gets 0.55.
_WAYS = {
    "Evaluate the innermost parentheses first, then apply not, and, or in that order.": 0.84,
    "Work from the inside out: replace each parenthesised part by its value.": 0.8,
    "Simplify step by step; remember that not binds tighter than and and or.": 0.76,
    "Rewrite the expression with 1 and 0, compute it, and map the result back.": 0.7,
    "Read the expression left to right and keep a running value.": 0.62,
    "Count the True literals and answer True when there are more of them.": 0.52,
    "Guess quickly; the answer is usually True.": 0.45,
}
_TOUCHES = {
    "": 0.0,
    " Check your result once before answering.": 0.05,
    " Answer with True or False only.": 0.02,
    " Be quick.": -0.06,
}
INSTRUCTIONS = {w + t: q + d for w, q in _WAYS.items() for t, d in _TOUCHES.items()}
_INS_TAG = re.compile(r"<INS>(.*?)</INS>", re.S)


class PromptModels:
    """Optimizer and scorer of a boolean-expressions prompt run: the optimizer proposes one of
    INSTRUCTIONS it has not shown yet (then repeats), the scorer answers each question right
    with the instruction's quality (decided by a hash: the same answer every time)."""

    def __init__(self, examples: list[dict[str, str]]) -> None:
        self._inputs = sorted((e["input"] for e in examples), key=len, reverse=True)
        self._rng = random.Random(11)
        self._lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        import hashlib

        if float(body.get("temperature") or 0) > 0:  # the optimizer samples at temperature 1
            self.gate.wait(60)
            with self._lock:
                fresh = [i for i in INSTRUCTIONS if i not in prompt] or list(INSTRUCTIONS)
                return f"<INS>{self._rng.choice(fresh)}</INS>"
        question = next((q for q in self._inputs if q in prompt), "")
        truth = _boolean(question)
        shown = max((k for k in INSTRUCTIONS if k in prompt), key=len, default="")
        quality = INSTRUCTIONS.get(shown, 0.55)
        digest = hashlib.sha256(f"{question}|{quality}".encode()).digest()
        right = digest[0] / 256 < quality
        return f"The answer is {truth if right else not truth}."


def _boolean(question: str) -> bool:
    """The value of a boolean_expressions question ("( True and not False ) is")."""
    words = question.removesuffix(" is").replace("(", " ( ").replace(")", " ) ").split()
    allowed = {"True", "False", "and", "or", "not", "(", ")"}
    if not words or not set(words) <= allowed:
        return True
    return bool(eval(" ".join(words), {"__builtins__": {}}, {}))  # noqa: S307 (checked words)


def _framed(pixmap: Any, title: str) -> Any:
    """An offscreen dialog has no window decoration: draw a title bar, border and shadow."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

    bar, pad = 30, 8
    out = QPixmap(pixmap.width() + 2 * pad, pixmap.height() + bar + 2 * pad)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    for i in range(pad, 0, -1):  # soft shadow
        p.fillRect(
            QRect(
                pad - i + 3,
                pad - i + 5,
                pixmap.width() + 2 * i - 6,
                pixmap.height() + bar + 2 * i - 6,
            ),
            QColor(0, 0, 0, 10),
        )
    p.fillRect(QRect(pad, pad, pixmap.width(), bar), QColor("#3b4252"))
    p.setPen(QColor("#eceff4"))
    font = QFont("DejaVu Sans", 10)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRect(pad + 12, pad, pixmap.width() - 24, bar), Qt.AlignmentFlag.AlignVCenter, title)
    p.drawPixmap(pad, pad + bar, pixmap)
    p.setPen(QColor("#3b4252"))
    p.drawRect(QRect(pad, pad, pixmap.width() - 1, pixmap.height() + bar - 1))
    p.end()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--dark", action="store_true", help="also render the dark theme")
    args = ap.parse_args()

    from openai_server import FakeOpenAIServer
    from PySide6.QtCore import QEventLoop, QPoint, QTimer
    from PySide6.QtGui import QFont, QPainter
    from PySide6.QtWidgets import QApplication

    from opro_gui.core.models import RunSettings
    from opro_gui.gui import settings
    from opro_gui.gui.main_window import MainWindow
    from opro_gui.problems.tsp import TSPProblem
    from opro_gui.services import ProjectSession

    tmp = Path(tempfile.mkdtemp(prefix="opro-shots-"))
    settings.set_settings_dir(tmp / "settings")
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("OPRO Studio")
    app.setFont(QFont("DejaVu Sans", 9))
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)  # as in opro_gui.app: GC in the GUI thread only
    optimizer = TwoOptOptimizer()
    server = FakeOpenAIServer(optimizer, models=("gpt-4o-mini", "llama3.1:8b")).start()
    settings.save_profiles(
        {"OpenAI": {"base_url": server.base_url, "model": "gpt-4o-mini", "preset": "OpenAI"}}
    )
    settings.set_role_profile("optimizer", "OpenAI")
    settings.set_role_profile("scorer", "OpenAI")
    project = tmp / "tsp-25-cities.opro"
    ProjectSession.create(project, "tsp", TSPProblem.generate(25, 1).to_spec()).close()
    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    themes = ["light", "dark"] if args.dark else ["light"]
    for theme in themes:
        settings.set_theme(theme)
        win = MainWindow()
        win.resize(*SIZE)
        win.show()
        win.open_project(project)
        win.apply_layout("watch")  # View ▸ Layout ▸ Watch: the run view the full width
        freeze_at = 30 if theme == "light" else 45
        optimizer.gate.set()

        def on_step(event: Any, freeze_at: int = freeze_at) -> None:
            if event.record.step == freeze_at:
                optimizer.gate.clear()  # the next request waits: the run is frozen mid-flight

        win.controller.step_completed.connect(on_step)
        win.start_run(RunSettings(max_steps=60, samples_per_step=8, stop_at_optimum=False))
        loop = QEventLoop()
        win.controller.step_completed.connect(
            lambda ev, f=freeze_at, lp=loop: lp.quit() if ev.record.step == f else None
        )
        loop.exec()
        wait(400)  # coalesced redraws and the history refresh land
        win.run_view.tabs.setCurrentWidget(win.run_view.score_plot)
        path = args.out / f"main-window-tsp-running{'-dark' if theme == 'dark' else ''}.png"
        win.grab().save(str(path))
        written.append(path)
        win.run_view.tabs.setCurrentWidget(win.run_view.domain_view)
        wait(100)
        path = args.out / f"tsp-tour{'-dark' if theme == 'dark' else ''}.png"
        win.grab().save(str(path))
        written.append(path)
        finished = QEventLoop()
        win.controller.running_changed.connect(
            lambda running, lp=finished: lp.quit() if not running else None
        )
        win.stop_run()
        optimizer.gate.set()
        finished.exec()
        win.close()

    # A prompt run on boolean_expressions, frozen mid-run: dashboard and leaderboard.
    from opro_gui.gui.widgets.shell_projects import prompt_spec

    spec = prompt_spec("boolean_expressions")
    models = PromptModels(spec["examples"])
    prompt_server = FakeOpenAIServer(models, models=("gpt-4o-mini",)).start()
    settings.save_profiles(
        {"OpenAI": {"base_url": prompt_server.base_url, "model": "gpt-4o-mini", "preset": "OpenAI"}}
    )
    prompt_project = tmp / "boolean-expressions.opro"
    ProjectSession.create(prompt_project, "prompt", spec).close()
    settings.set_theme("light")
    win = MainWindow()
    win.resize(*SIZE)
    win.show()
    win.open_project(prompt_project)
    win.apply_layout("watch")
    freeze = 6

    def on_prompt_step(event: Any) -> None:
        if event.record.step == freeze:
            models.gate.clear()

    win.controller.step_completed.connect(on_prompt_step)
    win.start_run(RunSettings(max_steps=10, samples_per_step=4, stop_at_optimum=False))
    loop = QEventLoop()
    win.controller.step_completed.connect(
        lambda ev, lp=loop: lp.quit() if ev.record.step == freeze else None
    )
    win.controller.running_changed.connect(  # never wait for a step a stopped run will not make
        lambda running, lp=loop: lp.quit() if not running else None
    )
    loop.exec()
    wait(400)
    win.run_view.tabs.setCurrentWidget(win.run_view.score_plot)
    path = args.out / "main-window-prompt-leaderboard.png"
    win.grab().save(str(path))
    written.append(path)
    finished = QEventLoop()
    win.controller.running_changed.connect(
        lambda running, lp=finished: lp.quit() if not running else None
    )
    win.stop_run()
    models.gate.set()
    finished.exec()
    win.close()
    prompt_server.stop()
    settings.save_profiles(
        {"OpenAI": {"base_url": server.base_url, "model": "gpt-4o-mini", "preset": "OpenAI"}}
    )

    # The history with a replay: re-send a step's meta-prompt, then show it.
    with ProjectSession.open(project) as session:
        run_id = session.latest_run_id()
        assert run_id is not None
        session.replay(run_id, 12, samples=4)
    settings.set_theme("light")
    win = MainWindow()
    win.resize(*SIZE)
    win.show()
    win.open_project(project)
    win.apply_layout("inspect")  # View ▸ Layout ▸ Inspect: the history most of the window
    history = win.history
    if history is None:
        print("history panel not available: only the main-window screenshots were made")
    else:
        win._docks["history"].raise_()
        history.select_candidate(12, 0)
        from opro_gui.gui.widgets.replay import ReplayDialog

        dialog = ReplayDialog(project, run_id, 12, settings.load_profiles(), parent=win)
        dialog.resize(980, 680)
        dialog.show()
        if dialog.replays_list.count():
            dialog.replays_list.setCurrentRow(0)
        wait(400)
        shot = win.grab()
        framed = _framed(dialog.grab(), dialog.windowTitle())
        painter = QPainter(shot)
        painter.drawPixmap(QPoint(shot.width() - framed.width() - 24, 40), framed)
        painter.end()
        path = args.out / "history-with-replay.png"
        shot.save(str(path))
        written.append(path)
        dialog.close()
    win.close()
    server.stop()
    for p in written:
        print(p)
    collector.timer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
