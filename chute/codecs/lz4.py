"""LZ4 frame format: written through the system liblz4 (:mod:`._liblz4`, else python-lz4's
``lz4.block``) with ``xxhash``'s content checksum, read through ``lz4.block`` and
``xxhash`` (frames of independent blocks) or ``lz4.frame`` (LZ4F, every other frame).

Defaults follow the ``lz4`` CLI: 4 MiB independent blocks and a content checksum, so a
stream compressed without flushes is byte for byte what ``lz4 -1`` (``-9``...) writes
when both run the same liblz4 version, and ``lz4 -d`` checks it. A SYNC flush emits the
buffered block without ending the frame; FULL ends the frame.
"""

from __future__ import annotations

from ..errors import ChecksumError, CorruptStreamError
from ._base import Buffer, FlushMode

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from typing import Any

BLOCK_SIZES = {64 << 10: 4, 256 << 10: 5, 1 << 20: 6, 4 << 20: 7}


class Lz4Compressor:
    """Frames of independent blocks, as the ``lz4`` CLI writes them.

    The engine is the system liblz4 through :mod:`chute.codecs._liblz4` (an LZ4F context
    for a stream, the block API for :meth:`frame`); where it cannot be loaded,
    :class:`_PythonFrame` assembles the same frames from python-lz4's ``lz4.block``
    (whose own copy of liblz4 compresses blocks under 64 KiB a little differently).
    ``$CHUTE_LZ4_ENGINE`` chooses. The content checksum is ``xxhash``'s XXH32 in both.
    Levels 1-2 are LZ4's fast mode (as in LZ4F), 3-12 its high-compression mode at that
    level.

    A partial block is kept (at most ``block_size`` bytes) until it fills or a flush:
    a SYNC flush emits it as a block without ending the frame, FULL ends the frame.
    """

    def __init__(self, level: int = 1, *, block_size: int = 4 << 20, checksum: bool = True) -> None:
        if block_size not in BLOCK_SIZES:
            raise ValueError(f"lz4 block_size must be one of {sorted(BLOCK_SIZES)}")
        from . import _liblz4

        self.block_size = block_size
        self._engine: _PythonFrame | _liblz4.FrameCompressor
        if _liblz4.load() is not None:
            header = frame_header(block_size, checksum)
            self._engine = _liblz4.FrameCompressor(level, block_size, checksum, header)
        else:
            self._engine = _PythonFrame(level, block_size, checksum)
        self._open = False

    def _begin(self) -> bytes:
        if self._open:
            return b""
        self._open = True
        return self._engine.begin()

    def compress(self, data: Buffer) -> bytes:
        head = self._begin()
        out = self._engine.update(data)
        return head + out if head else out

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        if not self._open:
            return b""
        if mode is FlushMode.FULL:
            self._open = False
            return self._engine.end()
        return self._engine.flush()

    def finish(self) -> bytes:
        head = self._begin()
        self._open = False
        return head + self._engine.end()

    def frame(self, pieces: list[Buffer]) -> bytes:
        """One whole frame of ``pieces``, each a block of its own (at most
        :attr:`block_size`; empty ones are skipped), joined once. Only on a compressor with
        no frame open."""
        if self._open:
            raise ValueError("a frame is open: finish it first")
        blocks = [piece for piece in pieces if len(piece)]  # an empty block would read as the end mark
        if any(len(block) > self.block_size for block in blocks):
            raise ValueError(f"an lz4 block holds at most {self.block_size} bytes")
        return self._engine.frame(blocks)


