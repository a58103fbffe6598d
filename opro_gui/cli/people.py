"""`opro add`, `star` and `exclude`: people in the loop; `opro verdicts`: each evaluator's say."""

from __future__ import annotations

import argparse
import json

from opro_gui.services import ProjectSession

from .common import EXIT_OK, CliError, endpoint_from_args, short


def cmd_add(args: argparse.Namespace) -> int:
    if not args.instruction.strip():
        raise CliError("the candidate is empty")
    with ProjectSession.open(args.project) as session:
        done = session.add_candidate(args.instruction, run_id=args.run, note=args.note or "")
    print(
        f"added to run {done['run_id']} (action {done['id']}): scored at the start of step "
        f"{done['step']} and shown to the optimizer from then on; continue with `opro run`"
    )
    return EXIT_OK


def cmd_star(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        done = session.star(args.candidate, note=args.note or "")
    print(f"starred candidate {args.candidate} of run {done['run_id']}, step {done['step']}")
    return EXIT_OK


def cmd_exclude(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        done = session.exclude(args.candidate, note=args.note or "")
    print(
        f"candidate {args.candidate} of run {done['run_id']} is left out of the trajectory "
        f"from step {done['step']} on"
    )
    return EXIT_OK


def cmd_verdicts(args: argparse.Namespace) -> int:
    if args.replay:
        return _replay(args)
    with ProjectSession.open(args.project, readonly=True) as session:
        records = session.store.records(candidate_id=args.candidate)
    if not records:
        raise CliError(f"candidate {args.candidate} has no scorer answers")
    if args.json:
        print(json.dumps([r.__dict__ | {"verdicts": [v.__dict__ for v in r.verdicts]}
                          for r in records], indent=2, ensure_ascii=False))  # fmt: skip
        return EXIT_OK
    for r in records:
        head = "failed" if r.correct is None else ("pass" if r.correct else "fail")
        score = f" {r.score:.2f}" if r.score is not None else ""
        print(f"example {r.example_id}: {head}{score}  answer: {short(r.raw_answer, 80)}")
        if r.error:
            print(f"    error: {r.error}")
        for v in r.verdicts:
            s = "-" if v.score is None else f"{v.score:g}"
            agree = "" if v.agrees is None else ("  agrees" if v.agrees else "  DISAGREES")
            print(f"    {v.name} (x{v.weight:g}): {s}  {v.reason}{agree}")
            if v.prompt and args.prompts:
                print("      prompt: " + v.prompt.replace("\n", "\n      "))
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        endpoint = None
        if args.base_url or args.model:
            run_id = session.store.candidate_by_id(args.candidate)
            if run_id is None:
                raise CliError(f"no candidate with id {args.candidate}")
            _, sc = session.endpoints(int(run_id["run_id"]))
            endpoint = endpoint_from_args(args, "scorer", sc)
        rows = session.replay_judge(args.candidate, endpoint)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    same = sum(1 for r in rows if r["score"] == r["stored_score"])
    for r in rows:
        new = "-" if r["score"] is None else f"{r['score']:g}"
        old = "-" if r["stored_score"] is None else f"{r['stored_score']:g}"
        print(f"example {r['example_id']} {r['name']}: stored {old}, now {new}  {r['reason']}")
    print(f"{same} of {len(rows)} judge verdicts unchanged")
    return EXIT_OK
