"""The layering of DESIGN.md: no Qt below the GUI, and import-linter's contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "module",
    [
        "opro_gui.core.engine",
        "opro_gui.problems",
        "opro_gui.llm",
        "opro_gui.storage",
        "opro_gui.services",
        "opro_gui.cli",
    ],
)
def test_headless_layers_import_no_qt(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "import opro_gui.problems.tsp, opro_gui.problems.linear_regression; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, f"{module} pulled in Qt: {proc.stdout}{proc.stderr}"


def test_import_linter_contracts() -> None:
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e .[dev])")
    proc = subprocess.run([lint], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
