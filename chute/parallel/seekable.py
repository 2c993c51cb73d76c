"""Seekable compressed files: writing, indexing, random-access reading.

Two layouts, both plain files for the standard tools:

* zstd: the *zstd seekable format* (zstd's ``contrib/seekable_format``): independent
  frames of ``block_size`` input bytes (1 MiB), then a skippable frame (magic
  0x184D2A5E) holding the seek table: per frame its compressed and decompressed size,
  then ``Number_Of_Frames``, a descriptor byte (no checksums) and the magic 0x8F92EAB1
  as the last 4 bytes. ``zstd -d`` skips the table.
* gzip: BGZF (as written by ``bgzip``): members of at most 65280 input bytes whose
  header carries an extra subfield ``BC`` with the member's total size minus 1, ended by
  the standard 28-byte empty BGZF member. ``gzip -d`` decodes the members in order.
  BGZF has no table in the file; the index is built by hopping from header to header
  (two small reads per 64 KiB member, no decompression).

:func:`find_index` recognises both; :class:`SeekableReader` reads with ``seek()`` costing
one member's decompression; :func:`read_range` serves ``chute cat --range``.
"""

from __future__ import annotations

import bisect
import io
import os
import struct
import zlib

from ..codecs import Codec
from ..errors import CorruptStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from ..codecs import Compressor

__all__ = [
    "SeekableReader",
    "SeekIndex",
    "find_index",
    "read_range",
    "seekable_compressor",
    "decode_frame",
    "decode_frame_pieces",
]

SKIPPABLE_SEEK_MAGIC = 0x184D2A5E
SEEKABLE_MAGIC = 0x8F92EAB1
BGZF_MAX_INPUT = 0xFF00
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BGZF_HEAD = struct.Struct("<4BI2BH2BHH")  # 18 bytes: id1 id2 cm flg mtime xfl os xlen si1 si2 slen bsize
_BGZF_PER_TASK = 16  # BGZF members per worker task (1 MiB of input)


# --------------------------------------------------------------------------- writing


def _bgzf_members(level: int) -> Callable[[Any], bytes]:
    import deflate

    compress, crc32 = deflate.deflate_compress, deflate.crc32

    def members(data: Any) -> bytes:
        view = memoryview(data).cast("B")
        out = []
        for pos in range(0, max(len(view), 1), BGZF_MAX_INPUT):
            chunk = view[pos : pos + BGZF_MAX_INPUT]
            body = bytes(compress(chunk, level)) if len(chunk) else b"\x03\x00"
            total = 18 + len(body) + 8
            if total > 0x10000:  # pragma: no cover - libdeflate stores incompressible data
                raise CorruptStreamError("BGZF member larger than 64 KiB")
            head = _BGZF_HEAD.pack(0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, 66, 67, 2, total - 1)
            out.append(head + body + struct.pack("<II", crc32(chunk) & 0xFFFFFFFF, len(chunk)))
        return b"".join(out)

    return members


def seekable_compressor(
    codec: Codec, level: int, *, threads: int = 1, block_size: int | None = None, **options: Any
) -> Compressor:
    """A compressor writing the seekable layout of ``codec`` (zstd or gzip) on ``threads`` workers."""
    from .jobs import ParallelCompressor, member_function

    if codec.name == "gzip":
        if block_size is not None and not 0 < block_size <= BGZF_MAX_INPUT:
            raise ValueError(f"BGZF block_size must be 1..{BGZF_MAX_INPUT}")
        per = block_size or BGZF_MAX_INPUT
        make = _bgzf_members(level)
        if per != BGZF_MAX_INPUT:
            inner = make

            def make(data: Any) -> bytes:
                view = memoryview(data).cast("B")
                return b"".join(inner(view[p : p + per]) for p in range(0, max(len(view), 1), per))

        return ParallelCompressor(
            make, threads=threads, block_size=per * _BGZF_PER_TASK, trailer=lambda: BGZF_EOF, empty_member=False
        )
    if codec.name == "zstd":
        options.pop("threads", None)
        entries: list[tuple[int, int]] = []

        def record(size_in: int, member: bytes) -> bytes:
            if size_in >= 1 << 32 or len(member) >= 1 << 32:
                raise ValueError("seekable zstd frames must hold less than 4 GiB")
            entries.append((len(member), size_in))
            return member

        def table() -> bytes:
            body = b"".join(struct.pack("<II", c, d) for c, d in entries)
            body += struct.pack("<IBI", len(entries), 0, SEEKABLE_MAGIC)
            return struct.pack("<II", SKIPPABLE_SEEK_MAGIC, len(body)) + body

        return ParallelCompressor(
            member_function(codec, level, **options),
            threads=threads,
            block_size=block_size or (1 << 20),
            on_member=record,
            trailer=table,
            empty_member=False,
        )
    raise ValueError(f"seekable output exists for zstd and gzip only, not {codec.name}")


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
        f = _BGZF_HEAD.unpack(head)
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
    try:
        if not fp.seekable():
            return None
        base = fp.tell()
        length = fp.seek(0, io.SEEK_END) - base
    except (AttributeError, OSError, ValueError):
        return None
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


#: Output piece of :func:`decode_frame_pieces` for a zstd frame of unknown size (the first
#: block of the binding's output buffer, returned as is). A frame of known size is decoded
#: in one call: in 32 KiB pieces, two threads decoding a seekable file handed the GIL over
#: ~21,000 times and the writer made ~6,000 writes for 200 MB (0.415 s median, 0.71 s of
#: CPU, against 0.335 s and 0.57 s in one call per frame); without chute._malloc's heap
#: tuning the pieces also cost twice the CPU.
PIECE = 32 << 10


