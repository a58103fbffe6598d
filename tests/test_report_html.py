"""`opro report`: one self-contained HTML file with every section, nothing loaded from anywhere;
the slow test renders it in headless Chromium and checks the screenshot is not blank."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from scripted_models import ArithmeticWorld, two_opt_optimizer

from opro_gui.cli import main
from opro_gui.services import ProjectSession
from opro_gui.services.compare import task_hash
from opro_gui.services.report_html import SECTIONS


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, str] = {}
        self._in_section: str | None = None
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self._in_section = a.get("id")
        self._in_h2 = tag == "h2"

    def handle_data(self, data: str) -> None:
        if self._in_h2 and self._in_section:
            self.sections[self._in_section] = data

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False


def _check_offline(html: str) -> _Scan:
    scan = _Scan()
    scan.feed(html)
    tags = {t for t, _ in scan.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "audio", "video"}
    for _, attrs in scan.tags:
        for name, value in attrs.items():
            if name in ("src", "href", "xlink:href", "action", "srcset", "data"):
                raise AssertionError(f"an attribute that loads something: {name}={value}")
    assert "url(" not in html and "@import" not in html
    csp = [a for t, a in scan.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in str(csp[0].get("content"))
    return scan


def _tsp_project(tmp_path: Path, capsys, fake_server) -> Path:
    project = tmp_path / "t.opro"
    assert opro(capsys, "new", "tsp", str(project), "--points", "9", "--seed", "2")[0] == 0
    with fake_server(two_opt_optimizer) as srv:
        url = srv.base_url
        for seed in ("0", "1"):
            code, _, err = opro(
                capsys, "run", str(project), "--steps", "3", "--samples", "2", "--new-run",
                "--seed", seed, "--base-url", url, "--model", "fake-optimizer",
            )  # fmt: skip
            assert code == 0, err
    return project


def test_tsp_report_has_every_section_loads_nothing_and_plots_the_runs(
    tmp_path, fake_server, capsys
) -> None:
    project = _tsp_project(tmp_path, capsys, fake_server)
    out = tmp_path / "report.html"
    code, text, err = opro(capsys, "report", str(project), "-o", str(out))
    assert code == 0, err
    assert f"wrote {out}" in text
    html = out.read_text(encoding="utf-8")
    scan = _check_offline(html)
    assert scan.sections == dict(SECTIONS)
    # the curve of each run is drawn from its stored best-so-far values: as many points as steps
    polylines = [a for t, a in scan.tags if t == "polyline"]
    with ProjectSession.open(project, readonly=True) as session:
        steps = [len(session.store.steps(r)) for r in session.run_ids()]
        random = [len(session.random_search_curve(r)) for r in session.run_ids()]
        digest = task_hash(session)
        shown = session.summary().to_json()
    counts = [len(str(a["points"]).split()) for a in polylines]
    # the runs and their random searches, then mean, mean + sd, mean - sd of the two seeds
    assert counts == [steps[0], random[0], steps[1], random[1], *[max(steps)] * 3]
    assert "mean ± sd over seeds" in html
    # baselines drawn as lines with their values in the legend
    run = shown["runs"][0]
    assert f"optimum ({run['optimal_length']:.6g})" in html
    assert f"nearest neighbour ({run['nearest_neighbour_length']:.6g})" in html
    assert digest in html and "fake-optimizer" in html
    assert "differ only in seed" in html  # spread across the two seeds


def test_prompt_report_shows_intervals_and_paired_tests(tmp_path, fake_server, capsys) -> None:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(30)) + "\n")
    project = tmp_path / "p.opro"
    assert opro(capsys, "new", "prompt", str(project), "--dataset", str(data), "--initial",
                "Solve it.", "--train-ratio", "0.5")[0] == 0  # fmt: skip
    with fake_server(ArithmeticWorld()) as srv:
        code, _, err = opro(
            capsys, "run", str(project), "--steps", "2", "--samples", "2", "--base-url",
            srv.base_url, "--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer",
        )  # fmt: skip
        assert code == 0, err
        assert opro(capsys, "evaluate", str(project))[0] == 0
    out = tmp_path / "p.html"
    assert opro(capsys, "report", str(project), "-o", str(out))[0] == 0
    html = out.read_text(encoding="utf-8")
    _check_offline(html)
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    lo, hi = run["best_train_accuracy_ci"]
    assert f"95% bootstrap CI {100 * lo:.1f}–{100 * hi:.1f}%" in html
    assert "Exact McNemar" in html
    for t in run["paired_tests"]:
        assert f"{t['p_value']:.4g}" in html
    assert re.search(r"baseline: empty", html)
    # the baselines' held-out accuracy is drawn as reference lines on the curve plot
    for e in run["test_evaluations"]:
        if e["label"].startswith("baseline"):
            assert escape(f"{e['label']} (test)"[:42]) in html  # the legend entry
    assert html.count('stroke-dasharray="6 4" stroke-width="1.5"') == 2


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path, fake_server, capsys) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    project = _tsp_project(tmp_path, capsys, fake_server)
    out = tmp_path / "report.html"
    assert opro(capsys, "report", str(project), "-o", str(out))[0] == 0
    png = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1200,1600",
            f"--screenshot={png}", out.as_uri(),
        ],
        check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 1000
    colours: set[int] = set()
    dark = 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            rgb = image.pixel(x, y) & 0xFFFFFF
            colours.add(rgb)
            r, g, b = rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF
            dark += r + g + b < 200
    assert len(colours) > 20, "the screenshot is blank"
    assert dark > 200, "no text was drawn"
    blue = [(0x1F, 0x77, 0xB4)]  # the first run's curve
    found = any(
        all(
            abs(c - t) < 40
            for c, t in zip(((p >> 16), (p >> 8) & 0xFF, p & 0xFF), blue[0], strict=True)
        )
        for p in colours
    )
    assert found, "the curve of run 1 is not in the picture"
