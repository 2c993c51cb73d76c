"""A one-line progress display on stderr, without third-party imports.

Shown only when stderr is a terminal (or forced with ``--progress``), redrawn at most
ten times a second, and erased when done. The line reads::

    big.log:  42.0% 420.0 MiB/1000.0 MiB -> 61.2 MiB  210.3 MiB/s  0:02 ETA 0:03  [file 2/5, 31.0% of 2.1 GiB]

the percentage, size and ETA only when the input's size is known, ``-> N`` when the output
differs from the input, and the bracket only when several files are processed. No colours,
so ``NO_COLOR`` is honoured.
"""

from __future__ import annotations

import io
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, TextIO

    from ..streams.pump import Stats


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class ProgressLine:
    """The progress of one input of ``total`` bytes (None: unknown).

    Called with the pump's :class:`~chute.streams.pump.Stats`, or :meth:`update` with the
    bytes done. ``files`` = ``(index, count, done_before, grand_total)`` places this input
    among several: its 1-based index, how many there are, the bytes of those before it and
    of all (None when a size is unknown)."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        stream: TextIO | None = None,
        *,
        files: tuple[int, int, int, int | None] | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.files = files
        self._start = time.monotonic()
        self._next = 0.0
        self._shown = False

    def __call__(self, stats: Stats) -> None:
        self.update(stats.bytes_in, stats.bytes_out, ended=stats.ended is not None)

    def update(self, done: int, out: int | None = None, *, ended: bool = False) -> None:
        """Redraw (at most ten times a second, and at the end) for ``done`` bytes read and
        ``out`` written."""
        now = time.monotonic()
        if now < self._next and not ended:
            return
        self._next = now + 0.1
        self.stream.write("\r" + self.text(done, out, now - self._start)[:200] + "\033[K")
        self.stream.flush()
        self._shown = True

    def text(self, done: int, out: int | None, elapsed: float) -> str:
        """The line for ``done`` bytes in ``elapsed`` seconds (no terminal controls)."""
        rate = done / elapsed if elapsed > 0 else 0.0
        total = self.total
        parts = [f"{self.label}:"]
        if total:
            parts.append(f"{100 * min(done, total) / total:5.1f}%")
            parts.append(f"{human(done)}/{human(total)}")
        else:
            parts.append(human(done))
        if out is not None and out != done:
            parts[-1] += f" -> {human(out)}"
        parts.append(f" {human(rate)}/s ")
        parts.append(clock(elapsed))
        if total and rate > 0 and done < total:
            parts.append(f"ETA {clock((total - done) / rate)}")
        if self.files is not None:
            index, count, before, grand = self.files
            where = f" [file {index}/{count}"
            if grand:
                where += f", {100 * min(before + done, grand) / grand:.1f}% of {human(grand)}"
            parts.append(where + "]")
        return " ".join(parts)

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def wanted(stream: TextIO | None = None) -> bool:
    """Whether progress is shown by default: when ``stream`` (stderr) is a terminal."""
    s = stream or sys.stderr
    try:
        return s.isatty()
    except (AttributeError, ValueError):
        return False


class MeteredReader(io.RawIOBase):
    """A raw binary reader over ``fp`` (a file with ``readinto``) that reports the bytes
    read to ``progress``: for the archive commands, whose data goes through layers that
    have no progress of their own. Wrap it in ``io.BufferedReader`` to read from it."""

    def __init__(self, fp: BinaryIO, progress: ProgressLine) -> None:
        super().__init__()
        self._fp = fp
        self._progress = progress
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._fp.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._done += n
            self._progress.update(self._done)
        return n or 0
