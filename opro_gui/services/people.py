"""People in the loop: candidates added by hand, starred or excluded, each stored with its step."""

from __future__ import annotations

from typing import Any

from opro_gui.core.models import Intervention
from opro_gui.llm import EndpointConfig
from opro_gui.problems.evaluators import judge_request, read_judge
from opro_gui.storage import ProjectError, ProjectStore

from .base import SessionBase
from .judging import judge_endpoint


class PeopleInbox:
    """The engine's inbox for one run: what people added or excluded up to a step. Adds are
    marked applied once the step that scored them is saved."""

    def __init__(self, store: ProjectStore, run_id: int) -> None:
        self.store, self.run_id = store, run_id
        self._pending: list[int] = []

    def __call__(self, step: int) -> Intervention:
        actions = [a for a in self.store.human_actions(self.run_id) if a["step"] <= step]
        adds = [a for a in actions if a["action"] == "add" and a["applied_step"] is None]
        self._pending = [a["id"] for a in adds]
        excluded = frozenset(
            a["candidate_key"] for a in actions if a["action"] == "exclude" and a["candidate_key"]
        )
        return Intervention(tuple(a["solution"] for a in adds), excluded)

    def step_saved(self, step: int) -> None:
        if self._pending:
            self.store.mark_applied(self._pending, step)
            self._pending = []


class PeopleMixin(SessionBase):
    def _run_for_action(self, run_id: int | None) -> int:
        rid = run_id if run_id is not None else self.latest_run_id()
        if rid is None or rid not in self.store.run_ids():
            raise ProjectError("no such run: start one with `opro run` first")
        return rid

    def add_candidate(self, text: str, run_id: int | None = None, note: str = "") -> dict[str, Any]:
        """A person's candidate: scored at the start of the run's next step, entered into its
        trajectory and marked as human (``completion_index`` -2)."""
        rid = self._run_for_action(run_id)
        problem = self.problem(rid)
        # Written as the optimizer would (a TSP <trace>...) or, for instructions, the text itself.
        valid = [p.solution for p in problem.parse(text) if p.solution is not None]
        solution: Any = valid[0] if valid else text
        step = self.store.last_step(rid) + 1
        action_id = self.store.add_human_action(
            rid, step, "add", text=text, solution=solution,
            candidate_key=problem.dedup_key(solution), note=note,
        )  # fmt: skip
        return {"id": action_id, "run_id": rid, "step": step, "action": "add", "text": text}

    def _mark(self, action: str, candidate_id: int, note: str) -> dict[str, Any]:
        cand = self.store.candidate_by_id(candidate_id)
        if cand is None:
            raise ProjectError(f"no candidate with id {candidate_id} (see `opro history`)")
        rid = int(cand["run_id"])
        # a star marks the candidate's own step; an exclusion applies from the next step on
        step = int(cand["step"]) if action == "star" else self.store.last_step(rid) + 1
        action_id = self.store.add_human_action(
            rid, step, action, text=str(cand["text"]), candidate_id=candidate_id,
            candidate_key=str(cand["key"]), note=note,
        )  # fmt: skip
        return {"id": action_id, "run_id": rid, "step": step, "action": action,
                "candidate_id": candidate_id, "text": cand["text"]}  # fmt: skip

    def star(self, candidate_id: int, note: str = "") -> dict[str, Any]:
        return self._mark("star", candidate_id, note)

    def exclude(self, candidate_id: int, note: str = "") -> dict[str, Any]:
        """Leave a candidate out of the trajectory shown to the optimizer from the next step."""
        return self._mark("exclude", candidate_id, note)

    def human_actions(self, run_id: int | None = None) -> list[dict[str, Any]]:
        return self.store.human_actions(run_id)


class JudgeReplayMixin(SessionBase):
    def replay_judge(
        self, candidate_id: int, endpoint: EndpointConfig | None = None
    ) -> list[dict[str, Any]]:
        """Send a candidate's stored judge prompts again (temperature 0: through the project's
        response cache, so the same judge answers the same unless ``endpoint`` is another)."""
        cand = self.store.candidate_by_id(candidate_id)
        if cand is None:
            raise ProjectError(f"no candidate with id {candidate_id} (see `opro history`)")
        run_id = int(cand["run_id"])
        problem = self.problem(run_id)
        asks = [
            (r.example_id, v)
            for r in self.store.records(candidate_id=candidate_id)
            for v in r.verdicts
            if v.prompt
        ]
        if not asks:
            raise ProjectError(f"candidate {candidate_id} has no judge verdicts to replay")
        opt_cfg, sc_cfg = self.endpoints(run_id)
        base = sc_cfg or opt_cfg
        cfg = endpoint or judge_endpoint(problem, base) or base
        client = self.client(cfg, "judge")
        results = client.complete([judge_request(v.prompt) for _, v in asks])
        by_name = {e.name: e for e in getattr(problem, "evaluators", ())}
        out = []
        for (example_id, v), res in zip(asks, results, strict=True):
            row: dict[str, Any] = {"example_id": example_id, "name": v.name,
                                   "stored_score": v.score, "stored_reason": v.reason}  # fmt: skip
            if res.texts and v.name in by_name:
                row["score"], row["reason"] = read_judge(by_name[v.name], res.texts[0])
            else:
                row["score"], row["reason"] = None, res.error or "no reply"
            out.append(row)
        return out
