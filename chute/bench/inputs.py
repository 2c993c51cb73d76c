"""What ``chute bench`` measures: the input files, and the streams cut from them.

An input small enough (``sample`` bytes or less in all, or ``full=True``) is measured whole,
one stream per file, as ``chute FILE`` would compress each. A bigger one is sampled: slices
of ``slice_size`` bytes (1 MiB or more) centred on evenly spaced points of all the files laid
end to end, so that every region of the data, and every big file, is represented in
proportion to its size. Slices are written to a temporary folder so that each is measured
as a file, the way the command line reads one; the order interleaves them (first, middle,
quarters...) so that a candidate stopped by its time limit still covers the whole input.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from ..errors import ChuteError
from ..quoting import quote

__all__ = ["Plan", "Stream", "gather", "plan", "spread_order", "SLICE", "SAMPLE"]

#: Bytes per slice of a sampled input ...
SLICE = 1 << 20
#: ... and the bytes sampled in all, unless told otherwise.
SAMPLE = 32 << 20


@dataclass(frozen=True)
class Stream:
    """One stream to measure: ``path`` whole, cut from ``source`` at ``offset``."""

    path: str
    size: int
    source: str
    offset: int = 0


@dataclass
class Plan:
    """The streams, the input they stand for, and the temporary folder that holds slices."""

    streams: list[Stream]
    total: int
    files: int
    sampled: bool
    tmpdir: str | None = None
    names: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        """Remove the slices (and a spooled standard input)."""
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def gather(names: list[str], tmpdir: str) -> list[tuple[str, str, int]]:
    """``(display name, path, size)`` of every regular file under ``names``, folders walked
    in sorted order; ``-`` spools standard input into ``tmpdir`` (its size is unknown until
    its end). Raises :class:`ChuteError` naming a missing input; empty files are left out."""
    found: list[tuple[str, str, int]] = []
    for name in names:
        if name == "-":
            path = os.path.join(tmpdir, "stdin")
            with open(path, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
            found.append(("-", path, os.path.getsize(path)))
        elif os.path.isdir(name):
            for root, dirs, files in os.walk(name):
                dirs.sort()
                for f in sorted(files):
                    p = os.path.join(root, f)
                    if os.path.isfile(p) and not os.path.islink(p):
                        found.append((p, p, os.path.getsize(p)))
        elif os.path.isfile(name):
            found.append((name, name, os.path.getsize(name)))
        elif os.path.exists(name):
            raise ChuteError(f"{quote(name)}: not a regular file or folder")
        else:
            raise ChuteError(f"{quote(name)}: no such file or folder")
    return [f for f in found if f[2] > 0]


def spread_order(n: int) -> list[int]:
    """``range(n)`` reordered so that every prefix is spread over the whole range
    (0, n/2, n/4, 3n/4, ...): bit-reversed positions, dropping those past ``n``."""
    if n <= 1:
        return list(range(n))
    bits = (n - 1).bit_length()
    out = [int(format(i, f"0{bits}b")[::-1], 2) for i in range(1 << bits)]
    return [i for i in out if i < n]


def plan(names: list[str], *, sample: int = SAMPLE, slice_size: int = SLICE, full: bool = False) -> Plan:
    """The streams to measure for the inputs ``names`` (see the module's text)."""
    if slice_size < SLICE:
        raise ValueError("slices are 1 MiB or more")
    tmpdir = tempfile.mkdtemp(prefix="chute-bench-")
    try:
        files = gather(names, tmpdir)
        if not files:
            raise ChuteError(f"{', '.join(map(quote, names))}: nothing to measure (no data)")
        total = sum(f[2] for f in files)
        if full or total <= sample:
            streams = [Stream(path, size, name) for name, path, size in files]
            return Plan(streams, total, len(files), False, tmpdir, [f[0] for f in files])
        count = max(1, sample // slice_size)
        cuts: list[tuple[int, int, int]] = []  # file index, offset, length
        starts, pos = [], 0
        for _, _, size in files:
            starts.append(pos)
            pos += size
        for k in range(count):
            centre = (2 * k + 1) * total // (2 * count)
            i = max(j for j, s in enumerate(starts) if s <= centre)
            size = files[i][2]
            length = min(slice_size, size)
            offset = min(max(0, centre - starts[i] - length // 2), size - length)
            if not cuts or cuts[-1][:2] != (i, offset):
                cuts.append((i, offset, length))
        streams = []
        for k in spread_order(len(cuts)):
            i, offset, length = cuts[k]
            name, path, _ = files[i]
            out = os.path.join(tmpdir, f"slice{k:05d}")
            with open(path, "rb") as src, open(out, "wb") as dst:
                src.seek(offset)
                dst.write(src.read(length))
            streams.append(Stream(out, length, name, offset))
        return Plan(streams, total, len(files), True, tmpdir, [f[0] for f in files])
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
