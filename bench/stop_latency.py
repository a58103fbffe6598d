"""How long Ctrl-C (CLI) and Stop (GUI) take to end a run whose scorer is slow to answer.

Run: ``python bench/stop_latency.py [--trials 3]``. The suite's real server holds every scorer
answer for a minute; once the first scorer request has arrived, the bench sends one SIGINT to
an ``opro run`` process (from the signal to the process's exit) or presses Stop in an offscreen
main window (from ``stop_run()`` to the run's end being reported). Prints the seconds of each
trial, the worst against the 2 s promise, and each against a baseline measured in the same
run: the same ``opro run`` refused at once (process start-up and exit). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from openai_server import FakeOpenAIServer  # noqa: E402
from scripted_models import SLOW_ANSWER_S, SlowScorer  # noqa: E402

OPRO = [sys.executable, "-m", "opro_gui"]
PROMISE_S = 2.0


def _project(folder: Path, env: dict[str, str]) -> Path:
    data = folder / "d.csv"
    data.write_text("input,target\n" + "".join(f"q{i},yes\n" for i in range(8)), "utf-8")
    out = folder / "p.opro"
    cmd = [*OPRO, "new", "prompt", str(out), "--dataset", str(data)]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return out


def _run_cmd(project: Path, base_url: str) -> list[str]:
    return [*OPRO, "run", str(project), "--steps", "3", "--base-url", base_url,
            "--optimizer-model", "opt", "--scorer-model", "sc", "--no-model-check",
            "--timeout", str(SLOW_ANSWER_S * 3)]  # fmt: skip


def cli_baseline(folder: Path, env: dict[str, str]) -> float:
    """Start-up and exit of the same command refused at once (an option out of range)."""
    project = _project(folder, env)
    t0 = time.perf_counter()
    cmd = [*_run_cmd(project, "http://127.0.0.1:9/v1"), "--samples", "0"]
    subprocess.run(cmd, env=env, capture_output=True)
    return time.perf_counter() - t0


def cli_ctrl_c(folder: Path, env: dict[str, str]) -> tuple[float, str]:
    project = _project(folder, env)
    scorer = SlowScorer(quick=0)
    with FakeOpenAIServer(scorer) as srv:
        proc = subprocess.Popen(_run_cmd(project, srv.base_url), env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        try:
            if not scorer.arrived.wait(120):
                return float("nan"), "the scorer was never asked"
            t0 = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            out, _err = proc.communicate(timeout=SLOW_ANSWER_S * 2)
            took = time.perf_counter() - t0
        finally:
            scorer.release.set()
            if proc.poll() is None:
                proc.kill()
    said = out.strip().splitlines()[-1] if out.strip() else ""
    return took, f"exit {proc.returncode}: {said[:60]}"


def _wait(app: Any, until: Callable[[], bool], limit_s: float) -> bool:
    end = time.monotonic() + limit_s
    while not until():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.001)  # a bench loop, not a test: poll the event loop
    return True


def gui_stop(folder: Path) -> tuple[float, str]:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from opro_gui.core.models import RunSettings
    from opro_gui.gui import settings
    from opro_gui.gui.main_window import MainWindow
    from opro_gui.gui.widgets import shell_projects

    app = QApplication.instance() or QApplication([])
    QMessageBox.warning = staticmethod(lambda *a, **k: 0)  # type: ignore[method-assign]
    settings.set_settings_dir(folder / "settings")
    examples = folder / "examples"  # a fresh copy of the example, not the user's own
    shell_projects.user_examples_dir = lambda: examples  # type: ignore[assignment]
    scorer = SlowScorer(quick=1)
    with FakeOpenAIServer(scorer) as srv:
        profile = {"base_url": srv.base_url, "model": "m", "preset": "Custom",
                   "timeout": SLOW_ANSWER_S * 3}  # fmt: skip
        settings.save_profiles({"slow": profile})
        settings.set_role_profile("optimizer", "slow")
        settings.set_role_profile("scorer", "slow")
        win = MainWindow()
        finished: list[Any] = []
        win.controller.run_finished.connect(finished.append)
        try:
            stem = next(
                s for s, (_l, k) in shell_projects.example_catalog().items() if k == "prompt"
            )
            win.open_example(stem)
            _wait(app, lambda: not win.document.is_loading, 30)
            win.start_run(RunSettings(max_steps=3, samples_per_step=2))
            if not _wait(app, scorer.arrived.is_set, 120):
                return float("nan"), "the scorer was never asked"
            t0 = time.perf_counter()
            win.stop_run()
            ended = _wait(app, lambda: bool(finished) and not win.controller.is_running, 90)
            took = time.perf_counter() - t0
            said = f"{finished[0].status} ({finished[0].cause})" if finished else "no end"
            return took, said if ended else f"not ended: {said}"
        finally:
            scorer.release.set()
            win.controller.shutdown()
            win.close()
            win.deleteLater()
            app.processEvents()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=3)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "base").mkdir()
        base = cli_baseline(root / "base", env)
        print(f"baseline: `opro run` refused at once (start-up + exit) {base:.2f} s")
        for name, trial in (("CLI Ctrl-C", lambda d: cli_ctrl_c(d, env)), ("GUI Stop", gui_stop)):
            worst = 0.0
            for i in range(args.trials):
                folder = root / f"{name[:3]}{i}"
                folder.mkdir()
                took, said = trial(folder)
                worst = max(worst, took)
                print(
                    f"{name:10s} trial {i + 1}: {took:6.2f} s  {took / base:5.2f}x baseline  -> {said}"
                )
            print(f"{name:10s} worst {worst:.2f} s = {worst / PROMISE_S:.2f}x the {PROMISE_S:g} s promise "
                  f"(the scorer's answer would have taken {SLOW_ANSWER_S:g} s)")  # fmt: skip


if __name__ == "__main__":
    main()
