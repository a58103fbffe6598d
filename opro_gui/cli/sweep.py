"""`opro sweep`: one task over a grid of models, seeds and settings, ending in a comparison table."""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from pathlib import Path

from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import Event, RunFinished, StepCompleted
from opro_gui.services import ProjectSession
from opro_gui.services.compare import (
    HEADERS,
    compare_paths,
    csv_rows,
    score_text,
    table_rows,
    to_csv,
    to_markdown,
)
from opro_gui.services.sweep import PlannedRun, expand_grid, parse_set, run_sweep

from .common import (
    EXIT_OK,
    EXIT_RUN_STOPPED,
    NORMAL_END,
    CliError,
    endpoint_from_args,
    settings_from_args,
)
from .compare import text_table
from .create_run import _install_signal_handlers, _progress_line


def _list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.datasets:
        from .sweep_tasks import sweep_datasets

        return sweep_datasets(args)
    code, refs = sweep_project(Path(args.project), args)
    write_tables(refs, args.out)
    return code


def sweep_project(path: Path, args: argparse.Namespace) -> tuple[int, list[str]]:
    """Plan and run the grid on one project; returns the exit code and the runs' references."""
    try:
        seeds = [int(s) for s in _list(args.seeds)] or [0]
    except ValueError:
        raise CliError(f"--seeds {args.seeds!r}: expected integers such as 0,1,2") from None
    sets = [parse_set(s) for s in args.set or []]
    with ProjectSession.open(path) as session:
        last = session.latest_run_id()
        stored = session.project_models()  # the grid's base endpoints, as `opro run` uses
        prev_opt, prev_sc = stored.optimizer, stored.scorer
        base = settings_from_args(args, session.run_settings(last) if last is not None else None)
        optimizer = endpoint_from_args(args, "optimizer", prev_opt)
        needs_scorer = session.problem_kind.needs_scorer
        scorer = endpoint_from_args(args, "scorer", prev_sc or prev_opt) if needs_scorer else None
        if args.scorer_models and scorer is None:
            raise CliError(f"{path.name} is a {session.kind} project: it has no scorer model")
        opt_models = _list(args.optimizer_models) or [optimizer.model]
        sc_models: list[str | None] = list(_list(args.scorer_models)) or [
            scorer.model if scorer else None
        ]
        points = expand_grid(opt_models, sc_models, seeds, sets)
        plan = session.plan_sweep(points, args.steps, base, optimizer, scorer)
    for p in plan:
        print(f"run {p.run_id} [{p.point.label()}]: {p.action}", flush=True)
    lock = threading.Lock()
    kind, shown = session.problem_kind, replace(base, max_steps=args.steps)

    def on_event(planned: PlannedRun, event: Event) -> None:
        with lock:
            if isinstance(event, StepCompleted):
                line = _progress_line(kind, event, shown, None)
                print(f"run {planned.run_id}: {line}", flush=True)
            elif isinstance(event, RunFinished):
                print(f"run {planned.run_id} {event.status}: {event.reason}", flush=True)

    cancel = CancelToken()
    restore = _install_signal_handlers(cancel)
    try:
        finished = run_sweep(
            lambda: ProjectSession.open(path), plan, args.parallel, on_event, cancel
        )
    finally:
        restore()
    stopped = [r for r, ev in finished.items() if ev.status not in NORMAL_END]
    if stopped:
        print(f"opro: runs {stopped} stopped early; run the sweep again to continue them")
    elif getattr(args, "evaluate", False):
        evaluate_best(path, [p.run_id for p in plan])
    return (EXIT_RUN_STOPPED if stopped else EXIT_OK), [f"{path}:{p.run_id}" for p in plan]


def evaluate_best(path: Path, run_ids: list[int]) -> None:
    """Test accuracy of each run's best instruction and the baselines (once per best: an
    evaluation already stored for it is not repeated)."""
    with ProjectSession.open(path) as session:
        if not session.problem_kind.supports_evaluation:
            raise CliError(f"--evaluate does not apply to {session.problem_kind.display_name}")
        for run_id in run_ids:
            if session.run_summary(run_id).to_json().get("best_test_accuracy") is None:
                session.evaluate(run_id, split="test", top=1)
                print(f"run {run_id}: evaluated on the test split", flush=True)


def write_tables(refs: list[str], out: str | None) -> None:
    if len(refs) < 2:
        return
    data = compare_paths(refs)
    rows = table_rows(data)
    print(text_table(HEADERS, rows))
    notes = []
    for group in data["seed_groups"]:
        best = group["best_score"] or {}
        sd = "" if best.get("sd") is None else f" ± {score_text(data['kind'], best['sd'])}"
        notes.append(
            f"{', '.join(group['refs'])} ({group['optimizer_model']}, seeds): best "
            f"{score_text(data['kind'], best.get('mean'))}{sd} (mean ± sd, n={best.get('n')})"
        )
    for note in notes:
        print(note)
    if out:
        md = Path(f"{out}.md")
        md.write_text(to_markdown(HEADERS, rows) + "".join(f"\n{n}\n" for n in notes))
        Path(f"{out}.csv").write_text(to_csv(*csv_rows(data)))
        print(f"wrote {md} and {out}.csv")
