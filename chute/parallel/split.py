"""The splitter: where a compressed file can be cut into independently decodable pieces.

:func:`split` answers for every layout, or returns ``None``: the caller then decodes the
file as one stream (:func:`chute.streams.pump.decompress_stream`), which reports whatever
is wrong with it. Only a seekable file can be split, and nothing is decompressed here;
the lengths come from the file's own structure:

* the seekable layouts (:func:`find_index`): the zstd seek table at the end of the file,
  or BGZF's member headers, which also give each piece's decoded size;
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

A file of lz4 frames that does not split into frames (one frame, or frames too big) still
splits into the blocks of its frames when their header declares them independent (the
``lz4`` CLI's default): :class:`Lz4Blocks` walks them as they are decoded, and the frame's
end checks (content size, content checksum over all its blocks in order) are left to
whoever writes the blocks' output in order (:class:`Lz4Frame`).
"""

from __future__ import annotations

import io
import os
import struct

from .. import codecs
from ..codecs.gzip import FCOMMENT, FHCRC, FNAME, MAX_HEADER_STRING

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from collections.abc import Callable, Iterator
    from typing import BinaryIO

__all__ = [
    "split",
    "Split",
    "Lz4Blocks",
    "Lz4Frame",
    "lz4_blocks",
    "find_frames",
    "find_index",
    "SeekIndex",
    "sniff",
    "MAX_FRAMES",
    "SPLITTABLE",
    "LZ4_JOB_OUTPUT",
]

#: More frames than this are not listed (memory): the file goes to one decoder.
MAX_FRAMES = 1 << 20
#: Formats whose frames :func:`find_frames` can list.
SPLITTABLE = ("zstd", "lz4", "gzip", "xz", "bz2")

SKIPPABLE_SEEK_MAGIC = 0x184D2A5E
SEEKABLE_MAGIC = 0x8F92EAB1
BGZF_HEAD = struct.Struct("<4BI2BH2BHH")  # 18 bytes: id1 id2 cm flg mtime xfl os xlen si1 si2 slen bsize

_ZSTD_MAGIC = 0xFD2FB528
_LZ4_MAGIC = 0x184D2204
#: ID1 ID2 CM FLG of a gzip member with FEXTRA, as a little-endian word; the mask lets
#: FTEXT, FHCRC, FNAME and FCOMMENT through (gzip -N names the first member) but no
#: reserved flag
_GZIP_SIZED = 0x04088B1F
_GZIP_SIZED_MASK = 0xE4FFFFFF
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

    def __init__(self, fp: BinaryIO, base: int, length: int, window: int = WINDOW) -> None:
        self.fp, self.base, self.length = fp, base, length
        self.window = window
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
            # read ahead only after a short hop: small blocks tend to follow small blocks,
            # and after a long one (a zstd block of 128 KiB) the window would go unused
            near = 0 <= off < len(self._buf) + self.window
            size = max(n, self.window) if near else n
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
    head = cur.read(pos + 3, 9)
    if len(head) < 9:
        return -1
    flg = head[0]
    xlen = head[7] | head[8] << 8
    extra = cur.read(pos + 12, xlen)
    if len(extra) < xlen:
        return -1
    size, p = -1, 0
    while p + 4 <= xlen:  # subfields: SI1 SI2, LEN (2 bytes), LEN bytes
        n = extra[p + 2] | extra[p + 3] << 8
        if extra[p : p + 2] == b"MZ" and n == 4 and p + 8 <= xlen:
            size = _u32(extra[p + 4 : p + 8])
        p += 4 + n
    if size < 0 or p != xlen:
        return -1
    head_end = pos + 12 + xlen
    for bit in (FNAME, FCOMMENT):  # NUL-ended strings, each at most MAX_HEADER_STRING bytes
        if flg & bit:
            if head_end >= cur.length:
                return -1
            text = cur.read(head_end, min(MAX_HEADER_STRING + 1, cur.length - head_end))
            nul = text.find(b"\0")
            if nul < 0:
                return -1
            head_end += nul + 1
    if flg & FHCRC:
        head_end += 2
    if head_end - pos + size + 8 > limit:
        return -1
    return head_end + size + 8


def _walk_forward(
    cur: _Cursor,
    magic: int,
    frame_end: Callable[[_Cursor, int, int], int],
    limit: int,
    skippable: bool = True,
    mask: int = 0xFFFFFFFF,
) -> list[tuple[int, int]] | None:
    """Frames from header to header, each starting with a word equal to ``magic`` in the
    bits of ``mask``; ``skippable``: step over zstd/lz4 skippable frames."""
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
        if value & mask != magic:
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


