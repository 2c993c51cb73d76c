"""xz, through the standard library's ``lzma``, with a CRC64 check like ``xz``.

A flush ends the stream (see :mod:`chute.codecs._restart`). Decompression is bounded by
``memory_limit`` (default 128 MiB, enough for every preset up to ``-9``).
"""

from __future__ import annotations

from ..errors import ChecksumError, CorruptStreamError, LimitExceededError
from ._base import WrappedDecompressor, size_text
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


#: Check IDs liblzma verifies (none, CRC32, CRC64, SHA-256); 16 is "not known yet".
_KNOWN_CHECKS = (0, 1, 4, 10, 16)


class XzDecompressor(WrappedDecompressor):
    def __init__(self, *, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        import lzma

        self._obj: lzma.LZMADecompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=memory_limit)
        self._errors = (lzma.LZMAError,)
        self._limit = memory_limit

    @property
    def unverified(self) -> str | None:
        """Why the stream's data is not verified, if it is not (a check type liblzma
        does not know: it decodes the data without checking it, as ``xz -d`` does)."""
        check = self._obj.check
        if check in _KNOWN_CHECKS:
            return None
        return f"unsupported type of integrity check (ID {check}); xz data not verified"

    def _translate(self, exc: BaseException) -> Exception:
        msg = str(exc)
        if "memory" in msg.lower():
            return LimitExceededError(
                f"xz stream needs more than the memory limit ({size_text(self._limit)})", "memory_limit"
            )
        if "corrupt" in msg.lower() and "check" in msg.lower():
            return ChecksumError(f"xz check mismatch ({msg})")
        return CorruptStreamError(f"invalid xz data ({msg})")
