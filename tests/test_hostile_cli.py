"""`opro` end to end against the malicious server: nothing leaks, nothing blocks saving."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import HostileServer, Hostility
from scripted_models import two_opt_optimizer

from opro_gui.cli import main

REPO = Path(__file__).resolve().parents[1]
OPRO = [sys.executable, "-m", "opro_gui"]
KEY = "sk-planted-SECRET-0123456789abcdef"


@pytest.fixture
def servers() -> Iterator[list[HostileServer]]:
    started: list[HostileServer] = []
    yield started
    for srv in started:
        srv.stop()


def serve(servers: list[HostileServer], hostility: Hostility, responder=two_opt_optimizer):
    srv = HostileServer(hostility, responder)
    srv.start()
    servers.append(srv)
    return srv


def assert_no_key_anywhere(folder: Path, printed: str) -> None:
    pieces = [KEY[i : i + 9] for i in range(len(KEY) - 8)]
    for path in folder.rglob("*"):
        data = path.read_bytes()
        for piece in pieces:
            assert piece.encode() not in data, f"{piece} in {path.name}"
    for piece in pieces:
        assert piece not in printed, piece


@pytest.mark.parametrize(
    "hostility",
    [
        Hostility(echo_key_as_model=True, echo_key_in_completion=True),
        Hostility(echo_key_in_error=172),
        Hostility(echo_key_in_error=280),
    ],
)
def test_a_key_echoed_by_the_server_reaches_no_file_and_no_terminal(
    tmp_path: Path,
    servers: list[HostileServer],
    hostility: Hostility,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    project = tmp_path / "t.opro"
    srv = serve(servers, hostility)
    codes = [
        main(["new", "tsp", str(project), "--points", "8"]),
        main(
            ["run", str(project), "--steps", "2", "--base-url", srv.base_url, "--max-retries", "0"]
        ),  # fmt: skip
        main(["show", str(project)]),
        main(["show", str(project), "--json"]),
        main(["history", str(project), "--step", "0"]),
        main(["export", str(project), "-o", str(tmp_path / "e.json")]),
        main(["export", str(project), "--format", "csv", "-o", str(tmp_path / "e.csv")]),
    ]
    assert srv.stats.auth_headers and all(h == f"Bearer {KEY}" for h in srv.stats.auth_headers)
    assert codes[0] == 0 and codes[2:] == [0] * 5
    out, err = capsys.readouterr()
    assert (tmp_path / "e.json").exists() and (tmp_path / "e.csv").exists()
    assert_no_key_anywhere(tmp_path, out + err + caplog.text)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def show(capsys: pytest.CaptureFixture[str], project: Path) -> dict:
    code, out, _ = run_cli(capsys, "show", str(project), "--json")
    assert code == 0
    return dict(json.loads(out)["runs"][0])


def new_tsp(capsys: pytest.CaptureFixture[str], project: Path) -> Path:
    assert run_cli(capsys, "new", "tsp", str(project), "--points", "8")[0] == 0
    return project


def test_impossible_usage_neither_blocks_saving_nor_defeats_a_budget(
    tmp_path: Path,
    servers: list[HostileServer],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    project = new_tsp(capsys, tmp_path / "t.opro")
    srv = serve(servers, Hostility(usage={"prompt_tokens": 1e30, "completion_tokens": 2**64}))
    code, _, err = run_cli(capsys, "run", str(project), "--steps", "2", "--base-url", srv.base_url)
    assert code == 0, err
    assert "impossible usage" in caplog.text
    run = show(capsys, project)
    assert run["steps_completed"] == 2 and 0 < run["total_tokens"] < 10**7

    negative = new_tsp(capsys, tmp_path / "n.opro")
    srv = serve(servers, Hostility(usage={"prompt_tokens": -(10**9), "completion_tokens": -25}))
    code, _, err = run_cli(capsys, "run", str(negative), "--steps", "50",
                           "--base-url", srv.base_url, "--budget-tokens", "1")  # fmt: skip
    assert code == 1, err
    run = show(capsys, negative)
    assert run["status"] == "paused" and run["total_tokens"] > 0 and run["steps_completed"] < 50


@pytest.mark.parametrize(
    ("hostility", "reason"),
    [
        (Hostility(drip_bytes_per_s=100), "the server sent its answer too slowly"),
        (Hostility(oversize_bytes=1_000_000), "the server's answer is larger than"),
    ],
)
def test_a_drip_or_a_flood_pauses_the_run_with_the_reason(
    tmp_path: Path,
    servers: list[HostileServer],
    capsys: pytest.CaptureFixture[str],
    hostility: Hostility,
    reason: str,
) -> None:
    project = new_tsp(capsys, tmp_path / "t.opro")
    srv = serve(servers, hostility)
    # --no-format-check: the model check would refuse the flood before the run
    code, _, err = run_cli(capsys, "run", str(project), "--steps", "3", "--base-url",
                           srv.base_url, "--timeout", "2", "--max-retries", "3",
                           "--no-format-check")  # fmt: skip
    assert code == 1 and reason in err
    run = show(capsys, project)
    assert run["status"] in ("paused", "failed") and reason in run["status_reason"]
    assert project.stat().st_size < 2_000_000  # nothing of the flood was stored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.opro"]  # no WAL, no part file


def test_half_an_emoji_from_the_server_is_stored_as_a_replacement_character(
    tmp_path: Path, servers: list[HostileServer], capsys: pytest.CaptureFixture[str]
) -> None:
    project = new_tsp(capsys, tmp_path / "t.opro")
    srv = serve(servers, Hostility(surrogate=True))
    code, _, err = run_cli(capsys, "run", str(project), "--steps", "2", "--base-url", srv.base_url)
    assert code == 0, err
    code, _, err = run_cli(capsys, "run", str(project), "--steps", "3", "--base-url", srv.base_url)
    assert code == 0, err
    code, out, _ = run_cli(capsys, "history", str(project), "--step", "1")
    assert code == 0 and "\ufffd" in out


def test_half_an_emoji_in_scorer_answers_neither_fails_the_run_nor_evaluate(
    tmp_path: Path, servers: list[HostileServer], capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("input,target\n" + "".join(f"q{i},{i}\n" for i in range(10)), encoding="utf-8")
    project = tmp_path / "p.opro"
    assert run_cli(capsys, "new", "prompt", str(project), "--dataset", str(data))[0] == 0

    def answer(prompt: str, body: dict) -> str:
        return "<INS>Answer with the number.</INS>" if body["model"] == "opt" else "It is 3"

    srv = serve(servers, Hostility(surrogate=True), responder=answer)
    code, out, err = run_cli(capsys, "run", str(project), "--steps", "1", "--base-url",
                             srv.base_url, "--optimizer-model", "opt", "--scorer-model", "sc", "--no-model-check",
                             "--samples", "1")  # fmt: skip
    assert code == 0, err
    assert "client has been closed" not in err and "Traceback" not in err
    code, out, err = run_cli(capsys, "evaluate", str(project))
    assert code == 0, err
    assert "top-1" in out