def decode_frame_pieces(format: str, raw: bytes | memoryview, size: int | None = None) -> list[bytes]:
    """Decode one independent frame (a zstd frame or a gzip member) of ``size`` bytes, as
    a list of pieces (one if ``size`` is given; else at most :data:`PIECE` bytes each for
    zstd)."""
    if format == "gzip" and size is not None:
        # libdeflate decodes a whole member about 3x faster than zlib; it needs the size
        # (BGZF indexes carry it) and checks the CRC32 and ISIZE itself
        import deflate

        parts: list[bytes]
        try:
            # a bytearray: written as it is, not copied into bytes
            parts = [deflate.gzip_decompress(raw, size)]  # type: ignore[list-item]
        except deflate.DeflateError:
            raise CorruptStreamError("invalid gzip member (bad data, CRC or size)") from None
    elif format == "gzip":
        try:
            parts = [zlib.decompress(raw, 31)]
        except zlib.error as exc:
            raise CorruptStreamError(f"invalid gzip member ({exc})") from None
    else:
        from ..codecs.zstd import ZstdDecompressor

        dec = ZstdDecompressor()
        parts = [dec.decompress(raw, PIECE if size is None else size + 1)]
        got = len(parts[0])
        while not dec.eof and not dec.needs_input and (size is None or got <= size):
            parts.append(dec.decompress(b"", PIECE))
            got += len(parts[-1])
        if not dec.eof or dec.unused_data:
            raise CorruptStreamError("seek table does not match the zstd frames")
    if size is not None and sum(map(len, parts)) != size:
        raise CorruptStreamError(f"{format} frame holds {sum(map(len, parts))} bytes, its index says {size}")
    return parts


def decode_frame(format: str, raw: bytes | memoryview, size: int | None = None) -> bytes:
    """Decode one independent frame (a zstd frame or a gzip member) of ``size`` bytes."""
    return b"".join(decode_frame_pieces(format, raw, size))


# --------------------------------------------------------------------------- reading


class _IndexedRaw(io.RawIOBase):
    def __init__(self, fp: BinaryIO, index: SeekIndex, owns: bool) -> None:
        super().__init__()
        self._fp = fp
        self._base = fp.tell()
        self.index = index
        self._owns = owns
        self._pos = 0
        self._frame = -1
        self._data = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self.index.size
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        if offset < 0:
            raise ValueError("negative seek position")
        self._pos = offset
        return offset

    def _load(self, i: int) -> None:
        idx = self.index
        start, end = idx.comp_offsets[i], idx.comp_offsets[i + 1]
        self._fp.seek(self._base + start)
        raw = self._fp.read(end - start)
        if len(raw) != end - start:
            from ..errors import TruncatedStreamError

            raise TruncatedStreamError(f"{idx.format} file ends inside frame {i}")
        self._data = decode_frame(idx.format, raw, idx.offsets[i + 1] - idx.offsets[i])
        self._frame = i

    def readinto(self, b: Any) -> int:
        offsets = self.index.offsets
        view = memoryview(b).cast("B")
        while self._pos < offsets[-1] and len(view):
            i = bisect.bisect_right(offsets, self._pos) - 1
            if i != self._frame:
                self._load(i)
            skip = self._pos - offsets[i]
            n = min(len(view), len(self._data) - skip)
            if n <= 0:  # an empty frame
                continue
            view[:n] = self._data[skip : skip + n]
            self._pos += n
            return n
        return 0

    def close(self) -> None:
        if not self.closed:
            try:
                if self._owns:
                    self._fp.close()
            finally:
                super().close()


class SeekableReader(io.BufferedReader):
    """A decompressing reader over a seekable zstd or BGZF file: ``seek()`` anywhere
    (including from the end) costs at most one frame's decompression."""

    def __init__(self, fp: BinaryIO, index: SeekIndex, *, owns_fp: bool = False, name: str = "") -> None:
        super().__init__(_IndexedRaw(fp, index, owns_fp), buffer_size=64 << 10)
        self._index = index
        self._name = name

    @property
    def format(self) -> str:
        return self._index.format

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return "rb"

    @property
    def size(self) -> int:
        """Decompressed size, known from the index."""
        return self._index.size


def open_seekable(fp: BinaryIO, format: str | None = None, *, owns_fp: bool = False, name: str = "") -> Any:
    """A :class:`SeekableReader` if ``fp`` holds a seekable layout, else ``None``."""
    index = find_index(fp, format)
    if index is None:
        return None
    return SeekableReader(fp, index, owns_fp=owns_fp, name=name)


def read_range(path: str | os.PathLike[str], start: int, end: int | None, out: BinaryIO) -> int:
    """Write decompressed bytes ``[start, end)`` of ``path`` to ``out``; return the count.

    ``end=None`` means to the end. Seekable files decode only the frames that hold the
    range; other compressed files are decoded from the start (and stop at ``end``).
    """
    from ..api.fileobj import open as chute_open

    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid range {start}:{end}")
    with chute_open(path, "rb") as f:
        got = f.seek(start)
        if got < start:
            return 0
        left = None if end is None else end - start
        written = 0
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(left, 1 << 20))
            if not chunk:
                break
            out.write(chunk)
            written += len(chunk)
            if left is not None:
                left -= len(chunk)
        return written
