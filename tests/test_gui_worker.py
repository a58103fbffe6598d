"""gui.worker.Worker: results, values and errors arrive in the GUI thread; quit; no leaks."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from opro_gui.core.cancel import CancelToken
from opro_gui.gui.worker import Worker, run_in_background


def _worker_thread_name(x: int) -> tuple[int, str]:
    return x * 2, threading.current_thread().name


def test_result_arrives_in_gui_thread(qtbot):
    got: list[object] = []
    seen_thread: list[object] = []

    def on_done(value):
        got.append(value)
        seen_thread.append(QThread.currentThread())

    main = QThread.currentThread()
    handle = run_in_background(_worker_thread_name, 21, on_done=on_done)
    with qtbot.waitSignal(handle.job_ended):
        pass
    value, worker_name = got[0]
    assert value == 42
    assert worker_name != threading.main_thread().name  # fn ran elsewhere
    assert seen_thread[0] is main  # callback ran in the GUI thread
    assert not handle.is_running()
    assert not Worker.active()


def test_generator_values_then_result_then_end_in_order(qtbot):
    def count(n: int):
        yield from range(n)
        return "done"

    seen: list[object] = []
    worker = Worker(count, 4)
    worker.value_yielded.connect(lambda v: seen.append(("value", v)))
    worker.job_returned.connect(lambda v: seen.append(("returned", v)))
    worker.job_ended.connect(lambda: seen.append("ended"))
    with qtbot.waitSignal(worker.job_ended):
        worker.start()
    assert seen == [
        ("value", 0),
        ("value", 1),
        ("value", 2),
        ("value", 3),
        ("returned", "done"),
        "ended",
    ]


def test_quit_stops_a_generator_between_values(qtbot):
    gate = threading.Event()
    entered = threading.Event()
    closed = threading.Event()

    def endless():
        entered.set()
        try:
            i = 0
            while True:
                gate.wait(5)
                yield i
                i += 1
        finally:
            closed.set()

    seen: list[object] = []
    worker = Worker(endless)
    worker.value_yielded.connect(seen.append)
    worker.start()
    assert entered.wait(5)
    assert worker.quit(wait_ms=0) is False  # still inside gate.wait
    gate.set()
    assert worker.wait(5000)
    assert closed.is_set()  # the generator was closed, its cleanup ran
    qtbot.waitUntil(lambda: not worker.is_running())
    assert seen == []  # nothing is delivered after quit()


def test_exception_goes_to_job_failed(qtbot):
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad endpoint")

    run_in_background(boom, on_done=lambda v: pytest.fail("on_done called"), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad endpoint"


def test_quit_sets_token_and_drops_callbacks(qtbot):
    started = threading.Event()
    token = CancelToken()
    called: list[object] = []

    def slow(tok: CancelToken) -> str:
        started.set()
        tok.wait(30)  # returns as soon as the token is cancelled
        return "late"

    handle = run_in_background(slow, token, on_done=called.append, token=token)
    assert started.wait(5)
    assert handle.quit(wait_ms=5000)
    assert token.cancelled
    qtbot.waitUntil(lambda: not handle.is_running())  # the end is still reported
    assert called == []
    assert not Worker.active()


def test_owner_destroyed_quits(qtbot):
    release = threading.Event()
    called: list[object] = []
    owner = QWidget()
    handle = run_in_background(lambda: release.wait(5), on_done=called.append, owner=owner)
    assert handle.parent() is owner  # the owner holds the worker, not a module list
    owner.deleteLater()
    qtbot.waitUntil(lambda: handle.quit_requested)
    release.set()
    assert handle.wait(5000)
    assert called == []


def test_many_calls_all_delivered(qtbot):
    got: list[int] = []
    owner = QObject()
    for i in range(8):
        run_in_background(lambda i=i: i * i, on_done=got.append, owner=owner)
    qtbot.waitUntil(lambda: len(got) == 8)
    assert sorted(got) == [i * i for i in range(8)]
    qtbot.waitUntil(lambda: not Worker.active())
    qtbot.waitUntil(lambda: not owner.findChildren(Worker))  # ended workers are deleted


def test_a_job_ignoring_quit_is_detached_not_destroyed(qtbot):
    release = threading.Event()
    owner = QObject()
    worker = run_in_background(lambda: release.wait(10), owner=owner)
    assert not worker.quit(wait_ms=50)  # still blocked
    assert worker.parent() is None  # deleting the owner now cannot abort the process
    del owner
    release.set()
    assert worker.wait(5000)
    qtbot.waitUntil(lambda: not worker.is_running())
