"""One candidate (format, level, threads) measured on a plan's streams, in a child process.

Speeds are input bytes (uncompressed) per wall-clock second, both ways; CPU is the child's
user + system time over all its threads. The ratio is the input's bytes over the compressed
bytes; for a sampled input it comes with a 95% confidence interval (normal approximation of
the ratio estimator over the slices, with the finite-population correction), and with no
interval when every byte was measured.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import codecs
from ..errors import ChuteError
from .inputs import Plan

__all__ = ["Candidate", "Result", "DEFAULT_LEVELS", "AUTO_THREADS_MIN", "grid", "measure", "ratio_interval"]

#: The levels that matter, per format: the fastest, the default, and the knees of the curve.
DEFAULT_LEVELS: dict[str, tuple[int, ...]] = {
    "zstd": (-3, 1, 3, 9, 19),
    "gzip": (1, 6, 9),
    "lz4": (1, 9),
    "xz": (0, 6, 9),
    "bz2": (1, 9),
    "brotli": (1, 5, 9, 11),
    "zlib": (6,),
    "deflate": (6,),
}

#: The command line compresses (and decompresses) on every core from this size on.
AUTO_THREADS_MIN = 16 << 20


@dataclass(frozen=True)
class Candidate:
    """A format, a level and ``threads`` as ``-T`` takes it (``None``: the command's default)."""

    format: str
    level: int
    threads: int | None = None

    @property
    def label(self) -> str:
        t = "" if self.threads is None else f" -T{self.threads}"
        return f"{self.format} -{self.level}{t}"

    def command(self, target: str = "FILE") -> str:
        """The chute command line that writes what this candidate measured."""
        t = "" if self.threads is None else f" -T{self.threads}"
        return f"chute -F {self.format} --level={self.level}{t} {target}"


@dataclass
class Result:
    """What one candidate measured (speeds in bytes/s, memory and window in bytes)."""

    candidate: Candidate
    bytes_in: int = 0
    bytes_out: int = 0
    streams: int = 0
    c_speed: float = 0.0
    d_speed: float = 0.0
    c_cpu: float = 0.0  # seconds per input byte ...
    d_cpu: float = 0.0
    c_mem: int | None = None
    d_mem: int | None = None
    window: int | None = None
    ratio: float = 0.0
    ratio_low: float | None = None
    ratio_high: float | None = None
    partial: bool = False  # stopped by the time limit before its last stream
    error: str | None = None
    frontier: list[str] = field(default_factory=list)  # "compress", "decompress"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("candidate"))
        d["command"] = self.candidate.command()
        return d


def grid(formats: list[str] | None, levels: list[int] | None, threads: list[int] | None) -> list[Candidate]:
    """The candidates: each format (default all) at ``levels`` (default
    :data:`DEFAULT_LEVELS`; levels outside a format's range are skipped) and each of
    ``threads`` (default: the command line's own choice)."""
    names = [codecs.get(f).name for f in formats] if formats else codecs.names()
    out: list[Candidate] = []
    for name in dict.fromkeys(names):
        lo, hi = codecs.get(name).levels
        for level in levels if levels is not None else DEFAULT_LEVELS[name]:
            if lo <= level <= hi:
                for t in threads or [None]:  # type: ignore[list-item]
                    out.append(Candidate(name, level, t))
    return out


def _threads(c: Candidate, size: int) -> tuple[int | None, int | None]:
    """Compress and decompress threads for a stream of ``size``, as the command line picks."""
    if c.threads is not None:
        return c.threads, c.threads
    if size >= AUTO_THREADS_MIN:
        return 0, 0
    return (1 if c.format == "zstd" else None), None


def ratio_interval(sizes: list[int], compressed: list[int], population: int) -> tuple[float, float] | None:
    """95% interval of ``sum(sizes) / sum(compressed)`` for slices sampled from
    ``population`` bytes (``None`` for fewer than two slices)."""
    n = len(sizes)
    if n < 2:
        return None
    f = sum(compressed) / sum(sizes)
    mean = sum(sizes) / n
    var = sum((c - f * s) ** 2 for s, c in zip(sizes, compressed, strict=True)) / (n - 1)
    fpc = max(0.0, 1 - sum(sizes) / population)
    se = math.sqrt(var * fpc / n) / mean
    lo, hi = f - 1.96 * se, f + 1.96 * se
    return 1 / hi, (1 / lo if lo > 0 else math.inf)


def measure(c: Candidate, plan: Plan, time_limit: float) -> Result:
    """Measure ``c`` on ``plan`` in a child process (see :mod:`chute.bench.child`).

    A candidate whose child fails (it does not round-trip, it runs out of memory, it is
    killed after ten times its time limit) comes back with ``error`` set."""
    res = Result(c)
    groups: dict[tuple[int | None, int | None], list[list[Any]]] = {}
    for s in plan.streams:
        groups.setdefault(_threads(c, s.size), []).append([s.path, s.size])
    data: dict[str, Any] = {"sizes": [], "compressed": [], "c_wall": 0.0, "c_cpu": 0.0, "d_wall": 0.0, "d_cpu": 0.0}
    for (ct, dt), streams in groups.items():
        job = {
            "format": c.format,
            "level": c.level,
            "threads": ct,
            "dthreads": dt,
            "streams": streams,
            "time_limit": max(0.0, time_limit - data["c_wall"] - data["d_wall"]),
            "tmpdir": plan.tmpdir,
        }
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "chute.bench.child"],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                timeout=max(60.0, 10 * time_limit),
            )
            got = json.loads(proc.stdout) if proc.returncode == 0 else {"error": _died(proc)}
        except subprocess.TimeoutExpired:
            got = {"error": f"still running after {max(60.0, 10 * time_limit):.0f} s"}
        if "error" in got:
            res.error = got["error"]
            return res
        for key in ("sizes", "compressed", "c_wall", "c_cpu", "d_wall", "d_cpu"):
            data[key] += got[key]
        for key in ("c_mem", "d_mem", "window"):
            if got[key] is not None:
                setattr(res, key, max(getattr(res, key) or 0, got[key]))
        if len(got["sizes"]) < len(streams):
            break
    res.streams = len(data["sizes"])
    res.partial = res.streams < len(plan.streams)
    res.bytes_in, res.bytes_out = sum(data["sizes"]), sum(data["compressed"])
    res.ratio = res.bytes_in / max(1, res.bytes_out)
    res.c_speed = res.bytes_in / max(1e-9, data["c_wall"])
    res.d_speed = res.bytes_in / max(1e-9, data["d_wall"])
    res.c_cpu = data["c_cpu"] / res.bytes_in
    res.d_cpu = data["d_cpu"] / res.bytes_in
    if plan.sampled or res.partial:
        ci = ratio_interval(data["sizes"], data["compressed"], plan.total)
        if ci is not None:
            res.ratio_low, res.ratio_high = ci
    return res


def _died(proc: subprocess.CompletedProcess[str]) -> str:
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    if proc.returncode < 0:
        return f"the measuring process died (signal {-proc.returncode}){': ' + last if last else ''}"
    return last or f"the measuring process failed (exit {proc.returncode})"


def check_formats(formats: list[str]) -> None:
    """Raise :class:`ChuteError` for an unknown format name."""
    for f in formats:
        try:
            codecs.get(f)
        except ValueError as exc:
            raise ChuteError(str(exc)) from None