class _PythonFrame:
    """The writer's engine where liblz4 cannot be loaded: each block one
    ``lz4.block.compress`` call on the caller's buffer, the content checksum ``xxhash``'s
    XXH32, the frame (descriptor, blocks stored raw when they do not shrink, end mark,
    checksum) assembled here as LZ4F writes it. The same methods as
    :class:`chute.codecs._liblz4.FrameCompressor`."""

    def __init__(self, level: int, block_size: int, checksum: bool) -> None:
        import lz4.block as lb
        import xxhash

        compress = lb.compress
        if level >= 3:
            self._block: Any = lambda data: compress(data, mode="high_compression", compression=level, store_size=False)
        else:
            self._block = lambda data: compress(data, store_size=False)
        self.block_size = block_size
        self._header = frame_header(block_size, checksum)
        self._new_hash = xxhash.xxh32 if checksum else None
        self._hash: Any = None
        self._pending = bytearray()

    def _emit(self, block: Buffer, parts: list[bytes]) -> None:
        packed = self._block(block)
        size = len(block)
        if len(packed) < size:
            parts += (len(packed).to_bytes(4, "little"), packed)
        else:
            parts += ((size | 0x80000000).to_bytes(4, "little"), bytes(block))
        if self._hash is not None:
            self._hash.update(block)

    def begin(self) -> bytes:
        self._hash = self._new_hash() if self._new_hash else None
        self._pending.clear()
        return self._header

    def update(self, data: Buffer) -> bytes:
        parts: list[bytes] = []
        size, pending = self.block_size, self._pending
        with memoryview(data) as whole:
            view = whole.cast("B")
            pos, end = 0, len(view)
            if pending:
                pos = min(size - len(pending), end)
                pending += view[:pos]
                if len(pending) == size:
                    self._emit(pending, parts)
                    pending.clear()
            while end - pos >= size:
                self._emit(view[pos : pos + size], parts)
                pos += size
            if pos < end:
                pending += view[pos:]
            view.release()
        return b"".join(parts)

    def flush(self) -> bytes:
        parts: list[bytes] = []
        if self._pending:
            self._emit(self._pending, parts)
            self._pending.clear()
        return b"".join(parts)

    def end(self) -> bytes:
        parts = [self.flush(), b"\0\0\0\0"]
        if self._hash is not None:
            parts.append(self._hash.intdigest().to_bytes(4, "little"))
        return b"".join(parts)

    def frame(self, blocks: list[Buffer]) -> bytes:
        parts = [self.begin()]
        for block in blocks:
            parts += (self.update(block), self.flush())
        parts.append(self.end())
        return b"".join(parts)


def frame_header(block_size: int, checksum: bool) -> bytes:
    """The header of a frame of independent ``block_size`` blocks (LZ4 frame format 1.6.x)."""
    descriptor = bytes((0x60 | (0x04 if checksum else 0), BLOCK_SIZES[block_size] << 4))
    return _FRAME_MAGIC.to_bytes(4, "little") + descriptor + bytes((header_check_byte(descriptor),))


def compress_frame(
    data: Buffer | list[Buffer], level: int = 1, checksum: bool = True, *, comp: Lz4Compressor | None = None
) -> bytes:
    """``data`` as one complete frame of independent blocks, joined once (thread-safe).

    ``data`` may be a list of pieces of at most 4 MiB each: every piece is then a block of
    its own, so pieces a writer gave need not be joined into one buffer first (matches
    reach back only 64 KiB, so a 1 MiB block costs ~0.01% of ratio against 4 MiB).
    ``comp``: a compressor with no frame open to write it with (its level, 4 MiB blocks
    and checksum setting replace ``level`` and ``checksum``), reused from frame to frame
    by one thread.
    """
    comp = comp or Lz4Compressor(level, checksum=checksum)
    if isinstance(data, list):
        return comp.frame(data)
    size = comp.block_size
    with memoryview(data) as whole:
        view = whole.cast("B")
        out = comp.frame([view[pos : pos + size] for pos in range(0, len(view), size)])
        view.release()
    return out