def _span(fp: BinaryIO) -> tuple[int, int] | None:
    """``(position, bytes from there to the end)`` of a file that can seek, else ``None``
    (pipes, sockets, objects without ``seek``). Leaves the position at the end."""
    try:
        if not fp.seekable():
            return None
        base = fp.tell()
        return base, fp.seek(0, io.SEEK_END) - base
    except (AttributeError, OSError, ValueError):
        return None


def find_frames(fp: BinaryIO, format: str, max_frame: int = 1 << 62) -> list[tuple[int, int]] | None:
    """``(start, end)`` of each independent frame of ``fp`` from its current position
    (offsets relative to it), or ``None`` when it cannot be split.

    ``format``: zstd, lz4, gzip (members with ``MZ`` sizes), xz or bz2. ``max_frame``: give up (``None``) on a frame of
    more compressed bytes than this; zstd and lz4 stop walking it there, so a file of one
    big frame costs a bounded number of reads. The file position is restored.
    """
    span = _span(fp)
    if span is None:
        return None
    base, length = span
    try:
        cur = _Cursor(fp, base, length)
        if format == "zstd":
            found = _walk_forward(cur, _ZSTD_MAGIC, _zstd_frame_end, max_frame)
        elif format == "lz4":
            found = _walk_forward(cur, _LZ4_MAGIC, _lz4_frame_end, max_frame)
        elif format == "gzip":
            found = _walk_forward(cur, _GZIP_SIZED, _gzip_member_end, max_frame, skippable=False, mask=_GZIP_SIZED_MASK)
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


# --------------------------------------------------------------------------- indexing


class SeekIndex:
    """Where each independent frame lies: ``comp_offsets[i]`` / ``offsets[i]`` (compressed /
    decompressed start of frame i, relative to the start of the file), one extra entry at
    the end for the totals; ``tail``: bytes after the last frame (seek table, EOF member)."""

    __slots__ = ("comp_offsets", "format", "offsets", "tail")

    def __init__(self, format: str, comp_offsets: list[int], offsets: list[int], tail: int) -> None:
        self.format = format
        self.comp_offsets = comp_offsets
        self.offsets = offsets
        self.tail = tail

    @property
    def size(self) -> int:
        """Decompressed size of the whole file."""
        return self.offsets[-1]


def _zstd_index(fp: BinaryIO, base: int, length: int) -> SeekIndex | None:
    if length < 17:
        return None
    fp.seek(base + length - 9)
    count, desc, magic = struct.unpack("<IBI", fp.read(9))
    if magic != SEEKABLE_MAGIC or desc & 0x7C:
        return None
    entry = 12 if desc & 0x80 else 8
    table = 8 + count * entry + 9
    if table > length:
        return None
    fp.seek(base + length - table)
    raw = fp.read(table - 9)
    skip_magic, frame_size = struct.unpack_from("<II", raw)
    if skip_magic != SKIPPABLE_SEEK_MAGIC or frame_size != table - 8:
        return None
    comp, dec = [0], [0]
    for i in range(count):
        c, d = struct.unpack_from("<II", raw, 8 + i * entry)
        comp.append(comp[-1] + c)
        dec.append(dec[-1] + d)
    if comp[-1] + table != length:
        return None
    return SeekIndex("zstd", comp, dec, table)


def _bgzf_index(fp: BinaryIO, base: int, length: int) -> SeekIndex | None:
    comp, dec = [0], [0]
    pos = 0
    read, seek = fp.read, fp.seek
    while pos < length:
        seek(base + pos)
        head = read(18)
        if len(head) < 18:
            return None
        f = BGZF_HEAD.unpack(head)
        if f[0:4] != (0x1F, 0x8B, 8, 4) or f[7:11] != (6, 66, 67, 2):
            return None
        total = f[11] + 1
        seek(base + pos + total - 4)
        isize = read(4)
        if len(isize) < 4:
            return None
        size = struct.unpack("<I", isize)[0]
        if size > 0x10000:  # the BGZF limit; also caps what a lying trailer makes us allocate
            return None
        pos += total
        comp.append(pos)
        dec.append(dec[-1] + size)
    if pos != length:
        return None
    return SeekIndex("gzip", comp, dec, 0)


