"""Held-out evaluation of a prompt run (services ``evaluate``) in a background thread: the top
instructions by training accuracy and the baselines, scored on the test split."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from opro_gui.core.cancel import CancelToken
from opro_gui.llm import EndpointConfig
from opro_gui.services import EvaluationResult, ProjectSession

from ..worker import Worker, run_in_background

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
) -> list[EvaluationResult]:
    """Runs in a worker thread with its own session (one SQLite connection per thread).
    ``dataset``: another dataset file to score on instead (transfer)."""
    with ProjectSession.open(path) as session:
        if batch:
            return session.evaluate_batch(
                run_id, "test", top=top, scorer_endpoint=scorer, poll_interval=poll_interval,
                cancel=cancel,
            )  # fmt: skip
        return session.evaluate(
            run_id, "test", top=top, scorer_endpoint=scorer, cancel=cancel, dataset=dataset
        )


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
    """One evaluation at a time; results are stored in the project by the services layer."""

    __test__ = False  # not a pytest class
    evaluation_finished = Signal(list)  # rows: label, instruction, accuracy, n_examples, ...
    evaluation_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call: Worker | None = None

    @property
    def is_running(self) -> bool:
        return self._call is not None

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
        self._call = run_in_background(
            evaluate_on_test, path, run_id, scorer, top, token, dataset, batch, poll_interval,
            on_done=self._on_call_done, on_error=self._on_call_error, token=token,
        )  # fmt: skip

    def cancel(self, wait_ms: int = 5000) -> None:
        call, self._call = self._call, None
        if call is not None and call.is_running():
            call.quit(wait_ms)

    def _on_call_done(self, rows: list[EvaluationResult]) -> None:
        self._call = None
        self.evaluation_finished.emit(rows)

    def _on_call_error(self, exc: BaseException) -> None:
        self._call = None
        self.evaluation_failed.emit(str(exc) or type(exc).__name__)
