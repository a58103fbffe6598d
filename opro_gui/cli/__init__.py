"""The `opro` command: create, run, inspect, replay, evaluate and export projects headlessly.

The command names, options and JSON fields here are a contract used by scripts: add to them,
never rename them."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from opro_gui.core.text import one_line
from opro_gui.services import ProjectError

from .common import EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, CliError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
