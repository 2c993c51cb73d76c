"""A thin ctypes binding of the system zlib's inflate, for what Python's zlib module lacks.

Starting to decode in the middle of a deflate stream needs three calls the ``zlib`` module
does not expose: ``inflatePrime`` (the stream resumes at a bit, not a byte),
``inflateSetDictionary`` on a raw stream (the 32 KiB of output before that point) and
``inflate(Z_BLOCK)`` (stop at each block boundary, where such a point can be recorded).
:class:`Inflater` wraps exactly those. It is sans-IO: bytes in, bytes out.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from ..errors import ChecksumError, ChuteError, CorruptStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Inflater", "available", "WINDOW"]

#: The deflate window: the most output a back-reference reaches.
WINDOW = 32 << 10

Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_BUF_ERROR = 0, 1, 2, -5
Z_DATA_ERROR, Z_MEM_ERROR = -3, -4
Z_NO_FLUSH, Z_BLOCK = 0, 5


class _ZStream(ctypes.Structure):
    _fields_ = [
        ("next_in", ctypes.c_void_p),
        ("avail_in", ctypes.c_uint),
        ("total_in", ctypes.c_ulong),
        ("next_out", ctypes.c_void_p),
        ("avail_out", ctypes.c_uint),
        ("total_out", ctypes.c_ulong),
        ("msg", ctypes.c_char_p),
        ("state", ctypes.c_void_p),
        ("zalloc", ctypes.c_void_p),
        ("zfree", ctypes.c_void_p),
        ("opaque", ctypes.c_void_p),
        ("data_type", ctypes.c_int),
        ("adler", ctypes.c_ulong),
        ("reserved", ctypes.c_ulong),
    ]


_lib: Any = None
_missing: str | None = None
_version = b""


def _load() -> Any:
    global _lib, _missing, _version
    if _lib is not None:
        return _lib
    if _missing is not None:
        raise ChuteError(_missing)
    names = [ctypes.util.find_library("z"), "libz.so.1", "libz.dylib", "zlib1.dll"]
    for name in names:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.zlibVersion.restype = ctypes.c_char_p
            version = lib.zlibVersion()
        except (OSError, AttributeError):
            continue
        ptr = ctypes.POINTER(_ZStream)
        lib.inflateInit2_.argtypes = [ptr, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.inflate.argtypes = [ptr, ctypes.c_int]
        lib.inflateEnd.argtypes = [ptr]
        lib.inflateReset2.argtypes = [ptr, ctypes.c_int]
        lib.inflatePrime.argtypes = [ptr, ctypes.c_int, ctypes.c_int]
        lib.inflateSetDictionary.argtypes = [ptr, ctypes.c_char_p, ctypes.c_uint]
        _version = version
        _lib = lib
        return lib
    _missing = "gzip indexes need the system zlib library (libz), which was not found"
    raise ChuteError(_missing)


def available() -> bool:
    """True if the system zlib can be loaded."""
    try:
        _load()
    except ChuteError:
        return False
    return True


class Inflater:
    """One inflate stream of the system zlib.

    ``wbits`` as zlib's: 31 decodes a gzip member (header, CRC32 and ISIZE checked),
    -15 raw deflate. :meth:`prime` and :meth:`set_dictionary` start a raw stream in the
    middle of a deflate stream. :meth:`inflate` decodes from the input it was given and
    returns the output; after each call :attr:`boundary` tells whether it stopped at the
    end of a deflate block that is not the last (``block=True`` only), :attr:`bits` how
    many bits of the last input byte it consumed are not yet used, :attr:`eof` whether the
    stream ended, and :attr:`unconsumed` how many input bytes it has not read.
    """

    def __init__(self, wbits: int) -> None:
        lib = _load()
        self._lib = lib
        self._strm = _ZStream()
        self._ref = ctypes.byref(self._strm)
        ret = lib.inflateInit2_(self._ref, wbits, _version, ctypes.sizeof(_ZStream))
        if ret != Z_OK:
            raise MemoryError("zlib inflateInit2 failed")
        self._open = True
        self._input: Any = None
        self._in_len = 0
        self.eof = False
        self.boundary = False
        self.bits = 0

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Free zlib's state (also done when the object is collected)."""
        if getattr(self, "_open", False):
            self._open = False
            self._lib.inflateEnd(self._ref)

    def reset(self, wbits: int) -> None:
        """Start a new stream (a new gzip member) with the same state."""
        if self._lib.inflateReset2(self._ref, wbits) != Z_OK:
            raise ValueError("zlib inflateReset2 failed")
        self.eof = False
        self.boundary = False
        self.bits = 0

    def prime(self, bits: int, value: int) -> None:
        """Feed the ``bits`` (0-7) low bits of ``value`` before the input (a stream that
        starts in the middle of a byte)."""
        if bits and self._lib.inflatePrime(self._ref, bits, value) != Z_OK:
            raise ValueError("zlib inflatePrime failed")

    def set_dictionary(self, window: bytes) -> None:
        """The output that came before the point where this raw stream starts."""
        if window and self._lib.inflateSetDictionary(self._ref, window, len(window)) != Z_OK:
            raise ValueError("zlib inflateSetDictionary failed")

    def feed(self, data: bytes | bytearray) -> None:
        """Input for the next calls to :meth:`inflate` (the previous input must be used up)."""
        buf = data if isinstance(data, bytearray) else bytearray(data)
        self._input = (ctypes.c_char * len(buf)).from_buffer(buf) if buf else None
        self._in_len = len(data)
        self._strm.next_in = ctypes.addressof(self._input) if data else None
        self._strm.avail_in = len(data)

    @property
    def unconsumed(self) -> int:
        return int(self._strm.avail_in)

    def inflate(self, out: Any, offset: int, size: int, *, block: bool = False) -> int:
        """Decode into the ctypes buffer ``out`` at ``offset``, at most ``size`` bytes;
        return how many were written. Stops at the next block boundary if ``block``."""
        strm = self._strm
        strm.next_out = ctypes.addressof(out) + offset
        strm.avail_out = size
        ret = self._lib.inflate(self._ref, Z_BLOCK if block else Z_NO_FLUSH)
        made = size - int(strm.avail_out)
        dt = strm.data_type
        self.bits = dt & 7
        self.boundary = bool(dt & 128) and not dt & 64
        if ret == Z_STREAM_END:
            self.eof = True
        elif ret in (Z_NEED_DICT, Z_DATA_ERROR):
            msg = (strm.msg or b"invalid deflate data").decode("ascii", "replace")
            if "check" in msg:
                raise ChecksumError(f"gzip member fails its check ({msg})")
            raise CorruptStreamError(f"invalid gzip data ({msg})")
        elif ret == Z_MEM_ERROR:
            raise MemoryError("zlib ran out of memory")
        elif ret not in (Z_OK, Z_BUF_ERROR):  # pragma: no cover - zlib's contract
            raise CorruptStreamError(f"zlib inflate returned {ret}")
        return made
