"""The ``.lzma`` format (LZMA-alone), read through the standard library's ``lzma``.

What ``lzma`` and ``xz --format=lzma`` write: a 13-byte header (a properties byte, the
dictionary size, the uncompressed size or all ones for "unknown, ends with a marker")
and one LZMA stream. It has no magic number and no framing for concatenation
(``xz -d`` rejects anything after the stream), and cannot be flushed mid-stream, so
chute decodes it and does not write it (xz is its successor). :func:`looks_like_lzma`
is the header test detection uses.
"""

from __future__ import annotations

from ..errors import CorruptStreamError, LimitExceededError
from ._base import WrappedDecompressor

DEFAULT_MEMORY_LIMIT = 128 << 20
HEADER_SIZE = 13
#: Largest properties byte: (pb * 5 + lp) * 9 + lc with pb <= 4, lp <= 4, lc <= 8.
MAX_PROPERTIES = (4 * 5 + 4) * 9 + 8
#: Uncompressed sizes at or over this are refused, as xz refuses them (256 GiB).
MAX_KNOWN_SIZE = 1 << 38


def _plausible_dictionary(size: int) -> bool:
    """2^n or 2^n + 2^(n-1) (what every LZMA encoder writes), at least 4 KiB, or all ones."""
    if size == 0xFFFFFFFF:
        return True
    if size < 4096:
        return False
    top = 1 << (size.bit_length() - 1)
    return size in (top, top | (top >> 1))


def looks_like_lzma(prefix: bytes) -> bool:
    """True if the 13 bytes that start ``prefix`` are an LZMA-alone header, tested as
    ``xz`` tests it: a valid properties byte with lc + lp <= 4, a dictionary size an
    encoder writes, and an uncompressed size that is unknown or under 256 GiB. Random
    data passes with a probability of about 10^-16; text never does (the size fields
    need zero bytes)."""
    if len(prefix) < HEADER_SIZE or prefix[0] > MAX_PROPERTIES:
        return False
    props = prefix[0]
    lc, lp = props % 9, (props // 9) % 5
    if lc + lp > 4:
        return False
    if not _plausible_dictionary(int.from_bytes(prefix[1:5], "little")):
        return False
    size = int.from_bytes(prefix[5:13], "little")
    return size == (1 << 64) - 1 or size < MAX_KNOWN_SIZE


def could_be_lzma(prefix: bytes) -> bool:
    """True if more bytes could still make ``prefix`` an LZMA-alone header."""
    if len(prefix) >= HEADER_SIZE:
        return looks_like_lzma(prefix)
    return not prefix or (prefix[0] <= MAX_PROPERTIES and prefix[0] % 9 + (prefix[0] // 9) % 5 <= 4)


def new_compressor(level: int = 6, **options: object) -> object:
    raise ValueError("chute reads the .lzma (LZMA-alone) format but does not write it: use xz")


class LzmaAloneDecompressor(WrappedDecompressor):
    def __init__(self, *, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        import lzma

        self._obj: lzma.LZMADecompressor = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE, memlimit=memory_limit)
        self._errors = (lzma.LZMAError,)
        self._limit = memory_limit

    def _translate(self, exc: BaseException) -> Exception:
        msg = str(exc)
        if "memory" in msg.lower():
            return LimitExceededError(
                f"lzma stream needs more than the memory limit ({self._limit >> 20} MiB); raise it with --memory"
            )
        return CorruptStreamError(f"invalid lzma data ({msg})")
