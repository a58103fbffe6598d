"""PromptProblem scoring through the real LLM client and SDK against the loopback test server."""

from __future__ import annotations

import re
from typing import Any

from openai_server import FakeOpenAIServer, Faults

from opro_gui.llm.config import EndpointConfig
from opro_gui.llm.openai_compat import OpenAICompatClient
from opro_gui.problems.prompt_opt import PromptProblem

EXAMPLES = [{"input": f"What is {i} times 7?", "target": str(7 * i)} for i in range(8)]


def scorer_model(prompt: str, body: dict[str, Any]) -> str:
    """Right on even numbers when the prompt says "carefully", otherwise off by one."""
    m = re.search(r"What is (\d+) times 7\?", prompt)
    assert m is not None
    n = int(m.group(1))
    good = "carefully" in prompt and n % 2 == 0
    return f"Let me compute. The answer is {7 * n if good else 7 * n + 1}."


def client(srv: FakeOpenAIServer, **kw: Any) -> OpenAICompatClient:
    cfg = EndpointConfig(
        base_url=srv.base_url, model="fake-scorer", timeout=5.0, backoff_base=0.001,
        backoff_max=0.01, **kw,
    )  # fmt: skip
    return OpenAICompatClient(cfg, role="scorer", seed=1)


def test_score_over_http(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(scorer_model, record_bodies=True).start()
    problem = PromptProblem.from_spec(
        {"examples": EXAMPLES, "train_ids": [0, 1, 2, 3], "position": "A_begin"}
    )
    with client(srv) as scorer:
        careful, plain = problem.score(["Think carefully.", "Go."], scorer)
    assert (careful.score, plain.score) == (0.5, 0.0)
    assert careful.complete and plain.complete
    assert srv.stats.requests == 8
    assert "Q: What is 2 times 7?\n\nA: Think carefully." in srv.stats.prompts
    assert {b.get("temperature") for b in srv.stats.bodies} == {0.0}
    assert careful.records[2].raw_answer == "Let me compute. The answer is 14."


def test_server_failure_marks_the_candidate_incomplete(fake_server: type[FakeOpenAIServer]) -> None:
    srv = fake_server(scorer_model, faults=Faults(script=("500",))).start()
    problem = PromptProblem.from_spec({"examples": EXAMPLES, "train_ids": [0, 2, 4]})
    with client(srv, max_retries=0, concurrency=1) as scorer:
        (res,) = problem.score(["Work carefully."], scorer)
    failed = [r for r in res.records if r.correct is None]
    assert len(failed) == 1 and failed[0].error
    assert res.complete is False and res.score == 1.0
