"""Where the independent frames of a compressed file lie, found without decompressing.

A file of several frames (zstd, lz4), streams (xz, bz2) can be decoded on several cores:
each frame starts from scratch. The frame lengths come from the file's own structure:

* zstd: each frame header, then the 3-byte header of each block (at most 128 KiB
  apart) up to the last block and the optional checksum; skippable frames are skipped;
* lz4: the frame header, then the 4-byte size of each block up to the end mark;
* gzip: only members that record their compressed size in an extra subfield ``MZ``
  (what chute and MiGz write; :func:`chute.codecs.gzip.sized_member`): header to header;
* xz: backwards from the end: each stream footer gives the size of its index, whose
  records give the size of every block, hence where the stream starts;
* bz2: nothing records a stream's length, so the compressed data is scanned for the
  byte-aligned start of a stream (``BZh1``-``BZh9`` followed by a block or end-of-stream
  magic number). A false match is astronomically unlikely (80 bits), and harmless: the
  caller decodes the rest of the file on one thread when a piece fails to decode.

Only a seekable file can be split. Anything unexpected returns ``None``: the caller then
decodes the file as one stream, which reports whatever is wrong with it.
"""

from __future__ import annotations

import io
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from collections.abc import Callable
    from typing import BinaryIO

__all__ = ["find_frames", "MAX_FRAMES"]

#: More frames than this are not listed (memory): the file goes to one decoder.
MAX_FRAMES = 1 << 20

_ZSTD_MAGIC = 0xFD2FB528
_LZ4_MAGIC = 0x184D2204
#: ID1 ID2 CM FLG of a gzip member whose only flag is FEXTRA, as a little-endian word
_GZIP_SIZED = 0x04088B1F
_XZ_HEADER = b"\xfd7zXZ\x00"
#: A bz2 stream header and the magic of its first block (or of an empty stream's end)
_BZ2_START = rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)"


def _u32(b: bytes) -> int:
    return int.from_bytes(b, "little")


class _Cursor:
    """Small reads at absolute offsets of a file, through one buffered window.

    The window is small: a walk hops from block header to block header (up to 128 KiB
    apart in zstd), so reading the file in between would cost more than the seeks."""

    WINDOW = 4096

    def __init__(self, fp: BinaryIO, base: int, length: int) -> None:
        self.fp, self.base, self.length = fp, base, length
        self._start = 0
        self._buf = b""
        try:  # a real file: one pread per hop instead of a seek and a buffered read
            fd = fp.fileno()
            os.pread(fd, 0, 0)
            self._fd = fd
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self._fd = -1

    def read(self, pos: int, n: int) -> bytes:
        if pos < 0 or pos + n > self.length:
            return b""
        off = pos - self._start
        if not (off >= 0 and off + n <= len(self._buf)):
            size = max(n, self.WINDOW)
            if self._fd >= 0:
                self._buf = os.pread(self._fd, size, self.base + pos)
            else:
                self.fp.seek(self.base + pos)
                self._buf = self.fp.read(size)
            self._start, off = pos, 0
        return self._buf[off : off + n]


def _skippable(word: int) -> bool:
    return word & 0xFFFFFFF0 == 0x184D2A50


def _zstd_frame_end(cur: _Cursor, pos: int, limit: int) -> int:
    """End of the zstd frame at ``pos``; -1 if invalid or larger than ``limit``."""
    head = cur.read(pos + 4, 1)
    if not head:
        return -1
    fhd = head[0]
    if fhd & 0x08:  # reserved bit
        return -1
    single = (fhd >> 5) & 1
    fcs = (0, 2, 4, 8)[fhd >> 6] or single
    dict_len = (0, 1, 2, 4)[fhd & 3]
    p = pos + 5 + (0 if single else 1) + dict_len + fcs
    if fcs >= 4:  # declares more output than 8x the limit: too big a piece, do not walk it
        size = int.from_bytes(cur.read(p - fcs, fcs), "little")
        if size > 8 * limit:
            return -1
    while True:
        if p - pos > limit:
            return -1
        b = cur.read(p, 3)
        if len(b) < 3:
            return -1
        word = b[0] | b[1] << 8 | b[2] << 16
        kind, size = (word >> 1) & 3, word >> 3
        if kind == 3 or size > 128 << 10:
            return -1
        p += 3 + (1 if kind == 1 else size)
        if word & 1:
            return p + (4 if fhd & 0x04 else 0)


def _lz4_frame_end(cur: _Cursor, pos: int, limit: int) -> int:
    head = cur.read(pos + 4, 2)
    if len(head) < 2:
        return -1
    flg, bd = head
    if flg >> 6 != 1 or not 4 <= (bd >> 4) & 7 <= 7:
        return -1
    block_max = 1 << (2 * ((bd >> 4) & 7) + 8)
    p = pos + 7 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0)
    while True:
        if p - pos > limit:
            return -1
        b = cur.read(p, 4)
        if len(b) < 4:
            return -1
        size = _u32(b)
        if size == 0:
            return p + 4 + (4 if flg & 0x04 else 0)
        if size & 0x7FFFFFFF > block_max:
            return -1
        p += 4 + (size & 0x7FFFFFFF) + (4 if flg & 0x10 else 0)


