"""The bench chart as SVG, written by chute itself (no plotting library).

Two panels side by side: the ratio (up, linear) against compress speed, and against
decompress speed (right, log scale). Each candidate is a disc in its format's colour,
labelled with its format and level; frontier points are larger, ringed in black, and joined
by the frontier's line. :func:`layout` gives the pixel centre of every point, which is what
the drawing uses (and what a test checks a rendering against).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from .measure import Result

__all__ = ["COLOURS", "WIDTH", "HEIGHT", "layout", "render"]

WIDTH, HEIGHT = 960, 480
_PANEL = WIDTH // 2
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 40, 50
COLOURS = {
    "zstd": "#1f77b4",
    "gzip": "#2ca02c",
    "lz4": "#ff7f0e",
    "xz": "#9467bd",
    "bz2": "#8c564b",
    "brotli": "#e377c2",
    "zlib": "#17becf",
    "deflate": "#bcbd22",
}
_AXES = (("compress", "compress speed, MB/s (log)"), ("decompress", "decompress speed, MB/s (log)"))


def _speed(r: Result, axis: str) -> float:
    return r.c_speed if axis == "compress" else r.d_speed


def _ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten (and 2x, 5x when few) between ``lo`` and ``hi`` (log10 of MB/s)."""
    out = []
    for e in range(math.floor(lo), math.ceil(hi) + 1):
        for m in (1, 2, 5) if hi - lo < 2.5 else (1,):
            v = math.log10(m) + e
            if lo - 1e-9 <= v <= hi + 1e-9:
                out.append(v)
    return out


def _ranges(results: list[Result]) -> tuple[float, float, float, float]:
    speeds = [math.log10(_speed(r, a) / 1e6) for r in results for a, _ in _AXES]
    ratios = [r.ratio for r in results]
    # a quarter of a decade of room each side, and more on the right for the labels
    x0, x1 = math.floor(min(speeds) * 4) / 4 - 0.25, math.ceil(max(speeds) * 4) / 4 + 0.5
    y0, y1 = min(ratios), max(ratios)
    pad = (y1 - y0) * 0.08 or 0.5
    return x0, (x1 if x1 > x0 else x0 + 1), max(0.0, y0 - pad), y1 + pad


def _label(x: float, y: float, name: str, taken: list[tuple[float, float, float, float]]) -> str:
    """A label beside the point at ``x, y``: above right, else below right, above left or
    below left, whichever first overlaps no label already placed (``taken``, updated)."""
    w, h = 6.2 * len(name), 11.0
    choice = None
    for dx, dy, anchor in ((8, -6, "start"), (8, 14, "start"), (-8, -6, "end"), (-8, 14, "end")):
        left = x + dx if anchor == "start" else x + dx - w
        box = (left, y + dy - h, left + w, y + dy)
        if not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
            choice = (dx, dy, anchor, box)
            break
    if choice is None:
        choice = (8, -6, "start", (x + 8, y - 6 - h, x + 8 + w, y - 6))
    dx, dy, anchor, box = choice
    taken.append(box)
    return f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}" fill="#333">{escape(name)}</text>'


def layout(results: list[Result]) -> dict[str, list[tuple[float, float]]]:
    """Per axis (``compress``, ``decompress``), the pixel centre of each result, in the
    order given (results that failed are not drawn: give only those that did not)."""
    x0, x1, y0, y1 = _ranges(results)
    out: dict[str, list[tuple[float, float]]] = {}
    for k, (axis, _) in enumerate(_AXES):
        left = k * _PANEL + _LEFT
        w, h = _PANEL - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
        out[axis] = [
            (
                left + (math.log10(_speed(r, axis) / 1e6) - x0) / (x1 - x0) * w,
                _TOP + h - (r.ratio - y0) / (y1 - y0) * h,
            )
            for r in results
        ]
    return out


def render(results: list[Result], title: str = "") -> str:
    """The SVG document for ``results`` (failed ones left out)."""
    ok = [r for r in results if r.error is None and r.c_speed > 0 and r.d_speed > 0]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>')
    if not ok:
        parts.append("</svg>")
        return "\n".join(parts) + "\n"
    x0, x1, y0, y1 = _ranges(ok)
    where = layout(ok)
    w, h = _PANEL - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    for k, (axis, label) in enumerate(_AXES):
        left = k * _PANEL + _LEFT
        parts.append(f'<rect x="{left}" y="{_TOP}" width="{w}" height="{h}" fill="none" stroke="#888"/>')
        for t in _ticks(x0, x1):
            x = left + (t - x0) / (x1 - x0) * w
            parts.append(f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{_TOP + h}" stroke="#eee"/>')
            parts.append(f'<text x="{x:.1f}" y="{_TOP + h + 15}" text-anchor="middle">{10**t:g}</text>')
        for i in range(6):
            v = y0 + (y1 - y0) * i / 5
            y = _TOP + h - h * i / 5
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.2f}</text>')
        parts.append(f'<text x="{left + w / 2}" y="{HEIGHT - 12}" text-anchor="middle">{label}</text>')
        parts.append(
            f'<text x="{left - 44}" y="{_TOP + h / 2}" text-anchor="middle" '
            f'transform="rotate(-90 {left - 44} {_TOP + h / 2})">ratio</text>'
        )
        front = sorted((where[axis][i] for i, r in enumerate(ok) if axis in r.frontier), key=lambda p: p[0])
        if len(front) > 1:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in front)
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="#333" stroke-width="1.5" stroke-dasharray="5,3"/>'
            )
        taken: list[tuple[float, float, float, float]] = []
        for i, r in enumerate(ok):
            x, y = where[axis][i]
            name = f"{r.candidate.format} {r.candidate.level}"
            parts.append(_label(x, y, name, taken))
        for i, r in enumerate(ok):
            x, y = where[axis][i]
            colour = COLOURS.get(r.candidate.format, "#7f7f7f")
            if axis in r.frontier:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6.5" fill="{colour}" stroke="black" stroke-width="1.5"/>'
                )
            else:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
    x = float(_LEFT)
    for fmt in dict.fromkeys(r.candidate.format for r in ok):  # the legend: one row above the panels
        parts.append(f'<circle cx="{x + 4}" cy="{_TOP - 12}" r="4" fill="{COLOURS.get(fmt, "#7f7f7f")}"/>')
        parts.append(f'<text x="{x + 12}" y="{_TOP - 8}">{escape(fmt)}</text>')
        x += 24 + 7 * len(fmt)
    parts.append(f'<text x="{WIDTH - _RIGHT}" y="{_TOP - 8}" text-anchor="end">ringed, joined: the frontier</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
