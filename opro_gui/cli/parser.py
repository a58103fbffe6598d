"""The argument parser of `opro`: every command and option of the CLI contract."""

from __future__ import annotations

import argparse

from opro_gui import __version__

from .create_run import cmd_estimate, cmd_new, cmd_run
from .inspect import cmd_evaluate, cmd_export, cmd_history, cmd_replay, cmd_show


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


def _prompt_ablation_options(p: argparse.ArgumentParser) -> None:
    """The paper's §5.3 meta-prompt settings and scoring switches (defaults: the paper's)."""
    g = p.add_argument_group("meta-prompt and scoring (paper defaults unless given)")
    g.add_argument("--preset", help="a configuration of the paper (README lists them)")
    g.add_argument("--order", choices=["ascending", "descending", "random"],
                   help="order of past instructions (ascending: best last)")  # fmt: skip
    g.add_argument("--score-format", choices=["rounded", "bucketed", "none"],
                   help="scores as 0-100 (rounded), 0-N (bucketed) or not shown")  # fmt: skip
    g.add_argument("--score-buckets", type=int, help="N for --score-format bucketed (20)")
    g.add_argument("--exemplars", type=int, help="exemplars per meta-prompt (3)")
    g.add_argument("--exemplar-criterion",
                   choices=["random", "constant", "accumulative_most_frequent",
                            "current_most_frequent"], help="how exemplars are chosen (random)")  # fmt: skip
    g.add_argument("--exemplar-placement", choices=["after", "before"],
                   help="exemplars after the instructions (the paper) or before them")  # fmt: skip
    g.add_argument("--score-threshold", type=float,
                   help="hide instructions scoring below this (0; the reference 0.3 for GPT)")  # fmt: skip
    g.add_argument("--boxed", action=argparse.BooleanOptionalAction,
                   help="read \\boxed{} answers (the reference: with GPT scorers)")  # fmt: skip
    g.add_argument("--extract-again", action=argparse.BooleanOptionalAction,
                   help="second-round answer extraction (off)")  # fmt: skip
    g.add_argument("--lenient", action=argparse.BooleanOptionalAction,
                   help="count gold-in-answer as correct for non-numeric tasks (on)")  # fmt: skip
    g.add_argument("--strict", dest="lenient", action="store_false",
                   help="same as --no-lenient")  # fmt: skip


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
        "--format",
        choices=["gsm8k", "bbh", "bigbench", "csv", "jsonl", "multiarith", "aqua", "mmlu"],
        help="dataset format (default: detected); mmlu takes a subject CSV or a folder of them",
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
    _prompt_ablation_options(pr)
    new.set_defaults(func=cmd_new)

    run = sub.add_parser("run", help="run or continue the OPRO loop")
    run.add_argument("project")
    run.add_argument("--steps", type=int, required=True, help="the run's total step budget")
    run.add_argument("--new-run", action="store_true", help="start a new run instead of continuing")
    run.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        help="prompt runs: also run the equal-budget no-trajectory baseline (off; doubles the "
        "scorer calls)",
    )
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
    ev.add_argument(
        "--dataset", help="score on another dataset instead (transfer, e.g. MultiArith.json)"
    )
    ev.add_argument(
        "--format",
        choices=["gsm8k", "bbh", "bigbench", "csv", "jsonl", "multiarith", "aqua", "mmlu"],
        help="format of --dataset (default: detected)",
    )
    ev.add_argument("--input-col", help="input column of a --dataset CSV/JSONL")
    ev.add_argument("--target-col", help="target column of a --dataset CSV/JSONL")
    _endpoint_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    exp = sub.add_parser("export", help="export everything as JSON or CSV")
    exp.add_argument("project")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=cmd_export)
    return parser
