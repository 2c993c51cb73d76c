"""Random access into any gzip file through an index of checkpoints.

:func:`build_index` decodes a gzip file once with the system zlib
(:mod:`chute.codecs._libz`), stopping at each deflate block boundary, and records a
checkpoint (:mod:`chute.codecs.gzindex`) every ``spacing`` bytes of output;
:func:`extend_index` continues an index over a file that grew. :class:`IndexedGzipReader`
reads the file with ``seek()`` costing one checkpoint's decode; :func:`load_index` refuses
an index that is damaged or made for another file.

Decoding from a checkpoint checks every later checkpoint it passes: the stream must have
a block boundary at its bit offset, at its output offset, with the same window, or
:class:`~chute.errors.IndexFileError` is raised. Members decoded from their start have
their CRC32 and size checked by zlib; the member a checkpoint falls in cannot be (its
start is not decoded), which is the one thing an index trusts.
"""

from __future__ import annotations

import bisect
import ctypes
import io
import os

from ..codecs import gzindex as fmt
from ..codecs._libz import WINDOW, Inflater
from ..codecs.gzindex_foreign import Foreign, Point, gzip_header_size
from ..codecs.gzindex_foreign import write as write_foreign
from ..errors import IndexFileError, TrailingDataError, TruncatedStreamError, UnknownFormatError
from .seekable import IndexedReader, PositionedRaw

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = [
    "build_index",
    "extend_index",
    "load_index",
    "import_index",
    "export_index",
    "read_identity",
    "IndexedGzipReader",
    "index_path_for",
]

#: Compressed bytes read from the file at a time.
READ_STEP = 1 << 20
#: Decoded bytes produced per inflate call at most.
OUT_STEP = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
#: Another tool's point at the end of a member's header is chute's checkpoint at its start.
_HEADER_END = 2


def index_path_for(path: str | os.PathLike[str]) -> str:
    """The sidecar index of the gzip file ``path``."""
    return os.fspath(path) + fmt.SUFFIX


def read_identity(fp: BinaryIO, base: int, size: int) -> bytes:
    """:func:`chute.codecs.gzindex.identity` of bytes ``[base, base + size)`` of ``fp``."""
    samples = []
    for start, length in fmt.sample_spans(size):
        fp.seek(base + start)
        data = fp.read(length)
        if len(data) != length:
            raise TruncatedStreamError("file shorter than its index says")
        samples.append(data)
    return fmt.identity(size, samples)


