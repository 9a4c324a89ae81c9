"""Small self-contained SVG charts for the admin report (the app environment has no matplotlib).

Two shapes cover the report: stacked columns over days and stacked horizontal bars per label.
Every text is XML-escaped here; callers mask personal data before (knowledge/records/privacy.py).
Fonts are local family names only, so a page embedding the chart loads nothing from outside.

Usage::

    from knowledge.report.charts import Series, data_uri, stacked_columns

    svg = stacked_columns(["11-01", "11-02"], [Series("已回答", [3, 5], "#2e7d32"),
                                                Series("未能回答", [1, 0], "#c62828")], title="每日提问量")
    html = f'<img src="{data_uri(svg)}" alt="每日提问量">'
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"
FONT_SIZE = 12
TEXT_COLOR = "#333"
GRID_COLOR = "#e0e0e0"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str


def _x(text: str) -> str:
    return html.escape(text, quote=True)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width: CJK and full-width characters are one em, the rest about 0.6 em."""
    return sum(size if ord(char) > 0x2E7F else size * 0.6 for char in text)


def fit_label(text: str, max_width: float, size: float = FONT_SIZE) -> str:
    """`text` cut with an ellipsis so that it fits in `max_width` pixels."""
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def nice_ceiling(value: float) -> tuple[float, float]:
    """An axis maximum ≥ value and a step (1, 2 or 5 × 10^k) giving at most five grid lines."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)  # counts: never a fractional grid line
    return math.ceil(value / step) * step, step


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{_x(FONT)}" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">'
            f"<title>{_x(title)}</title>"
            f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(body) + "</svg>")


def _legend(series: Sequence[Series], right: float, y: float) -> list[str]:
    """Legend entries laid out from the right edge leftwards, on one line."""
    parts: list[str] = []
    x = right
    for item in reversed(series):
        x -= text_width(item.name) + 22
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{_x(item.color)}"/>'
                     f'<text x="{x + 14:.1f}" y="{y:.1f}">{_x(item.name)}</text>')
    return parts


def _empty(width: float, height: float, title: str) -> str:
    body = [f'<text x="12" y="20" font-weight="bold">{_x(title)}</text>',
            f'<text x="{width / 2:.0f}" y="{height / 2 + 10:.0f}" text-anchor="middle" fill="#888">暂无数据</text>']
    return _svg(width, height, body, title)


def stacked_columns(labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 760, height: int = 260) -> str:
    """Vertical stacked columns, one per label (days); labels thinned so they never overlap."""
    totals = [sum(item.values[i] for item in series) for i in range(len(labels))]
    if not labels or max(totals, default=0) <= 0:
        return _empty(width, height, title)
    top, bottom, left, right = 34, 36, 40, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    axis_max, step = nice_ceiling(max(totals))
    slot = plot_w / len(labels)
    bar = max(1.0, slot * 0.7)
    body = [f'<text x="12" y="18" font-weight="bold">{_x(title)}</text>', *_legend(series, width - right, 18)]
    for k in range(int(axis_max / step) + 1):
        y = top + plot_h - plot_h * (k * step) / axis_max
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID_COLOR}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{_number(k * step)}</text>')
    every = max(1, math.ceil(text_width(max(labels, key=len)) * 1.3 / slot))
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        base = top + plot_h
        for item in series:
            value = item.values[i]
            if value <= 0:
                continue
            h = plot_h * value / axis_max
            base -= h
            body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{_x(item.color)}"/>')
        if i % every == 0:
            body.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#666">{_x(label)}</text>')
    return _svg(width, height, body, title)


def stacked_bars(labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 760, row: int = 24,
                 label_width: int = 220) -> str:
    """Horizontal stacked bars, one row per label (guides, question groups), total at the bar's end."""
    totals = [sum(item.values[i] for item in series) for i in range(len(labels))]
    if not labels or max(totals, default=0) <= 0:
        return _empty(width, 80, title)
    top, bottom, right = 34, 10, 48
    left = min(label_width, max(text_width(label) for label in labels) + 16)
    plot_w = width - left - right
    height = top + row * len(labels) + bottom
    axis_max = max(totals)
    body = [f'<text x="12" y="18" font-weight="bold">{_x(title)}</text>', *_legend(series, width - 12, 18)]
    for i, label in enumerate(labels):
        y = top + row * i
        body.append(f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{_x(fit_label(label, left - 16))}</text>')
        x = float(left)
        for item in series:
            value = item.values[i]
            if value <= 0:
                continue
            w = plot_w * value / axis_max
            body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{_x(item.color)}"/>')
            x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y + row / 2 + 4:.1f}" fill="#666">{_number(totals[i])}</text>')
    return _svg(width, height, body, title)


def data_uri(svg: str) -> str:
    """The chart as a data: URI for <img src>, so the HTML page stays a single self-contained file."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
