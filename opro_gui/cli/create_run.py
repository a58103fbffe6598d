"""`opro new`, `opro run` and `opro estimate`."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import BaselineStepCompleted, RunFinished, StepCompleted
from opro_gui.core.models import RunSettings, RunStatus
from opro_gui.llm.config import EndpointConfig
from opro_gui.problems import ProblemKind, get_kind
from opro_gui.problems.local_scoring import STRICT_KEY
from opro_gui.services import ProjectSession
from opro_gui.services.model_probe import check_models
from opro_gui.services.plan import RunPlan
from opro_gui.services.project_models import model_line
from opro_gui.services.status import status_text, stop_message
from opro_gui.services.verdict import step_transport

from .common import (
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_RUN_STOPPED,
    NORMAL_END,
    CliError,
    check_model_names,
    endpoint_from_args,
    endpoint_lines,
    print_warnings,
    settings_from_args,
)


def cmd_new(args: argparse.Namespace) -> int:
    out = Path(args.out)
    kind = get_kind(args.kind)
    spec = kind.spec_from_args(args, lambda w: print(f"warning: {w}", file=sys.stderr))
    if getattr(args, "strict_reference_parsing", False):
        spec[STRICT_KEY] = True
    with ProjectSession.create(out, kind.name, spec) as session:
        facts = session.problem().summary()
    print(f"created {out} ({kind.name}): " + kind.facts_line(facts))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise CliError("--steps must be at least 1")
    with ProjectSession.open(args.project) as session:
        kind = session.problem_kind
        last = session.latest_run_id()
        prev_settings: RunSettings | None = None
        if last is not None:
            prev_settings = session.run_settings(last)
        else:  # a preset's run settings (samples, temperature, steps) for the first run
            prev_settings = session.default_run_settings()
        # the project's own endpoints (stored with it; older files: its latest run's)
        stored = session.project_models()
        prev_opt, prev_sc = stored.optimizer, stored.scorer
        settings = settings_from_args(args, prev_settings)
        optimizer = endpoint_from_args(args, "optimizer", prev_opt)
        scorer = None
        if kind.needs_scorer:
            scorer = endpoint_from_args(args, "scorer", prev_sc or prev_opt)
        roles = {"optimizer": optimizer, **({"scorer": scorer} if scorer else {})}
        warnings = check_model_names(args, roles)
        plan = session.plan_run(settings, new_run=args.new_run)
        print(plan.message, flush=True)
        previous = {"optimizer": prev_opt, "scorer": prev_sc or prev_opt}
        for line in endpoint_lines(
            args,
            {role: (cfg, previous[role]) for role, cfg in roles.items()},
            model_line(kind, optimizer, scorer),
        ):
            print(line, flush=True)
        _format_check(args, session, plan, settings, optimizer, scorer)
        run_id = session.start_planned(plan, settings, optimizer, scorer)
        print_warnings(warnings)
        cancel = CancelToken()
        restore = _install_signal_handlers(cancel)
        try:
            return _drive(session, run_id, cancel, settings, optimizer, scorer)
        finally:
            restore()


def _format_check(
    args: argparse.Namespace,
    session: ProjectSession,
    plan: RunPlan,
    settings: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
) -> None:
    """One optimizer request (and one scorer question) before anything is spent on steps;
    a failure exits 2 with the reason (``--no-format-check`` / ``--no-model-check``)."""
    if args.no_format_check or args.no_model_check:
        return
    run_id = None if plan.is_new else plan.run_id
    check = check_models(session, settings, optimizer, scorer, run_id)
    if check.unreachable:  # the run itself pauses with the transport's reason
        return
    if not check.ok:
        raise CliError(
            f"model check: the {check.role} {check.reason}; its answer began {check.raw[:200]!r}"
            f" ({check.spent()} spent on the check; nothing was written; pass "
            "--no-format-check to run anyway)"
        )
    print(f"model check: the models answer in the task's format ({check.spent()})", flush=True)


def _drive(
    session: ProjectSession,
    run_id: int,
    cancel: CancelToken,
    settings: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
) -> int:
    kind = session.problem_kind
    if settings.baseline and session.baseline_override(run_id) is None:
        print(
            "warning: --baseline is ignored: only prompt runs in the ins or bracket style have "
            "an equal-budget no-trajectory baseline",
            file=sys.stderr,
        )
    optimum = kind.reference_score(session.problem(run_id))  # the gap's reference, once
    start = session.store.last_step(run_id)
    print(
        f"run {run_id}: {kind.name}, optimizer {optimizer.model} at {optimizer.base_url}"
        + (f", scorer {scorer.model}" if scorer else "")
        + (f", continuing after step {start}" if start >= 0 else "")
        + f", up to step {settings.max_steps}",
        flush=True,
    )
    final: RunFinished | None = None
    shown_notes = len(session.pacing_notes(run_id))
    for event in session.run_events(run_id, cancel):
        if isinstance(event, StepCompleted):
            print(_progress_line(kind, event, settings, optimum), flush=True)
            notes = session.pacing_notes(run_id)
            for note in notes[shown_notes:]:
                print(f"  pacing: {note}", flush=True)
            shown_notes = len(notes)
        elif isinstance(event, BaselineStepCompleted):
            line = _progress_line(kind, event, settings, None)
            print(f"  baseline (run {event.run_id}) {line}", flush=True)
        elif isinstance(event, RunFinished):
            final = event
    assert final is not None
    print(f"run {run_id} {status_text(final.status, final.reason)}", flush=True)
    if final.status in NORMAL_END:
        return EXIT_OK
    message = stop_message(final.cause, final.reason, final.last_step).replace("\n\n", "\n  ")
    print(f"opro: run {run_id} stopped: {message}", file=sys.stderr)
    return EXIT_CANCELLED if final.status == RunStatus.CANCELLED else EXIT_RUN_STOPPED


def _progress_line(
    kind: ProblemKind,
    event: StepCompleted | BaselineStepCompleted,
    settings: RunSettings,
    optimum: float | None,
) -> str:
    r = event.record
    statuses = [c.status for c in r.candidates]
    valid = sum(1 for s in statuses if s == "scored")
    best = kind.format_score(r.best_score)
    parts = [f"step {r.step}/{settings.max_steps}", f"best {best}"]
    gap = kind.gap_percent(r.best_score, optimum)
    if gap is not None:
        parts.append(f"gap {gap:.1f}%")
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
    transport = step_transport(r.calls)
    if transport:
        parts.append(transport)
    return "  ".join(parts)


def _install_signal_handlers(cancel: CancelToken) -> Callable[[], None]:
    """Ctrl-C / SIGTERM stop the run after saving (twice: at once). Returns the undo."""

    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    previous: list[tuple[int, Any]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (main() called from a thread)
            previous.append((sig, signal.signal(sig, handler)))

    def restore() -> None:
        for sig, old in previous:
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old)

    return restore


def cmd_estimate(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        run_id = session.latest_run_id()
        settings = settings_from_args(args, session.run_settings(run_id) if run_id else None)
        stored = session.project_models()  # what `opro run` would use next
        opt_prev, sc_prev = stored.optimizer, stored.scorer
        # Nothing is sent: no endpoint is needed (a base URL only tells local from priced).
        optimizer = endpoint_from_args(args, "optimizer", opt_prev, offline=True)
        scorer = (
            endpoint_from_args(args, "scorer", sc_prev or opt_prev, offline=True)
            if session.problem_kind.needs_scorer
            else None
        )
        est = session.estimate(args.steps, settings, optimizer, scorer)
    if args.json:
        print(json.dumps(est, indent=2))
    else:
        print(f"estimate for {args.steps} more steps: {est['summary']}")
        print(
            f"  prompt tokens ~{est['prompt_tokens']:,}, completion tokens "
            f"~{est['completion_tokens']:,}; based on {est['basis']}"
        )
    return EXIT_OK
