"""Held-out evaluation of a prompt run (services ``evaluate``) in a background thread: the top
instructions by training accuracy and the baselines, scored on the test split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.llm import EndpointConfig
from opro_gui.services import EvaluationResult, ProjectSession

from ..worker import Worker

DEFAULT_TOP = 3


def evaluate_on_test(
    path: Path,
    run_id: int,
    scorer: EndpointConfig | None,
    top: int,
    cancel: CancelToken,
    dataset: str | None = None,
    batch: bool = False,
    poll_interval: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[EvaluationResult]:
    """Runs in a worker thread with its own session (one SQLite connection per thread). The
    baselines are scored on the training split too (each row gets a training accuracy).
    ``dataset``: another dataset file to score on instead (transfer). ``progress(done,
    total)`` is called in the worker thread (not with the Batch API, which has no count)."""
    with ProjectSession.open(path) as session:
        if batch:
            return session.evaluate_batch(
                run_id, "test", top=top, scorer_endpoint=scorer, poll_interval=poll_interval,
                cancel=cancel,
            )  # fmt: skip
        return session.evaluate(
            run_id, "test", top=top, scorer_endpoint=scorer, cancel=cancel, dataset=dataset,
            progress=progress, train_baselines=dataset is None,
        )  # fmt: skip


def results_text(rows: list[EvaluationResult]) -> str:
    """One status line: the best instruction's held-out accuracy and its sample size."""
    best = next((r for r in rows if r.label == "top-1"), None)
    split = rows[0].split if rows else "test"
    text = (
        f"Transfer evaluation on {split.removeprefix('transfer:')} stored"
        if split.startswith("transfer:")
        else "Test evaluation stored"
    )
    if best is not None and best.accuracy is not None:
        text += f": best instruction {best.accuracy * 100:.1f}% on {best.n_examples} examples"
    return text


class TestEvaluation(QObject):
    """One evaluation at a time; results are stored in the project by the services layer.

    ``progress_changed(done, total)`` as scorer answers come in; then exactly one of
    ``evaluation_finished``, ``evaluation_failed`` or (after ``cancel``) ``evaluation_cancelled``,
    the last once the worker thread has ended."""

    __test__ = False  # not a pytest class
    evaluation_started = Signal(bool)  # True: the progress is counted (False: Batch API)
    progress_changed = Signal(int, int)
    evaluation_finished = Signal(list)  # rows: label, instruction, accuracy, n_examples, ...
    evaluation_failed = Signal(str)
    evaluation_cancelled = Signal()
    _job_progress = Signal(int, int)  # emitted in the worker thread, queued to this object

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call: Worker | None = None
        self._cancelling = False
        self._job_progress.connect(self._on_job_progress)

    @property
    def is_running(self) -> bool:
        """True from ``start`` until the worker ended (a cancelled one included)."""
        return self._call is not None

    @property
    def is_cancelling(self) -> bool:
        return self._cancelling

    def start(
        self,
        path: Path,
        run_id: int,
        scorer: EndpointConfig | None,
        top: int = DEFAULT_TOP,
        dataset: str | None = None,
        batch: bool = False,
        poll_interval: float = 30.0,
    ) -> None:
        if self._call is not None:
            raise RuntimeError("an evaluation is already running")
        token = CancelToken()
        self._cancelling = False
        report = None if batch else self._job_progress.emit
        self._call = call = Worker(
            evaluate_on_test, path, run_id, scorer, top, token, dataset, batch, poll_interval,
            report, owner=self, token=token, name="opro-evaluate",
        )  # fmt: skip
        call.job_returned.connect(self._on_call_done)
        call.job_failed.connect(self._on_call_error)
        call.job_ended.connect(self._on_call_ended)
        call.start()
        self.evaluation_started.emit(not batch)

    def cancel(self, wait_ms: int = 5000) -> None:
        """Stop the evaluation: the scorer's requests are abandoned within a fraction of a
        second and nothing is stored. ``wait_ms`` 0 returns at once and the job still says how
        it ended: ``evaluation_cancelled`` once its thread has ended, or, if it had already
        stored its results, ``evaluation_finished``. Otherwise (the window closes) the thread is
        joined that long and nothing more is reported."""
        call = self._call
        if call is None:
            return
        self._cancelling = True
        if wait_ms:
            call.quit(wait_ms)
        elif call.token is not None:
            call.token.cancel()

    @Slot(int, int)
    def _on_job_progress(self, done: int, total: int) -> None:
        if self._call is not None and not self._cancelling:
            self.progress_changed.emit(done, total)

    def _on_call_done(self, rows: list[EvaluationResult]) -> None:
        self._call, self._cancelling = None, False  # stored before the cancel arrived
        self.evaluation_finished.emit(rows)

    def _on_call_error(self, exc: BaseException) -> None:
        if self._cancelling and isinstance(exc, Cancelled):
            return  # ``evaluation_cancelled`` follows when the thread has ended
        self._call, self._cancelling = None, False
        self.evaluation_failed.emit(str(exc) or type(exc).__name__)

    def _on_call_ended(self) -> None:
        if self._cancelling:
            self._call, self._cancelling = None, False
            self.evaluation_cancelled.emit()
