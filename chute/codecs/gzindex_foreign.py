"""Other tools' gzip index formats, sans-IO: indexed_gzip's, gztool's and bgzip's ``.gzi``.

Each holds *points*: places where decoding can start, as a compressed byte offset, a
count of bits before it, the output offset and (for the first two) the 32 KiB window.
:func:`parse` reads any of the three into a :class:`Foreign` index; :func:`write` writes
the first two. Converting to and from chute's checkpoints takes the gzip file itself (a
point may sit after a member's header, where chute's checkpoint sits before it), which
:mod:`chute.parallel.gzindex` does.

- indexed_gzip (``GZIDX``, version 0 or 1; little-endian): magic, version, flags, the
  compressed and decoded sizes (8 bytes each), spacing, window size, point count (4 bytes
  each); per point the compressed offset and decoded offset (8 each), the bits (1) and, in
  version 1, whether it has a window (1); then the windows, ``window size`` bytes each,
  of the points that have one.
- gztool (big-endian): 8 zero bytes, ``gzipindx`` (version 0) or ``gzipindX`` (version 1,
  then a 4-byte line-number format), the point count twice (8 bytes each); per point the
  decoded offset and compressed offset (8 each), the bits and the stored window size (4
  each), the window (a zlib stream; stored raw if its size is 2^32 - 1) and, in version 1,
  a line number (8); then the decoded size (8) and, in version 1, the line count (8).
- bgzip ``.gzi`` (little-endian): a count, then that many (compressed, decoded) offset
  pairs of the BGZF blocks after the first (8 bytes each).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from ..errors import IndexFileError, LimitExceededError
from .gzindex import MAX_CHECKPOINTS, WINDOW

__all__ = ["Point", "Foreign", "parse", "write", "FORMATS", "gzip_header_size"]

FORMATS = ("indexed_gzip", "gztool", "gzi")
_IGZ_MAGIC = b"GZIDX"
_GZT_MAGIC0 = bytes(8) + b"gzipindx"
_GZT_MAGIC1 = bytes(8) + b"gzipindX"
_RAW_WINDOW = 0xFFFFFFFF


@dataclass(frozen=True)
class Point:
    """``bit``: offset of the point in the compressed file, in bits; ``out``: in the
    output; ``window``: the output before it (raw, up to 32 KiB), or ``None``."""

    bit: int
    out: int
    window: bytes | None = None


@dataclass
class Foreign:
    """An index of another tool: its points and, where it records them, the file's sizes."""

    format: str
    points: list[Point] = field(default_factory=list)
    size: int | None = None
    out_size: int | None = None
    spacing: int | None = None


def _bad(fmt: str, why: str) -> IndexFileError:
    return IndexFileError(f"invalid {fmt} index ({why})")


def _count(fmt: str, n: int) -> int:
    if n > MAX_CHECKPOINTS:
        raise LimitExceededError(f"{fmt} index of {n} points (at most {MAX_CHECKPOINTS})")
    return n


def detect(data: bytes | memoryview) -> str | None:
    """The format of an index by its first bytes (``gzi`` by its length)."""
    head = bytes(data[:16])
    if head.startswith(_IGZ_MAGIC):
        return "indexed_gzip"
    if head in (_GZT_MAGIC0, _GZT_MAGIC1):
        return "gztool"
    if len(data) >= 8 and len(data) == 8 + 16 * int.from_bytes(head[:8], "little"):
        return "gzi"
    return None


def parse(data: bytes | memoryview, fmt: str) -> Foreign:
    """The index ``data`` in format ``fmt`` (one of :data:`FORMATS`)."""
    view = memoryview(data).cast("B")
    try:
        if fmt == "indexed_gzip":
            return _parse_igz(view)
        if fmt == "gztool":
            return _parse_gzt(view)
        if fmt == "gzi":
            return _parse_gzi(view)
    except struct.error:
        raise _bad(fmt, "it ends early") from None
    raise ValueError(f"unknown index format {fmt!r} (use {', '.join(FORMATS)})")


def _parse_igz(view: memoryview) -> Foreign:
    if bytes(view[:5]) != _IGZ_MAGIC:
        raise _bad("indexed_gzip", "no GZIDX magic")
    version, _flags, size, out_size, spacing, wsize, n = struct.unpack_from("<BBQQIII", view, 5)
    if version > 1:
        raise _bad("indexed_gzip", f"version {version}")
    if wsize > WINDOW:
        raise _bad("indexed_gzip", f"window of {wsize} bytes")
    pos = 5 + struct.calcsize("<BBQQIII")
    entry = struct.Struct("<QQBB" if version else "<QQB")
    raw = []
    for _ in range(_count("indexed_gzip", n)):
        fields = entry.unpack_from(view, pos)
        pos += entry.size
        cmp, out, bits = fields[:3]
        has = fields[3] if version else cmp != 0 and out != 0  # version 0: every point but the first
        raw.append((cmp, out, bits, has))
    points = []
    for cmp, out, bits, has in raw:
        if bits > 7 or (bits and cmp == 0):
            raise _bad("indexed_gzip", f"point with {bits} bits")
        window = None
        if has:
            if pos + wsize > len(view):
                raise _bad("indexed_gzip", "it ends early")
            window = bytes(view[pos : pos + wsize])
            pos += wsize
        points.append(Point(cmp * 8 - bits, out, window))
    if pos != len(view):
        raise _bad("indexed_gzip", "bytes after its windows")
    return Foreign("indexed_gzip", points, size, out_size, spacing)


