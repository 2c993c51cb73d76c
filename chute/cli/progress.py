"""A one-line progress display on stderr, without third-party imports.

Shown only when stderr is a terminal (or forced with ``--progress``), redrawn at most
ten times a second, and erased when done. No colours, so ``NO_COLOR`` is honoured.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..streams.pump import Stats


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


class ProgressLine:
    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self._next = 0.0
        self._shown = False

    def __call__(self, stats: Stats) -> None:
        now = time.monotonic()
        if now < self._next and stats.ended is None:
            return
        self._next = now + 0.1
        rate = stats.bytes_in / stats.seconds if stats.seconds > 0 else 0.0
        pct = f" {100 * stats.bytes_in / self.total:5.1f}%" if self.total else ""
        line = f"\r{self.label}:{pct} {human(stats.bytes_in)} -> {human(stats.bytes_out)}  {human(rate)}/s"
        self.stream.write(line[:200] + "\033[K")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
