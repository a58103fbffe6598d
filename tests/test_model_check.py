"""`opro run` / `opro replay` check the model name against the server's /models (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opro_gui.cli import main


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "lr.opro"
    assert main(["new", "linreg", str(project)]) == 0
    return project


def test_unknown_model_exits_2_listing_the_models_and_names_an_echoing_server(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    with fake_server(models=("/models/qwen.gguf",)) as srv:  # echoes any requested name
        code = main(
            ["run", str(project), "--steps", "1", "--base-url", srv.base_url, "--model", "nope"]
        )
        err = capsys.readouterr().err
        assert code == 2
        assert "model 'nope' is not among the models of" in err and "/models/qwen.gguf" in err
        assert "answers any model name by echoing it" in err
        assert srv.stats.requests == 1  # the one-token probe; no step was run
    with fake_server(models=("alpha", "beta"), report_model="alpha") as srv:
        code = main(
            ["run", str(project), "--steps", "1", "--base-url", srv.base_url, "--model", "nope"]
        )
        err = capsys.readouterr().err
        assert code == 2 and "alpha, beta" in err
        assert "echo" not in err and "it answered as 'alpha'" in err


def test_listed_model_and_no_model_check_go_ahead(
    tmp_path: Path, fake_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    answer = lambda prompt, body: "[15, 14]"  # noqa: E731
    with fake_server(answer, models=None) as srv:  # no /models endpoint
        base = ["run", str(project), "--steps", "1", "--samples", "1", "--base-url", srv.base_url]
        assert main([*base, "--model", "mine"]) == 2
        assert "--no-model-check" in capsys.readouterr().err
        assert main([*base, "--model", "mine", "--no-model-check"]) == 0
    with fake_server(answer, models=("fake-optimizer",)) as srv:
        args = ["replay", str(project), "--step", "1", "--base-url", srv.base_url]
        assert main([*args, "--model", "other"]) == 2
        assert main([*args, "--model", "fake-optimizer"]) == 0
        assert "replay 1 of run 1 step 1 with fake-optimizer" in capsys.readouterr().out


def test_each_server_lists_its_models_once_for_every_role(fake_server: Any) -> None:
    """The optimizer and the scorer on one server: one GET /models, both names checked."""
    from opro_gui.llm import EndpointConfig
    from opro_gui.services.servers import check_endpoints

    with fake_server() as srv:
        roles = [
            (EndpointConfig(base_url=srv.base_url, model="fake-optimizer"), True),
            (EndpointConfig(base_url=srv.base_url, model="fake-scorer"), True),
            (EndpointConfig(base_url=srv.base_url, model="nope"), False),
        ]
        errors, warnings = check_endpoints(roles)
        assert srv.stats.model_lists == 1
        assert srv.stats.requests == 0  # listed names need no probe; a default name none
    assert errors == []
    assert len(warnings) == 1 and "model 'nope' is not among the models of" in warnings[0]
