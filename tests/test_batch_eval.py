"""`opro evaluate --batch`: the Batch API on the suite's server, a kill mid-poll, batch prices."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectSession
from opro_gui.storage import ProjectStore

REPO = Path(__file__).resolve().parents[1]


def one_step(project: Path, capsys, url: str) -> None:
    assert opro(capsys, "run", str(project), "--steps", "1", "--samples", "2", *roles(url))[0] == 0


def test_batch_evaluation_matches_the_scorer_and_costs_half(tmp_path, fake_server, capsys) -> None:
    project = make_project(tmp_path, capsys)
    world = ArithmeticWorld()
    with fake_server(world) as srv:
        one_step(project, capsys, srv.base_url)
        before = srv.stats.requests
        cfg = EndpointConfig(
            base_url=srv.base_url, model="fake-scorer", price_in_per_mtok=2.0,
            price_out_per_mtok=8.0,
        )  # fmt: skip
        with ProjectSession.open(project) as session:
            rows = session.evaluate_batch(1, scorer_endpoint=cfg, poll_interval=0.01)
        assert srv.stats.requests == before  # nothing went through /chat/completions
        assert (srv.stats.files_uploaded, srv.stats.batches_created) == (1, 1)
        lines = srv.stats.batch_lines_run
    with ProjectStore.open(project) as store:
        n_test = len(store.spec()["examples"]) - len(store.spec()["train_ids"])
        evals = store.evaluations(1)
        calls = list(store.db.query("SELECT * FROM llm_call WHERE evaluation_id IS NOT NULL"))
        assert [b["status"] for b in store.batches()] == ["consumed"]
        for e in evals:  # the stored verdicts are the server's own
            records = store.records(evaluation_id=e.id)
            given = [world.given[(e.solution, r.prompt[len(e.solution) :].strip())]
                     for r in records]  # fmt: skip
            assert [r.correct for r in records] == given
            assert e.score == pytest.approx(sum(given) / len(given))
    assert len(rows) == 3 and len(lines) == 3 * n_test and set(lines.values()) == {1}
    for r in rows:
        assert r.complete and r.n_examples == n_test
    assert len(calls) == 3 * n_test
    for c in calls:
        list_price = (c["prompt_tokens"] * 2.0 + c["completion_tokens"] * 8.0) / 1e6
        assert c["cost_usd"] == pytest.approx(0.5 * list_price) and c["cost_usd"] > 0


def test_batch_survives_the_cli_killed_mid_poll_and_sends_nothing_twice(
    tmp_path, fake_server, capsys
) -> None:
    project = make_project(tmp_path, capsys)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with fake_server(ArithmeticWorld()) as srv:
        one_step(project, capsys, srv.base_url)
        srv.batch_gate = threading.Event()  # the batch runs only once the test says so
        args = ["evaluate", str(project), "--batch", "--batch-poll", "0.05", "--base-url",
                srv.base_url, "--scorer-model", "fake-scorer"]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "opro_gui", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            assert srv.batch_polled.wait(60), "the CLI never polled the batch"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        with ProjectStore.open(project) as store:
            (saved,) = store.batches()
            assert saved["status"] == "submitted" and saved["batch_id"] == "batch-1"
            assert store.evaluations(1) == []
        assert not srv.stats.batch_lines_run  # nothing ran yet
        srv.batch_gate.set()
        code, out, err = opro(capsys, *args)
        assert code == 0, err
        assert "top-1: train" in out
        assert (srv.stats.files_uploaded, srv.stats.batches_created) == (1, 1)
        lines = srv.stats.batch_lines_run
    with ProjectStore.open(project) as store:
        n_test = len(store.spec()["examples"]) - len(store.spec()["train_ids"])
        assert len(store.evaluations(1)) == 3
        assert [b["status"] for b in store.batches()] == ["consumed"]
    assert len(lines) == 3 * n_test and set(lines.values()) == {1}


class _Killed(BaseException):
    """Stands for the process dying at a chosen point (not caught as an ordinary error)."""


class DictLedger:
    def __init__(self, die_on: str = "") -> None:
        self.rows: dict[str, dict] = {}
        self.die_on = die_on

    def batch_row(self, fingerprint: str) -> dict | None:
        row = self.rows.get(fingerprint)
        return dict(row) if row else None

    def save_batch(self, fingerprint: str, **fields) -> None:
        if fields.get("status") == self.die_on:
            self.die_on = ""
            raise _Killed  # the batch exists on the server; its id was never saved
        self.rows.setdefault(fingerprint, {"input_file_id": "", "batch_id": ""}).update(fields)


def test_a_batch_created_but_not_saved_is_found_by_its_fingerprint(fake_server) -> None:
    from opro_gui.core.ports import LLMRequest
    from opro_gui.llm.batch import BatchClient

    requests = [LLMRequest(prompt=f"Say {i}.", temperature=0.0) for i in range(3)]
    ledger = DictLedger(die_on="submitted")
    with fake_server(lambda prompt, body: prompt.upper()) as srv:
        cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer")
        with pytest.raises(_Killed):
            BatchClient(cfg, ledger, poll_interval=0.01).complete(requests)
        (row,) = ledger.rows.values()
        assert row["status"] == "creating" and srv.stats.batches_created == 1
        results = BatchClient(cfg, ledger, poll_interval=0.01).complete(requests)
        assert (srv.stats.files_uploaded, srv.stats.batches_created) == (1, 1)
        assert set(srv.stats.batch_lines_run.values()) == {1}
    assert [r.texts for r in results] == [(f"SAY {i}.",) for i in range(3)]
    assert all(r.call.role == "scorer" and not r.error for r in results)
