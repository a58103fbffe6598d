"""Slow packaging checks (run with -m slow): frozen bundle build + smoke test, wheel/sdist, pipx."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import opro_gui

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"


def _tracked(folder: str) -> list[str]:
    """Files git tracks under a top-level folder, relative to it."""
    out = subprocess.run(
        ["git", "ls-files", folder], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return [line.split("/", 1)[1] for line in out.splitlines() if line]


def _run(cmd: list[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc  # type: ignore[no-any-return]


def test_frozen_bundle_builds_and_passes_the_smoke_test() -> None:
    build = _run(["bash", str(PACKAGING / "build.sh")], timeout=1800)
    assert "bundle size:" in build.stdout
    bundle = PACKAGING / "dist" / "opro-studio"
    assert (bundle / "opro").is_file() and (bundle / "opro-gui").is_file()
    internal = bundle / "_internal"
    assert (internal / "resources" / "icons" / "opro-studio.svg").is_file()
    assert (internal / "opro_gui" / "problems" / "templates" / "tsp.txt").is_file()
    # Unused Qt stayed out of the bundle.
    qt_libs = {p.name for p in internal.rglob("libQt6*")}
    for unused in ("libQt6WebEngineCore", "libQt6Qml", "libQt6Quick", "libQt6Sql"):
        assert not any(name.startswith(unused + ".") for name in qt_libs), unused
    xcb = ["--xvfb"] if shutil.which("Xvfb") else []  # also the real xcb plugin when possible
    smoke = _run([sys.executable, str(PACKAGING / "smoke_test.py"), *xcb], timeout=600)
    assert "SMOKE TEST PASSED" in smoke.stdout


def test_wheel_and_sdist_ship_resources_and_tasks(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], timeout=600)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    assert wheel.name.startswith(f"opro_studio-{opro_gui.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "opro_gui/problems/templates/tsp.txt" in names
    for rel in _tracked("resources"):
        shipped = f"opro_gui/_resources/{rel}" in names
        assert shipped != rel.startswith("screenshots/"), rel  # screenshots stay out
    for rel in _tracked("tasks"):
        assert f"opro_gui/_tasks/{rel}" in names, rel
    assert not any("__pycache__" in n for n in names)
    entry_points = zipfile.ZipFile(wheel).read(
        f"opro_studio-{opro_gui.__version__}.dist-info/entry_points.txt"
    )
    assert b"opro = opro_gui.cli:main" in entry_points
    assert b"opro-gui = opro_gui.app:main" in entry_points
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert "resources/icons/opro-studio.svg" in members
    for rel in _tracked("tasks"):
        assert f"tasks/{rel}" in members, rel

    # Installed (dependencies borrowed from this interpreter), the package finds its data.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], timeout=300)
    code = (
        "from opro_gui import paths; print(paths.resources_dir()); print(paths.app_icon_path(256))"
    )
    shown = _run([str(py), "-c", code], timeout=60, cwd=tmp_path).stdout.split()
    assert shown[0].endswith("site-packages/opro_gui/_resources"), shown
    assert Path(shown[1]).is_file()


@pytest.mark.skipif(shutil.which("pipx") is None, reason="pipx not installed")
def test_pipx_install_gives_both_commands(tmp_path: Path) -> None:
    env = dict(os.environ, PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"))
    # conftest points HOME at a fresh folder; reuse the real pip cache so wheels are not fetched again.
    real_cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"
    if real_cache.is_dir():
        env["PIP_CACHE_DIR"] = str(real_cache)
    _run(["pipx", "install", str(REPO)], timeout=1200, env=env)
    opro, gui = tmp_path / "bin" / "opro", tmp_path / "bin" / "opro-gui"
    assert gui.is_file()
    version = _run([str(opro), "--version"], timeout=60, env=env, cwd=tmp_path).stdout
    assert opro_gui.__version__ in version
