"""GUI-panel test helpers: a fixture that fails a test leaving a QThread running, project builders."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


def running_qthreads() -> list[object]:
    """Every live QThread object (ours or Qt's wrappers) that is still running."""
    from PySide6.QtCore import QThread

    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, QThread) and o.isRunning()]


@pytest.fixture
def no_thread_left(qtbot: object) -> Iterator[None]:
    """Fails the test when a background call or any QThread is still running at teardown."""
    from opro_gui.gui import background

    yield
    left = background.active_calls()
    stopped = background.cancel_all(5000)
    assert not left, f"{len(left)} background call(s) still running at teardown"
    assert stopped
    assert not running_qthreads(), "a QThread is still running at teardown"