def find_index(fp: BinaryIO, format: str | None = None) -> SeekIndex | None:
    """The frame index of a seekable zstd or BGZF file from ``fp``'s current position.

    ``None`` when ``fp`` cannot seek or the file is not in a seekable layout. The file
    position is restored.
    """
    span = _span(fp)
    if span is None:
        return None
    base, length = span
    try:
        fp.seek(base)
        head = fp.read(16)
        if format in (None, "zstd") and head[:4] in (b"\x28\xb5\x2f\xfd", b"\x5e\x2a\x4d\x18"):
            return _zstd_index(fp, base, length)
        if format in (None, "gzip") and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC":
            return _bgzf_index(fp, base, length)
        return None
    finally:
        fp.seek(base)


# --------------------------------------------------------------------------- the splitter


class Split:
    """``format``; ``pieces``: ``(start, end, size)`` of each independently decodable piece,
    offsets relative to where the file was when split, ``size`` its decoded size where the
    layout records it (else ``None``); ``tail``: bytes after the last piece that hold no
    data (a seek table)."""

    __slots__ = ("format", "pieces", "tail")

    def __init__(self, format: str, pieces: list[tuple[int, int, int | None]], tail: int) -> None:
        self.format = format
        self.pieces = pieces
        self.tail = tail


#: lz4 blocks are grouped into jobs of this much output at most (one 4 MiB block, or 64
#: blocks of 64 KiB), so that a job's work outweighs handing it to a thread.
LZ4_JOB_OUTPUT = 4 << 20


class Lz4Frame:
    """One lz4 frame of independent blocks: what its blocks share, and its end checks.

    Whoever writes the blocks' output in order passes it to :meth:`add`, then calls
    :meth:`end` after the frame's last block."""

    __slots__ = ("block_checksum", "block_max", "checksum", "content_size", "expect", "hasher", "produced")

    def __init__(self, flg: int, block_max: int, content_size: int | None) -> None:
        import xxhash

        self.block_max = block_max
        self.block_checksum = bool(flg & 0x10)
        self.checksum = bool(flg & 0x04)
        self.content_size = content_size
        self.hasher = xxhash.xxh32() if self.checksum else None
        self.produced = 0
        self.expect: int | None = None  # the stored content checksum; None: cut off

    def add(self, data: bytes) -> None:
        if self.hasher is not None:
            self.hasher.update(data)
        self.produced += len(data)

    def end(self) -> None:
        """Raise what is wrong with the whole frame, in LZ4F's order: size, then checksum."""
        from ..errors import ChecksumError, CorruptStreamError, TruncatedStreamError

        if self.content_size is not None and self.produced != self.content_size:
            raise CorruptStreamError(
                f"invalid lz4 data (frame header says {self.content_size} bytes, it holds {self.produced})"
            )
        if self.hasher is not None:
            if self.expect is None:
                raise TruncatedStreamError("lz4 stream is truncated (input ended inside a member)")
            if self.hasher.intdigest() != self.expect:
                raise ChecksumError("lz4 checksum mismatch (content checksum of the frame)")


def _lz4_header(cur: _Cursor, pos: int) -> tuple[Lz4Frame, int] | None:
    """The frame of independent blocks at ``pos`` and where its first block starts, or
    ``None`` for anything else (linked blocks, a dictionary, a skippable frame, not a
    frame, a header LZ4F would reject): the one-stream decoder takes that."""
    from ..codecs.lz4 import _BLOCK_MAX, header_check_byte, independent_blocks

    head = cur.read(pos, 6)
    if len(head) < 6 or _u32(head[:4]) != _LZ4_MAGIC:
        return None
    flg, bd = head[4], head[5]
    if not independent_blocks(flg, bd):
        return None
    n = 8 if flg & 0x08 else 0
    rest = cur.read(pos + 6, n + 1)
    if len(rest) != n + 1 or header_check_byte(head[4:6] + rest[:n]) != rest[n]:
        return None
    size = _u32(rest[:n]) if n else None
    return Lz4Frame(flg, _BLOCK_MAX[(bd >> 4) & 7], size), pos + 7 + n


