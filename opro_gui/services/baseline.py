"""The equal-budget baseline of a run: a companion run whose meta-prompt lacks the scored
trajectory, stepped right after each step of the run with exactly as many scored candidates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.engine import Engine
from opro_gui.core.events import BaselineStepCompleted, Event, RunFinished, StepCompleted
from opro_gui.core.models import CandidateStatus, RunStatus, StepRecord
from opro_gui.core.ports import LLMClient
from opro_gui.storage import ProjectError

from .base import SessionBase

_SENT = (CandidateStatus.SCORED, CandidateStatus.INCOMPLETE)


class BaselineMixin(SessionBase):
    def baseline_override(self, run_id: int) -> dict[str, Any] | None:
        """The spec change that turns this run's problem into its baseline, or None when the
        problem kind has none (TSP and LR compare with a random search instead)."""
        override = getattr(self.problem(run_id), "baseline_spec_override", None)
        return dict(override) if isinstance(override, dict) else None

    def ensure_baseline_run(self, run_id: int) -> int:
        """The baseline run of ``run_id``, created (or brought to its endpoints) as needed."""
        override = self.baseline_override(run_id)
        if override is None:
            raise ProjectError(f"a {self.kind} run has no equal-budget baseline of this kind")
        run = self.store.run(run_id)
        settings = {
            **run.settings.to_dict(),
            "baseline": False,
            "target_score": None,
            "patience": None,
        }
        existing = self.baseline_run_id(run_id)
        if existing is not None:
            self.store.update_run_config(existing, settings, run.optimizer, run.scorer)
            return existing
        spec = {**(run.spec_override or {}), **override, "baseline_of": run_id}
        return self.store.create_run(
            settings, run.optimizer, run.scorer, parent_run_id=run_id, spec_override=spec
        )

    def sent_per_step(self, run_id: int) -> dict[int, int]:
        """Candidates sent to the scorer per optimization step (the budget to match)."""
        counts: dict[int, int] = {}
        for c in self.store.candidates(run_id):
            if c.step > 0 and c.status in _SENT:
                counts[c.step] = counts.get(c.step, 0) + 1
        return counts

    def baseline_curve(self, run_id: int) -> list[tuple[int, float]]:
        """(step, best score so far) of the run's baseline, from step 0."""
        base = self.baseline_run_id(run_id)
        if base is None:
            return []
        return [
            (s.step, float(s.best_score))
            for s in self.store.steps(base)
            if s.best_score is not None
        ]

    def run_events(
        self,
        run_id: int,
        cancel: CancelToken | None = None,
        optimizer: LLMClient | None = None,
        scorer: LLMClient | None = None,
    ) -> Iterator[Event]:
        """The run's events; with ``settings.baseline`` on, each step is followed by the same
        step of its baseline (``BaselineStepCompleted``), so both curves grow together."""
        engine = self.engine(run_id, cancel, optimizer, scorer)
        companion = None
        if engine.settings.baseline and self.baseline_override(run_id) is not None:
            companion = _Companion(self, run_id, cancel, optimizer, scorer)
        for event in engine.events():
            if companion is not None and isinstance(event, RunFinished):
                yield from companion.catch_up(event.last_step)
            yield event
            if companion is not None and isinstance(event, StepCompleted):
                companion.count(event.record)
                yield from companion.catch_up(event.record.step)


class _Companion:
    """Drives the baseline run one step behind the main run, with the main run's budget."""

    def __init__(
        self,
        session: BaselineMixin,
        run_id: int,
        cancel: CancelToken | None,
        optimizer: LLMClient | None,
        scorer: LLMClient | None,
    ) -> None:
        self.run_id = session.ensure_baseline_run(run_id)
        self.counts = session.sent_per_step(run_id)
        self.stopped = ""
        self.engine: Engine = session.engine(
            self.run_id, cancel, optimizer, scorer, quota=lambda s: self.counts.get(s, 0)
        )

    def count(self, record: StepRecord) -> None:
        if record.step > 0:
            self.counts[record.step] = sum(c.status in _SENT for c in record.candidates)

    def catch_up(self, step: int) -> Iterator[Event]:
        if self.stopped or self.engine.state.last_step >= step:
            return
        self.engine.settings = replace(self.engine.settings, max_steps=step)
        for event in self.engine.events():
            if isinstance(event, StepCompleted):
                yield BaselineStepCompleted(self.run_id, event.record, event.totals)
            elif isinstance(event, RunFinished) and event.status != RunStatus.COMPLETED:
                self.stopped = event.reason  # paused, cancelled or failed: the main run decides
