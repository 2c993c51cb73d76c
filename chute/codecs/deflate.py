"""Raw deflate (RFC 1951), as used in ZIP entries and ``Content-Encoding: deflate`` done
wrong. It has no header, so it is never detected: choose it by name. Members cannot be
concatenated (nothing marks where one ends and the next begins).
"""

from __future__ import annotations

from ._zlib_engine import RAW_WBITS, ZlibStreamCompressor, ZlibStreamDecompressor


def new_compressor(level: int = 6) -> ZlibStreamCompressor:
    return ZlibStreamCompressor(level, RAW_WBITS)


def new_decompressor() -> ZlibStreamDecompressor:
    return ZlibStreamDecompressor(RAW_WBITS, "deflate")