def _parse_gzt(view: memoryview) -> Foreign:
    head = bytes(view[:16])
    if head not in (_GZT_MAGIC0, _GZT_MAGIC1):
        raise _bad("gztool", "no gzipindx magic")
    lines = head == _GZT_MAGIC1
    pos = 16 + (4 if lines else 0)
    have, size = struct.unpack_from(">QQ", view, pos)
    pos += 16
    if have != size:
        raise _bad("gztool", "point counts differ")
    points = []
    for _ in range(_count("gztool", have)):
        out, cmp, bits, stored = struct.unpack_from(">QQII", view, pos)
        pos += 24
        if bits > 7 or (bits and cmp == 0):
            raise _bad("gztool", f"point with {bits} bits")
        window = None
        if stored == _RAW_WINDOW:
            window = bytes(view[pos : pos + WINDOW])
            pos += WINDOW
        elif stored:
            dec = zlib.decompressobj()
            try:
                window = dec.decompress(view[pos : pos + stored], WINDOW + 1)
            except zlib.error:
                raise _bad("gztool", "a window does not decode") from None
            if len(window) > WINDOW or not dec.eof:
                raise _bad("gztool", "a window does not decode")
            pos += stored
        if lines:
            pos += 8
        if pos > len(view):
            raise _bad("gztool", "it ends early")
        points.append(Point(cmp * 8 - bits, out, window))
    (out_size,) = struct.unpack_from(">Q", view, pos)
    pos += 8 + (8 if lines else 0)
    if pos != len(view):
        raise _bad("gztool", "bytes after its end")
    return Foreign("gztool", points, None, out_size or None)


def _parse_gzi(view: memoryview) -> Foreign:
    (n,) = struct.unpack_from("<Q", view, 0)
    if len(view) != 8 + 16 * _count("gzi", n):
        raise _bad("gzi", "its size does not match its count")
    points = [Point(0, 0)]
    for i in range(n):
        cmp, out = struct.unpack_from("<QQ", view, 8 + 16 * i)
        points.append(Point(cmp * 8, out))
    return Foreign("gzi", points)


def write(index: Foreign) -> bytes:
    """``index`` as its format writes it (indexed_gzip version 1, gztool version 0)."""
    parts: list[bytes] = []
    if index.format == "indexed_gzip":
        with_window = [p for p in index.points if p.window]
        parts.append(_IGZ_MAGIC)
        parts.append(
            struct.pack(
                "<BBQQIII", 1, 0, index.size or 0, index.out_size or 0, index.spacing or 0, WINDOW, len(index.points)
            )
        )
        for p in index.points:
            parts.append(struct.pack("<QQBB", (p.bit + 7) // 8, p.out, -p.bit % 8, bool(p.window)))
        parts.extend(_padded(p.window) for p in with_window if p.window)
    elif index.format == "gztool":
        parts.append(_GZT_MAGIC0)
        parts.append(struct.pack(">QQ", len(index.points), len(index.points)))
        for p in index.points:
            window = zlib.compress(_padded(p.window), 9) if p.window else b""
            parts.append(struct.pack(">QQII", p.out, (p.bit + 7) // 8, -p.bit % 8, len(window)) + window)
        parts.append(struct.pack(">Q", index.out_size or 0))
    else:
        raise ValueError(f"cannot write {index.format!r} indexes (only indexed_gzip and gztool)")
    return b"".join(parts)


def _padded(window: bytes) -> bytes:
    """A window of 32 KiB, as both tools expect: a shorter one (near the start of a
    member, which nothing before it can be referred to) is padded in front."""
    return bytes(WINDOW - len(window)) + window


def gzip_header_size(head: bytes | memoryview) -> int | None:
    """Length of the gzip member header at the start of ``head``; ``None`` if ``head`` ends
    before it does or it is not one."""
    if len(head) < 10 or head[0] != 0x1F or head[1] != 0x8B or head[2] != 8:
        return None
    flags = head[3]
    pos = 10
    if flags & 4:
        if len(head) < pos + 2:
            return None
        pos += 2 + int.from_bytes(head[pos : pos + 2], "little")
    for flag in (8, 16):
        if flags & flag:
            end = bytes(head[pos:]).find(b"\0")
            if end < 0:
                return None
            pos += end + 1
    if flags & 2:
        pos += 2
    return pos if pos <= len(head) else None
