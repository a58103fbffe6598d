"""Run-summary keys for people's actions and LLM judges' agreement with gold labels."""

from __future__ import annotations

from typing import Any

from opro_gui.storage import ProjectStore


def people_summary(store: ProjectStore, run_id: int) -> dict[str, Any]:
    """``human_actions`` (each add/star/exclude with its step), ``starred`` candidate ids,
    ``judge_agreement`` ({agree, labelled, rate}; None without a judge on labelled examples)."""
    actions = store.human_actions(run_id)
    agree, labelled = store.judge_agreement(run_id)
    return {
        "human_actions": [
            {k: a[k] for k in ("id", "step", "action", "text", "candidate_id", "applied_step")}
            for a in actions
        ],
        "starred": sorted({a["candidate_id"] for a in actions if a["action"] == "star"}),
        "judge_agreement": (
            {"agree": agree, "labelled": labelled, "rate": round(agree / labelled, 4)}
            if labelled
            else None
        ),
    }
