"""A thin ctypes binding of the system liblz4's compressors (LZ4F and the block API), for
the lz4 writer.

python-lz4 ships its own copy of liblz4, but its block call (``lz4.block.compress``)
returns a new ``bytes`` per block and leaves the frame to Python: ``chute -F lz4 -1``
through it costs 1.12-1.19x the CPU of ``lz4 -1``. Here each block is compressed
from the caller's buffer into one reused output buffer (a frame copied out once), and
every call releases the GIL (``ctypes.CDLL`` does), so the parallel compressor's workers
run side by side. The content checksum stays ``xxhash``'s (half the time of LZ4F's).

:class:`FrameCompressor` wraps exactly the calls the writer needs. It is sans-IO: bytes
in, bytes out. :func:`load` returns ``None`` when the library cannot be loaded, is older
than :data:`MIN_VERSION` or ``$CHUTE_LZ4_ENGINE`` is ``python-lz4``; the writer then
uses python-lz4 (the same frames; blocks under 64 KiB may differ by a few bytes, as its
copy of liblz4 is built differently).
"""

from __future__ import annotations

import ctypes
import os

from ..errors import ChuteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._base import Buffer

__all__ = ["ENV", "MIN_VERSION", "FrameCompressor", "load", "version"]

#: Environment variable choosing the lz4 writer's engine: ``auto`` (the default: liblz4
#: when it loads, else python-lz4), ``liblz4`` (an error when it does not load) or
#: ``python-lz4`` (never liblz4).
ENV = "CHUTE_LZ4_ENGINE"
#: Oldest liblz4 used (LZ4_versionNumber): 1.9.0, whose LZ4F reuses a context's buffers
#: from frame to frame (compressBegin on a used context) as this binding does.
MIN_VERSION = 10900
#: LZ4F_VERSION, the API version a context is created for.
_LZ4F_VERSION = 100


class _FrameInfo(ctypes.Structure):
    _fields_ = [
        ("blockSizeID", ctypes.c_int),
        ("blockMode", ctypes.c_int),  # 0 linked, 1 independent
        ("contentChecksumFlag", ctypes.c_int),
        ("frameType", ctypes.c_int),
        ("contentSize", ctypes.c_ulonglong),
        ("dictID", ctypes.c_uint),
        ("blockChecksumFlag", ctypes.c_int),
    ]


class _Preferences(ctypes.Structure):
    _fields_ = [
        ("frameInfo", _FrameInfo),
        ("compressionLevel", ctypes.c_int),
        ("autoFlush", ctypes.c_uint),
        ("favorDecSpeed", ctypes.c_uint),
        ("reserved", ctypes.c_uint * 3),
    ]


_lib: Any = None
_tried = False


def _choice() -> str:
    choice = os.environ.get(ENV, "").strip().lower() or "auto"
    if choice not in ("auto", "liblz4", "python-lz4"):
        raise ChuteError(f"${ENV} must be 'auto', 'liblz4' or 'python-lz4', not {choice!r}")
    return choice