class _Walker:
    """Decodes a gzip file from one checkpoint to its end.

    ``record``: a spacing, to record new checkpoints (building); ``place``: the (bit, out)
    places of another tool's points, to record checkpoints there (importing), each of which
    must be a place where decoding can start; else the index's later checkpoints are
    checked as they are passed (reading).
    """

    def __init__(
        self,
        fp: BinaryIO,
        base: int,
        index: fmt.GzipIndex,
        start: int,
        *,
        record: int | None = None,
        place: list[tuple[int, int]] | None = None,
    ) -> None:
        self._fp = fp
        self._base = base
        self._index = index
        self._record = record
        self._place = place  # (bit, out) of another tool's points: checkpoints go there
        self._place_i = 0
        self._member_bit = 0
        cps = index.checkpoints
        cp = cps[start]
        self._next = start + 1  # next checkpoint to check (reading) ...
        self._last_out = cp.out  # ... or the output offset of the last one (building)
        self.found: list[fmt.Checkpoint] = []
        self.out = cp.out
        self._member_out = cp.out - cp.window_size
        self._buf = ctypes.create_string_buffer(WINDOW + OUT_STEP)
        self._view = memoryview(self._buf).cast("B")
        self._pos = 0  # end of the output in _buf
        self._in_member = False
        self._raw_member = False  # decoding a member from inside: its trailer is skipped by hand
        self._feed_pos = 0  # file offset (from base) of the input last fed
        self._feed_len = 0
        self.done = False
        self.end = -1  # the file's size, once its end was met
        self._inf: Inflater | None = None
        if cp.kind == fmt.MEMBER:
            self._in_pos = cp.bit // 8
        else:
            window = index.window(start)
            inf = Inflater(-15)
            byte, k = divmod(cp.bit, 8)
            self._in_pos = byte
            if k:
                first = self._read_at(byte, 1)
                if not first:
                    raise TruncatedStreamError("gzip file ends before a checkpoint of its index")
                inf.prime(8 - k, first[0] >> k)
                self._in_pos = byte + 1
            self._feed_pos = self._in_pos
            inf.set_dictionary(window)
            ctypes.memmove(self._buf, window, len(window))
            self._pos = len(window)
            self._inf = inf
            self._in_member = True
            self._raw_member = True

    def close(self) -> None:
        if self._inf is not None:
            self._inf.close()

    def _read_at(self, pos: int, n: int) -> bytes:
        self._fp.seek(self._base + pos)
        return self._fp.read(n)

    @property
    def _next_in(self) -> int:
        """File offset of the first input byte zlib has not taken."""
        inf = self._inf
        return self._feed_pos + self._feed_len - (inf.unconsumed if inf is not None else 0)

    # ------------------------------------------------------------------ members
    def _start_member(self) -> bool:
        """At a byte where a member may start: begin it; False at the end of the file."""
        head = self._read_at(self._in_pos, 2)
        if not head:
            if self._in_pos == 0:
                raise TruncatedStreamError("empty file, not gzip")
            self.end = self._in_pos
            return False
        if head != _GZIP_MAGIC[: len(head)] or len(head) < 2:
            if self._in_pos == 0:
                raise UnknownFormatError("not a gzip file")
            self._check_padding()
            return False
        self._member_bit = self._in_pos * 8
        self._at_checkpoint(self._in_pos * 8, fmt.MEMBER)
        if self._inf is None:
            self._inf = Inflater(31)
        else:
            self._inf.reset(31)
        self._feed_pos, self._feed_len = self._in_pos, 0
        self._inf.feed(b"")
        self._member_out = self.out
        self._in_member = True
        self._raw_member = False
        return True

    def _check_padding(self) -> None:
        """After the last member: zeros to the end of the file (tar padding), or an error,
        as :class:`~chute.codecs._stream.StreamDecoder` decides."""
        pos = self._in_pos
        seen_zero = False
        while True:
            data = self._read_at(pos, READ_STEP)
            if not data:
                self.end = pos
                return
            stripped = data.lstrip(b"\0")
            if stripped:
                what = "data after zero padding" if seen_zero or len(stripped) < len(data) else "trailing data"
                raise TrailingDataError(f"{what} after the last gzip member")
            seen_zero = True
            pos += len(data)

    def _end_member(self) -> None:
        self._in_pos = self._next_in
        if self._raw_member:  # zlib decoded raw deflate: the 8-byte trailer is ours to skip
            if len(self._read_at(self._in_pos, 8)) != 8:
                raise TruncatedStreamError("gzip file ends inside a member trailer")
            self._in_pos += 8
        self._in_member = False

    # ------------------------------------------------------------------ checkpoints
    def _at_checkpoint(self, bit: int, kind: int) -> None:
        """At a place a checkpoint could be: record one (building) or check the index's."""
        if self._place is not None:
            self._place_at(bit, kind)
            return
        if self._record is not None:
            if self.out - self._last_out >= self._record or (kind == fmt.MEMBER and bit == 0):
                if bit == 0 and self.found:
                    return
                size = min(WINDOW, self.out - self._member_out) if kind == fmt.INSIDE else 0
                window = fmt.compress_window(self._view[self._pos - size : self._pos]) if size else b""
                self.found.append(fmt.Checkpoint(bit, self.out, kind, size, window))
                self._last_out = self.out
            return
        cps = self._index.checkpoints
        while self._next < len(cps) and cps[self._next].bit <= bit:
            cp = cps[self._next]
            if cp.bit < bit or cp.out != self.out or cp.kind != kind:
                raise IndexFileError(f"gzip index does not match the file (checkpoint {self._next})")
            have = min(self._pos, self.out - self._member_out)
            seen = self._view[self._pos - cp.window_size : self._pos] if have >= cp.window_size > 0 else None
            if seen is not None and self._index.window(self._next) != seen:
                raise IndexFileError(f"gzip index does not match the file (window of checkpoint {self._next})")
            self._next += 1

    def _place_at(self, bit: int, kind: int) -> None:
        want, i = self._place, self._place_i
        assert want is not None
        if i < len(want) and want[i][0] < bit:
            raise IndexFileError(f"index does not match the file (point {i} is not where decoding can start)")
        matched = False
        while i < len(want) and want[i] == (bit, self.out):
            matched, i = True, i + 1
        self._place_i = i
        if not matched and bit != 0:
            return
        if kind != fmt.INSIDE:  # a member's start, or the end of its header: the same place for chute
            if not self.found or self.found[-1].bit != self._member_bit:
                self.found.append(fmt.Checkpoint(self._member_bit, self.out))
            return
        size = min(WINDOW, self.out - self._member_out)
        window = fmt.compress_window(self._view[self._pos - size : self._pos]) if size else b""
        self.found.append(fmt.Checkpoint(bit, self.out, kind, size, window))

    def placed_all(self) -> int | None:
        """Importing: the first point that was never met, or ``None``."""
        assert self._place is not None
        return self._place_i if self._place_i < len(self._place) else None

    # ------------------------------------------------------------------ decoding
    def read(self, limit: int) -> bytes:
        """Up to ``limit`` (> 0) decoded bytes; empty at the end of the file."""
        while not self.done:
            if not self._in_member and not self._start_member():
                self._finish()
                break
            inf = self._inf
            assert inf is not None
            if inf.unconsumed == 0:
                self._feed_pos = self._next_in
                data = self._read_at(self._feed_pos, READ_STEP)
                if not data:
                    raise TruncatedStreamError("gzip file ends inside a member")
                self._feed_len = len(data)
                inf.feed(bytearray(data))
            if self._pos + min(limit, OUT_STEP) > len(self._buf):
                keep = min(WINDOW, self._pos)
                ctypes.memmove(self._buf, ctypes.addressof(self._buf) + self._pos - keep, keep)
                self._pos = keep
            start = self._pos
            made = inf.inflate(self._buf, start, min(limit, OUT_STEP), block=True)
            self._pos += made
            self.out += made
            if inf.eof:
                self._end_member()
            elif inf.boundary and self.out > self._member_out:
                self._at_checkpoint(self._next_in * 8 - inf.bits, fmt.INSIDE)
            elif inf.boundary and self._place is not None:
                self._at_checkpoint(self._next_in * 8 - inf.bits, _HEADER_END)
            if made:
                return bytes(self._view[start : start + made])
        return b""

    def _finish(self) -> None:
        self.done = True
        cps = self._index.checkpoints
        if self._record is None and self._next < len(cps):
            raise IndexFileError(f"gzip index does not match the file (checkpoint {self._next} after its end)")


