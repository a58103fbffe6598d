"""The desktop entry point ``opro-gui``: builds the QApplication and the main window, opens an
optional project given on the command line; ``--quit-after MS`` for smoke tests."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence


def freeze_startup_objects() -> None:
    """Leave what start-up made (modules, classes, the window's widgets: ~150,000 objects that
    live as long as the app) out of every later garbage collection. A full collection, run in
    the GUI thread on the collector's timer, then scans only what came since: ~0.5 ms instead
    of 50-100 ms of frozen window."""
    gc.collect()
    gc.freeze()


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="opro-gui", description="OPRO Studio desktop app")
    parser.add_argument("project", nargs="?", help="a .opro project file to open")
    parser.add_argument(
        "--quit-after",
        type=int,
        metavar="MS",
        default=None,
        help="quit after MS milliseconds (smoke tests)",
    )
    parser.add_argument("--example", default=None, help="open an example project by name")
    return parser.parse_args(list(argv))


GUI_SWITCH_INTERVAL_S = 0.001


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from PySide6.QtCore import QLibraryInfo, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from opro_gui import __version__
    from opro_gui.gui import settings
    from opro_gui.gui.main_window import MainWindow

    # Background reads run Python in worker threads: hand the GIL back to the GUI thread
    # sooner than the 5 ms default, so a busy worker never shows as a stalled window.
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    existing = QApplication.instance()
    if existing is None:
        from pathlib import Path

        from opro_gui.gui.platform_check import display_error_line, platform_problem

        plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
        problem = platform_problem(plugins)
        if problem:
            print(display_error_line(problem), file=sys.stderr)
            return 1
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication(sys.argv[:1] or ["opro-gui"])
    )
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.opro_studio.OproStudio")
    try:
        from opro_gui.paths import app_icon_paths

        icon = QIcon()
        for p in app_icon_paths():
            if p.is_file():
                icon.addFile(str(p))
        app.setWindowIcon(icon)
    except (FileNotFoundError, ImportError):
        pass
    # Collect garbage only in the GUI thread, on a timer: a collection triggered in a worker
    # thread (the run, background calls) could otherwise delete Qt objects there.
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)
    window = MainWindow()
    window.show()
    freeze_startup_objects()
    if args.project:
        window.open_project(args.project)
    elif args.example:
        window.open_example(args.example)
    if os.environ.get("OPRO_SMOKE_TEST") == "1":
        # The packaging smoke test reads this line to know the window really came up.
        QTimer.singleShot(
            0,
            lambda: (
                window.isVisible() and print("MAIN_WINDOW_SHOWN", window.windowTitle(), flush=True)
            ),
        )
    if args.quit_after is not None:
        # One timer: nothing of ours may fire after exec() has returned.
        QTimer.singleShot(max(0, args.quit_after), lambda: (window.close(), app.quit()))
    code = int(app.exec())
    collector.timer.stop()
    from opro_gui.gui.worker import Worker

    if not Worker.quit_all(2000):
        # A job is still inside a call that ignores cancellation (a long read, a model
        # request). Destroying its thread would abort the process, and every completed step
        # is already on disk: leave without tearing the interpreter down.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
