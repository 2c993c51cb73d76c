"""Sizes a compressed file records about itself, read without decoding it (``chute -l``).

What each format stores: a seek table (seekable zstd, BGZF), the content size in each
zstd frame header and in an lz4 frame descriptor, the index of each xz stream, the
``ISIZE`` of each gzip member whose ``MZ`` field gives its length (chute's own gzip). A
plain gzip file records only the size of its last member, modulo 4 GiB: that is read too
(as ``gzip -l`` does) and marked as such. bz2, and zstd or lz4 frames without a size,
record nothing: :func:`stored_sizes` then says ``None`` and the caller decodes.
"""

from __future__ import annotations

import os

from ..parallel.split import find_frames, find_index

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["Frame", "Sizes", "stored_sizes"]


class Frame:
    """One frame, member or stream: where it lies and the decoded size it records."""

    __slots__ = ("end", "size", "start")

    def __init__(self, start: int, end: int, size: int) -> None:
        self.start, self.end, self.size = start, end, size


class Sizes:
    """``frames`` of a file of ``format``; ``source`` names where the sizes come from;
    ``modulo``: the total is only known modulo 4 GiB (a plain gzip's last ``ISIZE``)."""

    __slots__ = ("format", "frames", "modulo", "source")

    def __init__(self, format: str, frames: list[Frame], source: str, modulo: bool = False) -> None:
        self.format, self.frames, self.source, self.modulo = format, frames, source, modulo

    @property
    def size(self) -> int:
        return sum(f.size for f in self.frames)


def _pread(fd: int, n: int, pos: int) -> bytes:
    return os.pread(fd, n, pos)


def _zstd_size(fd: int, start: int) -> int | None:
    head = _pread(fd, 18, start)
    if len(head) < 6:
        return None
    fhd = head[4]
    single = (fhd >> 5) & 1
    fcs = (0, 2, 4, 8)[fhd >> 6] or single
    if not fcs:
        return None
    at = 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
    value = int.from_bytes(head[at : at + fcs], "little")
    return value + 256 if fcs == 2 else value


def _lz4_size(fd: int, start: int) -> int | None:
    head = _pread(fd, 14, start)
    if len(head) < 14 or not head[4] & 0x08:
        return None
    return int.from_bytes(head[6:14], "little")


def _varint(buf: bytes, p: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if p >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        byte = buf[p]
        value |= (byte & 0x7F) << shift
        p += 1
        if not byte & 0x80:
            return value, p
        shift += 7


def _xz_size(fd: int, start: int, end: int) -> int | None:
    while end - start >= 4 and _pread(fd, 4, end - 4) == b"\0\0\0\0":
        end -= 4  # stream padding
    footer = _pread(fd, 12, end - 12)
    if len(footer) < 12 or footer[10:] != b"YZ":
        return None
    index_size = (int.from_bytes(footer[4:8], "little") + 1) * 4
    index = _pread(fd, index_size, end - 12 - index_size)
    if len(index) != index_size or index[0] != 0:
        return None
    try:
        count, p = _varint(index, 1)
        total = 0
        for _ in range(count):
            _, p = _varint(index, p)
            size, p = _varint(index, p)
            total += size
    except ValueError:
        return None
    return total


def stored_sizes(fp: BinaryIO, format: str) -> Sizes | None:
    """The sizes ``fp`` (a regular file, read from its start) records, or ``None`` when
    some frame records none (decode it then)."""
    try:
        fd = fp.fileno()
        length = os.fstat(fd).st_size
    except (AttributeError, OSError, ValueError):
        return None
    fp.seek(0)
    index = find_index(fp, format)
    if index is not None:
        comp, dec = index.comp_offsets, index.offsets
        frames = [Frame(comp[k], comp[k + 1], dec[k + 1] - dec[k]) for k in range(len(comp) - 1)]
        return Sizes(index.format, frames, "seek table")
    if format not in ("zstd", "lz4", "xz", "gzip"):
        return None
    found = find_frames(fp, format)
    if found is None:
        if format != "gzip" or length < 18:
            return None
        # a plain gzip file: the last member's ISIZE, as gzip -l reads it
        isize = int.from_bytes(_pread(fd, 4, length - 4), "little")
        # deflate expands at most 1032:1: below that the size cannot have wrapped
        modulo = (length - 18) * 1032 >= 1 << 32
        return Sizes("gzip", [Frame(0, length, isize)], "last member's ISIZE", modulo)
    frames = []
    for start, end in found:
        if format == "zstd":
            size = _zstd_size(fd, start)
        elif format == "lz4":
            size = _lz4_size(fd, start)
        elif format == "xz":
            size = _xz_size(fd, start, end)
        else:  # gzip members sized by their MZ field: ISIZE is exact below 4 GiB of input each
            size = int.from_bytes(_pread(fd, 4, end - 4), "little")
        if size is None:
            return None
        frames.append(Frame(start, end, size))
    source = {"zstd": "frame headers", "lz4": "frame descriptors", "xz": "xz index", "gzip": "member sizes"}[format]
    return Sizes(format, frames, source)