def build_index(fp: BinaryIO, *, spacing: int = fmt.DEFAULT_SPACING) -> fmt.GzipIndex:
    """Index the gzip file ``fp`` (from its current position to its end) with a checkpoint
    every ``spacing`` decoded bytes. Decodes the whole file once, checking every member;
    an invalid file raises the error its plain decode would."""
    if not fmt.MIN_SPACING <= spacing <= fmt.MAX_SPACING:
        raise ValueError(f"spacing must be {fmt.MIN_SPACING} to {fmt.MAX_SPACING} bytes")
    base = fp.tell()
    start = fmt.GzipIndex(spacing, 1, 0, b"", [fmt.Checkpoint(0, 0)])
    return _walk_all(fp, base, start, 0, spacing, [])


def extend_index(fp: BinaryIO, index: fmt.GzipIndex) -> fmt.GzipIndex | None:
    """``index`` continued over the bytes ``fp`` gained since it was built, decoding from
    its last checkpoint only; ``None`` if the file has not changed.
    :class:`~chute.errors.IndexFileError` if the indexed prefix changed."""
    base = fp.tell()
    size = fp.seek(0, io.SEEK_END) - base
    _check_identity(fp, base, size, index, grown_ok=True)
    if size == index.size:
        return None
    last = len(index.checkpoints) - 1
    return _walk_all(fp, base, index, last, index.spacing, index.checkpoints[:last])


def _walk_all(
    fp: BinaryIO,
    base: int,
    index: fmt.GzipIndex,
    start: int,
    spacing: int,
    kept: list[fmt.Checkpoint],
) -> fmt.GzipIndex:
    walker = _Walker(fp, base, index, start, record=spacing)
    if start or index.checkpoints[start].kind != fmt.MEMBER:
        walker.found.append(index.checkpoints[start])  # resumed: the checkpoint stays
    try:
        while walker.read(OUT_STEP):
            pass
    finally:
        walker.close()
    size = walker.end
    checkpoints = kept + walker.found
    if len(checkpoints) > fmt.MAX_CHECKPOINTS:
        from ..errors import LimitExceededError

        raise LimitExceededError(f"more than {fmt.MAX_CHECKPOINTS} checkpoints: choose a larger spacing")
    return fmt.GzipIndex(spacing, size, walker.out, read_identity(fp, base, size), checkpoints)


def _check_identity(fp: BinaryIO, base: int, size: int, index: fmt.GzipIndex, *, grown_ok: bool) -> None:
    if size < index.size or (size > index.size and not grown_ok):
        raise IndexFileError(f"gzip index is for a file of {index.size} bytes, not {size}")
    if read_identity(fp, base, index.size) != index.ident:
        raise IndexFileError("gzip index was made for another file, or for this one before it changed")


def load_index(data: bytes, fp: BinaryIO) -> fmt.GzipIndex:
    """Parse the index ``data`` and check that it belongs to ``fp`` (from its current
    position; a file that grew since keeps its index for the part it had)."""
    index = fmt.parse(data)
    base = fp.tell()
    size = fp.seek(0, io.SEEK_END) - base
    try:
        _check_identity(fp, base, size, index, grown_ok=True)
    finally:
        fp.seek(base)
    return index


