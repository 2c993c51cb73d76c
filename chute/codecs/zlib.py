"""zlib (RFC 1950): a deflate stream with a 2-byte header and an Adler-32 trailer.

Detected from its header (:func:`chute.codecs.looks_like_zlib`): CMF byte 0x78 (deflate,
32 KiB window) and a header checksum, which rules out most text that starts with ``x``.
"""

from __future__ import annotations

from ..errors import ChecksumError, CorruptStreamError
from ._base import Buffer
from ._zlib_engine import ZLIB_WBITS, CheckedStream, ZlibStreamCompressor, adler32


def new_compressor(level: int = 6) -> ZlibStreamCompressor:
    return ZlibStreamCompressor(level, ZLIB_WBITS)


class ZlibDecompressor(CheckedStream):
    """One zlib stream: the header checked here (deflate, a window of at most 32 KiB, the
    header check, no preset dictionary), Adler-32 compared after every decoded byte is
    returned (:class:`~chute.codecs._zlib_engine.CheckedStream`)."""

    what = "zlib"
    trailer_size = 4
    initial = 1

    def header(self, data: Buffer) -> int | None:
        view = memoryview(data)
        if len(view) < 2:
            return None
        cmf, flg = view[0], view[1]
        if cmf & 0x0F != 8 or cmf >> 4 > 7:
            raise CorruptStreamError("invalid zlib data (not deflate with a window of at most 32 KiB)")
        if (cmf << 8 | flg) % 31:
            raise CorruptStreamError("invalid zlib data (header check)")
        if flg & 0x20:
            raise CorruptStreamError("invalid zlib data (needs a preset dictionary)")
        return 2

    def check(self, out: bytes, value: int) -> int:
        return adler32(out, value)  # type: ignore[no-any-return]

    def verify(self, trailer: bytes, value: int, size: int) -> ChecksumError | None:
        if int.from_bytes(trailer, "big") != value:
            return ChecksumError("zlib checksum mismatch (Adler-32 of the data differs from the stream's trailer)")
        return None


def new_decompressor() -> ZlibDecompressor:
    return ZlibDecompressor()
