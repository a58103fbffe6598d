"""Packaging checks that run in seconds: paths in every layout, About, icons, desktop files, spec."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import opro_gui
from opro_gui import about, paths

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
LINUX = PACKAGING / "linux"
APP_ID = "io.github.opro_studio.OproStudio"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


# -- pyproject: what the wheel ships ---------------------------------------------------------------


def _setuptools_cfg() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_under_opro_gui_is_listed_in_pyproject() -> None:
    listed = set(_setuptools_cfg()["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "opro_gui").rglob("__init__.py")
    }
    missing = on_disk - listed
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    stale = {p for p in listed - on_disk if not p.startswith("opro_gui._")}
    assert not stale, f"listed in pyproject.toml but not on disk: {stale}"


def test_resources_and_tasks_are_mapped_into_the_package() -> None:
    cfg = _setuptools_cfg()
    assert cfg["package-dir"] == {"opro_gui._resources": "resources", "opro_gui._tasks": "tasks"}
    assert {"opro_gui._resources", "opro_gui._tasks"} <= set(cfg["packages"])
    assert cfg["package-data"]["opro_gui._resources"] == ["**/*"]
    assert cfg["package-data"]["opro_gui._tasks"] == ["**/*"]


# -- paths --------------------------------------------------------------------------------------


@pytest.fixture
def no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.RESOURCES_ENV, raising=False)
    monkeypatch.delenv(paths.TASKS_ENV, raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)


def test_source_checkout_finds_repo_folders(no_overrides: None) -> None:
    assert paths.resources_dir() == REPO / "resources"
    assert (paths.resources_dir() / "icons" / "opro-studio.svg").is_file()
    if (REPO / "tasks").is_dir():
        assert paths.tasks_dir() == REPO / "tasks"


def test_installed_wheel_layout(
    tmp_path: Path, no_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "site-packages" / "opro_gui"
    (pkg / "_resources" / "icons").mkdir(parents=True)
    (pkg / "_tasks").mkdir()
    # A stray top-level resources/ in site-packages (another project's) must not be picked.
    (tmp_path / "site-packages" / "resources").mkdir()
    monkeypatch.setattr(paths, "_PACKAGE_DIR", pkg)
    assert paths.resources_dir() == pkg / "_resources"
    assert paths.tasks_dir() == pkg / "_tasks"
    assert paths.app_icon_path() == pkg / "_resources" / "icons" / "opro-studio.svg"


def test_pyinstaller_bundle_layout(
    tmp_path: Path, no_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    meipass = tmp_path / "_internal"
    (meipass / "resources").mkdir(parents=True)
    (meipass / "tasks").mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    assert paths.resources_dir() == meipass / "resources"
    assert paths.tasks_dir() == meipass / "tasks"


def test_meipass_without_frozen_is_ignored(
    tmp_path: Path, no_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "resources").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == REPO / "resources"


def test_environment_override_wins(
    tmp_path: Path, no_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.RESOURCES_ENV, str(tmp_path))
    assert paths.resources_dir() == tmp_path


def test_missing_folder_names_every_place_looked(
    tmp_path: Path, no_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "_PACKAGE_DIR", tmp_path / "opro_gui")
    with pytest.raises(FileNotFoundError, match="tasks/ folder was not found") as err:
        paths.tasks_dir()
    assert str(tmp_path / "opro_gui" / "_tasks") in str(err.value)


def test_unknown_icon_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="no 20px icon"):
        paths.app_icon_path(20)


# -- about --------------------------------------------------------------------------------------


def test_versions_report_the_single_source_version() -> None:
    info = about.versions()
    assert info["OPRO Studio"] == opro_gui.__version__
    for key in ("Python", "Qt", "PySide6", "pyqtgraph", "openai SDK", "sqlite-utils", "SQLite"):
        assert info[key] and info[key] != about.UNKNOWN, key
    assert info["SQLite"].count(".") == 2
    text = about.about_text()
    assert text.startswith(f"OPRO Studio {opro_gui.__version__}\n")
    assert all(f"{k}: {v}" in text for k, v in info.items() if k != "OPRO Studio")
    rich = about.about_html()
    assert rich.startswith(f"<p><b>OPRO Studio {opro_gui.__version__}</b>")
    assert rich.count("<tr>") == len(info) - 1
    assert "“Large Language Models as Optimizers”" in rich


def test_about_module_imports_no_qt() -> None:
    code = "import sys, opro_gui.about; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_about_ids_match_desktop_files() -> None:
    assert about.APP_ID == APP_ID
    assert (LINUX / f"{APP_ID}.desktop").is_file()
    assert (LINUX / f"{APP_ID}.metainfo.xml").is_file()


# -- icons --------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("size", paths.APP_ICON_SIZES)
def test_app_icon_png_has_its_size(size: int) -> None:
    assert _png_size(paths.app_icon_path(size)) == (size, size)


def test_icons_svg_are_well_formed_and_mime_icons_exist() -> None:
    for name in ("opro-studio", "application-x-opro-project"):
        root = ET.parse(paths.icons_dir() / f"{name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox") == "0 0 512 512"
    for size in (16, 24, 32, 48, 64, 128, 256):
        png = paths.icons_dir() / f"application-x-opro-project-{size}.png"
        assert _png_size(png) == (size, size)


def test_windows_ico_holds_seven_png_sizes() -> None:
    data = (PACKAGING / "icons" / "opro-studio.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 7)
    sizes = [data[6 + 16 * i] or 256 for i in range(count)]
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_macos_icns_header_and_length() -> None:
    data = (PACKAGING / "icons" / "opro-studio.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)


# -- Linux desktop integration ------------------------------------------------------------------


def test_desktop_entry_launches_opro_gui_for_opro_files() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "opro-gui %f"
    assert entry["Icon"] == APP_ID
    assert "application/x-opro-project" in entry["MimeType"].split(";")
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")


def test_metainfo_is_consistent_with_the_app() -> None:
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("project_license") == about.LICENSE
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == opro_gui.__version__
    provides = root.find("provides")
    assert provides is not None
    assert {b.text for b in provides.findall("binary")} == {"opro", "opro-gui"}
    assert provides.findtext("mediatype") == "application/x-opro-project"


def test_metainfo_screenshots_exist_in_the_repo() -> None:
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    urls = [i.text or "" for i in root.iterfind("screenshots/screenshot/image")]
    assert urls
    prefix = "https://raw.githubusercontent.com/opro-studio/opro-studio/main/"
    for url in urls:
        assert url.startswith(prefix), url
        assert (REPO / url.removeprefix(prefix)).is_file(), url


def test_mime_type_matches_glob_and_the_storage_application_id() -> None:
    from opro_gui.storage.schema import APPLICATION_ID

    root = ET.parse(LINUX / "opro-studio-mime.xml").getroot()
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == "application/x-opro-project"
    assert [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")] == ["*.opro"]
    outer = mime.find(f"{MIME_NS}magic/{MIME_NS}match")
    assert outer is not None and outer.get("value") == "SQLite format 3"
    inner = outer.find(f"{MIME_NS}match")
    assert inner is not None and (inner.get("offset"), inner.get("type")) == ("68", "big32")
    assert int(inner.get("value") or "", 16) == APPLICATION_ID


@pytest.mark.skipif(
    not all(
        shutil.which(t)
        for t in ("appstreamcli", "desktop-file-validate", "update-mime-database", "gio")
    ),
    reason="needs appstream, desktop-file-utils, shared-mime-info, libglib2.0-bin "
    "(packaging/check_desktop.sh installs them)",
)
def test_check_desktop_script_passes(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["bash", str(PACKAGING / "check_desktop.sh")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ALL DESKTOP CHECKS PASSED" in proc.stdout
    assert "ok: by-magic.bin -> application/x-opro-project" in proc.stdout


# -- scripts and spec ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script", ["build.sh", "build_macos.sh", "install_desktop.sh", "check_desktop.sh"]
)
def test_shell_scripts_parse(script: str) -> None:
    proc = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_spec_builds_both_executables_into_one_folder() -> None:
    source = (PACKAGING / "opro-studio.spec").read_text()
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    names = {
        kw.value.value
        for c in calls
        if c.func.id in ("EXE", "COLLECT")  # type: ignore[attr-defined]
        for kw in c.keywords
        if kw.arg == "name" and isinstance(kw.value, ast.Constant)
    }
    assert names == {"opro-gui", "opro", "opro-studio"}
    assert sum(c.func.id == "COLLECT" for c in calls) == 1  # type: ignore[attr-defined]
    for excluded in ("QtWebEngineCore", "QtQml", "QtQuick", "QtMultimedia", "QtSql", "tkinter"):
        assert f'"{excluded}"' in source
    for launcher in ("opro_gui_main.py", "opro_cli_main.py"):
        assert (PACKAGING / "launchers" / launcher).is_file()
