"""`evaluate(progress=...)`: how far a held-out evaluation has got, answer by answer through
the real client, slice by slice through any other; nothing stored when cancelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import ScriptedPromptModel, make_prompt_project
from scripted_models import ArithmeticWorld
from test_prompt_e2e import make_project, opro, roles

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectSession
from opro_gui.services.inspection import MIN_SLICE

# One request at a time: a client without a per-answer hook gets slices of MIN_SLICE requests.
ONE_SLOT = EndpointConfig(base_url="http://127.0.0.1:9/v1", model="scripted", concurrency=1)


def test_progress_through_the_real_client_counts_every_answer(
    tmp_path: Path, fake_server: Any, capsys: Any
) -> None:
    project = make_project(tmp_path, capsys)
    with fake_server(ArithmeticWorld()) as srv:
        assert opro(capsys, "run", str(project), "--steps", "1", "--samples", "2",
                    *roles(srv.base_url))[0] == 0  # fmt: skip
        seen: list[tuple[int, int]] = []
        with ProjectSession.open(project) as session:
            rows = session.evaluate(1, "test", top=1, progress=lambda d, t: seen.append((d, t)))
    total = 20 * len(rows)  # 20 test examples per evaluated instruction
    assert [d for d, _ in seen] == list(range(total + 1))  # one report per answer
    assert {t for _, t in seen} == {total}


def test_progress_in_slices_and_cancel_stores_nothing(tmp_path: Path) -> None:
    project = make_prompt_project(tmp_path / "p.opro", steps=1, samples=2)
    seen: list[tuple[int, int]] = []
    with ProjectSession.open(project) as session:
        rows = session.evaluate(
            1, "test", top=1, client=ScriptedPromptModel(), scorer_endpoint=ONE_SLOT,
            progress=lambda d, t: seen.append((d, t)),
        )  # fmt: skip
        n = 6 * len(rows)  # 12 examples, half of them held out
        assert seen == [(0, n)] + [
            (min(k, n), n) for k in range(MIN_SLICE, n + MIN_SLICE, MIN_SLICE)
        ]
        stored = len(session.store.evaluations(1))
        token = CancelToken()

        def cancel_after_first_slice(done: int, total: int) -> None:
            if done:
                token.cancel()

        with pytest.raises(Cancelled):
            session.evaluate(
                1, "test", top=1, client=ScriptedPromptModel(), scorer_endpoint=ONE_SLOT,
                cancel=token, progress=cancel_after_first_slice,
            )  # fmt: skip
        assert len(session.store.evaluations(1)) == stored
