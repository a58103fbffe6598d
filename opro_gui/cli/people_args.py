"""Arguments of `opro add`, `star`, `exclude` and `verdicts` (argparse only: no session code)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def _people(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of cli/people.py, loaded when it runs."""

    def run(args: argparse.Namespace) -> int:
        from . import people

        return int(getattr(people, name)(args))

    run.__name__ = name
    return run


def add_parsers(sub: Any) -> None:
    add = sub.add_parser("add", help="add your own candidate to a run (scored at its next step)")
    add.add_argument("project")
    add.add_argument("instruction", help="the candidate, written as a solution of the task")
    add.add_argument("--run", type=int)
    add.add_argument("--note")
    add.set_defaults(func=_people("cmd_add"))
    for name, text in (("star", "star a candidate"), ("exclude", "leave a candidate out of the "
                       "trajectory shown to the optimizer")):  # fmt: skip
        p = sub.add_parser(name, help=text)
        p.add_argument("project")
        p.add_argument("--candidate", type=int, required=True, help="candidate id (show, export)")
        p.add_argument("--note")
        p.set_defaults(func=_people(f"cmd_{name}"))
    ver = sub.add_parser("verdicts", help="each evaluator's verdict on a candidate's answers")
    ver.add_argument("project")
    ver.add_argument("--candidate", type=int, required=True)
    ver.add_argument("--prompts", action="store_true", help="show the judge prompts as sent")
    ver.add_argument("--json", action="store_true")
    ver.add_argument("--replay", action="store_true", help="send the judge prompts again")
    ver.add_argument("--base-url", help="replay on another server (default: the judge's own)")
    ver.add_argument("--model", help="replay with another judge model")
    ver.set_defaults(func=_people("cmd_verdicts"))
