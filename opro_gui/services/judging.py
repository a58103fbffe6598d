"""Requests of the "judge" role go to the judge's own endpoint profile when a project names one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from opro_gui.core.cancel import CancelToken
from opro_gui.core.ports import LLMClient, LLMRequest, LLMResult, Problem
from opro_gui.llm import EndpointConfig
from opro_gui.problems.evaluators import judge_profile

JUDGE_ROLE = "judge"


class RoleRouter:
    """An LLMClient that sends requests of ``role`` to another client, the rest to ``default``."""

    def __init__(self, default: LLMClient, role: str, other: LLMClient) -> None:
        self._default, self._role, self._other = default, role, other

    @property
    def model(self) -> str:
        return self._default.model

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        mine = [i for i, r in enumerate(requests) if r.role == self._role]
        if not mine:
            return self._default.complete(requests, cancel)
        rest = [i for i, r in enumerate(requests) if r.role != self._role]
        out: list[LLMResult | None] = [None] * len(requests)
        for ids, client in ((rest, self._default), (mine, self._other)):
            if ids:
                for i, res in zip(ids, client.complete([requests[i] for i in ids], cancel),
                                  strict=True):  # fmt: skip
                    out[i] = res
        return [r for r in out if r is not None]


def judge_endpoint(problem: Problem, base: EndpointConfig) -> EndpointConfig | None:
    """The endpoint of the project's first LLM judge that names its own model or server."""
    changes = judge_profile(getattr(problem, "evaluators", ()))
    if not changes:
        return None
    return replace(
        base,
        model=changes.get("model", base.model),
        base_url=changes.get("base_url", base.base_url),
        api_key_env=changes.get("api_key_env", base.api_key_env),
    )


def with_judge(
    problem: Problem,
    scorer: LLMClient | None,
    base: EndpointConfig,
    make: Callable[[EndpointConfig, str], LLMClient],
) -> LLMClient | None:
    """``scorer``, routing judge requests to the judge's endpoint when it has one."""
    cfg = judge_endpoint(problem, base)
    if scorer is None or cfg is None:
        return scorer
    return RoleRouter(scorer, JUDGE_ROLE, make(cfg, JUDGE_ROLE))
