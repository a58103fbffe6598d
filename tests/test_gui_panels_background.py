"""background.call_in_background: results and errors arrive in the GUI thread; cancel; no leaks."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from opro_gui.core.cancel import CancelToken
from opro_gui.gui.background import active_calls, call_in_background

pytestmark = pytest.mark.usefixtures("no_thread_left")

from gui_helpers import no_thread_left  # noqa: E402,F401


def _worker_thread_name(x: int) -> tuple[int, str]:
    return x * 2, threading.current_thread().name


def test_result_arrives_in_gui_thread(qtbot):
    got: list[object] = []
    seen_thread: list[object] = []

    def on_done(value):
        got.append(value)
        seen_thread.append(QThread.currentThread())

    main = QThread.currentThread()
    handle = call_in_background(_worker_thread_name, 21, on_done=on_done)
    qtbot.waitUntil(lambda: bool(got))
    value, worker_name = got[0]
    assert value == 42
    assert worker_name != threading.main_thread().name  # fn ran elsewhere
    assert seen_thread[0] is main  # callback ran in the GUI thread
    assert not handle.is_running()
    assert not active_calls()


def test_exception_goes_to_on_error(qtbot):
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad endpoint")

    call_in_background(
        boom, on_done=lambda v: pytest.fail("on_done called"), on_error=errors.append
    )
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad endpoint"


def test_cancel_sets_token_and_drops_callbacks(qtbot):
    started = threading.Event()
    token = CancelToken()
    called: list[object] = []

    def slow(tok: CancelToken) -> str:
        started.set()
        tok.wait(30)  # returns as soon as the token is cancelled
        return "late"

    handle = call_in_background(slow, token, on_done=called.append, cancel_token=token)
    assert started.wait(5)
    assert handle.cancel(wait_ms=5000)
    assert token.cancelled
    qtbot.wait(0)  # let any queued delivery run: it must be dropped
    assert called == []
    assert not active_calls()


def test_parent_destroyed_cancels(qtbot):
    release = threading.Event()
    called: list[object] = []
    parent = QWidget()
    handle = call_in_background(lambda: release.wait(5), on_done=called.append, parent=parent)
    parent.deleteLater()
    qtbot.waitUntil(lambda: handle.cancelled)
    release.set()
    assert handle.wait(5000)
    qtbot.wait(0)
    assert called == []


def test_many_calls_all_delivered(qtbot):
    got: list[int] = []
    owner = QObject()
    for i in range(8):
        call_in_background(lambda i=i: i * i, on_done=got.append, parent=owner)
    qtbot.waitUntil(lambda: len(got) == 8)
    assert sorted(got) == [i * i for i in range(8)]


def test_finished_call_is_released_while_parent_lives(qtbot):
    import gc
    import weakref

    owner = QObject()
    got: list[int] = []
    handle = call_in_background(lambda: 7, on_done=got.append, parent=owner)
    qtbot.waitUntil(lambda: got == [7])
    ref = weakref.ref(handle)
    del handle
    # A delivered call is freed at the next start, never inside its own delivery.
    nxt = call_in_background(lambda: 8, on_done=got.append, parent=owner)
    gc.collect()
    assert ref() is None  # the parent's destroyed connection holds no strong reference
    qtbot.waitUntil(lambda: got == [7, 8])
    assert not nxt.is_running()
