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


def _checksum(name: str) -> Any:
    try:
        from isal import isal_zlib

        return getattr(isal_zlib, name)
    except ImportError:  # pragma: no cover
        return getattr(zlib, name)


#: CRC32 (``crc32(data, value=0)``) and Adler-32 (``adler32(data, value=1)``): ISA-L's,
#: the fastest at hand (twice zlib's speed).
crc32 = _checksum("crc32")
adler32 = _checksum("adler32")

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
    Input goes to the object in pieces of at most :data:`FEED` bytes: the bindings raise
    on damage without returning what the failing call decoded, so what the earlier pieces
    decoded is returned, and the error raised by the next call.
    """

    FEED = 32 << 10

    def __init__(self, wbits: int, what: str) -> None:
        self._obj: Any = _decompress_module().decompressobj(wbits)
        self._tail = b""
        self._what = what
        self._failed: Exception | None = None
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    def _translate(self, exc: BaseException) -> Exception:
        msg = str(exc)
        if any(word in msg.lower() for word in _CHECK_WORDS):
            return ChecksumError(f"{self._what} checksum mismatch ({msg})")
        return CorruptStreamError(f"invalid {self._what} data ({msg})")

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None:
            raise self._failed
        if self.eof:
            raise EOFError("end of stream already reached")
        if self._tail:
            data = self._tail + bytes(data)
            self._tail = b""
        if max_length == 0:
            self._tail = bytes(data)
            self.needs_input = not self._tail
            return b""
        obj = self._obj
        parts: list[bytes] = []
        room = max_length
        with memoryview(data) as whole:
            view = whole.cast("B") if whole.format != "B" or whole.ndim != 1 else whole
            pos, end = 0, len(view)
            try:
                while True:
                    piece = view[pos : pos + self.FEED]
                    pos += len(piece)
                    out = obj.decompress(piece) if room < 0 else obj.decompress(piece, room)
                    if out:
                        parts.append(out)
                        if room > 0:
                            room -= len(out)
                    if obj.eof:
                        self.eof = True
                        self.unused_data = bytes(obj.unused_data) + bytes(view[pos:])
                        break
                    tail = obj.unconsumed_tail
                    if tail or room == 0 or pos >= end:  # output full, or input used up
                        self._tail = bytes(tail) + bytes(view[pos:]) if tail else bytes(view[pos:])
                        break
            except errors() as exc:
                error = self._translate(exc)
                if not parts:
                    raise error from None
                self._failed = error
            finally:
                if view is not whole:
                    view.release()
        if self._failed is not None or self.eof:
            self.needs_input = False
        else:
            self.needs_input = not self._tail and room != 0
        return parts[0] if len(parts) == 1 else b"".join(parts)


class CheckedStream:
    """One deflate stream between a header and a trailer (a gzip member, a zlib stream):
    the header read by :meth:`header`, the deflate data through the raw inflate of
    :class:`ZlibStreamDecompressor`, the checksum over the output kept by :meth:`check`
    and the trailer compared by :meth:`verify`, here.

    The inflate bindings raise a trailer mismatch without returning what the failing call
    decoded; checked here, every decoded byte is returned first and the
    :class:`~chute.errors.ChecksumError` raised by the next call, as ``gzip -d`` writes a
    whole member before it reports a CRC error. Subclasses fill in the format.
    """

    what = "deflate"
    trailer_size = 0
    initial = 0

    def header(self, data: Buffer) -> int | None:
        """The header's length at the start of ``data``, or None while it is not whole;
        raises :class:`~chute.errors.CorruptStreamError` on a bad one."""
        raise NotImplementedError

    def check(self, out: bytes, value: int) -> int:
        """The running checksum ``value`` carried over ``out``."""
        raise NotImplementedError

    def verify(self, trailer: bytes, value: int, size: int) -> ChecksumError | None:
        """The error for a ``trailer`` that does not match the checksum and the size of
        the output, else None."""
        raise NotImplementedError

    def __init__(self) -> None:
        self._head = b""  # the start of a header not yet whole
        self._body: ZlibStreamDecompressor | None = None
        self._trailer = b""
        self._value = self.initial
        self._size = 0
        self._failed: Exception | None = None
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None:
            raise self._failed
        if self.eof:
            raise EOFError("end of stream already reached")
        body = self._body
        if body is None:
            if self._head:
                data = self._head + bytes(data)
            length = self.header(data)
            if length is None:
                self._head = bytes(data)
                return b""
            self._head = b""
            body = self._body = ZlibStreamDecompressor(RAW_WBITS, self.what)
            data = memoryview(data)[length:]
        if not body.eof:
            out = body.decompress(data, max_length)
            if out:
                self._value = self.check(out, self._value)
                self._size += len(out)
            if not body.eof:
                self.needs_input = body.needs_input
                return out
            data = body.unused_data
        else:
            out = b""
        trailer = self._trailer = self._trailer + bytes(data)
        if len(trailer) < self.trailer_size:
            self.needs_input = True
            return out
        error = self.verify(trailer[: self.trailer_size], self._value, self._size)
        self.needs_input = False
        if error is not None:
            if not out:
                raise error
            self._failed = error
            return out
        self.eof = True
        self.unused_data = trailer[self.trailer_size :]
        return out
