"""zlib (RFC 1950): a deflate stream with a 2-byte header and an Adler-32 trailer.

Detected from its header (:func:`chute.codecs.looks_like_zlib`): CMF byte 0x78 (deflate,
32 KiB window) and a header checksum, which rules out most text that starts with ``x``.
"""

from __future__ import annotations

from ._zlib_engine import ZLIB_WBITS, ZlibStreamCompressor, ZlibStreamDecompressor


def new_compressor(level: int = 6) -> ZlibStreamCompressor:
    return ZlibStreamCompressor(level, ZLIB_WBITS)


def new_decompressor() -> ZlibStreamDecompressor:
    return ZlibStreamDecompressor(ZLIB_WBITS, "zlib")
