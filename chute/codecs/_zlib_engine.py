"""Shared engine for the deflate family (gzip, zlib, raw deflate).

Streaming compression uses zlib-ng when installed (2.5x faster than zlib at level 6),
else the standard library's zlib. Decompression prefers ISA-L (``isal``), the fastest
inflate available, then zlib-ng, then zlib. All three speak zlib's object API, so one
adapter turns them into chute's :class:`~chute.codecs._base.Decompressor`.
"""

from __future__ import annotations

import zlib

from ..errors import ChecksumError, CorruptStreamError
from ._base import Buffer, FlushMode

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

GZIP_WBITS = 31
ZLIB_WBITS = 15
RAW_WBITS = -15
# How zlib ("incorrect data check", "incorrect length check") and ISA-L ("Incorrect
# checksum found") report a CRC32/Adler-32/ISIZE mismatch.
_CHECK_WORDS = ("checksum", "data check", "length check")


def _compress_module() -> ModuleType:
    try:
        from zlib_ng import zlib_ng

        return zlib_ng
    except ImportError:  # pragma: no cover - depends on the environment
        return zlib


def _decompress_module() -> ModuleType:
    try:
        from isal import isal_zlib

        return isal_zlib
    except ImportError:  # pragma: no cover
        return _compress_module()


def _error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [zlib.error]
    for name in ("isal.isal_zlib", "zlib_ng.zlib_ng"):
        try:
            mod = __import__(name, fromlist=["error"])
            types.append(mod.error)
        except ImportError:  # pragma: no cover
            pass
    return tuple(types)


_ERRORS: tuple[type[BaseException], ...] | None = None


def errors() -> tuple[type[BaseException], ...]:
    global _ERRORS
    if _ERRORS is None:
        _ERRORS = _error_types()
    return _ERRORS


class ZlibStreamCompressor:
    """A single deflate stream (one gzip member, one zlib stream or raw deflate)."""

    def __init__(self, level: int, wbits: int) -> None:
        mod = _compress_module()
        self._obj: Any = mod.compressobj(level, mod.DEFLATED, wbits)
        self._mod = mod

    def compress(self, data: Buffer) -> bytes:
        return self._obj.compress(data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        flag = self._mod.Z_FULL_FLUSH if mode is FlushMode.FULL else self._mod.Z_SYNC_FLUSH
        return self._obj.flush(flag)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.flush(self._mod.Z_FINISH)  # type: ignore[no-any-return]


class ZlibStreamDecompressor:
    """Adapts a zlib-style ``decompressobj`` (zlib, zlib-ng, isal) to chute's interface.

    zlib keeps input it could not consume under ``max_length`` in ``unconsumed_tail``;
    this adapter feeds it back itself, so callers see the same contract as bz2/lzma.
    """

    def __init__(self, wbits: int, what: str) -> None:
        self._obj: Any = _decompress_module().decompressobj(wbits)
        self._tail = b""
        self._what = what
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self.eof:
            raise EOFError("end of stream already reached")
        if self._tail:
            data = self._tail + bytes(data)
        if max_length == 0:
            self._tail = bytes(data)
            self.needs_input = not self._tail
            return b""
        try:
            if max_length < 0:
                out = self._obj.decompress(data)
            else:
                out = self._obj.decompress(data, max_length)
        except errors() as exc:
            msg = str(exc)
            if any(word in msg.lower() for word in _CHECK_WORDS):
                raise ChecksumError(f"{self._what} checksum mismatch ({msg})") from None
            raise CorruptStreamError(f"invalid {self._what} data ({msg})") from None
        self._tail = self._obj.unconsumed_tail
        self.eof = bool(self._obj.eof)
        if self.eof:
            self.unused_data = self._obj.unused_data
            self.needs_input = False
        else:
            self.needs_input = not self._tail and (max_length < 0 or len(out) < max_length)
        return out  # type: ignore[no-any-return]
