"""Provenance: each step stores what its meta-prompt contained (candidate ids, example ids);
a candidate's closest ancestor among them, the word diff, and where its sentences began."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from scripted_models import ArithmeticWorld, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore
from opro_gui.storage.schema import SCHEMA_VERSION

_ENTRY = re.compile(r"text:\n(.*?)\nscore:\n(\d+)", re.S)
_TRACE = re.compile(r"<trace>\s*([\d,\s]+?)\s*</trace>")


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _prompt_run(tmp_path: Path, capsys, fake_server) -> Path:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(30)) + "\n")
    project = tmp_path / "p.opro"
    assert opro(capsys, "new", "prompt", str(project), "--dataset", str(data), "--initial",
                "Solve it.", "--train-ratio", "0.5")[0] == 0  # fmt: skip
    with fake_server(ArithmeticWorld()) as srv:
        code, _, err = opro(
            capsys, "run", str(project), "--steps", "3", "--samples", "2", "--base-url",
            srv.base_url, "--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer",
        )  # fmt: skip
        assert code == 0, err
    return project


def test_prompt_ingredients_are_the_entries_visible_in_the_stored_meta_prompt(
    tmp_path, fake_server, capsys
) -> None:
    project = _prompt_run(tmp_path, capsys, fake_server)
    with ProjectStore.open(project) as store:
        scored = {c.solution: c.id for c in store.candidates(1) if c.status == "scored"}
        examples = store.examples()
        steps = [s.step for s in store.steps(1) if s.step > 0]
        assert len(steps) >= 2
        for step in steps:
            detail = store.step_detail(1, step)
            assert detail is not None
            meta = detail.meta_prompt
            visible = [scored[text.strip()] for text, _ in _ENTRY.findall(meta)]
            shown = store.ingredients(1, step)
            assert shown["candidates"] == visible and visible
            assert detail.ingredients == shown and detail.to_json()["ingredients"] == shown
            assert len(shown["examples"]) == meta.count("Compute ") == 3
            for i in shown["examples"]:
                assert examples[i]["input"] in meta


def test_closest_ancestor_diff_and_sentence_origins(tmp_path, fake_server, capsys) -> None:
    project = _prompt_run(tmp_path, capsys, fake_server)
    with ProjectSession.open(project, readonly=True) as session:
        cands = session.store.candidates(1, 2)
        me = next(c for c in cands if c.status == "scored")
        p = session.provenance(1, 2, me.index)
        ingredient_ids = session.store.ingredients(1, 2)["candidates"]
    assert [e["candidate_id"] for e in p["ingredients"]] == ingredient_ids
    parent = p["closest_ancestor"]
    assert parent is not None and parent["candidate_id"] in ingredient_ids
    # The scripted optimizer extends the best instruction shown: the ancestor is a prefix of it
    # (up to a variant sentence), so the diff only inserts words.
    base = parent["text"]
    assert me.text.startswith(base)
    assert {d["op"] for d in parent["diff"]} <= {"equal", "insert"}
    added = " ".join(d["new"] for d in parent["diff"] if d["op"] == "insert")
    assert added.replace(" .", ".") in me.text[len(base) :].strip().replace(" .", ".")
    assert "{+" in parent["diff_text"]
    first = {s["sentence"]: s["first_step"] for s in p["sentences"]}
    assert first["Solve it."] == 0
    assert first["Go step by step."] == 1
    code, out, _ = opro(capsys, "history", str(project), "--step", "2", "--candidate",
                        str(me.index))  # fmt: skip
    assert code == 0
    assert "closest ancestor: id" in out and "{+" in out and "step 0: Solve it." in out
    code, out, _ = opro(capsys, "history", str(project), "--step", "2")
    assert f"the meta-prompt contained candidates {ingredient_ids}" in out


def test_tsp_ingredients_match_traces_and_survive_a_fork(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "12", "--seed", "4")[0] == 0
    with fake_server(two_opt_optimizer) as srv:
        code, _, err = opro(capsys, "run", str(project), "--steps", "3", "--samples", "2",
                            "--base-url", srv.base_url)  # fmt: skip
        assert code == 0, err
    with ProjectSession.open(project) as session:
        store = session.store
        by_tour = {
            ",".join(map(str, c.solution)): c.id
            for c in store.candidates(1)
            if c.status == "scored"
        }
        for step in (1, 2, 3):
            meta = store.step_detail(1, step).meta_prompt  # type: ignore[union-attr]
            visible = [by_tour[t.replace(" ", "")] for t in _TRACE.findall(meta)]
            assert store.ingredients(1, step) == {"candidates": visible, "examples": []}
        fork = session.fork(1, 2)
        copied = {c.id: (c.step, c.index) for c in store.candidates(fork)}
        original = {c.id: (c.step, c.index) for c in store.candidates(1)}
        for step in (1, 2):
            mine = [copied[i] for i in store.ingredients(fork, step)["candidates"]]
            theirs = [original[i] for i in store.ingredients(1, step)["candidates"]]
            assert mine == theirs and mine


def test_a_version_3_file_gains_the_ingredient_table(tmp_path, capsys) -> None:
    project = tmp_path / "old.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "5")[0] == 0
    conn = sqlite3.connect(project)
    conn.execute("DROP TABLE ingredient")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with ProjectStore.open(project) as store:
        # the current version: 4 added ingredients, later versions their own tables (issue 15: 5)
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
        assert store.ingredients(1, 1) == {"candidates": [], "examples": []}
