"""xz, through the standard library's ``lzma``, with a CRC64 check like ``xz``.

A flush ends the stream (see :mod:`chute.codecs._restart`). Decompression is bounded by
``memory_limit`` (default 128 MiB, enough for every preset up to ``-9``).
"""

from __future__ import annotations

from ..errors import ChecksumError, CorruptStreamError, LimitExceededError
from ._base import Buffer, WrappedDecompressor, size_text
from ._restart import RestartingCompressor

DEFAULT_MEMORY_LIMIT = 128 << 20


#: ``check=`` names (``xz --check``) and liblzma's check IDs.
CHECKS = {"none": 0, "crc32": 1, "crc64": 4, "sha256": 10}


def new_compressor(
    level: int = 6, *, threads: int = 0, check: str = "crc64", extreme: bool = False
) -> RestartingCompressor:
    """``check``: one of :data:`CHECKS` (``xz --check``); ``extreme``: ``xz -e``."""
    import lzma

    if check not in CHECKS:
        raise ValueError(f"xz check must be one of {', '.join(CHECKS)}, not {check!r}")
    preset = level | (lzma.PRESET_EXTREME if extreme else 0)
    check_id = CHECKS[check]
    return RestartingCompressor(lambda: lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=check_id, preset=preset))


class XzDecompressor(WrappedDecompressor):
    def __init__(self, *, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        import lzma

        self._obj: lzma.LZMADecompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=memory_limit)
        self._error = lzma.LZMAError
        self._limit = memory_limit

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        try:
            return self._obj.decompress(data, max_length)
        except self._error as exc:
            msg = str(exc)
            if "memory" in msg.lower():
                raise LimitExceededError(
                    f"xz stream needs more than the memory limit ({size_text(self._limit)})", "memory_limit"
                ) from None
            if "corrupt" in msg.lower() and "check" in msg.lower():
                raise ChecksumError(f"xz check mismatch ({msg})") from None
            raise CorruptStreamError(f"invalid xz data ({msg})") from None
