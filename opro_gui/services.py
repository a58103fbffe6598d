"""Application services shared by the CLI and the GUI: open a project, run, inspect, replay,
fork, evaluate, export. Everything here is plain Python; the GUI calls it from a worker thread."""

from __future__ import annotations

import csv
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from opro_gui.core.cancel import CancelToken
from opro_gui.core.engine import Engine
from opro_gui.core.events import Event
from opro_gui.core.models import (
    RESUMABLE,
    CallRecord,
    CandidateStatus,
    RunSettings,
    Scored,
    StepRecord,
)
from opro_gui.core.ports import LLMClient, LLMRequest, Problem
from opro_gui.llm import EndpointConfig, make_client
from opro_gui.llm.pricing import estimate_run
from opro_gui.problems import make_problem
from opro_gui.problems.prompt_opt import PromptProblem
from opro_gui.storage import ProjectCache, ProjectError, ProjectStore

__all__ = ["ProjectError", "ProjectSession", "StoreSink"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
# What reading a damaged or hand-edited file can raise below us (a malformed page, a text where
# a number belongs...): turned into one ProjectError line instead of a traceback.
_DAMAGE = (sqlite3.DatabaseError, TypeError, ValueError, KeyError, IndexError, AttributeError)


def _reads_file(
    fn: Callable[Concatenate[ProjectSession, _P], _R],
) -> Callable[Concatenate[ProjectSession, _P], _R]:
    @functools.wraps(fn)
    def guarded(self: ProjectSession, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(self, *args, **kwargs)
        except ProjectError:
            raise
        except _DAMAGE as exc:
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise ProjectError(
                f"{self.path.name} is damaged or was edited by hand ({detail})"
            ) from exc

    return guarded


class StoreSink:
    """The engine's RunSink: one transaction per completed step."""

    def __init__(self, store: ProjectStore, run_id: int) -> None:
        self.store = store
        self.run_id = run_id

    def step_completed(self, record: StepRecord) -> None:
        self.store.write_step(self.run_id, record)

    def status_changed(self, status: str, reason: str = "") -> None:
        self.store.set_status(self.run_id, status, reason)


class ProjectSession:
    """An open project file. Not thread-safe: open one session per thread."""

    def __init__(self, store: ProjectStore) -> None:
        self.store = store
        self.kind = store.kind
        self._problem: Problem | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def create(
        cls, path: str | Path, kind: str, spec: dict[str, Any], name: str | None = None
    ) -> ProjectSession:
        problem = make_problem(kind, spec)  # validates the spec before anything is written
        return cls(ProjectStore.create(path, kind, problem.to_spec(), name=name))

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> ProjectSession:
        session = cls(ProjectStore.open(path, readonly=readonly))
        try:
            session.problem()
        except ProjectError:
            session.close()
            raise
        except Exception as exc:  # a spec our problem classes reject
            session.close()
            raise ProjectError(f"{path}: the task definition is invalid ({exc})") from None
        return session

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ProjectSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def problem(self, run_id: int | None = None) -> Problem:
        """The project's problem; a forked run may carry its own template or settings."""
        override = self.store.run(run_id)["spec_override"] if run_id is not None else None
        if override:
            spec = {**self.store.spec(), **override}
            return make_problem(self.kind, spec)
        if self._problem is None:
            self._problem = make_problem(self.kind, self.store.spec())
        return self._problem

    def update_spec(self, spec: dict[str, Any]) -> None:
        problem = make_problem(self.kind, spec)
        self.store.update_spec(problem.to_spec())
        self._problem = problem

    # -- runs ----------------------------------------------------------------------------
    def run_ids(self) -> list[int]:
        return self.store.run_ids()

    def latest_run_id(self) -> int | None:
        ids = self.store.run_ids()
        return ids[-1] if ids else None

    def prepare_run(
        self,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
        *,
        new_run: bool = False,
    ) -> int:
        """Continue the latest resumable run (with these settings), or start a new one."""
        run_id = self.latest_run_id()
        opt, sc = optimizer.to_public_dict(), scorer.to_public_dict() if scorer else None
        if run_id is not None and not new_run:
            run = self.store.run(run_id)
            finished = run["status"] not in RESUMABLE
            more_steps = settings.max_steps > self.store.last_step(run_id)
            if not finished or (run["status"] == "completed" and more_steps):
                self.store.update_run_config(run_id, settings.to_dict(), opt, sc)
                return run_id
        return self.store.create_run(settings.to_dict(), opt, sc)

    @_reads_file
    def run_settings(self, run_id: int) -> RunSettings:
        return RunSettings.from_dict(self.store.run(run_id)["settings"])

    @_reads_file
    def endpoints(self, run_id: int) -> tuple[EndpointConfig, EndpointConfig | None]:
        run = self.store.run(run_id)
        scorer = EndpointConfig.from_dict(run["scorer"]) if run["scorer"] else None
        return EndpointConfig.from_dict(run["optimizer"]), scorer

    def client(self, config: EndpointConfig, role: str) -> LLMClient:
        return make_client(config, cache=ProjectCache(self.store), role=role)

    @_reads_file
    def engine(
        self,
        run_id: int,
        cancel: CancelToken | None = None,
        optimizer: LLMClient | None = None,
        scorer: LLMClient | None = None,
    ) -> Engine:
        """An engine that continues ``run_id`` from its last completed step."""
        settings = self.run_settings(run_id)
        problem = self.problem(run_id)
        opt_cfg, sc_cfg = self.endpoints(run_id)
        if optimizer is None:
            optimizer = self.client(opt_cfg, "optimizer")
        if scorer is None and self.kind == "prompt":
            scorer = self.client(sc_cfg or opt_cfg, "scorer")
        state = self.store.load_state(
            run_id, problem.higher_is_better, with_records=self.kind == "prompt"
        )
        self.store.enable_wal()
        return Engine(
            problem, optimizer, scorer, settings, StoreSink(self.store, run_id), state, cancel
        )

    def run(self, run_id: int, cancel: CancelToken | None = None) -> Iterator[Event]:
        yield from self.engine(run_id, cancel).events()

    def estimate(
        self,
        steps: int,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
    ) -> dict[str, Any]:
        """Calls, tokens and dollars that ``steps`` more steps will take, before running them.

        The meta-prompt is rendered from the initial solutions and grown to a full history of
        ``history_size`` entries; scorer requests are candidates x training examples."""
        problem = self.problem()
        initial = problem.initial_solutions()
        size = settings.history_size or problem.default_history_size
        fake = [Scored(solution=s, score=0.0, step=0) for s in initial]
        base = len(problem.render_meta_prompt(fake, 1, size))
        per_entry = max((len(problem.format_solution(s)) + 20 for s in initial), default=0)
        meta_chars = base + max(0, size - len(initial)) * per_entry
        scorer_per_step = scorer_chars = initial_requests = 0
        if self.kind == "prompt" and scorer is not None:
            prompt_problem = cast(PromptProblem, problem)
            train_ids = list(prompt_problem.train_ids)
            scorer_per_step = settings.samples_per_step * len(train_ids)
            initial_requests = len(initial) * len(train_ids)
            sample = train_ids[:50]
            chars = [len(prompt_problem.scorer_prompt(str(initial[0]), i)) for i in sample]
            scorer_chars = sum(chars) // max(1, len(chars))
        est = estimate_run(
            steps=steps,
            optimizer=optimizer,
            meta_prompt_chars=meta_chars,
            samples_per_step=settings.samples_per_step,
            scorer=scorer,
            scorer_requests_per_step=scorer_per_step,
            scorer_prompt_chars=scorer_chars,
            initial_scorer_requests=initial_requests,
        )
        return {
            "steps": est.steps,
            "calls": est.calls,
            "optimizer_calls": est.optimizer_calls,
            "scorer_calls": est.scorer_calls,
            "prompt_tokens": est.prompt_tokens,
            "completion_tokens": est.completion_tokens,
            "total_tokens": est.tokens,
            "cost_usd": round(est.cost_usd, 4),
            "priced": est.priced,
            "summary": est.summary(),
        }

    # -- reading -------------------------------------------------------------------------
    @_reads_file
    def run_summary(self, run_id: int) -> dict[str, Any]:
        run = self.store.run(run_id)
        problem = self.problem(run_id)
        steps = self.store.steps(run_id)
        last = steps[-1] if steps else None
        totals = self.store.totals(run_id).to_dict()
        summary: dict[str, Any] = {
            "id": run_id,
            "status": run["status"],
            "status_reason": run["status_reason"],
            "steps_completed": max(0, last["step"]) if last else 0,
            "max_steps": run["settings"].get("max_steps"),
            "best_score": last["best_score"] if last else None,
            "best_solution": last["best_solution"] if last else None,
            "prompt_tokens": totals["prompt_tokens"],
            "completion_tokens": totals["completion_tokens"],
            "total_tokens": totals["total_tokens"],
            "cost_usd": totals["cost_usd"],
            "calls": totals["calls"],
            "cached_calls": totals["cached_calls"],
            "failed_calls": totals["failed_calls"],
            "tokens_by_role": totals["by_role"],
            "optimizer_model": run["optimizer"].get("model"),
            "scorer_model": (run["scorer"] or {}).get("model"),
            "parent_run_id": run["parent_run_id"],
            "fork_step": run["fork_step"],
        }
        found = next((s["step"] for s in steps if s["optimal"]), None)
        cands = self.store.candidates(run_id)
        summary["candidates"] = len(cands)
        summary["evaluations"] = sum(c["status"] in ("scored", "incomplete") for c in cands)
        counts: dict[str, int] = {}
        for c in cands:
            if c["step"] > 0:
                counts[c["status"]] = counts.get(c["status"], 0) + 1
        summary["status_counts"] = counts
        proposed = sum(counts.values())
        summary["invalid_rate"] = (
            round(counts.get("invalid", 0) / proposed, 4) if proposed else None
        )
        mismatched = {
            c["model_reported"]
            for c in self.store.calls(run_id)
            if c["model_reported"]
            and not c["error"]
            and not c["cached"]
            and _model_mismatch(c["model_requested"], c["model_reported"])
        }
        summary["model_mismatch"] = sorted(mismatched)
        summary.update(_kind_summary(self.kind, problem, summary, found))
        if self.kind in ("tsp", "linreg"):
            curve = self.random_search_curve(run_id)
            rs_best = curve[-1] if curve else None
            summary["random_search_best"] = rs_best
            summary["beats_random_search"] = (
                None if rs_best is None or summary["best_score"] is None
                else summary["best_score"] < rs_best
            )
        if self.kind == "prompt":
            summary.update(self._prompt_summary(run_id))
        return summary

    def random_search_curve(self, run_id: int) -> list[float]:
        """Best score after each step of a random search given exactly as many evaluations per
        step as the run made (TSP, linear regression): small models often do no better."""
        problem = self.problem(run_id)
        curve_fn = getattr(problem, "random_search_curve", None)
        if curve_fn is None:
            return []
        per_step: dict[int, int] = {}
        for c in self.store.candidates(run_id):
            if c["step"] > 0 and c["status"] == CandidateStatus.SCORED:
                per_step[c["step"]] = per_step.get(c["step"], 0) + 1
        last = self.store.last_step(run_id)
        budget = [per_step.get(step, 0) for step in range(1, last + 1)]
        return [float(x) for x in curve_fn(budget, self.run_settings(run_id).seed)]

    def _prompt_summary(self, run_id: int) -> dict[str, Any]:
        steps = self.store.steps(run_id)
        best = steps[-1]["best_solution"] if steps else None
        out: dict[str, Any] = {
            "best_instruction": best,
            "best_train_accuracy": steps[-1]["best_score"] if steps else None,
            "best_test_accuracy": None,
        }
        evals = [e for e in self.store.evaluations(run_id) if e["split"] == "test"]
        for e in reversed(evals):
            if e["solution"] == best:
                out["best_test_accuracy"] = e["score"]
                break
        out["test_evaluations"] = [
            {
                "label": e["label"],
                "instruction": e["solution"],
                "train_accuracy": e["train_score"],
                "test_accuracy": e["score"],
                "n_examples": e["n_examples"],
                "complete": bool(e["complete"]),
            }
            for e in evals
        ]
        return out

    @_reads_file
    def summary(self) -> dict[str, Any]:
        project = self.store.project()
        problem = self.problem()
        return {
            "path": str(self.path),
            "name": project["name"],
            "kind": self.kind,
            "app_version": project["app_version"],
            "problem": problem.summary(),
            "runs": [self.run_summary(r) for r in self.run_ids()],
        }

    @_reads_file
    def step_detail(self, run_id: int, step: int) -> dict[str, Any] | None:
        return self.store.step_detail(run_id, step)

    # -- replay, fork, evaluate ----------------------------------------------------------
    def replay(
        self,
        run_id: int,
        step: int,
        endpoint: EndpointConfig | None = None,
        samples: int | None = None,
        meta_prompt: str | None = None,
        temperature: float | None = None,
        score: bool = True,
        cancel: CancelToken | None = None,
        client: LLMClient | None = None,
    ) -> dict[str, Any]:
        """Re-send a step's meta-prompt (or an edited copy) and store the answers as a replay.
        The run itself is unchanged."""
        detail = self.store.step_detail(run_id, step)
        if detail is None or step == 0:
            raise ProjectError(f"run {run_id} has no optimization step {step} to replay")
        settings = self.run_settings(run_id)
        opt_cfg, sc_cfg = self.endpoints(run_id)
        endpoint = endpoint or opt_cfg
        prompt = detail["meta_prompt"] if meta_prompt is None else meta_prompt
        client = client or self.client(endpoint, "replay")
        request = LLMRequest(
            prompt=prompt,
            n=samples or settings.samples_per_step,
            temperature=settings.temperature if temperature is None else temperature,
            max_tokens=settings.max_tokens,
            role="replay",
        )
        (result,) = client.complete([request], cancel)
        calls: list[CallRecord] = list(result.calls or (result.call,))
        problem = self.problem(run_id)
        candidates: list[dict[str, Any]] = []
        to_score = []
        for i, text in enumerate(result.texts):
            for p in problem.parse(text):
                entry: dict[str, Any] = {
                    "completion_index": i,
                    "text": p.text,
                    "solution": p.solution,
                    "status": "invalid",
                    "reason": p.reason,
                    "score": None,
                }
                if p.solution is not None:
                    entry["text"] = p.text or problem.format_solution(p.solution)
                    why = problem.filter_reason(p.solution)
                    entry["status"], entry["reason"] = ("filtered", why) if why else ("parsed", "")
                    if not why:
                        to_score.append(entry)
                candidates.append(entry)
        if score and to_score:
            scorer = None
            if self.kind == "prompt":
                scorer = self.client(sc_cfg or opt_cfg, "scorer")
            results = problem.score(
                [e["solution"] for e in to_score],
                _Collect(scorer, calls) if scorer else None,
                cancel,
            )
            for e, r in zip(to_score, results, strict=True):
                e["score"] = r.score
                e["status"] = "scored" if r.complete and r.score is not None else "incomplete"
        replay_id = self.store.add_replay(
            run_id, step, endpoint.to_public_dict(), prompt, result.texts, candidates, calls
        )
        return {
            "id": replay_id,
            "run_id": run_id,
            "step": step,
            "model": endpoint.model,
            "meta_prompt": prompt,
            "completions": list(result.texts),
            "error": result.error,
            "candidates": candidates,
            "original_completions": detail["completions"],
        }

    def fork(
        self,
        run_id: int,
        step: int,
        settings: RunSettings | None = None,
        spec_override: dict[str, Any] | None = None,
    ) -> int:
        """A new run that starts from ``run_id``'s state after ``step``, with edited settings or
        template; the original run is untouched."""
        if step > self.store.last_step(run_id):
            raise ProjectError(f"run {run_id} has not completed step {step}")
        run = self.store.run(run_id)
        new_settings = (settings or self.run_settings(run_id)).to_dict()
        override = {**(run["spec_override"] or {}), **(spec_override or {})} or None
        if override:
            make_problem(self.kind, {**self.store.spec(), **override})  # validate first
        new_id = self.store.create_run(
            new_settings,
            run["optimizer"],
            run["scorer"],
            parent_run_id=run_id,
            fork_step=step,
            spec_override=override,
        )
        self.store.copy_steps(run_id, new_id, step)
        return new_id

    def evaluate(
        self,
        run_id: int,
        split: str = "test",
        top: int = 1,
        scorer_endpoint: EndpointConfig | None = None,
        cancel: CancelToken | None = None,
        client: LLMClient | None = None,
    ) -> list[dict[str, Any]]:
        """Score the top-K instructions by TRAINING accuracy and the baselines on ``split``."""
        if self.kind != "prompt":
            raise ProjectError("evaluate applies to prompt-optimization projects only")
        problem = self.problem(run_id)
        cands = [c for c in self.store.candidates(run_id) if c["status"] == CandidateStatus.SCORED]
        cands.sort(key=lambda c: (-c["score"], c["step"], c["index"]))
        chosen: list[tuple[str, str, float | None]] = []
        seen: set[str] = set()
        for c in cands:
            if c["solution"] not in seen and len(chosen) < top:
                seen.add(c["solution"])
                chosen.append((f"top-{len(chosen) + 1}", c["solution"], c["score"]))
        train_of = {c["solution"]: c["score"] for c in cands}
        prompt_problem = cast(PromptProblem, problem)
        for b in prompt_problem.baselines():
            chosen.append((f"baseline: {b!r}" if b else "baseline: empty", b, train_of.get(b)))
        opt_cfg, sc_cfg = self.endpoints(run_id)
        calls: list[CallRecord] = []
        scorer = client or self.client(scorer_endpoint or sc_cfg or opt_cfg, "scorer")
        results = prompt_problem.evaluate(
            [c[1] for c in chosen], _Collect(scorer, calls), split=split, cancel=cancel
        )
        out = []
        for (label, instr, train), res in zip(chosen, results, strict=True):
            self.store.add_evaluation(run_id, split, label, instr, instr, res, train, calls)
            calls = []
            out.append(
                {
                    "label": label,
                    "instruction": instr,
                    "train_accuracy": train,
                    "accuracy": res.score,
                    "split": split,
                    "n_examples": len(res.records),
                    "complete": res.complete,
                }
            )
        return out

    # -- export --------------------------------------------------------------------------
    @_reads_file
    def export_dict(self) -> dict[str, Any]:
        """Everything in the project, nested run → step → candidate (no secrets: there are none)."""
        project = self.store.project()
        out: dict[str, Any] = {
            "format": "opro-studio-export",
            "format_version": 1,
            "exported_at": time.time(),
            "project": project,
            "kind": self.kind,
            "task": self.store.spec(),
            "problem": self.problem().summary(),
            "runs": [],
        }
        for run_id in self.run_ids():
            run = self.store.run(run_id)
            run["summary"] = self.run_summary(run_id)
            run["steps"] = []
            for s in self.store.steps(run_id):
                detail = self.store.step_detail(run_id, s["step"])
                assert detail is not None
                run["steps"].append(detail)
            run["replays"] = self.store.replays(run_id)
            evals = self.store.evaluations(run_id)
            for e in evals:
                e["records"] = [r.__dict__ for r in self.store.records(evaluation_id=e["id"])]
            run["evaluations"] = evals
            out["runs"].append(run)
        return out

    def export(self, target: str | Path, fmt: str) -> None:
        target = Path(target)
        try:
            if fmt == "json":
                target.write_text(json.dumps(self.export_dict(), indent=1, ensure_ascii=False))
            elif fmt == "csv":
                with target.open("w", newline="", encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow(
                        [
                            "run_id",
                            "step",
                            "index",
                            "completion_index",
                            "status",
                            "reason",
                            "score",
                            "solution",
                            "text",
                        ]
                    )
                    for run_id in self.run_ids():
                        for c in self.store.candidates(run_id):
                            w.writerow(
                                [
                                    run_id,
                                    c["step"],
                                    c["index"],
                                    c["completion_index"],
                                    c["status"],
                                    c["reason"],
                                    c["score"],
                                    json.dumps(c["solution"], ensure_ascii=False),
                                    c["text"],
                                ]
                            )
            else:
                raise ProjectError(f"unknown export format {fmt!r}; use json or csv")
        except OSError as exc:
            raise ProjectError(f"cannot write {target}: {exc.strerror or exc}") from None

    def save_as(self, target: str | Path) -> None:
        self.store.save_as(target)


class _Collect:
    """Keeps the CallRecords of calls made outside the engine (replays, evaluations)."""

    def __init__(self, inner: LLMClient, calls: list[CallRecord]) -> None:
        self._inner, self._calls = inner, calls

    @property
    def model(self) -> str:
        return self._inner.model

    def complete(self, requests: Any, cancel: CancelToken | None = None) -> Any:
        results = self._inner.complete(requests, cancel)
        for r in results:
            self._calls.extend(r.calls or (r.call,))
        return results


def _model_mismatch(requested: str, reported: str) -> bool:
    from opro_gui.llm.presets import model_mismatch

    return model_mismatch(requested, reported)


def _kind_summary(
    kind: str, problem: Problem, run: dict[str, Any], found_at: int | None
) -> dict[str, Any]:
    facts = problem.summary()
    best = run["best_score"]
    if kind == "tsp":
        opt = facts.get("optimal_length") or facts.get("best_known_length")
        return {
            "optimal_length": opt,
            "optimal_is_exact": facts.get("optimal_is_exact", True),
            "gap_percent": None if best is None or not opt else round((best - opt) / opt * 100, 4),
            "found_at_step": found_at,
            "nearest_neighbour_length": facts.get("nearest_neighbour"),
            "farthest_insertion_length": facts.get("farthest_insertion"),
        }
    if kind == "linreg":
        return {
            "w_true": facts.get("w_true"),
            "b_true": facts.get("b_true"),
            "optimum_w": facts.get("optimum_w"),
            "optimum_b": facts.get("optimum_b"),
            "found_at_step": found_at,
        }
    return {}