def _gzip_member_end(cur: _Cursor, pos: int, limit: int) -> int:
    """End of the gzip member at ``pos`` from its ``MZ`` subfield; -1 if it has none."""
    head = cur.read(pos + 10, 2)
    if len(head) < 2:
        return -1
    xlen = head[0] | head[1] << 8
    extra = cur.read(pos + 12, xlen)
    if len(extra) < xlen:
        return -1
    size, p = -1, 0
    while p + 4 <= xlen:  # subfields: SI1 SI2, LEN (2 bytes), LEN bytes
        n = extra[p + 2] | extra[p + 3] << 8
        if extra[p : p + 2] == b"MZ" and n == 4 and p + 8 <= xlen:
            size = _u32(extra[p + 4 : p + 8])
        p += 4 + n
    if size < 0 or p != xlen or 20 + xlen + size > limit:
        return -1
    return pos + 12 + xlen + size + 8


def _walk_forward(
    cur: _Cursor,
    magic: int,
    frame_end: Callable[[_Cursor, int, int], int],
    limit: int,
    skippable: bool = True,
) -> list[tuple[int, int]] | None:
    """Frames from header to header; ``skippable``: step over zstd/lz4 skippable frames."""
    frames: list[tuple[int, int]] = []
    pos = 0
    while pos < cur.length:
        word = cur.read(pos, 4)
        if len(word) < 4:
            return None
        value = _u32(word)
        if skippable and _skippable(value):
            size = cur.read(pos + 4, 4)
            if len(size) < 4:
                return None
            pos += 8 + _u32(size)
            continue
        if value != magic:
            return None
        end = frame_end(cur, pos, limit)
        if end < 0 or end > cur.length:
            return None
        frames.append((pos, end))
        if len(frames) > MAX_FRAMES:
            return None
        pos = end
    return frames if pos == cur.length else None


def _varint(buf: bytes, p: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(9):
        if p + i >= len(buf):
            break
        byte = buf[p + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, p + i + 1
    raise ValueError("bad varint")


def _xz_streams(cur: _Cursor) -> list[tuple[int, int]] | None:
    frames: list[tuple[int, int]] = []
    end = cur.length
    while end > 0:
        if cur.read(end - 4, 4) == b"\0\0\0\0":  # stream padding
            end -= 4
            continue
        footer = cur.read(end - 12, 12)
        if len(footer) < 12 or footer[10:] != b"YZ":
            return None
        index_size = (_u32(footer[4:8]) + 1) * 4
        index = cur.read(end - 12 - index_size, index_size) if index_size <= 64 << 20 else b""
        if len(index) != index_size or index[0] != 0:
            return None
        try:
            count, p = _varint(index, 1)
            if count > MAX_FRAMES:
                return None
            blocks = 0
            for _ in range(count):
                unpadded, p = _varint(index, p)
                _, p = _varint(index, p)
                blocks += (unpadded + 3) & ~3
        except ValueError:
            return None
        start = end - 12 - index_size - blocks - 12
        if start < 0 or cur.read(start, 6) != _XZ_HEADER:
            return None
        frames.append((start, end))
        if len(frames) > MAX_FRAMES:
            return None
        end = start
    frames.reverse()
    return frames


def _bz2_streams(cur: _Cursor) -> list[tuple[int, int]] | None:
    import re  # only here: `chute -d` of a big file of another format does not load it

    bz2_start = re.compile(_BZ2_START)
    starts: list[int] = []
    fp, window = cur.fp, 4 << 20
    overlap = 9  # a match may straddle two windows
    pos = 0
    fp.seek(cur.base)
    tail = b""
    while pos < cur.length:
        chunk = fp.read(min(window, cur.length - pos))
        if not chunk:
            return None
        data = tail + chunk
        offset = pos - len(tail)
        for m in bz2_start.finditer(data):
            at = offset + m.start()
            if not starts or at > starts[-1]:
                starts.append(at)
                if len(starts) > MAX_FRAMES:
                    return None
        pos += len(chunk)
        tail = data[-overlap:]
    if not starts or starts[0] != 0:
        return None
    return [(a, b) for a, b in zip(starts, [*starts[1:], cur.length], strict=True)]


def find_frames(fp: BinaryIO, format: str, max_frame: int = 1 << 62) -> list[tuple[int, int]] | None:
    """``(start, end)`` of each independent frame of ``fp`` from its current position
    (offsets relative to it), or ``None`` when it cannot be split.

    ``format``: zstd, lz4, gzip (members with ``MZ`` sizes), xz or bz2. ``max_frame``: give up (``None``) on a frame of
    more compressed bytes than this; zstd and lz4 stop walking it there, so a file of one
    big frame costs a bounded number of reads. The file position is restored.
    """
    try:
        if not fp.seekable():
            return None
        base = fp.tell()
        length = fp.seek(0, io.SEEK_END) - base
    except (AttributeError, OSError, ValueError):
        return None
    try:
        cur = _Cursor(fp, base, length)
        if format == "zstd":
            found = _walk_forward(cur, _ZSTD_MAGIC, _zstd_frame_end, max_frame)
        elif format == "lz4":
            found = _walk_forward(cur, _LZ4_MAGIC, _lz4_frame_end, max_frame)
        elif format == "gzip":
            found = _walk_forward(cur, _GZIP_SIZED, _gzip_member_end, max_frame, skippable=False)
        elif format == "xz":
            found = _xz_streams(cur)
        elif format == "bz2":
            found = _bz2_streams(cur)
        else:
            return None
        if found is not None and any(b - a > max_frame for a, b in found):
            return None
        return found
    finally:
        fp.seek(base)
