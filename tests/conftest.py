"""Shared fixtures: offscreen Qt, isolated settings, the suite's OpenAI-compatible server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never let a developer's real key or endpoint leak into a test.
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

sys.path.insert(0, str(Path(__file__).parent))

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
