"""A planted API key (environment or OS keyring) never reaches the project file, its WAL,
exports, logs, stored failure reasons or the console — not even when a server echoes it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from scripted_models import two_opt_optimizer

from opro_gui.cli import main
from opro_gui.core.models import RunSettings
from opro_gui.llm import EndpointConfig
from opro_gui.llm.secrets import SERVICE
from opro_gui.services import ProjectSession

ENV_KEY = "sk-planted-ENV-7f3a9c1e5b2d4086"
RING_KEY = "sk-planted-RING-0d9e8c7b6a594837"
# Fragments a careless log line might keep (the distinctive middle of each key).
NEEDLES = [ENV_KEY, RING_KEY, "7f3a9c1e5b2d4086", "0d9e8c7b6a594837"]


class MemoryKeyring(KeyringBackend):
    """A working keyring for the test process (the suite's default backend stores nothing)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def scan_tree(*roots: Path) -> dict[str, list[str]]:
    """Every file under ``roots`` (project, -wal/-shm, exports, settings, logs) with a needle."""
    found = {}
    for root in roots:
        for f in root.rglob("*"):
            if f.is_file():
                text = f.read_bytes().decode("utf-8", "replace")
                if hit := leaks(text):
                    found[str(f)] = hit
    return found


def test_planted_keys_never_written_or_printed(
    tmp_path: Path,
    fake_server,
    ring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, ours and the SDK's, at its most verbose
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.delenv("OPRO_EMPTY_KEY_VAR", raising=False)
    ring.set_password(SERVICE, "paid", RING_KEY)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    console: list[str] = []

    def opro(*args: str) -> int:
        code = main(list(args))
        captured = capsys.readouterr()
        console.extend([captured.out, captured.err])
        return code

    env_project, ring_project = str(out_dir / "env.opro"), str(out_dir / "ring.opro")
    assert opro("new", "tsp", env_project, "--points", "7", "--seed", "1") == 0
    assert opro("new", "tsp", ring_project, "--points", "7", "--seed", "2") == 0

    # 1. The environment key: run, replay, show, history, exports.
    with fake_server(two_opt_optimizer, require_key=ENV_KEY) as srv:
        url = srv.base_url.replace("127.0.0.1", "localhost")  # local, yet the key is sent
        assert opro("run", env_project, "--steps", "2", "--samples", "2", "--base-url", url) in (0,)
        assert opro("replay", env_project, "--step", "1", "--samples", "1", "--base-url", url) == 0
        assert srv.stats.statuses[200] >= 2 and srv.stats.statuses[401] == 0  # the key was used

    # 2. The keyring key, for an endpoint whose env var is empty.
    with fake_server(two_opt_optimizer, require_key=RING_KEY) as srv:
        endpoint = EndpointConfig(
            base_url=srv.base_url,
            model="fake-optimizer",
            api_key_env="OPRO_EMPTY_KEY_VAR",
            keyring_profile="paid",
        )
        with ProjectSession.open(ring_project) as session:
            session.prepare_run(RunSettings(max_steps=1, samples_per_step=2), endpoint)
        assert opro("run", ring_project, "--steps", "2", "--samples", "2") == 0
        assert srv.stats.statuses[200] >= 2 and srv.stats.statuses[401] == 0

    # 3. A server that rejects the key and echoes it back in the 401 message.
    with fake_server(require_key="sk-some-other-key-1234567890", echo_key_in_errors=True) as srv:
        code = opro(
            "run",
            env_project,
            "--steps",
            "3",
            "--new-run",
            "--base-url",
            srv.base_url,
            "--max-retries",
            "0",
        )
        assert code == 1 and srv.stats.statuses[401] >= 1, console[-2:]
        code = opro(
            "run",
            ring_project,
            "--steps",
            "3",
            "--new-run",
            "--base-url",
            srv.base_url,
            "--max-retries",
            "0",
        )
        assert code == 1
    assert "wrong API key" in console[-1]

    for project in (env_project, ring_project):
        assert opro("show", project, "--json") == 0
        assert opro("history", project, "--step", "1", "--run", "1") == 0
        stem = Path(project).stem
        assert opro("export", project, "--format", "json", "-o", str(out_dir / f"{stem}.json")) == 0
        assert opro("export", project, "--format", "csv", "-o", str(out_dir / f"{stem}.csv")) == 0
        with ProjectSession.open(project) as session:
            session.save_as(out_dir / f"{stem}-copy.opro")
            run = session.summary().runs[-1]
            assert run.status == "paused" and "wrong API key" in run.status_reason

    assert '"keyring_profile": "paid"' in Path(ring_project).read_bytes().decode("utf-8", "replace")
    files = sorted(p.name for p in out_dir.iterdir())
    assert {"env.opro", "ring.opro", "env.json", "ring.csv", "ring-copy.opro"} <= set(files)
    assert scan_tree(tmp_path, Path.home()) == {}
    assert leaks("\n".join(console)) == []
    assert leaks(caplog.text) == [], "a key reached a log record"
    assert "HTTP Request" in caplog.text and "request to" in caplog.text  # the logs did run


def test_endpoint_configs_stored_in_a_project_hold_no_key(tmp_path: Path) -> None:
    """Even a config smuggling an ``api_key`` field is stored without it."""
    cfg = EndpointConfig.from_dict(
        {
            "base_url": "https://api.example.com/v1",
            "model": "m",
            "api_key": ENV_KEY,
            "keyring_profile": "paid",
        }
    )
    assert leaks(repr(cfg)) == [] and leaks(str(cfg.to_public_dict())) == []
    path = tmp_path / "p.opro"
    with ProjectSession.create(path, "linreg", {"w_true": 3, "b_true": 4, "seed": 0}) as s:
        s.prepare_run(RunSettings(max_steps=1), cfg)
        assert s.endpoints(1)[0].keyring_profile == "paid"
    assert leaks(path.read_bytes().decode("utf-8", "replace")) == []
