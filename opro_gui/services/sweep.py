"""Sweeps: one task over a grid (optimizer models × scorer models × seeds × settings), one run
per grid point in the same project, several at once, resumable: a run carries its grid point
in its settings, so running the sweep again continues exactly the points not yet finished."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import Event, RunFinished
from opro_gui.core.models import RESUMABLE, RunSettings, RunStatus
from opro_gui.llm import EndpointConfig
from opro_gui.problems import make_problem
from opro_gui.storage import ProjectError

from .reports import ReportsMixin

#: Settings a sweep may vary with ``--set`` (and how a value is read).
SETTABLE = {f.name for f in fields(RunSettings)} - {"max_steps", "seed"}
_TASK = "task."


@dataclass(frozen=True)
class GridPoint:
    """One combination of the grid; its ``key`` is stored with the run that realises it."""

    optimizer_model: str
    scorer_model: str | None
    seed: int
    settings: tuple[tuple[str, Any], ...] = ()
    task: tuple[tuple[str, Any], ...] = ()

    def key(self) -> dict[str, Any]:
        return {
            "optimizer_model": self.optimizer_model,
            "scorer_model": self.scorer_model,
            "seed": self.seed,
            "settings": dict(self.settings),
            "task": dict(self.task),
        }

    def label(self) -> str:
        parts = [self.optimizer_model]
        if self.scorer_model:
            parts.append(f"scorer {self.scorer_model}")
        parts.append(f"seed {self.seed}")
        parts += [f"{k}={v}" for k, v in self.settings]
        parts += [f"{_TASK}{k}={v}" for k, v in self.task]
        return ", ".join(parts)


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``key=v1,v2`` → (key, [v1, v2]); values are read as JSON where they parse (numbers,
    true/false, null), otherwise kept as text. Keys: run settings, or ``task.<spec key>``."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ProjectError(f"--set {text!r}: expected KEY=V1,V2,…")
    if key not in SETTABLE and not key.startswith(_TASK):
        raise ProjectError(
            f"--set {key}: not a setting a sweep can vary; use one of {', '.join(sorted(SETTABLE))}"
            f" or {_TASK}<task setting>"
        )
    out = []
    for raw in values.split(","):
        raw = raw.strip()
        try:
            out.append(json.loads(raw))
        except ValueError:
            out.append(raw)
    return key, out


def expand_grid(
    optimizer_models: Sequence[str],
    scorer_models: Sequence[str | None],
    seeds: Sequence[int],
    sets: Sequence[tuple[str, list[Any]]] = (),
) -> list[GridPoint]:
    if not optimizer_models or not seeds:
        raise ProjectError("a sweep needs at least one optimizer model and one seed")
    names = [k for k, _ in sets]
    if len(set(names)) != len(names):
        raise ProjectError("each --set key may be given once")
    points = []
    for opt, sc, seed, *values in itertools.product(
        optimizer_models, scorer_models or [None], seeds, *(v for _, v in sets)
    ):
        chosen = list(zip(names, values, strict=True))
        points.append(
            GridPoint(
                optimizer_model=opt,
                scorer_model=sc,
                seed=int(seed),
                settings=tuple((k, v) for k, v in chosen if not k.startswith(_TASK)),
                task=tuple((k[len(_TASK) :], v) for k, v in chosen if k.startswith(_TASK)),
            )
        )
    return points


@dataclass(frozen=True)
class PlannedRun:
    point: GridPoint
    run_id: int
    action: str  # "new", "continue" or "done"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class SweepMixin(ReportsMixin):
    def sweep_runs(self) -> dict[str, int]:
        """Grid-point key (canonical JSON) → the run realising it (the first one, if several)."""
        out: dict[str, int] = {}
        for run_id in self.run_ids():
            point = self.store.sweep_point(run_id)
            if point is not None:
                out.setdefault(_canonical(point), run_id)
        return out

    def plan_sweep(
        self,
        points: Sequence[GridPoint],
        steps: int,
        base: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None,
    ) -> list[PlannedRun]:
        """Create the runs of points not yet in the project; say which runs continue and which
        are finished. Nothing here calls a model."""
        if steps < 1:
            raise ProjectError("--steps must be at least 1")
        existing = self.sweep_runs()
        plan = []
        for p in points:
            run_id = existing.get(_canonical(p.key()))
            if run_id is None:
                settings = replace(base, max_steps=steps, seed=p.seed, **dict(p.settings))
                override = dict(p.task) or None
                if override:
                    make_problem(self.kind, {**self.store.spec(), **override})  # validate first
                run_id = self.store.create_run(
                    {**settings.to_dict(), "sweep": p.key()},
                    replace(optimizer, model=p.optimizer_model).to_public_dict(),
                    replace(scorer, model=p.scorer_model or scorer.model).to_public_dict()
                    if scorer
                    else None,
                    spec_override=override,
                )
                plan.append(PlannedRun(p, run_id, "new"))
                continue
            run = self.store.run(run_id)
            last = self.store.last_step(run_id)
            ended = run.status not in RESUMABLE
            if ended and (run.status != RunStatus.COMPLETED or last >= steps):
                plan.append(PlannedRun(p, run_id, "done"))
                continue
            if run.settings.max_steps != steps:
                raw = {**run.settings.to_dict(), "max_steps": steps, "sweep": p.key()}
                self.store.update_run_config(run_id, raw, run.optimizer, run.scorer)
            plan.append(PlannedRun(p, run_id, "continue"))
        return plan


#: Called from worker threads for every engine event of every run (serialise what you print).
OnEvent = Callable[[PlannedRun, Event], None]


def run_sweep(
    open_session: Callable[[], Any],
    plan: Sequence[PlannedRun],
    parallel: int = 2,
    on_event: OnEvent | None = None,
    cancel: CancelToken | None = None,
) -> dict[int, RunFinished]:
    """Run the planned runs that are not done, ``parallel`` at once, each in its own thread with
    its own session. The endpoint's concurrency is divided among the runs in flight so the
    sweep never has more requests open than one run would; the rate limiter is already shared
    per endpoint by the LLM layer."""
    cancel = cancel or CancelToken()
    todo = [p for p in plan if p.action != "done"]
    parallel = max(1, min(parallel, len(todo) or 1))
    results: dict[int, RunFinished] = {}
    lock = threading.Lock()

    def one(planned: PlannedRun) -> None:
        if cancel.cancelled:
            return
        with open_session() as session:
            opt_cfg, sc_cfg = session.endpoints(planned.run_id)
            optimizer = session.client(_share(opt_cfg, parallel), "optimizer")
            scorer = session.client(_share(sc_cfg, parallel), "scorer") if sc_cfg else None
            engine = session.engine(planned.run_id, cancel, optimizer=optimizer, scorer=scorer)
            for event in engine.events():
                if on_event is not None:
                    on_event(planned, event)
                if isinstance(event, RunFinished):
                    with lock:
                        results[planned.run_id] = event

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="opro-sweep") as pool:
        for fut in [pool.submit(one, p) for p in todo]:
            fut.result()
    return results


def _share(config: EndpointConfig, parallel: int) -> EndpointConfig:
    return replace(config, concurrency=max(1, config.concurrency // parallel))


def sweep_refs(path: Path, plan: Sequence[PlannedRun]) -> list[str]:
    return [f"{path}:{p.run_id}" for p in plan]


def sweep_file(
    path: str | Path,
    points: Sequence[GridPoint],
    steps: int,
    base: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
    parallel: int = 2,
    on_event: OnEvent | None = None,
    cancel: CancelToken | None = None,
) -> list[str]:
    """Plan and run a sweep on the project at ``path`` with sessions of its own (for a worker
    thread); returns the references of the grid's runs for ``compare_paths``."""
    from . import ProjectSession  # the composed session class lives in the package

    with ProjectSession.open(path) as session:
        plan = session.plan_sweep(points, steps, base, optimizer, scorer)
    run_sweep(lambda: ProjectSession.open(path), plan, parallel, on_event, cancel)
    return sweep_refs(Path(path), plan)
