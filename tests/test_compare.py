"""`opro compare`: runs side by side, numbers equal to `opro show --json`, curves as data."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from scripted_models import linreg_optimizer, two_opt_optimizer

from opro_gui.cli import main


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tsp_project(tmp_path: Path, capsys, name: str = "t.opro", seed: str = "1") -> Path:
    project = tmp_path / name
    assert opro(capsys, "new", "tsp", str(project), "--points", "8", "--seed", seed)[0] == 0
    return project


def run(capsys, project: Path, url: str, *extra: str) -> None:
    code, _, err = opro(
        capsys, "run", str(project), "--steps", "3", "--base-url", url, *extra
    )  # fmt: skip
    assert code == 0, err


def test_compare_two_runs_matches_show_and_stored_calls(tmp_path, fake_server, capsys) -> None:
    project = tsp_project(tmp_path, capsys)
    with fake_server(two_opt_optimizer, report_model="served-model-7b") as srv:
        run(capsys, project, srv.base_url, "--model", "fake-optimizer", "--samples", "2")
        run(capsys, project, srv.base_url, "--model", "fake-optimizer", "--samples", "3",
            "--new-run")  # fmt: skip
    code, out, err = opro(capsys, "compare", f"{project}:1", f"{project}:2", "--json")
    assert code == 0, err
    data = json.loads(out)
    shown = {
        r["id"]: r for r in json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"]
    }
    assert data["kind"] == "tsp" and data["higher_is_better"] is False
    assert data["differing_settings"] == ["samples_per_step"]
    conn = sqlite3.connect(project)
    for row in data["runs"]:
        s = shown[row["run_id"]]
        for key in ("best_score", "cost_usd", "total_tokens", "steps_completed", "status"):
            assert row[key] == s[key], key
        assert row["valid_rate"] == round(1 - s["invalid_rate"], 4)
        assert row["optimizer_models_reported"] == ["served-model-7b"]
        assert row["settings"] == {"samples_per_step": 2 if row["run_id"] == 1 else 3}
        steps = conn.execute(
            "SELECT step, best_score FROM step WHERE run_id = ? ORDER BY step", (row["run_id"],)
        ).fetchall()
        assert row["curve"]["step"] == [st for st, _ in steps]
        assert row["curve"]["best"] == [b for _, b in steps]
        first_best = min(st for st, b in steps if b == s["best_score"])
        assert row["best_step"] == first_best
        (tokens,) = conn.execute(
            "SELECT SUM(prompt_tokens + completion_tokens) FROM llm_call"
            " WHERE run_id = ? AND step <= ?",
            (row["run_id"], first_best),
        ).fetchone()
        assert row["tokens_to_best"] == (tokens or 0)
        assert row["curve"]["tokens"][-1] == s["total_tokens"]
    conn.close()
    code, text, _ = opro(capsys, "compare", f"{project}:1", f"{project}:2")
    assert code == 0
    assert "tokens to best" in text and "t.opro:1" in text and "t.opro:2" in text
    assert "samples_per_step=2" in text and "served-model-7b" in text


def test_compare_across_projects_and_refusals(tmp_path, fake_server, capsys) -> None:
    a = tsp_project(tmp_path, capsys, "a.opro")
    b = tsp_project(tmp_path, capsys, "b.opro")
    other = tsp_project(tmp_path, capsys, "c.opro", seed="2")
    lr = tmp_path / "lr.opro"
    assert opro(capsys, "new", "linreg", str(lr))[0] == 0
    with fake_server(two_opt_optimizer) as srv:
        for p in (a, b, other):
            run(capsys, p, srv.base_url, "--model", "fake-optimizer", "--samples", "2")
    with fake_server(linreg_optimizer) as srv:
        run(capsys, lr, srv.base_url, "--model", "fake-optimizer", "--samples", "2")
    code, out, _ = opro(capsys, "compare", str(a), str(b), "--json")
    assert code == 0
    data = json.loads(out)
    assert [r["ref"] for r in data["runs"]] == ["a.opro:1", "b.opro:1"]
    assert data["warnings"] == []  # same task, same data
    assert len(set(data["task_hashes"].values())) == 1
    code, out, _ = opro(capsys, "compare", str(a), str(other), "--json")
    assert code == 0 and "task hashes differ" in json.loads(out)["warnings"][0]
    code, _, err = opro(capsys, "compare", str(a), str(lr))
    assert code == 2 and "different problem kinds" in err and "lr.opro is linreg" in err
    code, _, err = opro(capsys, "compare", f"{a}:1")
    assert code == 2 and "at least two runs" in err
    code, _, err = opro(capsys, "compare", f"{a}:5", str(b))
    assert code == 2 and "has no run 5" in err
