"""Smoke test of the frozen bundle: the opro CLI end to end against a local server, then opro-gui offscreen.

Run after ``packaging/build.sh``::

    python packaging/smoke_test.py [--bundle packaging/dist/opro-studio]

The CLI part creates a TSP project (``opro new tsp``), optimizes it (``opro run``) against
``tests/openai_server.py`` on 127.0.0.1 answering with a scripted 2-opt optimizer
(``tests/scripted_models.py``), and reads it back (``opro show --json``). The GUI part opens that
project with ``opro-gui PATH.opro`` on the offscreen platform, asks the app to quit by itself
(``--quit-after``; ``OPRO_SMOKE_TEST=1`` asks it to print MAIN_WINDOW_SHOWN once the main window
is up) and fails on any Qt plugin or import error in its output. Exit status 0 means all passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from openai_server import FakeOpenAIServer  # noqa: E402
from scripted_models import two_opt_optimizer  # noqa: E402

DEFAULT_BUNDLE = ROOT / "packaging" / "dist" / "opro-studio"
SHOWN = "MAIN_WINDOW_SHOWN"
# Output that means the bundle is missing a module, a library or a Qt plugin.
BAD_OUTPUT = (
    "Could not load the Qt platform plugin",
    "qt.qpa.plugin",
    "Cannot load library",
    "Could not find the Qt platform plugin",
    "ModuleNotFoundError",
    "ImportError",
    "No module named",
    "Failed to execute script",
    "Traceback (most recent call last)",
)


class SmokeFailure(Exception):
    pass


def clean_env(home: Path) -> dict[str, str]:
    """Nothing from the developer's Python or desktop leaks into the frozen apps."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "QT_", "OPENAI_", "VIRTUAL_ENV", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        OPENAI_API_KEY="sk-smoke-test-not-a-real-key",
        OPRO_SMOKE_TEST="1",
    )
    (home / "runtime").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def run(
    cmd: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - start
    print(f"$ {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}  [{took:.1f} s]")
    bad = [b for b in BAD_OUTPUT if b in proc.stderr or b in proc.stdout]
    if proc.returncode != 0 or bad:
        raise SmokeFailure(
            f"{cmd[0]} exited {proc.returncode}; suspicious output: {bad}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def check_cli(opro: Path, project: Path, env: dict[str, str], steps: int) -> dict[str, Any]:
    from opro_gui import __version__

    out = run([str(opro), "--version"], env).stdout
    if __version__ not in out:
        raise SmokeFailure(f"opro --version said {out!r}, expected {__version__}")
    run([str(opro), "new", "tsp", str(project), "--points", "10", "--seed", "1"], env)
    if not project.is_file():
        raise SmokeFailure(f"opro new did not create {project}")
    with FakeOpenAIServer(two_opt_optimizer) as server:
        cmd = [str(opro), "run", str(project), "--steps", str(steps)]
        cmd += ["--base-url", server.base_url, "--model", "fake-optimizer"]
        run(cmd, env)
        requests = server.stats.requests
    if requests == 0:
        raise SmokeFailure("opro run never reached the test server")
    shown: dict[str, Any] = json.loads(run([str(opro), "show", str(project), "--json"], env).stdout)
    runs = shown.get("runs") or []
    if shown.get("kind") != "tsp" or not runs:
        raise SmokeFailure(f"opro show --json has no TSP run: {shown}")
    last: dict[str, Any] = runs[-1]
    if not last.get("steps_completed") or sorted(last.get("best_solution") or []) != list(
        range(10)
    ):
        raise SmokeFailure(f"run did not complete a step with a valid tour: {last}")
    print(
        f"  CLI: {last['steps_completed']} steps, {requests} server requests, "
        f"best {last.get('best_score')} vs optimum {last.get('optimal_length')} "
        f"(gap {last.get('gap_percent')}%), status {last.get('status')}"
    )
    return last


def check_gui(gui: Path, project: Path, env: dict[str, str], quit_after_ms: int) -> bool:
    proc = run([str(gui), str(project), "--quit-after", str(quit_after_ms)], env, timeout=90)
    shown = SHOWN in proc.stdout
    print(f"  GUI: exited 0, clean stderr, {SHOWN} {'printed' if shown else 'NOT printed'}")
    return shown


class Xvfb:
    """A private X server, so the GUI can also be checked on the real xcb platform plugin."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.display = f":{pipe.readline().strip()}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def check_gui_xcb(gui: Path, project: Path, env: dict[str, str], quit_after_ms: int) -> None:
    server = Xvfb()
    try:
        xenv = dict(env, QT_QPA_PLATFORM="xcb", DISPLAY=server.display)
        run([str(gui), str(project), "--quit-after", str(quit_after_ms)], xenv, timeout=90)
        print(f"  GUI on xcb (Xvfb {server.display}): exited 0, clean stderr")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quit-after", type=int, default=1000, help="ms before the GUI quits")
    parser.add_argument(
        "--allow-not-shown",
        dest="require_shown",
        action="store_false",
        help=f"do not fail when the GUI does not print {SHOWN} (builds older than 0.1.0)",
    )
    parser.add_argument(
        "--xvfb",
        action="store_true",
        help="also run the GUI on the xcb plugin under Xvfb (needs xvfb and libxcb-cursor0)",
    )
    args = parser.parse_args(argv)
    exe = ".exe" if sys.platform == "win32" else ""
    opro, gui = args.bundle / f"opro{exe}", args.bundle / f"opro-gui{exe}"
    for path in (opro, gui):
        if not path.is_file():
            print(f"SMOKE TEST FAILED: {path} not found; run packaging/build.sh first")
            return 1
    with tempfile.TemporaryDirectory(prefix="opro-smoke-") as tmp:
        home = Path(tmp)
        env = clean_env(home)
        project = home / "smoke.opro"
        try:
            check_cli(opro, project, env, args.steps)
            shown = check_gui(gui, project, env, args.quit_after)
            if args.require_shown and not shown:
                raise SmokeFailure(f"opro-gui did not print {SHOWN}")
            if args.xvfb:
                check_gui_xcb(gui, project, env, args.quit_after)
        except (SmokeFailure, subprocess.TimeoutExpired) as exc:
            print(f"SMOKE TEST FAILED: {exc}")
            return 1
    print("SMOKE TEST PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