class LinkedLz4Compressor:
    """LZ4F's streaming compressor through ``lz4.frame``: for linked blocks, where each
    block may refer to the one before it (``block_linked=True``), which the block API
    above does not keep track of."""

    def __init__(
        self,
        level: int = 1,
        *,
        block_size: int = 4 << 20,
        checksum: bool = True,
    ) -> None:
        import lz4.frame as lf

        if block_size not in BLOCK_SIZES:
            raise ValueError(f"lz4 block_size must be one of {sorted(BLOCK_SIZES)}")
        self._lf = lf
        self._args = dict(
            compression_level=level,
            block_size=BLOCK_SIZES[block_size],
            content_checksum=int(checksum),
            block_linked=1,
            auto_flush=0,
        )
        self._ctx: Any = None

    def _begin(self) -> bytes:
        self._ctx = self._lf.create_compression_context()
        return self._lf.compress_begin(self._ctx, **self._args)  # type: ignore[no-any-return]

    def compress(self, data: Buffer) -> bytes:
        head = self._begin() if self._ctx is None else b""
        if not len(data):
            return head
        return head + self._lf.compress_chunk(self._ctx, data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        if self._ctx is None:
            return b""
        if mode is FlushMode.FULL:
            out = self._lf.compress_flush(self._ctx, end_frame=True)
            self._ctx = None
            return out  # type: ignore[no-any-return]
        return self._lf.compress_flush(self._ctx, end_frame=False)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        head = self._begin() if self._ctx is None else b""
        out = head + self._lf.compress_flush(self._ctx, end_frame=True)
        self._ctx = None
        return out  # type: ignore[no-any-return]


_FRAME_MAGIC = 0x184D2204
_BLOCK_MAX = {4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20}


def header_check_byte(descriptor: Buffer) -> int:
    """The check byte that ends a frame header, over its descriptor (FLG, BD and the
    optional content size and dictionary ID)."""
    import xxhash

    return (xxhash.xxh32_intdigest(descriptor) >> 8) & 0xFF


def block_decoder(block_max: int, block_checksum: bool) -> Any:
    """``decode(body, stored, expect, index)``: the content of one block of a frame of
    independent blocks (``stored``: its high size bit, raw content), after its checksum
    (``expect``) when the frame has them; ``index`` names the block in errors."""
    import lz4.block as lb
    import xxhash

    unpack, error, check = lb.decompress, lb.LZ4BlockError, xxhash.xxh32_intdigest

    def decode(body: Buffer, stored: bool, expect: int, index: int) -> bytes:
        if block_checksum and check(body) != expect:
            raise ChecksumError(f"lz4 checksum mismatch (block {index})")
        if stored:
            return body if type(body) is bytes else bytes(body)
        try:
            return unpack(body, uncompressed_size=block_max)  # type: ignore[no-any-return]
        except error:
            raise CorruptStreamError(f"invalid lz4 data (block {index} does not decode)") from None

    return decode


def independent_blocks(flg: int, bd: int) -> bool:
    """Whether a frame descriptor's FLG and BD bytes announce what chute decodes without
    LZ4F: version 01, independent blocks, no dictionary, reserved bits clear, a known
    maximum block size."""
    return flg >> 6 == 1 and bool(flg & 0x20) and not flg & 0x03 and not bd & 0x8F and (bd >> 4) & 7 in _BLOCK_MAX


#: Most output one block can produce: what a caller should allow per step to get whole blocks.
MAX_BLOCK = 4 << 20


class _Lz4F:
    """LZ4F's decompression context, through ``lz4.frame``'s chunk functions.

    The same contract as ``lz4.frame.LZ4FrameDecompressor`` (which this replaces), minus
    its copy of every input that is not ``bytes``: whole units arrive here as slices of
    a memoryview, and copying each (50 MB for a 100 MB file) cost 10% of the decode.
    """

    def __init__(self) -> None:
        import lz4.frame as lf

        self._chunk = lf.decompress_chunk
        self._ctx = lf.create_decompression_context()
        self._unconsumed = b""
        self.eof = False
        self.needs_input = True
        self.unused_data: bytes | None = None

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._unconsumed:
            data = self._unconsumed + bytes(data)
        out, used, self.eof = self._chunk(self._ctx, data, max_length=max_length)
        size = memoryview(data).nbytes
        if used < size:
            rest = memoryview(data).cast("B")[used:].tobytes()
            if self.eof:
                self.unused_data = rest
            else:
                self._unconsumed, self.needs_input = rest, False
        else:
            self._unconsumed, self.needs_input, self.unused_data = b"", True, None
        return out  # type: ignore[no-any-return]


class _OwnFrame:
    """The blocks of one frame of independent blocks, decoded with ``lz4.block``.

    LZ4F decodes such a frame at about half the speed of ``lz4 -d``: it copies each
    block and checks the content with its own slow XXH32. Here a block is one
    ``lz4.block.decompress`` call straight from the input, and xxhash checks the
    content. The checks are LZ4F's, in its order: block checksum, block, then at the
    end mark the content size, then the content checksum.
    """

    __slots__ = ("_block_checksum", "_blocks", "_decode", "_hash", "_produced", "_size", "ended")

    def __init__(self, block_max: int, block_checksum: bool, content_checksum: bool, size: int | None) -> None:
        import xxhash

        self._decode = block_decoder(block_max, block_checksum)
        self._block_checksum = block_checksum
        self._blocks = 0
        self._hash = xxhash.xxh32() if content_checksum else None
        self._size = size
        self._produced = 0
        self.ended = False

    @classmethod
    def start(cls, header: memoryview, block_max: int) -> _OwnFrame | None:
        """For a frame header this class handles (independent blocks, no dictionary, valid
        header check byte); None leaves the frame, and any error in its header, to LZ4F."""
        flg, bd = header[4], header[5]
        if not independent_blocks(flg, bd) or header_check_byte(header[4:-1]) != header[-1]:
            return None
        size = int.from_bytes(header[6:14], "little") if flg & 0x08 else None
        return cls(block_max, bool(flg & 0x10), bool(flg & 0x04), size)

    def unit(self, unit: memoryview) -> bytes:
        """Decode a block (with its checksum) or check the end mark (with the content checksum)."""
        word = int.from_bytes(unit[:4], "little")
        if word == 0:
            self.ended = True
            if self._size is not None and self._produced != self._size:
                raise CorruptStreamError(
                    f"invalid lz4 data (frame header says {self._size} bytes, it holds {self._produced})"
                )
            if self._hash is not None and self._hash.intdigest() != int.from_bytes(unit[4:8], "little"):
                raise ChecksumError("lz4 checksum mismatch (content checksum of the frame)")
            return b""
        body = unit[4 : 4 + (word & 0x7FFFFFFF)]
        expect = int.from_bytes(unit[-4:], "little") if self._block_checksum else 0
        out: bytes = self._decode(body, bool(word >> 31), expect, self._blocks)
        self._blocks += 1
        if self._hash is not None:
            self._hash.update(out)
        self._produced += len(out)
        return out


class Lz4Decompressor:
    """Adapts ``lz4.frame.LZ4FrameDecompressor`` to chute's contract.

    LZ4F decodes a block straight into the caller's buffer only when the whole block is
    in its input and the output has room for a maximal block; otherwise it copies the
    input into a staging buffer, decodes into a second one and copies out again. So this
    adapter cuts the input at unit boundaries (frame header, block with its checksum,
    end mark with the content checksum) and decodes one complete unit at a time, then
    serves ``max_length`` from what the block produced (kept: at most one block). A frame
    of independent blocks (the ``lz4`` CLI's default, and chute's) is decoded by
    :class:`_OwnFrame`; other frames go to LZ4F one unit at a time, with room for a whole
    block (about 20% less CPU than feeding it arbitrary chunks). Input it cannot frame
    (a skippable frame, a bad header) goes to LZ4F as is, which decodes it or raises.

    The binding reports ``needs_input`` as soon as it has consumed all input, even when
    LZ4F still holds decoded bytes (its output buffer filled just as the input ran out):
    those bytes would only come out with the next input, so a flushed prefix of a live
    stream would miss its end. In the pass-through mode this adapter drains them with
    empty calls.
    """

    DRAIN = 1 << 20

    def __init__(self) -> None:
        self._obj = _Lz4F()
        self._in = bytearray()  # input not yet handed to LZ4F: less than one unit, or held back
        self._out: bytes = b""  # decoded, not yet returned
        self._out_pos = 0
        self._stage = 0  # 0: frame header, 1: block or end mark, 2: done (unused input follows)
        self._flags = 0
        self._block_max = MAX_BLOCK
        self._framing = True  # False: pass everything through to LZ4F
        self._own: _OwnFrame | None = None  # the frame's blocks are decoded here, not by LZ4F
        self._ended = False  # the end of a frame decoded here was reached
        self._needs_input = True
        self._unused = b""
        self._failed: CorruptStreamError | None = None

    @property
    def eof(self) -> bool:
        return (self._obj.eof or self._ended) and self._out_pos >= len(self._out)

    @property
    def needs_input(self) -> bool:
        return self._needs_input and not self.eof

    @property
    def unused_data(self) -> bytes:
        return self._unused + (self._obj.unused_data or b"")

    def _unit(self, buf: memoryview, pos: int) -> int:
        """Size of the unit starting at ``buf[pos]``: 0 if incomplete, -1 if not framable."""
        have = len(buf) - pos
        if have < 4:
            return 0
        word = int.from_bytes(buf[pos : pos + 4], "little")
        if self._stage == 0:
            if word != _FRAME_MAGIC:
                return -1
            if have < 6:
                return 0
            flg, bd = buf[pos + 4], buf[pos + 5]
            block_max = _BLOCK_MAX.get((bd >> 4) & 7)
            if flg >> 6 != 1 or block_max is None:
                return -1
            self._flags, self._block_max = flg, block_max
            size = 7 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0)
        elif word == 0:
            size = 8 if self._flags & 0x04 else 4
        else:
            body = word & 0x7FFFFFFF
            if body > self._block_max:
                return -1
            size = 4 + body + (4 if self._flags & 0x10 else 0)
        return size if have >= size else 0

    def _take(self, room: int) -> bytes:
        """Up to ``room`` bytes (-1: all) of the decoded block."""
        out, pos = self._out, self._out_pos
        if pos == 0 and (room < 0 or room >= len(out)):
            self._out, self._out_pos = b"", 0
            return out
        end = len(out) if room < 0 else min(len(out), pos + room)
        self._out_pos = end
        if end >= len(out):
            self._out, self._out_pos = b"", 0
        return out[pos:end]

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None:
            if self._out:  # decoded before the error: handed out first
                return self._take(max_length)
            raise self._failed
        parts: list[bytes] = []
        try:
            if not self._framing:
                return self._pass_through(data, max_length)
            return self._framed(data, max_length, parts)
        except (RuntimeError, CorruptStreamError) as exc:
            if isinstance(exc, CorruptStreamError):
                error: CorruptStreamError = exc
            elif "checksum" in str(exc).lower():
                error = ChecksumError(f"lz4 checksum mismatch ({exc})")
            else:
                error = CorruptStreamError(f"invalid lz4 data ({exc})")
            if not any(parts):
                raise error from None
            # the blocks decoded before the damage (or before a content checksum that does
            # not match) are returned; the next call raises
            self._failed = error
            self._needs_input = False
            return b"".join(parts)

    def _framed(self, data: Buffer, max_length: int, parts: list[bytes]) -> bytes:
        obj = self._obj
        room = max_length
        if self._out:
            parts.append(self._take(room))
            if room > 0:
                room -= len(parts[-1])
        if self._stage == 2:  # the frame ended: the rest belongs to whatever follows
            if len(data):
                self._unused += bytes(data)
            self._needs_input = False
            return b"".join(parts)
        if self._in:
            self._in += data
            src: Buffer = self._in
        else:
            src = data
        pos = 0
        with memoryview(src) as whole:
            buf = whole.cast("B")
            while room != 0 and self._stage != 2:
                size = self._unit(buf, pos)
                if size <= 0:
                    break
                unit = buf[pos : pos + size]
                if self._stage == 0:
                    self._own = _OwnFrame.start(unit, self._block_max)
                if self._own is not None:
                    out = self._own.unit(unit) if self._stage else b""
                    self._ended = self._own.ended
                else:
                    out = obj.decompress(unit, self._block_max)
                unit.release()
                pos += size
                if self._stage == 0:
                    self._stage = 1
                elif obj.eof or self._ended:
                    self._stage = 2
                if self._own is None and not obj.needs_input and not obj.eof:  # pragma: no cover
                    out += obj.decompress(b"", self.DRAIN)  # a whole unit always fits
                if out:
                    self._out, self._out_pos = out, 0
                    parts.append(self._take(room))
                    if room > 0:
                        room -= len(parts[-1])
            rest = buf[pos:]
            framable = self._stage == 2 or self._unit(buf, pos) >= 0
            if self._stage == 2:
                self._unused += bytes(rest)
                keep = b""
            else:
                keep = bytes(rest) if src is not self._in else b""
            rest.release()
            buf.release()
        if src is self._in:
            del self._in[:pos]
        elif keep:
            self._in = bytearray(keep)
        if not framable and self._own is not None:  # LZ4F never saw this frame's header
            raise CorruptStreamError("invalid lz4 data (a block claims more than the frame's maximum block size)")
        if not framable:  # LZ4F takes it from here, and decodes it or says what is wrong
            self._framing = False
            pending, self._in = bytes(self._in), bytearray()
            parts.append(self._pass_through(pending, room))
            return b"".join(parts)
        # input is needed when nothing decoded is waiting and no complete unit is buffered
        with memoryview(self._in) as held:
            self._needs_input = self._stage != 2 and not self._out and self._unit(held, 0) == 0
        return b"".join(parts)

    def _pass_through(self, data: Buffer, max_length: int) -> bytes:
        obj = self._obj
        out = obj.decompress(data, max_length)
        if obj.eof or not obj.needs_input:
            self._needs_input = False
            return out
        while max_length < 0 or len(out) < max_length:
            more = obj.decompress(b"", self.DRAIN if max_length < 0 else max_length - len(out))
            if not more:
                break
            out += more
        # a full max_length may leave more decoded bytes behind: ask for a call with b""
        self._needs_input = max_length < 0 or len(out) < max_length
        return out


