"""gzip (RFC 1952).

Two compressors, one format:

* ``blocks`` (default): input is cut into blocks (1 MiB) and each becomes an
  independent gzip member compressed by libdeflate (the ``deflate`` package). Every gzip
  reader decodes concatenated members; libdeflate at level 6 is about 3.5x faster than
  ``gzip -6`` here at a slightly better ratio, and independent members are what
  :mod:`chute.parallel` compresses on several cores. Levels 1-12 (10-12 are libdeflate's
  slow, tight levels).
* ``stream``: one member through zlib-ng (or zlib), keeping the 32 KiB history across
  flushes. Better when flushing often (real-time streams, HTTP responses), where a new
  member per flush would lose the history and cost 18 bytes of framing each time.

The header carries no file name and mtime 0, so output is reproducible
(:class:`NamedHeader` puts a name and a time in the first member's header, as
``gzip -N`` does). Each member of
``blocks`` records the size of its compressed data in an extra subfield ``MZ`` (the layout
LinkedIn's MiGz writes: FLG.FEXTRA, XLEN 8, ``MZ``, LEN 4, the size as 4 bytes little
endian). gzip readers skip extra fields (RFC 1952); chute reads it to find where each
member ends without decoding, and so decodes such files on several cores
(:func:`chute.parallel.split.find_frames`). It costs 10 bytes per MiB of input.
"""

from __future__ import annotations

from ..errors import ChecksumError, CorruptStreamError
from ._base import Buffer, FlushMode, cut_blocks
from ._zlib_engine import GZIP_WBITS, CheckedStream, ZlibStreamCompressor, crc32

BLOCK_SIZE = 1 << 20
#: Extra subfield ID of a member's compressed size (MiGz's).
SIZE_FIELD = b"MZ"


def sized_member(member: Buffer) -> bytes:
    """``member``, a gzip member with the bare 10-byte header libdeflate writes, with the
    ``MZ`` extra subfield holding the size of its deflate data; returned as it is (as
    ``bytes``) if its header has flags already or the size does not fit in 32 bits."""
    view = memoryview(member)
    size = len(view) - 18
    if view[3] != 0 or not 0 <= size < 1 << 32:
        return bytes(view)
    # one copy, as bytes(member) would make anyway
    return b"".join(
        (b"\x1f\x8b\x08\x04", view[4:10], b"\x08\x00" + SIZE_FIELD + b"\x04\x00", size.to_bytes(4, "little"), view[10:])
    )


class GzipBlockCompressor:
    """Independent gzip members of ``block_size`` input bytes, compressed by libdeflate,
    each carrying its compressed size (:func:`sized_member`)."""

    def __init__(self, level: int, block_size: int = BLOCK_SIZE) -> None:
        import deflate

        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self._gzip = deflate.gzip_compress
        self._level = level
        self._block = block_size
        self._buf = bytearray()
        self._emitted = False

    def _member(self, data: Buffer) -> bytes:
        self._emitted = True
        return sized_member(self._gzip(data, self._level))

    def compress(self, data: Buffer) -> bytes:
        blocks, self._buf = cut_blocks(self._buf, data, self._block)
        return b"".join(self._member(b) for b in blocks)

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        if not self._buf:
            return b""
        out = self._member(self._buf)
        self._buf = bytearray()
        return out

    def finish(self) -> bytes:
        if self._buf or not self._emitted:
            out = self._member(self._buf)
            self._buf = bytearray()
            return out
        return b""


#: Header flags (RFC 1952 FLG).
FHCRC, FEXTRA, FNAME, FCOMMENT = 0x02, 0x04, 0x08, 0x10
#: Longest FNAME or FCOMMENT read from an untrusted header (gzip's own limit is its
#: 1024-byte path buffer; a file name longer than PATH_MAX cannot be created anyway).
MAX_HEADER_STRING = 4096
#: The longest header :func:`parse_header` reads: extra field, name, comment, header CRC.
MAX_HEADER = 12 + 0xFFFF + 2 * (MAX_HEADER_STRING + 1) + 2