def import_index(fp: BinaryIO, foreign: Foreign) -> fmt.GzipIndex:
    """A chute index of the gzip file ``fp`` with checkpoints where ``foreign`` (another
    tool's index of it) has its points. The file is decoded once, every point must be a
    place where decoding can start, and the windows are taken from the decoded output, so
    nothing of the other index is trusted but its positions."""
    base = fp.tell()
    size = fp.seek(0, io.SEEK_END) - base
    fp.seek(base)
    if foreign.size not in (None, 0, size):
        raise IndexFileError(f"{foreign.format} index is for a file of {foreign.size} bytes, not {size}")
    wanted = sorted({(p.bit, p.out) for p in foreign.points if p.bit < size * 8})
    start = fmt.GzipIndex(fmt.DEFAULT_SPACING, 1, 0, b"", [fmt.Checkpoint(0, 0)])
    walker = _Walker(fp, base, start, 0, place=wanted)
    try:
        while walker.read(OUT_STEP):
            pass
    except IndexFileError as exc:
        raise IndexFileError(f"{foreign.format} {exc}") from None
    finally:
        walker.close()
    missed = walker.placed_all()
    if missed is not None:
        raise IndexFileError(f"{foreign.format} index does not match the file (point {missed} lies past its end)")
    if foreign.out_size not in (None, 0, walker.out):
        raise IndexFileError(f"{foreign.format} index is for {foreign.out_size} decoded bytes, not {walker.out}")
    spacing = foreign.spacing if foreign.spacing and fmt.MIN_SPACING <= foreign.spacing <= fmt.MAX_SPACING else None
    return fmt.GzipIndex(
        spacing or fmt.DEFAULT_SPACING, walker.end, walker.out, read_identity(fp, base, walker.end), walker.found
    )


def export_index(fp: BinaryIO, index: fmt.GzipIndex, format: str) -> bytes:
    """``index`` (of the gzip file ``fp``) in another tool's format: indexed_gzip's or
    gztool's. Their points at the start of a member sit after its header, which is read
    from ``fp``."""
    base = fp.tell()
    points = []
    for i, cp in enumerate(index.checkpoints):
        if cp.kind == fmt.MEMBER:
            fp.seek(base + cp.bit // 8)
            head = fp.read(64 << 10)
            hsize = gzip_header_size(head)
            if hsize is None:
                raise IndexFileError(f"no gzip header where checkpoint {i} says a member starts")
            points.append(Point(cp.bit + 8 * hsize, cp.out))
        else:
            points.append(Point(cp.bit, cp.out, index.window(i) or None))
    fp.seek(base)
    return write_foreign(Foreign(format, points, index.size, index.out_size, index.spacing))


class _IndexedRaw(PositionedRaw):
    def __init__(self, fp: BinaryIO, index: fmt.GzipIndex, owns: bool, index_name: str) -> None:
        super().__init__(fp, owns)
        self._index_name = index_name
        self.index = index
        self._outs = [cp.out for cp in index.checkpoints]
        self._walker: _Walker | None = None

    def _end(self) -> int:
        size = self._fp.seek(0, io.SEEK_END) - self._base
        if size != self.index.size:
            raise io.UnsupportedOperation("cannot seek from the end of a gzip file that grew since it was indexed")
        return self.index.out_size

    def _walker_at(self, pos: int) -> _Walker:
        i = bisect.bisect_right(self._outs, pos) - 1
        # several checkpoints at one output offset (empty members): the first one
        while i > 0 and self._outs[i - 1] == self._outs[i]:
            i -= 1
        w = self._walker
        if w is not None and self._outs[i] <= w.out <= pos and not w.done:
            return w
        if w is not None:
            w.close()
        w = self._walker = _Walker(self._fp, self._base, self.index, i)
        return w

    def readinto(self, b: Any) -> int:
        try:
            return self._readinto(b)
        except IndexFileError as exc:
            if not self._index_name:
                raise
            raise IndexFileError(f"{self._index_name}: {exc}") from None

    def _readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if not len(view):
            return 0
        w = self._walker_at(self._pos)
        while w.out < self._pos:
            if not w.read(min(self._pos - w.out, OUT_STEP)):
                return 0
        data = w.read(len(view))
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def _release(self) -> None:
        if self._walker is not None:
            self._walker.close()


class IndexedGzipReader(IndexedReader):
    """A decompressing reader over a gzip file with an index: ``seek()`` anywhere costs
    the decode of at most one checkpoint's span (``spacing`` bytes of output). An index
    found not to match the file while reading raises
    :class:`~chute.errors.IndexFileError`, naming ``index_name`` if given."""

    def __init__(
        self, fp: BinaryIO, index: fmt.GzipIndex, *, owns_fp: bool = False, name: str = "", index_name: str = ""
    ) -> None:
        super().__init__(_IndexedRaw(fp, index, owns_fp, index_name), name=name)
        self._index = index

    @property
    def format(self) -> str:
        return "gzip"

    @property
    def index(self) -> fmt.GzipIndex:
        return self._index
