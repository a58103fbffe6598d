"""`opro show`, `history`, `replay`, `evaluate` and `export`: reading and re-using a project."""

from __future__ import annotations

import argparse
import json
import sys

from opro_gui.core.models import Candidate, CandidateStatus
from opro_gui.core.rows import ReplayCandidate
from opro_gui.core.text import one_line
from opro_gui.llm import EndpointConfig
from opro_gui.problems import ProblemKind, get_kind
from opro_gui.services import ProjectSession
from opro_gui.services.project_models import model_line
from opro_gui.services.status import status_label
from opro_gui.services.verdict import run_notes

from .common import (
    EXIT_OK,
    EXIT_RUN_STOPPED,
    CliError,
    check_model_names,
    endpoint_from_args,
    pick_run_id,
    print_warnings,
    short,
)
from .provenance_text import print_provenance
from .stats_text import ci_text, confidence_lines, paired_line, spread_line


def cmd_show(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        summary = session.summary()
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    kind = get_kind(summary.kind)
    print(f"{summary.name}  ({summary.kind})  {summary.path}")
    print("  " + kind.facts_line(summary.problem))
    if summary.problem.get("settings"):
        settings = summary.problem["settings"]
        print("  settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    if summary.problem.get("preset"):
        print(f"  preset: {summary.problem['preset']}")
    models = summary.models
    if models.get("error"):
        print(f"  models: {one_line(models['error'])}")
    elif models.get("optimizer"):
        opt = EndpointConfig.from_dict(models["optimizer"])
        scorer = EndpointConfig.from_dict(models["scorer"]) if models.get("scorer") else None
        print(f"  models: {model_line(kind, opt, scorer)} (from the {models['source']})")
    if not summary.runs:
        print("  no runs yet: opro run PROJECT --steps N")
    for run in summary.runs:
        line = (
            f"  run {run.id}: {status_label(run.status)}, {run.steps_completed} steps, best "
            f"{kind.format_score(run.best_score)}, tokens {run.usage.tokens}"
        )
        if run.facts.get("gap_percent") is not None:
            line += f", gap {run.facts['gap_percent']:.2f}%"
        if run.facts.get("found_at_step") is not None:
            line += f", optimum found at step {run.facts['found_at_step']}"
        p = run.prompt
        if p is not None and p.best_test_accuracy is not None:
            line += f", test {kind.format_score(p.best_test_accuracy)}"
        if p is not None and p.baseline is not None and p.baseline.best_train_accuracy is not None:
            line += (
                f", no-trajectory baseline {kind.format_score(p.baseline.best_train_accuracy)}"
                f" (run {p.baseline.run_id}, {p.baseline.scored_instructions} of "
                f"{run.scored_instructions} instructions)"
            )
        for name, acc in (p.best_transfer_accuracy if p is not None else {}).items():
            line += f", {name} {kind.format_score(acc)}"
        print(line)
        own = run.task_settings
        if own and own != summary.problem.get("settings"):
            print("    settings: " + ", ".join(f"{k}={v}" for k, v in own.items()))
        for text in confidence_lines(run.to_json()):
            print(f"    {text}")
        print(f"    best: {short(run.best_solution)}")
        people = run.people or {}
        agreement = people.get("judge_agreement")
        if agreement:
            print(
                f"    judge agreement with gold labels: {agreement['agree']} of "
                f"{agreement['labelled']} ({100 * agreement['rate']:.1f}%)"
            )
        if people.get("human_actions"):
            print(
                f"    people: {len(people['human_actions'])} action(s), starred {people['starred']}"
            )
        if run.status_reason:
            print(f"    {run.status_text}")
        for note in run_notes(run):
            print(f"    {note}")
        for warning in run.warnings:
            print(f"    warning: {warning}")
    for group in summary.seed_spread:
        print("  " + spread_line(summary.kind, group))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        kind = session.problem_kind
        run_id = pick_run_id(session, args.run)
        detail = session.step_detail(run_id, args.step)
        if detail is None:
            raise CliError(
                f"run {run_id} has no step {args.step} (last step: {session.store.last_step(run_id)})"
            )
        if args.candidate is not None:
            print_provenance(
                session.provenance(run_id, args.step, args.candidate),
                session.problem_kind.format_score,
            )
            return EXIT_OK
    out = sys.stdout
    out.write(f"=== run {run_id}, step {args.step}: meta-prompt as sent ===\n")
    out.write(detail.meta_prompt + "\n")
    by_completion: dict[int, list[Candidate]] = {}
    for c in detail.candidates:
        by_completion.setdefault(c.completion_index, []).append(c)
    nothing = Candidate(0, 0, 0, None, "", CandidateStatus.INVALID, "nothing parsed")
    for i, text in enumerate(detail.completions):
        out.write(f"=== completion {i + 1} of {len(detail.completions)} ===\n{text}\n")
        for c in by_completion.get(i, []) or [nothing]:
            out.write("--- " + _verdict(c, kind) + "\n")
    for c in by_completion.get(-1, []):
        out.write("--- initial: " + _verdict(c, kind) + "\n")
    for c in by_completion.get(-2, []):
        out.write("--- human: " + _verdict(c, kind) + "\n")
    shown = detail.ingredients
    if shown.get("candidates") or shown.get("examples"):
        out.write(
            f"=== the meta-prompt contained candidates {shown['candidates']} and examples "
            f"{shown['examples']} (by id); `--candidate I` shows where candidate I came from ===\n"
        )
    return EXIT_OK


def _verdict(c: Candidate | ReplayCandidate, kind: ProblemKind) -> str:
    v = f"verdict: {c.status}"
    if c.score is not None:
        v += f"  score: {kind.format_score(c.score)}"
    if c.reason:
        v += f"  reason: {c.reason}"
    if c.text:
        v += f"  solution: {short(c.text, 200)}"
    return v


def cmd_replay(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        kind = session.problem_kind
        run_id = pick_run_id(session, args.run)
        opt, _ = session.endpoints(run_id)
        endpoint = endpoint_from_args(args, "optimizer", opt)
        warnings = check_model_names(args, {"optimizer": endpoint})
        result = session.replay(
            run_id, args.step, endpoint, samples=args.samples, score=not args.no_score
        )
    print_warnings(warnings)
    print(f"replay {result.id} of run {run_id} step {args.step} with {result.model}:")
    if result.error:
        print(f"  (some requests failed: {result.error})")
    for i, text in enumerate(result.completions):
        print(f"=== replay completion {i + 1} ===\n{text}")
        for c in result.candidates:
            if c.completion_index == i:
                print("--- " + _verdict(c, kind))
    return EXIT_OK if result.completions else EXIT_RUN_STOPPED


def cmd_evaluate(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        kind = session.problem_kind
        run_id = pick_run_id(session, args.run)
        _, sc = session.endpoints(run_id)
        scorer = (
            endpoint_from_args(args, "scorer", sc)
            if (args.scorer_base_url or args.scorer_model or args.base_url or args.model)
            else None
        )
        if getattr(args, "batch", False):
            if not args.batch_poll > 0:
                raise CliError("--batch-poll must be a number of seconds above 0")
            if args.dataset:
                raise CliError("--batch evaluates the project's own split; drop --dataset")
            rows = session.evaluate_batch(
                run_id, split=args.split, top=args.top, scorer_endpoint=scorer,
                poll_interval=args.batch_poll,
                on_status=lambda st: print(f"batch: {st}", file=sys.stderr, flush=True),
            )  # fmt: skip
        else:
            rows = session.evaluate(
                run_id,
                split=args.split,
                top=args.top,
                scorer_endpoint=scorer,
                dataset=args.dataset,
                dataset_format=args.format,
                input_col=args.input_col,
                target_col=args.target_col,
            )
        tests = session.paired_tests(run_id, rows[0].split if rows else args.split)
    for r in rows:
        train, acc = kind.format_score(r.train_accuracy), kind.format_score(r.accuracy)
        if r.accuracy_ci:
            acc += f" [95% CI {ci_text(r.accuracy_ci)}]"
        flag = "" if r.complete else "  (incomplete: some requests failed)"
        print(
            f"{r.label}: train {train}  {r.split} {acc}  n={r.n_examples}  "
            f"{short(r.instruction or '(empty)', 80)}{flag}"
        )
    for t in tests:
        print(paired_line(t))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        session.export(args.output, args.format)
    print(f"exported {args.project} to {args.output} ({args.format})")
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from opro_gui.services.servers import find_local_servers

    ports = args.port or []
    found = find_local_servers(ports if args.only else None, extra_ports=ports)
    if args.json:
        print(json.dumps([asdict(s) for s in found], indent=2))
        return EXIT_OK
    if not found:
        print("no model server answered on 127.0.0.1 (looked for Ollama, LM Studio, llama.cpp,")
        print("  llama-cpp-python and vLLM on their usual ports; add others with --port N)")
    for s in found:
        slots = f", {s.slots} parallel slot(s)" if s.slots else ""
        print(f"{s.name} at {s.base_url}{slots}" + (f" — {s.notes}" if s.notes else ""))
        for m in s.models:
            print(f"  {m}")
        if not s.models and not s.needs_key:
            print("  (no model loaded)")
    return EXIT_OK
