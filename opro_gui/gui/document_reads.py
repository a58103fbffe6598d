"""What the project document reads in the background: each function opens its own
read-only session in the worker's thread and yields the payloads the views draw, in order."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from opro_gui.services import ProjectSession, pages

from .document_payloads import (
    CurveLoaded,
    PagesChecked,
    PreviewLoaded,
    ProjectLoaded,
    RunLoaded,
    SummaryLoaded,
)

#: The background read yields the CPU to the GUI thread on a busy machine (a niceness of
#: this thread only, on Linux): the window stays responsive; the read itself waits a little.
READ_NICENESS = 5


def _yield_cpu_to_the_window() -> None:
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):  # not per thread here (macOS), or not allowed
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), READ_NICENESS)


def read_project(path: Path, run_id: int | None) -> Iterator[object]:
    _yield_cpu_to_the_window()
    # What the views need first, then the page scan (O(file size)): a big file shows at once,
    # and damage found later still closes it with one message.
    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        problem = session.problem()
        kind = session.problem_kind
        yield ProjectLoaded(path, problem, problem.summary(), kind.reference_score(problem))
        if run_id is not None:
            yield from _read_run(session, run_id)
        pages.check_pages(session)
        yield PagesChecked(path)


def read_run_in(path: Path, run_id: int) -> Iterator[object]:
    _yield_cpu_to_the_window()
    # The document checked every page when it opened the project: not again per run.
    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        yield from _read_run(session, run_id)


def _read_run(session: ProjectSession, run_id: int) -> Iterator[object]:
    problem = session.problem(run_id)
    yield RunLoaded(
        run_id,
        pages.run_header(session, run_id),
        problem,
        problem.summary(),
        session.problem_kind.reference_score(problem),
        session.run_settings(run_id),
        pages.run_points(session, run_id),
    )
    yield from _read_after_run(session, run_id)


def _read_after_run(session: ProjectSession, run_id: int) -> Iterator[object]:
    yield SummaryLoaded(run_id, session.run_verdict(run_id))  # with the verdict's checks
    records = session.problem_kind.needs_records_on_resume
    history, step, size = pages.history_top(session, run_id, with_records=records)
    yield PreviewLoaded(run_id, tuple(history), step, size)
    curve = session.random_search_curve(run_id) if session.problem_kind.has_random_search else []
    yield CurveLoaded(run_id, tuple(curve), tuple(session.baseline_curve(run_id)))


def upgrade_file(path: Path) -> None:
    """Open to write once: an older file is upgraded (one transaction) and fully checked."""
    _yield_cpu_to_the_window()
    with ProjectSession.open(path):
        pass


def read_ended_run(path: Path, run_id: int) -> Iterator[object]:
    _yield_cpu_to_the_window()
    with ProjectSession.open(path, readonly=True, check_pages=False) as session:
        yield from _read_after_run(session, run_id)