def _open() -> Any:
    """The system liblz4 with the prototypes set, or None (not found, too old)."""
    size, ptr, cptr = ctypes.c_size_t, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    for name in ("liblz4.so.1", "liblz4.1.dylib", "liblz4.dll", None):
        try:
            if name is None:  # ctypes.util costs 5-25 ms of imports (subprocess, shutil): last
                from ctypes.util import find_library

                name = find_library("lz4")
                if name is None:
                    break
            lib = ctypes.CDLL(name)
            if lib.LZ4_versionNumber() < MIN_VERSION:
                continue
            lib.LZ4F_createCompressionContext.argtypes = [cptr, ctypes.c_uint]
            lib.LZ4F_createCompressionContext.restype = size
            lib.LZ4F_freeCompressionContext.argtypes = [ptr]
            lib.LZ4F_freeCompressionContext.restype = size
            lib.LZ4F_compressBound.argtypes = [size, ptr]
            lib.LZ4F_compressBound.restype = size
            lib.LZ4F_compressBegin.argtypes = [ptr, ptr, size, ptr]
            lib.LZ4F_compressBegin.restype = size
            lib.LZ4F_compressUpdate.argtypes = [ptr, ptr, size, ptr, size, ptr]
            lib.LZ4F_compressUpdate.restype = size
            lib.LZ4F_flush.argtypes = [ptr, ptr, size, ptr]
            lib.LZ4F_flush.restype = size
            lib.LZ4F_compressEnd.argtypes = [ptr, ptr, size, ptr]
            lib.LZ4F_compressEnd.restype = size
            lib.LZ4F_isError.argtypes = [size]
            lib.LZ4F_isError.restype = ctypes.c_uint
            lib.LZ4F_getErrorName.argtypes = [size]
            lib.LZ4F_getErrorName.restype = ctypes.c_char_p
            lib.LZ4_compress_fast_extState.argtypes = [ptr, ptr, ptr, ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.LZ4_compress_HC_extStateHC.argtypes = [ptr, ptr, ptr, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        except (OSError, AttributeError):
            continue
        return lib
    return None


def load() -> Any:
    """The system liblz4, or ``None`` when the writer should use python-lz4 instead
    (``$CHUTE_LZ4_ENGINE`` is ``python-lz4``, or it is ``auto`` and liblz4 is missing or
    older than :data:`MIN_VERSION`). Raises :class:`~chute.errors.ChuteError` when
    ``$CHUTE_LZ4_ENGINE`` is ``liblz4`` and it cannot be loaded."""
    global _lib, _tried
    choice = _choice()
    if choice == "python-lz4":
        return None
    if not _tried:
        _lib, _tried = _open(), True
    if _lib is None and choice == "liblz4":
        raise ChuteError(f"${ENV}=liblz4, but the system liblz4 (1.9.0 or newer) could not be loaded")
    return _lib


def version() -> str | None:
    """The loaded liblz4's version ("1.9.4"), or ``None``."""
    lib = load()
    if lib is None:
        return None
    n = int(lib.LZ4_versionNumber())
    return f"{n // 10000}.{n // 100 % 100}.{n % 100}"


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer``: the address of any buffer, read-only ones included."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_api: Any = None


def _buffer_api() -> Any:
    global _api
    if _api is None:
        api = ctypes.pythonapi
        api.PyObject_GetBuffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
        api.PyBuffer_Release.argtypes = [ctypes.POINTER(_PyBuffer)]
        _api = api
    return _api


class _Pinned:
    """``with _Pinned(data) as (address, size)``: the address of ``data``'s bytes, held
    for the block. The blocks the parallel compressor hands over are read-only views of
    ``bytes``, which ctypes cannot point at without a copy (4 MiB per block)."""

    __slots__ = ("_data", "_view")

    def __init__(self, data: Buffer) -> None:
        self._data = data
        self._view = _PyBuffer()

    def __enter__(self) -> tuple[int, int]:
        api = _buffer_api()
        if api.PyObject_GetBuffer(self._data, ctypes.byref(self._view), 0) != 0:  # pragma: no cover
            raise BufferError("not a contiguous buffer")
        return self._view.buf or 0, self._view.len

    def __exit__(self, *exc: object) -> None:
        _api.PyBuffer_Release(ctypes.byref(self._view))


class FrameCompressor:
    """One LZ4F compression context writing frames of independent blocks.

    :meth:`begin` starts a frame (its header), :meth:`update` compresses every block
    that fills up and keeps the rest (at most one block, inside LZ4F), :meth:`flush`
    emits the kept bytes as a block of their own, :meth:`end` flushes and ends the
    frame (end mark, content checksum); :meth:`frame` writes a whole frame of given
    blocks in one call. Levels below 3 are LZ4's fast mode, 3-12 its high-compression
    mode at that level, as in the ``lz4`` CLI. Output goes through one reused buffer
    (``LZ4F_compressBound(block_size)`` bytes, about two blocks), so each call copies out
    at most one block's worth (longer input is taken a block at a time).

    The content checksum is ``xxhash``'s XXH32 over the input, not LZ4F's: the same
    value in half the time (0.05 s against 0.10 s for 202 MB, 7% of the whole
    ``lz4 -1``), so LZ4F writes frames without one and this class writes ``header``
    instead of LZ4F's (:func:`chute.codecs.lz4.frame_header`, with the checksum flag)
    and the checksum after the end mark.
    """

    def __init__(self, level: int, block_size: int, checksum: bool, header: bytes) -> None:
        lib = load()
        if lib is None:
            raise ChuteError("the system liblz4 is not in use")
        self._lib = lib
        prefs = _Preferences()
        prefs.frameInfo.blockSizeID = header[5] >> 4  # the id our header's BD byte names
        prefs.frameInfo.blockMode = 1
        prefs.compressionLevel = level
        self._prefs = prefs
        self._block = block_size
        self._header = header
        if checksum:
            import xxhash

            self._new_hash: Any = xxhash.xxh32
            self._digest: Any = xxhash.xxh32_intdigest
        else:
            self._new_hash = self._digest = None
        self._hash: Any = None
        ctx = ctypes.c_void_p()
        self._check(lib.LZ4F_createCompressionContext(ctypes.byref(ctx), _LZ4F_VERSION))
        self._ctx: ctypes.c_void_p | None = ctx
        self._cap = int(lib.LZ4F_compressBound(block_size, ctypes.byref(prefs)))
        self._out = ctypes.create_string_buffer(self._cap)
        # the block calls of frame(): LZ4F's own for independent blocks, with the state
        # allocated once here (LZ4F_compressBegin per frame clears megabytes: 4% of lz4 -1)
        if level >= 3:
            self._state = ctypes.create_string_buffer(lib.LZ4_sizeofStateHC())
            self._compress, self._param = lib.LZ4_compress_HC_extStateHC, level
        else:
            self._state = ctypes.create_string_buffer(lib.LZ4_sizeofState())
            self._compress, self._param = lib.LZ4_compress_fast_extState, 1

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Free LZ4F's context (also done when the object is collected)."""
        ctx = getattr(self, "_ctx", None)
        if ctx:
            self._ctx = None
            self._lib.LZ4F_freeCompressionContext(ctx)

    def _check(self, code: int) -> int:
        if self._lib.LZ4F_isError(code):
            name = self._lib.LZ4F_getErrorName(code).decode("ascii", "replace")
            if "alloc" in name.lower():
                raise MemoryError(f"liblz4: {name}")
            raise ChuteError(f"lz4 compression failed (liblz4: {name})")
        return code

    def _begin(self, at: int, room: int) -> int:
        """Start LZ4F's frame; its header (written at ``at``) is replaced by ours, the same size."""
        n = self._check(self._lib.LZ4F_compressBegin(self._ctx, at, room, ctypes.byref(self._prefs)))
        if n != len(self._header):  # pragma: no cover - LZ4F's header without content size
            raise ChuteError(f"lz4 compression failed (liblz4 wrote a {n}-byte frame header)")
        ctypes.memmove(at, self._header, n)
        return n

    def begin(self) -> bytes:
        self._hash = self._new_hash() if self._new_hash else None
        n = self._begin(ctypes.addressof(self._out), self._cap)
        return ctypes.string_at(self._out, n)

    def update(self, data: Buffer) -> bytes:
        if self._hash is not None:
            self._hash.update(data)
        parts = []
        lib, ctx, out, cap, step = self._lib, self._ctx, self._out, self._cap, self._block
        with _Pinned(data) as (address, size):
            for pos in range(0, size, step):
                n = self._check(lib.LZ4F_compressUpdate(ctx, out, cap, address + pos, min(step, size - pos), None))
                if n:
                    parts.append(ctypes.string_at(out, n))
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def flush(self) -> bytes:
        n = self._check(self._lib.LZ4F_flush(self._ctx, self._out, self._cap, None))
        return ctypes.string_at(self._out, n) if n else b""

    def end(self) -> bytes:
        n = self._check(self._lib.LZ4F_compressEnd(self._ctx, self._out, self._cap, None))
        out = ctypes.string_at(self._out, n)
        return out if self._hash is None else out + self._hash.intdigest().to_bytes(4, "little")

    def frame(self, pieces: list[Buffer]) -> bytes:
        """A whole frame, each of ``pieces`` (none empty, none over ``block_size``) a block
        of its own, written into the output buffer and copied out once: the bytes LZ4F
        writes (a block stored raw when it does not shrink), block by block through the
        block API, with no frame state to set up per frame."""
        # room for the header, each piece stored with its size word, the end mark and checksum
        need = 32 + sum(len(piece) + 8 for piece in pieces)
        if need > self._cap:
            self._out, self._cap = ctypes.create_string_buffer(need), need
        base = ctypes.addressof(self._out)
        compress, state, param, memmove = self._compress, self._state, self._param, ctypes.memmove
        header = self._header
        memmove(base, header, len(header))
        pos = len(header)
        hashed = self._new_hash() if self._new_hash is not None and len(pieces) > 1 else None
        for piece in pieces:
            with _Pinned(piece) as (address, size):
                # at most size - 1 bytes, as LZ4F: a block that does not shrink is stored
                packed = compress(state, address, base + pos + 4, size, size - 1, param)
                if packed > 0:
                    memmove(base + pos, packed.to_bytes(4, "little"), 4)
                    pos += 4 + packed
                else:
                    memmove(base + pos, (size | 0x80000000).to_bytes(4, "little"), 4)
                    memmove(base + pos + 4, address, size)
                    pos += 4 + size
            if hashed is not None:
                hashed.update(piece)
        trailer = b"\0\0\0\0"
        if self._digest is not None:
            digest = hashed.intdigest() if hashed is not None else self._digest(pieces[0] if pieces else b"")
            trailer += digest.to_bytes(4, "little")
        memmove(base + pos, trailer, len(trailer))
        return ctypes.string_at(base, pos + len(trailer))
