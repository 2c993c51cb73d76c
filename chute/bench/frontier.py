"""The Pareto frontier of measured candidates, and the goals ``chute bench`` answers.

A point is on the frontier when no other point is at least as good on both axes and better
on one: nothing compresses smaller *and* at least as fast. Goals pick one candidate:

- ``storage``: the best ratio whose compression of the whole input fits a budget, given as
  a duration (``storage=10min``: the whole input, at the measured speed, in ten minutes)
  or a speed (``storage=50MB/s``); without a budget, the best ratio.
- ``link=RATE``: the fastest end to end through a link of RATE (``100Mbit``, ``1Gbit``,
  ``20MB/s``). Compressing, sending and decompressing overlap as a pipeline, so its
  throughput is the slowest of the three stages; sending uncompressed is a candidate too.
- ``cpu``: the least CPU time (compress and decompress, all threads) per byte saved.

``max_memory`` first removes every candidate that needed more to compress or decompress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ChuteError
from .measure import Result

__all__ = ["pareto", "mark", "Goal", "parse_goal", "parse_rate", "choose"]


def pareto(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points that no other point dominates (both coordinates maximised),
    sorted by the first coordinate descending. Equal points are all kept."""
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1]))
    out: list[int] = []
    above = -float("inf")  # best second coordinate among points with a greater first one
    k = 0
    while k < len(order):
        x = points[order[k]][0]
        group = [i for i in order[k:] if points[i][0] == x]
        top = points[group[0]][1]
        if top > above:
            out.extend(i for i in group if points[i][1] == top)
            above = top
        k += len(group)
    return out


def mark(results: list[Result]) -> None:
    """Set each result's ``frontier`` to the axes on which it is a frontier point (ratio
    against compress speed, ratio against decompress speed); failed results never are."""
    ok = [r for r in results if r.error is None]
    for r in results:
        r.frontier = []
    for axis in ("compress", "decompress"):
        for i in pareto([(r.ratio, r.c_speed if axis == "compress" else r.d_speed) for r in ok]):
            ok[i].frontier.append(axis)


_UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "ki": 1024, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40}
_TIME = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}


def parse_rate(text: str) -> float:
    """Bytes per second from ``100Mbit``, ``1Gbit/s``, ``20MB/s``, ``50MiB/s``, ``1e6``."""
    m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kmgt]i?)?(bit|b)?(?:/s|ps)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"not a rate: {text!r} (say 100Mbit, 1Gbit or 20MB/s)")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    unit = m.group(3) or "B"
    return value / 8 if unit == "bit" or unit == "b" else value


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``10min``, ``2h``."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(s|sec|min|m|h)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"not a duration: {text!r} (say 90s, 10min or 2h)")
    return float(m.group(1)) * _TIME[(m.group(2) or "s").lower()]


@dataclass(frozen=True)
class Goal:
    """A parsed ``--goal``: ``kind`` is storage, link or cpu; ``rate`` the link's bytes/s or
    the least compress speed; ``seconds`` a storage time budget for the whole input."""

    kind: str
    rate: float | None = None
    seconds: float | None = None


def parse_goal(text: str) -> Goal:
    """``storage``, ``storage=10min``, ``storage=50MB/s``, ``link=100Mbit``, ``cpu``."""
    kind, _, arg = text.partition("=")
    kind = kind.strip().lower()
    if kind == "cpu" and not arg:
        return Goal("cpu")
    if kind == "storage":
        if not arg:
            return Goal("storage")
        if re.search(r"(/s|ps|bit)\s*$", arg, re.IGNORECASE):
            return Goal("storage", rate=parse_rate(arg))
        return Goal("storage", seconds=parse_duration(arg))
    if kind == "link" and arg:
        return Goal("link", rate=parse_rate(arg))
    raise ValueError(f"unknown goal {text!r} (storage[=TIME|=SPEED], link=RATE, cpu)")


def end_to_end(r: Result, link: float) -> float:
    """Input bytes per second through a pipeline compress -> link -> decompress."""
    return min(r.c_speed, link * r.ratio, r.d_speed)


def choose(results: list[Result], goal: Goal, total: int, max_memory: int | None = None) -> tuple[Result | None, str]:
    """The candidate that answers ``goal`` for an input of ``total`` bytes, and why (one
    line). ``None`` with the reason when no candidate qualifies, or when sending the data
    uncompressed is fastest through the link."""
    ok = [r for r in results if r.error is None]
    if max_memory is not None:
        ok = [r for r in ok if max(r.c_mem or 0, r.d_mem or 0) <= max_memory]
        if not ok:
            return None, "no candidate stays within --max-memory"
    if goal.kind == "storage":
        fits = ok
        if goal.seconds is not None:
            fits = [r for r in ok if total / r.c_speed <= goal.seconds]
        elif goal.rate is not None:
            fits = [r for r in ok if r.c_speed >= goal.rate]
        if not fits:
            return None, "no candidate compresses fast enough for the budget"
        best = max(fits, key=lambda r: (r.ratio, r.c_speed))
        return best, f"best ratio ({best.ratio:.3f}) that compresses {_human(total)} in {total / best.c_speed:.1f} s"
    if goal.kind == "link":
        link = goal.rate or 0.0
        fastest = max(ok, key=lambda r: end_to_end(r, link), default=None)
        if fastest is None or end_to_end(fastest, link) <= link:
            return None, f"sending uncompressed is fastest ({_human(link)}/s)"
        rate = end_to_end(fastest, link)
        why = f"{_human(rate)}/s end to end, {total / rate:.1f} s for {_human(total)} ({_bottleneck(fastest, link)})"
        return fastest, why
    if goal.kind == "cpu":
        saving = [r for r in ok if r.ratio > 1]
        if not saving:
            return None, "no candidate saves any bytes"

        def cost(r: Result) -> float:
            return (r.c_cpu + r.d_cpu) / (1 - 1 / r.ratio)

        best = min(saving, key=cost)
        return best, f"{cost(best) * 1e9:.2f} CPU ns per byte saved (compress + decompress)"
    raise ChuteError(f"unknown goal {goal.kind!r}")


def _bottleneck(r: Result, link: float) -> str:
    stages: list[tuple[float, str]] = [
        (r.c_speed, "compressing"),
        (link * r.ratio, "the link"),
        (r.d_speed, "decompressing"),
    ]
    key: Callable[[tuple[float, str]], float] = lambda s: s[0]  # noqa: E731
    return f"bound by {min(stages, key=key)[1]}"


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
