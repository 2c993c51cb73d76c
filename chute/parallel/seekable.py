"""Random access into the seekable layouts, and the decoding of one independent frame.

The layouts (written by :func:`chute.parallel.jobs.seekable_compressor`, indexed by
:func:`chute.parallel.split.find_index`): the *zstd seekable format* (independent frames
and a seek table in a skippable frame at the end) and BGZF (gzip members of at most 64 KiB
that record their size). :class:`SeekableReader` reads either with ``seek()`` costing one
frame's decompression; :func:`decode_frame_pieces` decodes one frame, here and in the
parallel job loop.
"""

from __future__ import annotations

import bisect
import io
import zlib

from ..errors import CorruptStreamError
from .split import SeekIndex, find_index

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from typing import Any, BinaryIO

__all__ = ["SeekableReader", "open_seekable", "decode_frame", "decode_frame_pieces", "PIECE"]

#: Output piece of :func:`decode_frame_pieces` for a zstd frame of unknown size (the first
#: block of the binding's output buffer, returned as is). A frame of known size is decoded
#: in one call: in 32 KiB pieces, two threads decoding a seekable file handed the GIL over
#: ~21,000 times and the writer made ~6,000 writes for 200 MB (0.415 s median, 0.71 s of
#: CPU, against 0.335 s and 0.57 s in one call per frame); without chute.streams._malloc's heap
#: tuning the pieces also cost twice the CPU.
PIECE = 32 << 10


def decode_frame_pieces(format: str, raw: bytes | memoryview, size: int | None = None) -> list[bytes]:
    """Decode one independent frame (a zstd frame or a gzip member) of ``size`` bytes, as
    a list of pieces (one if ``size`` is given; else at most :data:`PIECE` bytes each for
    zstd)."""
    if format == "gzip" and size is not None:
        # libdeflate decodes a whole member about 3x faster than zlib; it needs the size
        # (BGZF indexes carry it) and checks the CRC32 and ISIZE itself
        import deflate

        parts: list[bytes]
        try:
            # a bytearray: written as it is, not copied into bytes
            parts = [deflate.gzip_decompress(raw, size)]  # type: ignore[list-item]
        except deflate.DeflateError:
            raise CorruptStreamError("invalid gzip member (bad data, CRC or size)") from None
    elif format == "gzip":
        try:
            parts = [zlib.decompress(raw, 31)]
        except zlib.error as exc:
            raise CorruptStreamError(f"invalid gzip member ({exc})") from None
    else:
        from ..codecs.zstd import ZstdDecompressor

        dec = ZstdDecompressor()
        parts = [dec.decompress(raw, PIECE if size is None else size + 1)]
        got = len(parts[0])
        while not dec.eof and not dec.needs_input and (size is None or got <= size):
            parts.append(dec.decompress(b"", PIECE))
            got += len(parts[-1])
        if not dec.eof or dec.unused_data:
            raise CorruptStreamError("seek table does not match the zstd frames")
    if size is not None and sum(map(len, parts)) != size:
        raise CorruptStreamError(f"{format} frame holds {sum(map(len, parts))} bytes, its index says {size}")
    return parts


def decode_frame(format: str, raw: bytes | memoryview, size: int | None = None) -> bytes:
    """Decode one independent frame (a zstd frame or a gzip member) of ``size`` bytes."""
    return b"".join(decode_frame_pieces(format, raw, size))


# --------------------------------------------------------------------------- reading


class PositionedRaw(io.RawIOBase):
    """A readable raw stream of what ``fp`` decodes to, from where ``fp`` stands
    (``_base``), whose ``seek()`` only moves a position (``_pos``): ``readinto`` decodes
    from wherever it stands. Subclasses give the decoded size, for ``SEEK_END``, and let go
    of their decoder in :meth:`_release`. ``owns``: closing this closes ``fp``."""

    def __init__(self, fp: BinaryIO, owns: bool) -> None:
        super().__init__()
        self._fp = fp
        self._base = fp.tell()
        self._owns = owns
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _end(self) -> int:
        raise NotImplementedError

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._end()
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        if offset < 0:
            raise ValueError("negative seek position")
        self._pos = offset
        return offset

    def _release(self) -> None:
        """Let go of what decodes, on :meth:`close` (before ``fp`` is closed)."""

    def close(self) -> None:
        if not self.closed:
            try:
                self._release()
                if self._owns:
                    self._fp.close()
            finally:
                super().close()


class IndexedReader(io.BufferedReader):
    """A read-only binary file (mode ``rb``, named ``name``) over a :class:`PositionedRaw`
    that an index lets seek anywhere: :class:`SeekableReader` and
    :class:`chute.parallel.gzindex.IndexedGzipReader`."""

    def __init__(self, raw: PositionedRaw, *, name: str) -> None:
        super().__init__(raw, buffer_size=64 << 10)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return "rb"


class _IndexedRaw(PositionedRaw):
    def __init__(self, fp: BinaryIO, index: SeekIndex, owns: bool) -> None:
        super().__init__(fp, owns)
        self.index = index
        self._frame = -1
        self._data = b""

    def _end(self) -> int:
        return self.index.size

    def _load(self, i: int) -> None:
        idx = self.index
        start, end = idx.comp_offsets[i], idx.comp_offsets[i + 1]
        self._fp.seek(self._base + start)
        raw = self._fp.read(end - start)
        if len(raw) != end - start:
            from ..errors import TruncatedStreamError

            raise TruncatedStreamError(f"{idx.format} file ends inside frame {i}")
        self._data = decode_frame(idx.format, raw, idx.offsets[i + 1] - idx.offsets[i])
        self._frame = i

    def readinto(self, b: Any) -> int:
        offsets = self.index.offsets
        view = memoryview(b).cast("B")
        while self._pos < offsets[-1] and len(view):
            i = bisect.bisect_right(offsets, self._pos) - 1
            if i != self._frame:
                self._load(i)
            skip = self._pos - offsets[i]
            n = min(len(view), len(self._data) - skip)
            if n <= 0:  # an empty frame
                continue
            view[:n] = self._data[skip : skip + n]
            self._pos += n
            return n
        return 0


class SeekableReader(IndexedReader):
    """A decompressing reader over a seekable zstd or BGZF file: ``seek()`` anywhere
    (including from the end) costs at most one frame's decompression."""

    def __init__(self, fp: BinaryIO, index: SeekIndex, *, owns_fp: bool = False, name: str = "") -> None:
        super().__init__(_IndexedRaw(fp, index, owns_fp), name=name)
        self._index = index

    @property
    def format(self) -> str:
        return self._index.format

    @property
    def size(self) -> int:
        """Decompressed size, known from the index."""
        return self._index.size


def open_seekable(
    fp: BinaryIO, format: str | None = None, *, owns_fp: bool = False, name: str = ""
) -> SeekableReader | None:
    """A :class:`SeekableReader` if ``fp`` holds a seekable layout, else ``None``."""
    index = find_index(fp, format)
    if index is None:
        return None
    return SeekableReader(fp, index, owns_fp=owns_fp, name=name)
