"""``chute bench``'s outputs: the table, the chart drawn in text, CSV and JSON.

CSV and JSON carry, besides every measured figure, what is needed to compare a run with a
later one: the machine (CPU model, cores, system), the versions (Python, chute, each
format's library) and the settings (inputs, sampling, time limit).
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import os
import platform
from typing import Any

from .._version import __version__
from .inputs import Plan
from .measure import Result

__all__ = ["table", "chart", "to_csv", "to_json", "environment", "human"]

CSV_FIELDS = [
    "format",
    "level",
    "threads",
    "ratio",
    "ratio_low",
    "ratio_high",
    "c_speed",
    "d_speed",
    "c_cpu",
    "d_cpu",
    "c_mem",
    "d_mem",
    "window",
    "bytes_in",
    "bytes_out",
    "streams",
    "partial",
    "frontier",
    "command",
    "error",
]


def human(n: float | None, unit: str = "B") -> str:
    """``n`` bytes in powers of 1024 (``-`` for ``None``)."""
    if n is None:
        return "-"
    for prefix in ("", "Ki", "Mi", "Gi", "Ti"):
        if abs(n) < 1024 or prefix == "Ti":
            return f"{n:.0f} {unit}" if not prefix else f"{n:.1f} {prefix}{unit}"
        n /= 1024
    return f"{n:.1f} Ti{unit}"  # pragma: no cover


def _mbs(speed: float) -> str:
    return f"{speed / 1e6:,.1f}" if speed < 1e5 * 1e6 else "-"


def table(results: list[Result], target: str = "FILE") -> str:
    """The results as a text table, best ratio first; ``*`` marks a point on the frontier of
    ratio against compress speed, ``+`` against decompress speed; the frontier's commands
    follow."""
    rows = [["", "format", "level", "ratio", "95% interval", "comp MB/s", "dec MB/s", "comp mem", "dec mem", "window"]]
    for r in sorted(results, key=lambda r: (r.error is not None, -r.ratio)):
        c = r.candidate
        mark = ("*" if "compress" in r.frontier else " ") + ("+" if "decompress" in r.frontier else " ")
        level = f"{c.level}" + (f" -T{c.threads}" if c.threads is not None else "")
        if r.error is not None:
            rows.append([mark, c.format, level, "failed: " + r.error, "", "", "", "", "", ""])
            continue
        ci = f"{r.ratio_low:.3f}-{r.ratio_high:.3f}" if r.ratio_low is not None and r.ratio_high is not None else ""
        if r.partial:
            ci += f" ({r.streams} streams)"
        rows.append(
            [
                mark,
                c.format,
                level,
                f"{r.ratio:.3f}",
                ci,
                _mbs(r.c_speed),
                _mbs(r.d_speed),
                human(r.c_mem),
                human(r.d_mem),
                human(r.window),
            ]
        )
    widths = [max(len(row[i]) for row in rows if not row[3].startswith("failed") or i < 4) for i in range(len(rows[0]))]
    right = {3, 5, 6, 7, 8, 9}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right and not row[3].startswith("failed") else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append("* frontier: ratio against compress speed   + frontier: ratio against decompress speed")
    front = [r for r in sorted(results, key=lambda r: -r.ratio) if r.frontier]
    if front:
        lines.append("frontier commands:")
        width = max(len(r.candidate.command(target)) for r in front)
        for r in front:
            speeds = f"{_mbs(r.c_speed)} MB/s in, {_mbs(r.d_speed)} MB/s out"
            lines.append(f"  {r.candidate.command(target):<{width}}  # ratio {r.ratio:.3f}, {speeds}")
    return "\n".join(lines) + "\n"


def chart(results: list[Result], width: int = 72, height: int = 18) -> str:
    """Ratio (up) against compress speed (right, log scale) in text: ``*`` a frontier point,
    ``o`` another, each followed by its format and level where there is room."""
    ok = [r for r in results if r.error is None and r.c_speed > 0]
    if not ok:
        return ""
    xs = [math.log10(r.c_speed) for r in ok]
    ys = [r.ratio for r in ok]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    grid = [[" "] * width for _ in range(height)]
    placed = sorted(zip(xs, ys, ok, strict=True), key=lambda t: "compress" not in t[2].frontier)
    for x, y, r in placed:
        col = round((x - x0) / (x1 - x0) * (width - 1))
        row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
        if grid[row][col] not in (" ", "."):
            continue
        grid[row][col] = "*" if "compress" in r.frontier else "o"
        label = f"{r.candidate.format}:{r.candidate.level}"
        if col + 2 + len(label) <= width and all(c == " " for c in grid[row][col + 1 : col + 2 + len(label)]):
            grid[row][col + 2 : col + 2 + len(label)] = list(label)
    top, bottom = f"{y1:.2f}", f"{y0:.2f}"
    pad = max(len(top), len(bottom))
    lines = ["ratio"]
    for i, cells in enumerate(grid):
        axis = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{axis:>{pad}} |" + "".join(cells).rstrip())
    lines.append(" " * pad + " +" + "-" * width)
    left, right = f"{10**x0 / 1e6:.1f}", f"{10**x1 / 1e6:.1f} MB/s compress (log)"
    lines.append(" " * (pad + 2) + left + right.rjust(width - len(left)))
    return "\n".join(lines) + "\n"


def environment() -> dict[str, Any]:
    """The machine and the versions of everything measured."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions: dict[str, str] = {"python": platform.python_version(), "chute": __version__}
    for mod, attr, name in (
        ("backports.zstd", "zstd_version", "zstd"),
        ("lz4", "library_version_string", "lz4"),
        ("brotli", "__version__", "brotli"),
        ("zlib", "ZLIB_RUNTIME_VERSION", "zlib"),
        ("deflate", "__version__", "libdeflate"),
    ):
        try:
            module = importlib.import_module(mod)
        except ImportError:
            continue
        value = getattr(module, attr, None)
        value = value() if callable(value) else value
        if isinstance(value, tuple):
            value = ".".join(map(str, value))
        if value is not None:
            versions[name] = str(value)
    return {
        "machine": {"cpu": cpu, "cores": os.cpu_count(), "system": platform.platform(), "load": _load()},
        "versions": versions,
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def to_json(results: list[Result], plan: Plan, settings: dict[str, Any], advice: dict[str, Any] | None) -> str:
    """Everything as one JSON document."""
    doc = {
        **environment(),
        "settings": settings,
        "input": {
            "files": plan.files,
            "bytes": plan.total,
            "sampled": plan.sampled,
            "streams": len(plan.streams),
            "sample_bytes": sum(s.size for s in plan.streams),
        },
        "results": [r.as_dict() for r in results],
        "advice": advice,
    }
    return json.dumps(doc, indent=1) + "\n"


def to_csv(results: list[Result], plan: Plan, settings: dict[str, Any]) -> str:
    """One row per candidate; the machine, versions and settings in ``#`` lines first."""
    out = io.StringIO()
    env = environment()
    out.write(f"# machine: {json.dumps(env['machine'])}\n# versions: {json.dumps(env['versions'])}\n")
    out.write(f"# settings: {json.dumps(settings)}\n")
    out.write(f"# input: {plan.files} files, {plan.total} bytes, {'sampled' if plan.sampled else 'full'}\n")
    w = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in results:
        d = r.as_dict()
        d["frontier"] = " ".join(d["frontier"])
        w.writerow(d)
    return out.getvalue()