class Lz4Blocks:
    """The blocks of the lz4 frames of independent blocks at the start of a file.

    :meth:`jobs` walks them lazily (memory stays constant whatever the frame's size),
    reading only the 4-byte size of each block; damage it meets there (a block over the
    frame's maximum, a file cut short) is raised when the walk reaches it. After the walk,
    ``end`` is where the frames end (the end of the file, or the first thing that is not
    such a frame, which the caller decodes as one stream) and ``frames`` their number.
    """

    format = "lz4"
    tail = 0

    def __init__(self, fp: BinaryIO, base: int, length: int, first: tuple[Lz4Frame, int]) -> None:
        # hops of 64 KiB to 4 MiB, and the job loop reads the blocks anyway: no window
        self._cur = _Cursor(fp, base, length, window=4)
        self._first = first
        self.end = 0
        self.frames = 0

    def jobs(self) -> Iterator[tuple[int, int, list[tuple[int, int, int]], Lz4Frame, bool]]:
        """``(start, end, blocks, frame, last)``: consecutive blocks of one frame, each
        ``(start, end, index)`` relative to ``start``, at most :data:`LZ4_JOB_OUTPUT` of
        output; ``last``: the frame ends after them (its checks are due)."""
        from ..errors import CorruptStreamError, TruncatedStreamError

        cur = self._cur
        found: tuple[Lz4Frame, int] | None = self._first
        while found is not None:
            frame, p = found
            per_job = max(1, LZ4_JOB_OUTPUT // frame.block_max)
            extra = 4 if frame.block_checksum else 0
            group: list[tuple[int, int, int]] = []
            count = 0
            while True:
                b = cur.read(p, 4)
                word = _u32(b) if len(b) == 4 else -1
                if word == 0:
                    break
                size = word & 0x7FFFFFFF
                end = p + 4 + size + extra
                if word < 0 or size > frame.block_max or end > cur.length:
                    if group:  # the blocks before the damage are decoded first, as one thread would
                        yield self._job(group, frame, False)
                    if word >= 0 and size > frame.block_max:
                        raise CorruptStreamError(
                            f"invalid lz4 data (block {count} claims {size} bytes, over the maximum)"
                        )
                    raise TruncatedStreamError("lz4 stream is truncated (input ended inside a member)")
                group.append((p, end, count))
                count += 1
                p = end
                if len(group) >= per_job:
                    yield self._job(group, frame, False)
                    group = []
            p += 4
            if frame.checksum:
                check = cur.read(p, 4)
                if len(check) == 4:
                    frame.expect = _u32(check)
                p += 4
            self.end = min(p, cur.length)
            yield self._job(group, frame, True)
            self.frames += 1
            found = _lz4_header(cur, p)

    @staticmethod
    def _job(
        group: list[tuple[int, int, int]], frame: Lz4Frame, last: bool
    ) -> tuple[int, int, list[tuple[int, int, int]], Lz4Frame, bool]:
        start = group[0][0] if group else 0
        end = group[-1][1] if group else 0
        return start, end, [(a - start, b - start, i) for a, b, i in group], frame, last


def lz4_blocks(fp: BinaryIO) -> Lz4Blocks | None:
    """The blocks of the lz4 frames at ``fp``'s position (seekable), or ``None`` when no
    frame of independent blocks starts there. The file position is restored."""
    span = _span(fp)
    if span is None:
        return None
    base, length = span
    try:
        first = _lz4_header(_Cursor(fp, base, length), 0)
    finally:
        fp.seek(base)
    return None if first is None else Lz4Blocks(fp, base, length, first)


def split(
    fp: BinaryIO, format: str | None = None, *, max_input: int, max_output: int, members: bool = True
) -> Split | Lz4Blocks | None:
    """How ``fp`` (from its current position) cuts into independently decodable pieces,
    or ``None``: one piece only, a layout not known, a pipe, or a piece over ``max_input``
    compressed bytes or over ``max_output`` decoded bytes (by the seek table's word, which
    may lie; the job holding it would keep it whole). lz4 that does not cut into frames
    may cut into the blocks of its frames (:class:`Lz4Blocks`). ``members=False``: only
    those blocks (the pieces of the other layouts are decoded without a caller's
    decoder options). The file position is restored."""
    if not members:
        return lz4_blocks(fp) if (format or sniff(fp)) == "lz4" else None
    index = find_index(fp, format)
    if index is not None:
        comp, dec = index.comp_offsets, index.offsets
        sized: list[tuple[int, int, int | None]] = [
            (comp[k], comp[k + 1], dec[k + 1] - dec[k]) for k in range(len(comp) - 1)
        ]
        if any(size is not None and size > max_output for _, _, size in sized):
            return None
        return Split(index.format, sized, index.tail)
    fmt = format or sniff(fp)
    if fmt not in SPLITTABLE:
        return None
    found = find_frames(fp, fmt, max_input)
    if found is None or len(found) < 2:
        return lz4_blocks(fp) if fmt == "lz4" else None
    return Split(fmt, [(a, b, None) for a, b in found], 0)


def sniff(fp: BinaryIO) -> str | None:
    """The format of a seekable ``fp`` from its magic number (position restored), else ``None``."""
    try:
        if not fp.seekable():
            return None
        base = fp.tell()
        head = fp.read(codecs.MAX_MAGIC)
        fp.seek(base)
    except (AttributeError, OSError, ValueError):
        return None
    return codecs.detect(head)
