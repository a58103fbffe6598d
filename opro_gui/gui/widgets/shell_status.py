"""The main window's status bar: a message, run progress with ETA, tokens and cost so far."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

ETA_WINDOW = 10  # recent steps the ETA averages over


class RunStatusBar:
    """Owns the status-bar widgets; the window calls it on run events."""

    def __init__(self, bar: QStatusBar) -> None:
        self.message = QLabel("Ready")
        self.progress = QProgressBar()
        self.progress.setObjectName("run_progress")
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.eta = QLabel()
        self.usage = QLabel()
        self.usage.setObjectName("usage_label")
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.eta)
        bar.addPermanentWidget(self.usage)
        self._durations: list[float] = []
        self.max_steps = 0
        self.set_usage(None)

    def run_started(self, run_id: int, first_step: int, max_steps: int) -> None:
        self._durations = []
        self.max_steps = max_steps
        self.progress.setRange(0, max(1, max_steps))
        self.progress.setValue(max(0, first_step - 1))
        self.progress.setVisible(True)
        self.eta.setText("")
        self.message.setText(f"Run {run_id}: running")

    def step_completed(
        self, step: int, seconds: float, best: str | None, totals: dict[str, Any]
    ) -> None:
        self.progress.setValue(max(0, step))
        if step > 0:
            self._durations.append(max(0.0, seconds))
        self.eta.setText(eta_text(self._durations, self.max_steps - step))
        suffix = f", best {best}" if best is not None else ""
        self.message.setText(f"Step {step} of {self.max_steps} done{suffix}")
        self.set_usage(totals)

    def run_ended(self, text: str) -> None:
        self.progress.setVisible(False)
        self.eta.setText("")
        self.message.setText(text)

    def set_usage(self, totals: dict[str, Any] | None) -> None:
        totals = totals or {}
        tokens, cost = int(totals.get("total_tokens") or 0), float(totals.get("cost_usd") or 0.0)
        self.usage.setText(f"tokens {tokens:,} · ${cost:.4f}")


def eta_text(durations: list[float], remaining: int) -> str:
    if not durations or remaining <= 0:
        return ""
    recent = durations[-ETA_WINDOW:]
    seconds = sum(recent) / len(recent) * remaining
    if seconds < 1:
        return "ETA <1 s"
    if seconds < 60:
        return f"ETA {seconds:.0f} s"
    if seconds < 3600:
        return f"ETA {seconds / 60:.0f} min"
    return f"ETA {seconds / 3600:.1f} h"
