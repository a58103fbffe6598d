"""`opro run` on a project uses the project's stored endpoint unless told otherwise and says
which one and why; the model check before a run (issue 11 items 1 and 2, CLI side)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scripted_models import ArithmeticWorld, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.services import ProjectSession
from opro_gui.storage.schema import SCHEMA_VERSION


def opro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0]


def models_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("models: "))


def new_tsp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "8", "--seed", "2")[0] == 0
    return project


def test_the_endpoint_line_says_stored_command_line_or_environment(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    project = new_tsp(tmp_path, capsys)
    with fake_server(two_opt_optimizer) as first, fake_server(two_opt_optimizer) as second:
        # a new project: $OPENAI_BASE_URL
        monkeypatch.setenv("OPENAI_BASE_URL", first.base_url)
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "1", "--model", "fake-optimizer"
        )
        assert code == 0, err
        assert models_line(out) == (
            f"models: optimizer fake-optimizer at {host(first.base_url)} (from $OPENAI_BASE_URL; "
            "model given on the command line)"
        )
        # resumed with the same environment: the stored endpoint, no note
        code, out, err = opro(capsys, "run", str(project), "--steps", "2")
        assert code == 0, err
        assert (
            models_line(out)
            == f"models: optimizer fake-optimizer at {host(first.base_url)} (stored in the project)"
        )
        assert "is ignored" not in out
        # $OPENAI_BASE_URL now points elsewhere: the stored one is used, and that is said
        monkeypatch.setenv("OPENAI_BASE_URL", second.base_url)
        sent_before = second.stats.requests
        code, out, err = opro(capsys, "run", str(project), "--steps", "3")
        assert code == 0, err
        assert models_line(out).endswith("(stored in the project)")
        assert (
            f"using the project's stored endpoint {first.base_url}; $OPENAI_BASE_URL "
            f"({second.base_url}) is ignored — pass --base-url to use it"
        ) in out.splitlines()
        assert second.stats.requests == sent_before  # nothing went to the ignored server
        # --base-url: the command line wins, and becomes the project's endpoint
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "4", "--base-url", second.base_url
        )
        assert code == 0, err
        assert models_line(out) == (
            f"models: optimizer fake-optimizer at {host(second.base_url)} (given on the command line)"
        )
        assert second.stats.requests > sent_before
    with ProjectSession.open(project) as s:
        stored = s.project_models()
        assert (stored.source, stored.optimizer.base_url) == ("project", second.base_url)
        assert stored.optimizer.model == "fake-optimizer"
        assert s.endpoints(1)[0].base_url == second.base_url  # the run records its own too
        raw = s.store.conn.execute("SELECT models FROM project").fetchone()[0]
    assert 'api_key"' not in raw and "sk-test" not in raw  # a key never reaches the file
    # `opro show` names them; `show --json` lists them (public settings only)
    code, out, _ = opro(capsys, "show", str(project))
    assert code == 0
    assert (
        f"  models: optimizer fake-optimizer at {host(second.base_url)} (from the project)"
    ) in out.splitlines()
    code, out, _ = opro(capsys, "show", str(project), "--json")
    models = json.loads(out)["models"]
    assert models["source"] == "project" and models["scorer"] is None
    assert (models["optimizer"]["model"], models["optimizer"]["base_url"]) == (
        "fake-optimizer",
        second.base_url,
    )
    assert "sk-test" not in out and 'api_key"' not in out  # key names only, never a key


def test_a_version_5_file_upgrades_and_uses_its_latest_runs_endpoint(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = new_tsp(tmp_path, capsys)
    with fake_server(two_opt_optimizer) as srv:
        args = ["--base-url", srv.base_url, "--model", "old-model", "--no-model-check"]
        assert opro(capsys, "run", str(project), "--steps", "1", *args)[0] == 0
    conn = sqlite3.connect(project)
    conn.execute("ALTER TABLE project DROP COLUMN models")  # as version 5 wrote it
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()
    before = project.read_bytes()
    with ProjectSession.open(project, readonly=True) as s:  # upgrades a private copy
        models = s.project_models()
        assert (models.source, models.optimizer.model) == ("latest run", "old-model")
    assert project.read_bytes() == before
    with ProjectSession.open(project) as s:
        assert s.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert s.project_models().optimizer.base_url == srv.base_url


def garbage(prompt: str, body: dict[str, Any]) -> str:
    return "Sure! Here is a short poem about travelling instead."


def test_the_model_check_exits_2_before_anything_is_written(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = new_tsp(tmp_path, capsys)
    with fake_server(garbage, record_bodies=True) as srv:
        args = ["run", str(project), "--steps", "5", "--base-url", srv.base_url]
        code, out, err = opro(capsys, *args, "--samples", "4")
        assert code == 2
        assert err.startswith(
            "opro: error: model check: the optimizer did not answer in the task's format "
            "(no <trace> tag); its answer began 'Sure! Here is a short poem"
        )
        assert "nothing was written; pass --no-format-check to run anyway" in err
        (body,) = srv.stats.bodies  # one request of one completion, the real meta-prompt
        assert int(body.get("n", 1)) == 1 and "<trace>" in body["messages"][-1]["content"]
        with ProjectSession.open(project) as s:
            assert s.run_ids() == []
        code, out, err = opro(capsys, *args, "--samples", "2", "--no-format-check")
        assert code == 1  # the run's own rule pauses it after 3 steps instead
        assert "model check" not in out
        assert sum(int(b.get("n", 1)) for b in srv.stats.bodies) == 1 + 3 * 2


class WrongFormatScorer(ArithmeticWorld):
    """A capable optimizer; a scorer that answers without any number."""

    def __call__(self, prompt: str, body: dict[str, Any]) -> str:
        if "optimizer" in str(body.get("model", "")):
            return super().__call__(prompt, body)
        return "I would rather not say."


def test_the_scorer_is_checked_on_one_training_question(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(12)) + "\n")
    project = tmp_path / "p.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project), "--dataset", str(data), "--train-ratio", "0.5",
        "--initial", "Solve it.", "--seed", "1",
    )  # fmt: skip
    assert code == 0, err
    roles = ["--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer"]
    with fake_server(WrongFormatScorer()) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "2", "--base-url", srv.base_url, *roles
        )
        assert code == 2
        assert "the scorer did not answer a training question usably" in err
        assert "'I would rather not say.'" in err and "(2 requests, " in err
        assert models_line(out) == (
            f"models: optimizer fake-optimizer at {host(srv.base_url)} · scorer fake-scorer "
            "(given on the command line)"
        )
    with fake_server(ArithmeticWorld()) as srv:
        code, out, err = opro(
            capsys, "run", str(project), "--steps", "1", "--base-url", srv.base_url, *roles
        )
        assert code == 0, err
        assert "model check: the models answer in the task's format (2 requests, " in out


@pytest.mark.parametrize(
    ("stored", "line"),
    [
        ("not json", "  models: corrupt project file: project models is not valid JSON"),
        (
            json.dumps({"optimizer": {"base_url": "http://h/v1", "model": "m\nx\u202e"}}),
            "  models: optimizer m\\nx\\u202e at h (from the project)",
        ),
    ],
)
def test_show_survives_hostile_stored_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stored: str, line: str
) -> None:
    """A hand-edited or hostile `models` value: `opro show` still shows the project, says what
    is wrong in one line, and never prints a name's newline or direction mark raw."""
    project = new_tsp(tmp_path, capsys)
    with sqlite3.connect(project) as conn:
        conn.execute("UPDATE project SET models = ?", (stored,))
    code, out, err = opro(capsys, "show", str(project))
    assert code == 0, err
    shown = [ln for ln in out.splitlines() if ln.startswith("  models: ")]
    assert len(shown) == 1 and shown[0].startswith(line)
    code, out, err = opro(capsys, "show", str(project), "--json")
    assert code == 0, err
    assert set(json.loads(out)["models"]) >= {"optimizer", "scorer", "source"}
