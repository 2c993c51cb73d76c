"""LZ4 frame format, through ``lz4.frame`` (the binding of the reference library).

Defaults follow the ``lz4`` CLI: 4 MiB independent blocks and a content checksum, so
the output is byte-compatible in spirit and ``lz4 -d`` checks it. A SYNC flush emits the
buffered block without ending the frame; FULL ends the frame.
"""

from __future__ import annotations

from typing import Any

from ..errors import ChecksumError, CorruptStreamError
from ._base import Buffer, Codec, FlushMode

SKIPPABLE_MAGICS = tuple(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16))
BLOCK_SIZES = {64 << 10: 4, 256 << 10: 5, 1 << 20: 6, 4 << 20: 7}


class Lz4Compressor:
    def __init__(
        self,
        level: int = 1,
        *,
        block_size: int = 4 << 20,
        checksum: bool = True,
        block_linked: bool = False,
    ) -> None:
        import lz4.frame as lf

        if block_size not in BLOCK_SIZES:
            raise ValueError(f"lz4 block_size must be one of {sorted(BLOCK_SIZES)}")
        self._lf = lf
        self._args = dict(
            compression_level=level,
            block_size=BLOCK_SIZES[block_size],
            content_checksum=int(checksum),
            block_linked=int(block_linked),
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


class Lz4Decompressor:
    """Adapts ``lz4.frame.LZ4FrameDecompressor`` to chute's contract.

    The binding reports ``needs_input`` as soon as it has consumed all input, even when
    LZ4F still holds decoded bytes (its output buffer filled just as the input ran out):
    those bytes would only come out with the next input, so a flushed prefix of a live
    stream would miss its end. This adapter drains them with empty calls.
    """

    DRAIN = 1 << 20

    def __init__(self) -> None:
        import lz4.frame as lf

        self._obj = lf.LZ4FrameDecompressor()
        self._needs_input = True

    @property
    def eof(self) -> bool:
        return self._obj.eof  # type: ignore[no-any-return]

    @property
    def needs_input(self) -> bool:
        return self._needs_input and not self._obj.eof

    @property
    def unused_data(self) -> bytes:
        return self._obj.unused_data or b""

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        obj = self._obj
        try:
            out = obj.decompress(data, max_length)
            if obj.eof or not obj.needs_input:
                self._needs_input = False
                return out  # type: ignore[no-any-return]
            while max_length < 0 or len(out) < max_length:
                more = obj.decompress(b"", self.DRAIN if max_length < 0 else max_length - len(out))
                if not more:
                    break
                out += more
        except RuntimeError as exc:
            msg = str(exc)
            if "checksum" in msg.lower():
                raise ChecksumError(f"lz4 checksum mismatch ({msg})") from None
            raise CorruptStreamError(f"invalid lz4 data ({msg})") from None
        # a full max_length may leave more decoded bytes behind: ask for a call with b""
        self._needs_input = max_length < 0 or len(out) < max_length
        return out  # type: ignore[no-any-return]


def new_compressor(level: int = 1, **options: Any) -> Lz4Compressor:
    return Lz4Compressor(level, **options)


def new_decompressor() -> Lz4Decompressor:
    return Lz4Decompressor()


CODEC = Codec(
    name="lz4",
    suffixes=(".lz4",),
    magic=(b"\x04\x22\x4d\x18", *SKIPPABLE_MAGICS),
    new_compressor=new_compressor,
    new_decompressor=new_decompressor,
    levels=(1, 12),
    default_level=1,
)
