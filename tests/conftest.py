"""Shared fixtures: offscreen Qt, isolated settings, the suite's OpenAI-compatible server."""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never let a developer's real key or endpoint leak into a test.
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

sys.path.insert(0, str(Path(__file__).parent))

from gui_helpers import messages, window  # noqa: E402,F401  (the main-window fixtures)
from openai_server import FakeOpenAIServer  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def fake_server() -> Iterator[type[FakeOpenAIServer]]:
    """Yields the server class; servers started through it are stopped at teardown."""
    started: list[FakeOpenAIServer] = []

    class _Tracked(FakeOpenAIServer):
        def start(self) -> FakeOpenAIServer:
            started.append(self)
            return super().start()

    yield _Tracked
    for srv in started:
        srv.stop()


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QSettings, keyring files and caches go to a temporary home, never the developer's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")


@pytest.fixture(autouse=True)
def model_check_questions(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list:
    """GUI tests: a failed model check asks "Run anyway?" in a modal box; here the question is
    recorded and answered Cancel (a test that wants "Run anyway" patches it itself)."""
    asked: list = []
    if request.module.__name__.startswith("test_gui"):
        from opro_gui.gui.widgets import model_line

        monkeypatch.setattr(model_line, "ask_run_anyway", lambda _p, check: asked.append(check))
    return asked


@pytest.fixture(autouse=True)
def gc_in_gui_thread_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """GUI tests run like the app (pyqtgraph's GarbageCollector): no automatic collection while
    a test runs, so Qt objects are never collected from a worker thread or inside a PySide call
    (seen hanging in a signal disconnect, and deadlocked: a worker thread's collection of an
    earlier test's widget held a Qt mutex the GUI thread needed); one collection at teardown,
    in the GUI thread. Every test with widgets counts, whatever its module's name."""
    gui = request.module.__name__.startswith("test_gui") or "qtbot" in request.fixturenames
    if not gui:
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture(autouse=True)
def no_thread_left_in_gui_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every GUI test fails when it leaves a background job or a QThread running."""
    if not request.module.__name__.startswith("test_gui"):
        yield
        return
    request.getfixturevalue("qtbot")
    yield
    from gui_helpers import assert_no_thread_left

    assert_no_thread_left()


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    """`opro run` installs SIGINT/SIGTERM handlers while it runs (and restores them); a test
    that calls the CLI in-process must not leave them behind for the tests after it."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    changed = [sig.name for sig, old in saved.items() if signal.getsignal(sig) is not old]
    for sig, old in saved.items():
        signal.signal(sig, old)
    assert not changed, f"the test left its own handler for {', '.join(changed)}"
