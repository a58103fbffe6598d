"""A fast command line: `opro --version` / `--help` load no heavy library, `show` no model SDK.

Checked through ``sys.modules`` in a fresh interpreter (timings live in bench/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("openai", "numpy", "sqlite_utils", "PySide6", "pyqtgraph")

PROBE = """
import json, sys
from opro_gui.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def loaded_by(*args: str, cwd: Path | None = None) -> tuple[int, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["code"], result["loaded"]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["new", "--help"], ["run", "--help"]])
def test_version_and_help_import_no_heavy_library(args: list[str]) -> None:
    assert loaded_by(*args) == (0, [])


def test_new_and_show_never_load_the_model_sdk_or_qt(tmp_path: Path) -> None:
    project = tmp_path / "t.opro"
    code, loaded = loaded_by("new", "tsp", str(project), "--points", "5")
    assert (code, loaded) == (0, ["numpy", "sqlite_utils"])
    assert loaded_by("show", str(project), "--json") == (0, ["numpy"])  # reads need no sqlite-utils
