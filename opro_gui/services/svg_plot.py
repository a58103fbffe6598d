"""Inline SVG line charts for the HTML report: no library, no script, no external resource."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


@dataclass(frozen=True)
class Series:
    label: str
    xs: list[float]
    ys: list[float | None]
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class HLine:
    label: str
    y: float
    color: str = "#555555"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out, v = [], start
    while v <= hi + 1e-9 * step:
        out.append(round(v, 10))
        v += step
    return out


def _label(v: float) -> str:
    return f"{v:.6g}"


def line_chart(
    series: list[Series],
    hlines: list[HLine] = (),  # type: ignore[assignment]
    *,
    title: str = "",
    x_label: str = "step",
    y_label: str = "score",
    width: int = 820,
    height: int = 340,
    y_scale: float = 1.0,
) -> str:
    """An SVG chart: one polyline per series, dashed horizontal lines for baselines, a legend.
    ``y_scale`` multiplies the shown values (100 for accuracies shown in percent)."""
    left, right, top, bottom = 64, 280, 28, 44
    pts = [
        (x, y * y_scale) for s in series for x, y in zip(s.xs, s.ys, strict=True) if y is not None
    ]
    ys = [y for _, y in pts] + [h.y * y_scale for h in hlines]
    xs = [x for x, _ in pts] or [0.0, 1.0]
    if not ys:
        ys = [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    out = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{escape(title or y_label)}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        out.append(
            f'<text x="{left}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
        )
    for t in _ticks(y0, y1):
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 6}" y="{py(t) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_label(t)}</text>"
        )
    whole = all(float(x).is_integer() for x in xs)
    for t in _ticks(x0, x1):
        if whole and not float(t).is_integer():
            continue  # steps are whole numbers: no tick at 0.5
        out.append(
            f'<text x="{px(t):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">'
            f"{_label(t)}</text>"
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>'
        f'<text x="{left + pw / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text x="14" y="{top + ph / 2}" font-size="12" text-anchor="middle"'
        f' transform="rotate(-90 14 {top + ph / 2})">{escape(y_label)}</text>'
    )
    legend: list[tuple[str, str, bool]] = []
    for h in hlines:
        y = py(h.y * y_scale)
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{h.color}"'
            ' stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
        legend.append((f"{h.label} ({_label(h.y * y_scale)})", h.color, True))
    for s in series:
        coords = [
            f"{px(x):.1f},{py(y * y_scale):.1f}"
            for x, y in zip(s.xs, s.ys, strict=True)
            if y is not None
        ]
        if not coords:
            continue
        dash = ' stroke-dasharray="3 3"' if s.dashed else ""
        out.append(
            f'<polyline fill="none" stroke="{s.color}" stroke-width="2"{dash}'
            f' points="{" ".join(coords)}"/>'
        )
        if s.label:  # an unlabelled series shares the legend entry of the one before it
            legend.append((s.label, s.color, s.dashed))
    for i, (label, color, dashed) in enumerate(legend[:14]):
        y = top + 10 + 18 * i
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(
            f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{y}" y2="{y}" stroke="{color}"'
            f' stroke-width="2"{dash}/><text x="{left + pw + 42}" y="{y + 4}" font-size="11">'
            f"{escape(label[:42])}</text>"
        )
    out.append("</svg>")
    return "".join(out)
