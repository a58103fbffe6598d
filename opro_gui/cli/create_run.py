"""`opro new`, `opro run` and `opro estimate`."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import BaselineStepCompleted, RunFinished, StepCompleted
from opro_gui.core.models import RunSettings, RunStatus
from opro_gui.services import ProjectSession

from .common import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_RUN_STOPPED,
    NORMAL_END,
    CliError,
    endpoint_from_args,
    facts_line,
    fmt_score,
    settings_from_args,
)


def cmd_new(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.kind == "tsp":
        from opro_gui.problems.tsp import TSPProblem, load_tsp_file

        if args.import_file:
            problem: Any = load_tsp_file(args.import_file)
        else:
            problem = TSPProblem.generate(args.points, args.seed)
    elif args.kind == "linreg":
        from opro_gui.problems.linear_regression import LinearRegressionProblem

        problem = LinearRegressionProblem(w_true=args.w, b_true=args.b, seed=args.seed)
    else:
        problem = _new_prompt_problem(args)
    with ProjectSession.create(out, args.kind, problem.to_spec()) as session:
        facts = session.problem().summary()
    print(f"created {out} ({args.kind}): " + facts_line(args.kind, facts))
    return EXIT_OK


def _new_prompt_problem(args: argparse.Namespace) -> Any:
    from opro_gui.problems.datasets import load_dataset
    from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset

    dataset = load_dataset(args.dataset, args.format, args.input_col, args.target_col)
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    options: dict[str, Any] = _preset_options(args.preset, dataset.name) if args.preset else {}
    for opt, key in _ABLATION_KEYS:
        value = getattr(args, opt, None)
        if value is not None:
            options[key] = value
    if args.task_type in ("exact", "regex"):
        options["match"] = args.task_type
    elif args.task_type:
        options["task_type"] = args.task_type
    if args.position:
        options["position"] = args.position
    if args.style:
        options["style"] = args.style
    if args.initial:
        options["initial_instructions"] = list(args.initial)
    test = None
    if args.test_dataset:
        test = load_dataset(args.test_dataset, args.format, args.input_col, args.target_col)
    spec = spec_from_dataset(
        dataset, train_ratio=args.train_ratio, seed=args.seed, test=test, **options
    )
    return PromptProblem.from_spec(spec)


_ABLATION_KEYS = (
    ("order", "order"),
    ("score_format", "score_format"),
    ("score_buckets", "score_buckets"),
    ("exemplars", "exemplar_count"),
    ("exemplar_criterion", "criterion"),
    ("exemplar_placement", "exemplar_placement"),
    ("score_threshold", "score_threshold"),
    ("boxed", "boxed"),
    ("extract_again", "extract_again"),
    ("lenient", "lenient_substring"),
)


def _preset_options(name: str, dataset_name: str) -> dict[str, Any]:
    from opro_gui.services.presets import preset_options

    options, warning = preset_options(name, dataset_name)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return options


def cmd_run(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise CliError("--steps must be at least 1")
    with ProjectSession.open(args.project) as session:
        last = session.latest_run_id()
        prev_settings = prev_opt = prev_sc = None
        if last is not None:
            run = session.store.run(last)
            done = session.store.last_step(last)
            status = run["status"]
            if not args.new_run and (
                status in (RunStatus.TARGET_REACHED, RunStatus.NO_IMPROVEMENT)
                or (status == RunStatus.COMPLETED and done >= args.steps)
            ):
                print(
                    f"run {last} already ended ({status}: {run['status_reason']}) after step "
                    f"{done}; use --new-run to start another, or a larger --steps"
                )
                return EXIT_OK
            prev_settings = session.run_settings(last)
            prev_opt, prev_sc = session.endpoints(last)
        else:  # a preset's run settings (samples, temperature, steps) for the first run
            prev_settings = session.default_run_settings()
        settings = settings_from_args(args, prev_settings)
        optimizer = endpoint_from_args(args, "optimizer", prev_opt)
        scorer = None
        if session.kind == "prompt":
            scorer = endpoint_from_args(args, "scorer", prev_sc or prev_opt)
        run_id = session.prepare_run(settings, optimizer, scorer, new_run=args.new_run)
        cancel = CancelToken()
        _install_signal_handlers(cancel)
        optimum = None  # for the gap on each progress line, computed once
        if session.kind == "tsp":
            facts = session.problem(run_id).summary()
            optimum = facts.get("optimal_length") or facts.get("best_known_length")
        start = session.store.last_step(run_id)
        print(
            f"run {run_id}: {session.kind}, optimizer {optimizer.model} at {optimizer.base_url}"
            + (f", scorer {scorer.model}" if scorer else "")
            + (f", continuing after step {start}" if start >= 0 else "")
            + f", up to step {settings.max_steps}",
            flush=True,
        )
        final: RunFinished | None = None
        for event in session.run_events(run_id, cancel):
            if isinstance(event, StepCompleted):
                print(_progress_line(session.kind, event, settings, optimum), flush=True)
            elif isinstance(event, BaselineStepCompleted):
                line = _progress_line(session.kind, event, settings, None)
                print(f"  baseline (run {event.run_id}) {line}", flush=True)
            elif isinstance(event, RunFinished):
                final = event
        assert final is not None
        print(f"run {run_id} {final.status}: {final.reason}", flush=True)
        if final.status in NORMAL_END:
            return EXIT_OK
        print(f"opro: run {run_id} stopped: {final.reason}", file=sys.stderr)
        return EXIT_CANCELLED if final.status == RunStatus.CANCELLED else EXIT_RUN_STOPPED


def _progress_line(
    kind: str,
    event: StepCompleted | BaselineStepCompleted,
    settings: RunSettings,
    optimum: float | None,
) -> str:
    r = event.record
    statuses = [c.status for c in r.candidates]
    valid = sum(1 for s in statuses if s == "scored")
    best = fmt_score(kind, r.best_score)
    parts = [f"step {r.step}/{settings.max_steps}", f"best {best}"]
    if optimum and r.best_score is not None:
        parts.append(f"gap {100 * (r.best_score - optimum) / optimum:.1f}%")
    parts.append(f"scored {valid}/{len(statuses)}")
    for s in ("invalid", "duplicate", "filtered", "incomplete"):
        k = statuses.count(s)  # type: ignore[arg-type]
        if k:
            parts.append(f"{s} {k}")
    t = event.totals
    parts.append(f"tokens {t['total_tokens']}")
    if t["cost_usd"]:
        parts.append(f"${t['cost_usd']:.4f}")
    if isinstance(event, StepCompleted) and event.improved and r.step > 0:
        parts.append("improved")
    return "  ".join(parts)


def _install_signal_handlers(cancel: CancelToken) -> None:
    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (main() called from a thread)
            signal.signal(sig, handler)


def cmd_estimate(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        run_id = session.latest_run_id()
        settings = settings_from_args(args, session.run_settings(run_id) if run_id else None)
        opt_prev, sc_prev = session.endpoints(run_id) if run_id else (None, None)
        optimizer = endpoint_from_args(args, "optimizer", opt_prev)
        scorer = (
            endpoint_from_args(args, "scorer", sc_prev or opt_prev)
            if session.kind == "prompt"
            else None
        )
        est = session.estimate(args.steps, settings, optimizer, scorer)
    if args.json:
        print(json.dumps(est, indent=2))
    else:
        print(f"estimate for {args.steps} steps: {est['summary']}")
        print(
            f"  optimizer calls {est['optimizer_calls']}, scorer calls {est['scorer_calls']}, "
            f"prompt tokens ~{est['prompt_tokens']}, completion tokens ~{est['completion_tokens']}"
        )
    return EXIT_OK
