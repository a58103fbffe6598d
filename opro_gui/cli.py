"""The `opro` command: create, run, inspect, replay, evaluate and export projects headlessly.

The command names, options and JSON fields here are a contract used by scripts: add to them,
never rename them."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from opro_gui import __version__
from opro_gui.core.cancel import CancelToken
from opro_gui.core.events import RunFinished, StepCompleted
from opro_gui.core.models import RunSettings, RunStatus
from opro_gui.llm import EndpointConfig
from opro_gui.services import ProjectError, ProjectSession

EXIT_OK, EXIT_RUN_STOPPED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
NORMAL_END = {RunStatus.COMPLETED, RunStatus.TARGET_REACHED, RunStatus.NO_IMPROVEMENT}
DEFAULT_MODEL = "gpt-4o-mini"


class CliError(Exception):
    """A one-line reason printed as ``opro: error: ...`` with exit code 2."""


# -- new ---------------------------------------------------------------------------------
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
    print(f"created {out} ({args.kind}): " + _facts_line(args.kind, facts))
    return EXIT_OK


def _new_prompt_problem(args: argparse.Namespace) -> Any:
    from opro_gui.problems.datasets import load_dataset
    from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset

    dataset = load_dataset(args.dataset, args.format, args.input_col, args.target_col)
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    options: dict[str, Any] = {}
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


def _facts_line(kind: str, facts: dict[str, Any]) -> str:
    keys = {
        "tsp": (
            "n",
            "nearest_neighbour",
            "farthest_insertion",
            "optimal_length",
            "best_known_length",
        ),
        "linreg": ("w_true", "b_true", "optimum_w", "optimum_b"),
        "prompt": (
            "task_name",
            "task_type",
            "n_examples",
            "n_train",
            "n_test",
            "position",
            "style",
        ),
    }[kind]
    return ", ".join(f"{k}={facts[k]}" for k in keys if facts.get(k) is not None)


# -- run ---------------------------------------------------------------------------------
def _endpoint(
    args: argparse.Namespace, role: str, previous: EndpointConfig | None
) -> EndpointConfig:
    """Role-specific options win over the shared ones, which win over the stored config."""

    def pick(name: str) -> Any:
        specific = getattr(args, f"{role}_{name}", None)
        return specific if specific is not None else getattr(args, name, None)

    base: dict[str, Any] = previous.to_public_dict() if previous else {}
    base_url = pick("base_url") or base.get("base_url") or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        raise CliError(
            "no endpoint: pass --base-url URL or set OPENAI_BASE_URL "
            "(e.g. http://127.0.0.1:11434/v1 for Ollama)"
        )
    base["base_url"] = base_url
    base["model"] = (
        pick("model") or base.get("model") or os.environ.get("OPRO_MODEL", DEFAULT_MODEL)
    )
    for opt, field in (
        ("api_key_env", "api_key_env"),
        ("mode", "mode"),
        ("concurrency", "concurrency"),
        ("max_retries", "max_retries"),
        ("timeout", "timeout"),
        ("rpm", "rpm"),
        ("tpm", "tpm"),
    ):
        value = pick(opt)
        if value is not None:
            base[field] = value
    try:
        return EndpointConfig.from_dict(base)
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad {role} settings: {exc}") from None


def _settings(args: argparse.Namespace, previous: RunSettings | None) -> RunSettings:
    s = previous or RunSettings()
    changes: dict[str, Any] = {"max_steps": args.steps}
    for opt, field in (
        ("temperature", "temperature"),
        ("samples", "samples_per_step"),
        ("max_tokens", "max_tokens"),
        ("seed", "seed"),
        ("history_size", "history_size"),
        ("target_score", "target_score"),
        ("patience", "patience"),
        ("budget_tokens", "budget_tokens"),
        ("budget_usd", "budget_usd"),
    ):
        value = getattr(args, opt, None)
        if value is not None:
            changes[field] = value
    return replace(s, **changes)


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
        settings = _settings(args, prev_settings)
        optimizer = _endpoint(args, "optimizer", prev_opt)
        scorer = None
        if session.kind == "prompt":
            scorer = _endpoint(args, "scorer", prev_sc or prev_opt)
        run_id = session.prepare_run(settings, optimizer, scorer, new_run=args.new_run)
        cancel = CancelToken()
        _install_signal_handlers(cancel)
        engine = session.engine(run_id, cancel)
        start = session.store.last_step(run_id)
        print(
            f"run {run_id}: {session.kind}, optimizer {optimizer.model} at {optimizer.base_url}"
            + (f", scorer {scorer.model}" if scorer else "")
            + (f", continuing after step {start}" if start >= 0 else "")
            + f", up to step {settings.max_steps}",
            flush=True,
        )
        final: RunFinished | None = None
        for event in engine.events():
            if isinstance(event, StepCompleted):
                print(_progress_line(session, event, settings), flush=True)
            elif isinstance(event, RunFinished):
                final = event
        assert final is not None
        print(f"run {run_id} {final.status}: {final.reason}", flush=True)
        if final.status in NORMAL_END:
            return EXIT_OK
        print(f"opro: run {run_id} stopped: {final.reason}", file=sys.stderr)
        return EXIT_CANCELLED if final.status == RunStatus.CANCELLED else EXIT_RUN_STOPPED


def _progress_line(session: ProjectSession, event: StepCompleted, settings: RunSettings) -> str:
    r = event.record
    statuses = [c.status for c in r.candidates]
    valid = sum(1 for s in statuses if s == "scored")
    best = _fmt_score(session.kind, r.best_score)
    parts = [f"step {r.step}/{settings.max_steps}", f"best {best}"]
    if session.kind == "tsp" and r.best_score is not None:
        facts = session.problem().summary()
        opt = facts.get("optimal_length") or facts.get("best_known_length")
        if opt:
            parts.append(f"gap {100 * (r.best_score - opt) / opt:.1f}%")
    parts.append(f"scored {valid}/{len(statuses)}")
    for s in ("invalid", "duplicate", "filtered", "incomplete"):
        k = statuses.count(s)  # type: ignore[arg-type]
        if k:
            parts.append(f"{s} {k}")
    t = event.totals
    parts.append(f"tokens {t['total_tokens']}")
    if t["cost_usd"]:
        parts.append(f"${t['cost_usd']:.4f}")
    if event.improved and r.step > 0:
        parts.append("improved")
    return "  ".join(parts)


def _fmt_score(kind: str, score: float | None) -> str:
    if score is None:
        return "-"
    if kind == "prompt":
        return f"{100 * score:.1f}%"
    return f"{score:g}"


def _install_signal_handlers(cancel: CancelToken) -> None:
    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (main() called from a thread)
            signal.signal(sig, handler)


# -- show, history -------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        data = session.summary()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    print(f"{data['name']}  ({data['kind']})  {data['path']}")
    print("  " + _facts_line(data["kind"], data["problem"]))
    if not data["runs"]:
        print("  no runs yet: opro run PROJECT --steps N")
    for run in data["runs"]:
        line = (
            f"  run {run['id']}: {run['status']}, {run['steps_completed']} steps, best "
            f"{_fmt_score(data['kind'], run['best_score'])}, tokens {run['total_tokens']}"
        )
        if run.get("gap_percent") is not None:
            line += f", gap {run['gap_percent']:.2f}%"
        if run.get("found_at_step") is not None:
            line += f", optimum found at step {run['found_at_step']}"
        if run.get("best_test_accuracy") is not None:
            line += f", test {_fmt_score('prompt', run['best_test_accuracy'])}"
        print(line)
        print(f"    best: {_short(run['best_solution'])}")
        if run["status_reason"]:
            print(f"    {run['status_reason']}")
        if run["model_mismatch"]:
            print(
                f"    warning: the server answered with model(s) {', '.join(run['model_mismatch'])}"
                f" although {run['optimizer_model']} was asked for"
            )
    return EXIT_OK


def _short(value: Any, width: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _run_id(session: ProjectSession, wanted: int | None) -> int:
    if wanted is not None:
        if wanted not in session.run_ids():
            raise CliError(f"run {wanted} does not exist (runs: {session.run_ids() or 'none'})")
        return wanted
    last = session.latest_run_id()
    if last is None:
        raise CliError("the project has no runs yet")
    return last


def cmd_history(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        run_id = _run_id(session, args.run)
        detail = session.step_detail(run_id, args.step)
        if detail is None:
            raise CliError(
                f"run {run_id} has no step {args.step} (last step: {session.store.last_step(run_id)})"
            )
    out = sys.stdout
    out.write(f"=== run {run_id}, step {args.step}: meta-prompt as sent ===\n")
    out.write(detail["meta_prompt"] + "\n")
    by_completion: dict[int, list[dict[str, Any]]] = {}
    for c in detail["candidates"]:
        by_completion.setdefault(c["completion_index"], []).append(c)
    for i, text in enumerate(detail["completions"]):
        out.write(f"=== completion {i + 1} of {len(detail['completions'])} ===\n{text}\n")
        for c in by_completion.get(i, []) or [{"status": "invalid", "reason": "nothing parsed"}]:
            out.write("--- " + _verdict(c) + "\n")
    for c in by_completion.get(-1, []):
        out.write("--- initial: " + _verdict(c) + "\n")
    return EXIT_OK


def _verdict(c: dict[str, Any]) -> str:
    v = f"verdict: {c['status']}"
    if c.get("score") is not None:
        v += f"  score: {c['score']:g}"
    if c.get("reason"):
        v += f"  reason: {c['reason']}"
    if c.get("text"):
        v += f"  solution: {_short(c['text'], 200)}"
    return v


# -- replay, estimate, evaluate, export ------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        run_id = _run_id(session, args.run)
        opt, _ = session.endpoints(run_id)
        endpoint = _endpoint(args, "optimizer", opt)
        result = session.replay(
            run_id, args.step, endpoint, samples=args.samples, score=not args.no_score
        )
    print(f"replay {result['id']} of run {run_id} step {args.step} with {result['model']}:")
    if result["error"]:
        print(f"  (some requests failed: {result['error']})")
    for i, text in enumerate(result["completions"]):
        print(f"=== replay completion {i + 1} ===\n{text}")
        for c in result["candidates"]:
            if c["completion_index"] == i:
                print("--- " + _verdict(c))
    return EXIT_OK if result["completions"] else EXIT_RUN_STOPPED


def cmd_estimate(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        run_id = session.latest_run_id()
        settings = _settings(args, session.run_settings(run_id) if run_id else None)
        opt_prev, sc_prev = session.endpoints(run_id) if run_id else (None, None)
        optimizer = _endpoint(args, "optimizer", opt_prev)
        scorer = (
            _endpoint(args, "scorer", sc_prev or opt_prev) if session.kind == "prompt" else None
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project) as session:
        run_id = _run_id(session, args.run)
        _, sc = session.endpoints(run_id)
        scorer = (
            _endpoint(args, "scorer", sc)
            if (args.scorer_base_url or args.scorer_model or args.base_url or args.model)
            else None
        )
        rows = session.evaluate(run_id, split=args.split, top=args.top, scorer_endpoint=scorer)
    for r in rows:
        train = "-" if r["train_accuracy"] is None else f"{100 * r['train_accuracy']:.1f}%"
        acc = "-" if r["accuracy"] is None else f"{100 * r['accuracy']:.1f}%"
        flag = "" if r["complete"] else "  (incomplete: some requests failed)"
        print(
            f"{r['label']}: train {train}  {args.split} {acc}  n={r['n_examples']}  "
            f"{_short(r['instruction'] or '(empty)', 80)}{flag}"
        )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with ProjectSession.open(args.project, readonly=True) as session:
        session.export(args.output, args.format)
    print(f"exported {args.project} to {args.output} ({args.format})")
    return EXIT_OK


# -- parser ----------------------------------------------------------------------------------
def _endpoint_options(p: argparse.ArgumentParser, with_roles: bool = True) -> None:
    p.add_argument("--base-url", help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL)")
    p.add_argument("--model", help="model name for both roles")
    p.add_argument(
        "--api-key-env", help="environment variable holding the key (default OPENAI_API_KEY)"
    )
    p.add_argument("--mode", choices=["chat", "completion"], help="chat or plain completions")
    p.add_argument("--concurrency", type=int, help="requests in flight per endpoint (default 16)")
    p.add_argument("--max-retries", type=int, help="retries per request (default 5)")
    p.add_argument(
        "--timeout", type=float, help="seconds before a request is abandoned (default 60)"
    )
    p.add_argument("--rpm", type=int, help="requests-per-minute limit")
    p.add_argument("--tpm", type=int, help="tokens-per-minute limit")
    if with_roles:
        for role in ("optimizer", "scorer"):
            p.add_argument(f"--{role}-base-url", dest=f"{role}_base_url")
            p.add_argument(f"--{role}-model", dest=f"{role}_model")
            p.add_argument(f"--{role}-api-key-env", dest=f"{role}_api_key_env")
            p.add_argument(f"--{role}-mode", dest=f"{role}_mode", choices=["chat", "completion"])
            p.add_argument(f"--{role}-concurrency", dest=f"{role}_concurrency", type=int)
            p.add_argument(f"--{role}-max-retries", dest=f"{role}_max_retries", type=int)
            p.add_argument(f"--{role}-timeout", dest=f"{role}_timeout", type=float)
            p.add_argument(f"--{role}-rpm", dest=f"{role}_rpm", type=int)
            p.add_argument(f"--{role}-tpm", dest=f"{role}_tpm", type=int)


def _settings_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--temperature", type=float, help="optimizer temperature (default 1.0)")
    p.add_argument("--samples", type=int, help="optimizer samples per step (default 8)")
    p.add_argument("--max-tokens", type=int, help="optimizer max tokens (default 1024)")
    p.add_argument("--seed", type=int)
    p.add_argument("--history-size", type=int, help="solutions shown in the meta-prompt")
    p.add_argument("--target-score", type=float, help="stop once the best score reaches this")
    p.add_argument("--patience", type=int, help="stop after N steps without improvement")
    p.add_argument("--budget-tokens", type=int, help="pause the run once this many tokens are used")
    p.add_argument(
        "--budget-usd", type=float, help="pause the run once this many dollars are spent"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opro", description="OPRO Studio, headless.")
    parser.add_argument("--version", action="version", version=f"opro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="create a project file")
    kinds = new.add_subparsers(dest="kind", required=True)
    tsp = kinds.add_parser("tsp", help="travelling salesman")
    tsp.add_argument("out")
    tsp.add_argument("--points", type=int, default=10)
    tsp.add_argument("--seed", type=int, default=0)
    tsp.add_argument("--import", dest="import_file", help="CSV or TSPLIB file with the points")
    lr = kinds.add_parser("linreg", help="linear regression")
    lr.add_argument("out")
    lr.add_argument("--w", type=int, default=15)
    lr.add_argument("--b", type=int, default=14)
    lr.add_argument("--seed", type=int, default=0)
    pr = kinds.add_parser("prompt", help="prompt optimization")
    pr.add_argument("out")
    pr.add_argument("--dataset", required=True)
    pr.add_argument(
        "--test-dataset",
        help="a separate held-out file (GSM8K: the test file); default: the rest of --dataset",
    )
    pr.add_argument(
        "--format", choices=["gsm8k", "bbh", "bigbench", "csv", "jsonl", "multiarith", "aqua"]
    )
    pr.add_argument("--input-col")
    pr.add_argument("--target-col")
    pr.add_argument(
        "--task-type", choices=["numeric", "choice", "boolean", "text", "exact", "regex"]
    )
    pr.add_argument("--position", choices=["before_Q", "Q_begin", "Q_end", "A_begin"])
    pr.add_argument("--style", choices=["ins", "bracket", "text"])
    pr.add_argument("--train-ratio", type=float)
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--initial", action="append", help="an initial instruction (repeatable)")
    new.set_defaults(func=cmd_new)

    run = sub.add_parser("run", help="run or continue the OPRO loop")
    run.add_argument("project")
    run.add_argument("--steps", type=int, required=True, help="the run's total step budget")
    run.add_argument("--new-run", action="store_true", help="start a new run instead of continuing")
    _settings_options(run)
    _endpoint_options(run)
    run.set_defaults(func=cmd_run)

    show = sub.add_parser("show", help="summarise a project")
    show.add_argument("project")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    hist = sub.add_parser("history", help="a step's meta-prompt and completions")
    hist.add_argument("project")
    hist.add_argument("--step", type=int, required=True)
    hist.add_argument("--run", type=int)
    hist.set_defaults(func=cmd_history)

    rep = sub.add_parser("replay", help="re-send a step's meta-prompt")
    rep.add_argument("project")
    rep.add_argument("--step", type=int, required=True)
    rep.add_argument("--run", type=int)
    rep.add_argument("--samples", type=int)
    rep.add_argument("--no-score", action="store_true", help="do not score the replayed answers")
    _endpoint_options(rep, with_roles=False)
    rep.set_defaults(func=cmd_replay, optimizer_base_url=None, optimizer_model=None)

    est = sub.add_parser("estimate", help="pre-run estimate of calls, tokens and dollars")
    est.add_argument("project")
    est.add_argument("--steps", type=int, required=True)
    est.add_argument("--json", action="store_true")
    _settings_options(est)
    _endpoint_options(est)
    est.set_defaults(func=cmd_estimate)

    ev = sub.add_parser("evaluate", help="score top instructions and baselines on held-out data")
    ev.add_argument("project")
    ev.add_argument("--split", choices=["test", "train", "all"], default="test")
    ev.add_argument("--top", type=int, default=1)
    ev.add_argument("--run", type=int)
    _endpoint_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    exp = sub.add_parser("export", help="export everything as JSON or CSV")
    exp.add_argument("project")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, ProjectError, ValueError) as exc:
        print(f"opro: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("opro: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
