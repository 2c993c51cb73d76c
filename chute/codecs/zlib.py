"""zlib (RFC 1950): a deflate stream with a 2-byte header and an Adler-32 trailer.

Detected from its header: CMF byte 0x78 (deflate, 32 KiB window) and a header checksum
(``(CMF * 256 + FLG) % 31 == 0``), which rules out most text that starts with ``x``.
"""

from __future__ import annotations

from ._base import Codec
from ._zlib_engine import ZLIB_WBITS, ZlibStreamCompressor, ZlibStreamDecompressor


def new_compressor(level: int = 6) -> ZlibStreamCompressor:
    return ZlibStreamCompressor(level, ZLIB_WBITS)


def new_decompressor() -> ZlibStreamDecompressor:
    return ZlibStreamDecompressor(ZLIB_WBITS, "zlib")


def looks_like_zlib(prefix: bytes) -> bool:
    return len(prefix) >= 2 and prefix[0] == 0x78 and (prefix[0] * 256 + prefix[1]) % 31 == 0


CODEC = Codec(
    name="zlib",
    aliases=("zz",),
    suffixes=(".zz", ".zlib"),
    new_compressor=new_compressor,
    new_decompressor=new_decompressor,
    levels=(1, 9),
    default_level=6,
    concatenable=False,
    extra={"detect": looks_like_zlib},
)
