"""What a step's meta-prompt contained, recorded with the step for provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .models import Scored, StepRecord
from .ports import Problem


def with_ingredients(
    problem: Problem, history: Sequence[Scored], history_size: int, record: StepRecord
) -> StepRecord:
    """``record`` with the history entries (as (step, index)) and exemplar ids its meta-prompt
    showed, as the problem tells them; kinds that cannot tell leave them empty."""
    tell = getattr(problem, "meta_prompt_ingredients", None)
    if tell is None:
        return record
    entries, exemplars = tell(history, record.step, history_size)
    return replace(
        record,
        shown_entries=tuple((e.step, e.index) for e in entries),
        shown_exemplars=tuple(int(i) for i in exemplars),
    )
