"""`evaluate --batch`: an evaluation's scorer requests sent through the Batch API at its price."""

from __future__ import annotations

from collections.abc import Callable

from opro_gui.core.cancel import CancelToken
from opro_gui.llm import EndpointConfig

from .actions import ActionsMixin, EvaluationResult


class BatchEvalMixin(ActionsMixin):
    def evaluate_batch(
        self,
        run_id: int,
        split: str = "test",
        top: int = 1,
        scorer_endpoint: EndpointConfig | None = None,
        poll_interval: float = 30.0,
        on_status: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[EvaluationResult]:
        """Like ``evaluate``, through one batch job per round of requests. Its state is saved
        in the project before each poll: run it again after a crash or close to pick it up."""
        from opro_gui.llm.batch import BatchClient

        opt_cfg, sc_cfg = self.endpoints(run_id)
        cfg = scorer_endpoint or sc_cfg or opt_cfg
        client = BatchClient(cfg, self.store, poll_interval=poll_interval, on_status=on_status)
        try:
            rows = self.evaluate(
                run_id, split=split, top=top, scorer_endpoint=cfg, cancel=cancel, client=client
            )
        finally:
            client.close()
        self.store.consume_batches(client.fingerprints)
        return rows