class NamedHeader:
    """Wraps a gzip compressor so that the first member's header carries ``name``
    (FNAME: bytes without NUL, written as given; None: no FNAME) and ``mtime`` (MTIME:
    seconds since the epoch, 0 for none), as ``gzip -N`` writes them; every later member
    keeps its bare header. ``keeps_input`` and ``block_size`` are the wrapped
    compressor's."""

    def __init__(self, inner: object, name: bytes | None, mtime: int) -> None:
        if name is not None and b"\0" in name:
            raise ValueError("a gzip FNAME cannot contain a NUL byte")
        if not 0 <= mtime < 1 << 32:
            raise ValueError("a gzip MTIME is 32-bit unsigned")
        self._inner = inner
        self._name = name
        self._mtime = mtime
        self._head: bytearray | None = bytearray()  # output held until the header is whole
        self.keeps_input: bool = getattr(inner, "keeps_input", False)
        self.block_size: int = getattr(inner, "block_size", 0)

    def _pass(self, out: bytes) -> bytes:
        head = self._head
        if head is None:
            return out
        head += out
        if len(head) < 10:
            return b""
        flg = head[3]
        if flg & FEXTRA and (len(head) < 12 or len(head) < 12 + (head[10] | head[11] << 8)):
            return b""
        if flg & ~FEXTRA:
            raise ValueError("NamedHeader wraps a compressor whose headers carry FEXTRA at most")
        end = 12 + (head[10] | head[11] << 8) if flg & FEXTRA else 10
        self._head = None
        return b"".join(
            (
                bytes(head[:3]),
                bytes((flg if self._name is None else flg | FNAME,)),
                self._mtime.to_bytes(4, "little"),
                bytes(head[8:end]),
                b"" if self._name is None else self._name + b"\0",
                bytes(head[end:]),
            )
        )

    def compress(self, data: Buffer) -> bytes:
        return self._pass(self._inner.compress(data))  # type: ignore[attr-defined]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        return self._pass(self._inner.flush(mode))  # type: ignore[attr-defined]

    def finish(self) -> bytes:
        out = self._pass(self._inner.finish())  # type: ignore[attr-defined]
        if self._head is not None:
            raise ValueError("the wrapped compressor ended without a whole gzip header")
        return out

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class Header:
    """What a gzip member's header says: ``name`` (FNAME bytes, None without),
    ``mtime`` (0: none) and ``length`` (bytes of the header)."""

    __slots__ = ("length", "mtime", "name")

    def __init__(self, name: bytes | None, mtime: int, length: int) -> None:
        self.name = name
        self.mtime = mtime
        self.length = length


def parse_header(data: Buffer) -> Header | None:
    """The header at the start of ``data``; None if ``data`` is too short to hold it
    whole. :class:`~chute.errors.CorruptStreamError` if it is not a gzip header or a
    name or comment runs past :data:`MAX_HEADER_STRING` bytes."""
    view = bytes(data[:MAX_HEADER])
    if len(view) < 10:
        return None
    if view[:3] != b"\x1f\x8b\x08" or view[3] & 0xE0:
        raise CorruptStreamError("not a gzip header")
    flg = view[3]
    pos = 10
    if flg & FEXTRA:
        if len(view) < 12:
            return None
        pos = 12 + (view[10] | view[11] << 8)
    name = None
    for bit in (FNAME, FCOMMENT):
        if flg & bit:
            nul = view.find(b"\0", pos, pos + MAX_HEADER_STRING + 1)
            if nul < 0:
                if len(view) > pos + MAX_HEADER_STRING:
                    what = "file name" if bit == FNAME else "comment"
                    raise CorruptStreamError(f"gzip header {what} longer than {MAX_HEADER_STRING} bytes")
                return None
            if bit == FNAME:
                name = view[pos:nul]
            pos = nul + 1
    if flg & FHCRC:
        pos += 2
    if len(view) < pos:
        return None
    return Header(name, int.from_bytes(view[4:8], "little"), pos)


def new_compressor(level: int = 6, *, strategy: str = "blocks", block_size: int = BLOCK_SIZE) -> object:
    """``strategy`` is ``"blocks"`` (libdeflate members) or ``"stream"`` (one member)."""
    if strategy == "blocks":
        return GzipBlockCompressor(level, block_size)
    if strategy == "stream":
        return ZlibStreamCompressor(min(level, 9), GZIP_WBITS)
    raise ValueError(f"unknown gzip strategy {strategy!r} (use 'blocks' or 'stream')")


class MemberDecompressor(CheckedStream):
    """One gzip member: its header (and header CRC) read here, CRC32 and ISIZE checked
    after every decoded byte is returned (:class:`~chute.codecs._zlib_engine.CheckedStream`)."""

    what = "gzip"
    trailer_size = 8

    def header(self, data: Buffer) -> int | None:
        header = parse_header(data)
        if header is None:
            return None
        _check_header_crc(data, header.length)
        return header.length

    def check(self, out: bytes, value: int) -> int:
        return crc32(out, value)  # type: ignore[no-any-return]

    def verify(self, trailer: bytes, value: int, size: int) -> ChecksumError | None:
        if int.from_bytes(trailer[:4], "little") != value:
            return ChecksumError("gzip checksum mismatch (CRC32 of the data differs from the member's trailer)")
        if int.from_bytes(trailer[4:8], "little") != size & 0xFFFFFFFF:
            return ChecksumError("gzip checksum mismatch (length of the data differs from the member's trailer)")
        return None


def _check_header_crc(data: Buffer, length: int) -> None:
    """The header CRC16 (FHCRC), when the header has one."""
    view = memoryview(data)
    if view[3] & FHCRC and crc32(view[: length - 2]) & 0xFFFF != int.from_bytes(view[length - 2 : length], "little"):
        raise CorruptStreamError("invalid gzip data (header CRC mismatch)")


def new_decompressor() -> MemberDecompressor:
    return MemberDecompressor()
