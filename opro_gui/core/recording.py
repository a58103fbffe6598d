"""What one engine step keeps track of: the calls it made and how its candidates ended."""

from __future__ import annotations

from collections.abc import Sequence

from .cancel import CancelToken
from .models import CallRecord, CandidateStatus, StepRecord
from .ports import LLMClient, LLMRequest, LLMResult

#: Candidates the scorer was asked about (the unit of an equal-budget comparison).
SENT = (CandidateStatus.SCORED, CandidateStatus.INCOMPLETE)


class Recorder:
    """Wraps a client and keeps every CallRecord it produced during one step."""

    def __init__(self, inner: LLMClient, calls: list[CallRecord]) -> None:
        self._inner = inner
        self._calls = calls

    @property
    def model(self) -> str:
        return self._inner.model

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        results = self._inner.complete(requests, cancel)
        for r in results:
            self._calls.extend(r.calls or (r.call,))
        return results


def all_incomplete(record: StepRecord) -> bool:
    """Every candidate sent to the scorer came back incomplete (the scorer is failing)."""
    judged = [c for c in record.candidates if c.status in SENT]
    return bool(judged) and all(c.status is CandidateStatus.INCOMPLETE for c in judged)


def incomplete_reason(record: StepRecord) -> str:
    errors = [c.reason for c in record.candidates if c.status is CandidateStatus.INCOMPLETE]
    return f"scorer requests failed for every candidate of step {record.step}: {errors[0]}"
