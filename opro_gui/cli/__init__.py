"""The `opro` command: create, run, inspect, replay, evaluate and export projects headlessly.

The command names, options and JSON fields here are a contract used by scripts: add to them,
never rename them."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from opro_gui.core.text import one_line
from opro_gui.services import ProjectError

from .common import EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, CliError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Called without ``argv`` (the `opro` process itself), it ends the
    process once the command is done: every file is closed and the output flushed by then, and
    tearing down the thousands of modules the model SDK loads would only add a wait."""
    code = _run(argv)
    if argv is None:
        _exit_now(code)
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return EXIT_OK
    except (CliError, ProjectError, ValueError, OSError) as exc:
        # One line, whatever the message holds (a path may contain a newline).
        print(f"opro: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("opro: interrupted", file=sys.stderr)
        return EXIT_CANCELLED


def _exit_now(code: int) -> NoReturn:
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing left to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
