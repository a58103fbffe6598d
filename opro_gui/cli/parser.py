"""The argument parser of `opro`: every command and option of the CLI contract."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from opro_gui import __version__
from opro_gui.core.text import one_line
from opro_gui.problems import kinds as problem_kinds

from . import validators as v


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """A command loaded when it runs: `opro --version` and `--help` import no command code
    (and so no sqlite-utils, numpy or openai)."""

    def run(args: argparse.Namespace) -> int:
        from . import create_run, inspect

        module = create_run if hasattr(create_run, name) else inspect
        return int(getattr(module, name)(args))

    run.__name__ = name
    return run


cmd_new, cmd_run, cmd_estimate = (_command(n) for n in ("cmd_new", "cmd_run", "cmd_estimate"))
cmd_show, cmd_history, cmd_replay, cmd_evaluate, cmd_export = (
    _command(n) for n in ("cmd_show", "cmd_history", "cmd_replay", "cmd_evaluate", "cmd_export")
)
cmd_models = _command("cmd_models")


def _analysis_command(name: str) -> Callable[[argparse.Namespace], int]:
    """Like ``_command`` for `compare`, `report` and `sweep` (loaded when they run)."""

    def run(args: argparse.Namespace) -> int:
        from . import compare, sweep

        module = compare if hasattr(compare, name) else sweep
        return int(getattr(module, name)(args))

    run.__name__ = name
    return run


cmd_compare, cmd_report, cmd_sweep = (
    _analysis_command(n) for n in ("cmd_compare", "cmd_report", "cmd_sweep")
)


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line (which option, why) and a pointer to --help, not the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def _endpoint_options(p: argparse.ArgumentParser, with_roles: bool = True) -> None:
    p.add_argument(
        "--base-url", type=v.base_url, help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL)"
    )
    p.add_argument("--model", help="model name for both roles")
    p.add_argument(
        "--api-key-env", help="environment variable holding the key (default OPENAI_API_KEY)"
    )
    p.add_argument("--mode", choices=["chat", "completion"], help="chat or plain completions")
    p.add_argument(
        "--concurrency",
        type=v.int_range(1, 256),
        help="requests in flight per endpoint (default 16)",
    )
    p.add_argument(
        "--max-retries", type=v.int_range(0, 100), help="retries per request (default 5)"
    )
    p.add_argument(
        "--timeout",
        type=v.seconds,
        help="seconds one request may take in all, first byte to last (default 60)",
    )
    p.add_argument("--rpm", type=v.positive, help="requests-per-minute limit")
    p.add_argument("--tpm", type=v.positive, help="tokens-per-minute limit")
    p.add_argument(
        "--no-model-check",
        action="store_true",
        help="do not check the model name against the server's /models list",
    )
    if with_roles:
        for role in ("optimizer", "scorer"):
            p.add_argument(f"--{role}-base-url", dest=f"{role}_base_url", type=v.base_url)
            p.add_argument(f"--{role}-model", dest=f"{role}_model")
            p.add_argument(f"--{role}-api-key-env", dest=f"{role}_api_key_env")
            p.add_argument(f"--{role}-mode", dest=f"{role}_mode", choices=["chat", "completion"])
            p.add_argument(
                f"--{role}-concurrency", dest=f"{role}_concurrency", type=v.int_range(1, 256)
            )
            p.add_argument(
                f"--{role}-max-retries", dest=f"{role}_max_retries", type=v.int_range(0, 100)
            )
            p.add_argument(f"--{role}-timeout", dest=f"{role}_timeout", type=v.seconds)
            p.add_argument(f"--{role}-rpm", dest=f"{role}_rpm", type=v.positive)
            p.add_argument(f"--{role}-tpm", dest=f"{role}_tpm", type=v.positive)


def _settings_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--temperature", type=v.float_range(0, 2), help="optimizer temperature (default 1.0)"
    )
    p.add_argument(
        "--samples", type=v.int_range(1, 1000), help="optimizer samples per step (default 8)"
    )
    p.add_argument(
        "--max-tokens", type=v.int_range(1, 1_000_000), help="optimizer max tokens (default 1024)"
    )
    p.add_argument("--seed", type=v.seed)
    p.add_argument("--history-size", type=v.non_negative, help="solutions shown in the meta-prompt")
    p.add_argument("--target-score", type=v.finite, help="stop once the best score reaches this")
    p.add_argument("--patience", type=v.positive, help="stop after N steps without improvement")
    p.add_argument(
        "--budget-tokens", type=v.positive, help="pause the run once this many tokens are used"
    )
    p.add_argument(
        "--budget-usd",
        type=v.float_range(0, low_open=True),
        help="pause the run once this many dollars are spent",
    )
    p.add_argument(
        "--pause-after-unparseable",
        type=int,
        metavar="N",
        help="pause after N steps in a row with no parseable proposal (default 3, 0: off)",
    )
    p.add_argument(
        "--pause-after-zero-score",
        type=int,
        metavar="N",
        help="pause after N steps in a row in which every scored candidate got the worst "
        "score, e.g. 0%% accuracy (default 3, 0: off)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="opro", description="OPRO Studio, headless.")
    parser.add_argument("--version", action="version", version=f"opro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="create a project file")
    kinds = new.add_subparsers(dest="kind", required=True)
    for kind in problem_kinds():
        kp = kinds.add_parser(kind.name, help=kind.cli_help or kind.display_name)
        kp.add_argument("out")
        kind.add_cli_arguments(kp)
        kp.add_argument(
            "--strict-reference-parsing",
            action="store_true",
            help="parse answers exactly as the reference code (first tag only, no repairs)",
        )
    new.set_defaults(func=cmd_new)

    run = sub.add_parser("run", help="run or continue the OPRO loop")
    run.add_argument("project")
    run.add_argument(
        "--steps", type=v.int_range(1, 1_000_000), required=True, help="the run's total step budget"
    )
    run.add_argument("--new-run", action="store_true", help="start a new run instead of continuing")
    run.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        help="prompt runs: also run the equal-budget no-trajectory baseline (off; doubles the "
        "scorer calls)",
    )
    _settings_options(run)
    _endpoint_options(run)
    run.add_argument(
        "--no-format-check",
        action="store_true",
        help="do not send the one optimizer request (and scorer question) that checks the "
        "models answer in the task's format before the run (--no-model-check skips it too)",
    )
    run.set_defaults(func=cmd_run)

    show = sub.add_parser("show", help="summarise a project")
    show.add_argument("project")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    hist = sub.add_parser("history", help="a step's meta-prompt and completions")
    hist.add_argument("project")
    hist.add_argument("--step", type=v.non_negative, required=True)
    hist.add_argument("--run", type=v.positive)
    hist.add_argument(
        "--candidate",
        type=v.non_negative,
        metavar="I",
        help="where candidate I of the step came from",
    )
    hist.set_defaults(func=cmd_history)

    rep = sub.add_parser("replay", help="re-send a step's meta-prompt")
    rep.add_argument("project")
    rep.add_argument("--step", type=v.non_negative, required=True)
    rep.add_argument("--run", type=v.positive)
    rep.add_argument("--samples", type=v.int_range(1, 1000))
    rep.add_argument("--no-score", action="store_true", help="do not score the replayed answers")
    _endpoint_options(rep, with_roles=False)
    rep.set_defaults(func=cmd_replay, optimizer_base_url=None, optimizer_model=None)

    est = sub.add_parser("estimate", help="pre-run estimate of calls, tokens and dollars")
    est.add_argument("project")
    est.add_argument("--steps", type=v.int_range(1, 1_000_000), required=True)
    est.add_argument("--json", action="store_true")
    _settings_options(est)
    _endpoint_options(est)
    est.set_defaults(func=cmd_estimate)

    ev = sub.add_parser("evaluate", help="score top instructions and baselines on held-out data")
    ev.add_argument("project")
    ev.add_argument("--split", choices=["test", "train", "all"], default="test")
    ev.add_argument("--top", type=v.int_range(1, 1000), default=1)
    ev.add_argument("--run", type=v.positive)
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
    ev.add_argument(
        "--batch", action="store_true", help="send the scorer requests through the Batch API"
    )
    ev.add_argument(
        "--batch-poll", type=float, default=30.0, help="seconds between batch status checks"
    )
    _endpoint_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    mod = sub.add_parser("models", help="find model servers on this machine and list their models")
    mod.add_argument(
        "--port",
        type=int,
        action="append",
        help="also look on this port of 127.0.0.1 (repeatable)",
    )
    mod.add_argument(
        "--only", action="store_true", help="look only on the --port ports, not the usual ones"
    )
    mod.add_argument("--json", action="store_true")
    mod.set_defaults(func=cmd_models)

    exp = sub.add_parser("export", help="export everything as JSON or CSV")
    exp.add_argument("project")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=cmd_export)

    cmp_ = sub.add_parser("compare", help="runs of one task side by side")
    cmp_.add_argument(
        "runs", nargs="+", metavar="PROJECT[:RUN]", help="a project (all its runs) or one run"
    )
    cmp_.add_argument("--json", action="store_true", help="everything, with best-so-far curves")
    cmp_.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="one task over a grid of models, seeds and settings")
    sw.add_argument(
        "project", help="the project (with --datasets: the folder for one project per dataset)"
    )
    sw.add_argument(
        "--steps",
        type=v.int_range(1, 1_000_000),
        required=True,
        help="each run's total step budget",
    )
    sw.add_argument("--optimizer-models", help="comma-separated optimizer models")
    sw.add_argument("--scorer-models", help="comma-separated scorer models (prompt tasks)")
    sw.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    sw.add_argument(
        "--set", action="append", metavar="KEY=V1,V2", help="vary a setting (repeatable)"
    )
    sw.add_argument(
        "--parallel", type=v.int_range(1, 64), default=2, help="runs at once (default 2)"
    )
    sw.add_argument("--out", metavar="PREFIX", help="write PREFIX.md and PREFIX.csv")
    sw.add_argument("--datasets", metavar="DIR", help="one prompt project per dataset file in DIR")
    sw.add_argument(
        "--evaluate", action="store_true", help="score each run's best on the test split after"
    )
    _settings_options(sw)
    _endpoint_options(sw)
    sw.set_defaults(func=cmd_sweep)

    rep_ = sub.add_parser("report", help="one self-contained HTML report of a project")
    rep_.add_argument("project")
    rep_.add_argument("-o", "--output", required=True, help="the .html file to write")
    rep_.set_defaults(func=cmd_report)

    from .people_args import add_parsers  # argparse only: loads no session code

    add_parsers(sub)
    return parser