class Lz4AnyDecompressor:
    """An lz4 member of either kind (:mod:`chute.codecs.lz4legacy` for ``lz4 -l``), chosen by
    its first four bytes."""

    def __init__(self) -> None:
        self._dec: Any = None
        self._head = b""

    @property
    def eof(self) -> bool:
        return self._dec is not None and bool(self._dec.eof)

    @property
    def needs_input(self) -> bool:
        return self._dec is None or bool(self._dec.needs_input)

    @property
    def unused_data(self) -> bytes:
        return b"" if self._dec is None else bytes(self._dec.unused_data)

    @property
    def may_end(self) -> bool:
        return bool(getattr(self._dec, "may_end", False))

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._dec is None:
            self._head += data
            from .lz4legacy import MAGIC, LegacyLz4Decompressor

            if len(self._head) < 4 and MAGIC.startswith(self._head):
                return b""
            self._dec = LegacyLz4Decompressor() if self._head.startswith(MAGIC) else Lz4Decompressor()
            data, self._head = self._head, b""
        return self._dec.decompress(data, max_length)  # type: ignore[no-any-return]


def new_compressor(
    level: int = 1, *, block_size: int = 4 << 20, checksum: bool = True, block_linked: bool = False
) -> Lz4Compressor | LinkedLz4Compressor:
    """A frame compressor; defaults as the ``lz4`` CLI: 4 MiB independent blocks, content checksum."""
    if block_linked:
        return LinkedLz4Compressor(level, block_size=block_size, checksum=checksum)
    return Lz4Compressor(level, block_size=block_size, checksum=checksum)


def new_decompressor() -> Lz4AnyDecompressor:
    """A decoder of one frame, modern or legacy (:mod:`chute.codecs.lz4legacy`)."""
    return Lz4AnyDecompressor()
