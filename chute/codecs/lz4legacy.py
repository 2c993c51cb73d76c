"""The legacy lz4 frame (magic 0x184C2102): what ``lz4 -l`` and the Linux kernel build write.

After the magic come blocks, each a 4-byte little-endian compressed size and that many
bytes of an independent lz4 block holding at most 8 MiB. There is no end mark and no
checksum: the frame ends with the input, or where a size is too large to be one (the
``lz4`` CLI then reads those 4 bytes as the next frame's magic). :class:`chute.codecs.lz4.Lz4AnyDecompressor`
picks this decoder or the modern frame's by the first four bytes of each member.
"""

from __future__ import annotations

from ..errors import CorruptStreamError
from ._base import Buffer

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

MAGIC = b"\x02\x21\x4c\x18"
#: Decoded size of every block but the last.
BLOCK_SIZE = 8 << 20
#: LZ4_COMPRESSBOUND(BLOCK_SIZE): a larger size word starts something else.
MAX_COMPRESSED = BLOCK_SIZE + BLOCK_SIZE // 255 + 16


class LegacyLz4Decompressor:
    """One legacy frame. ``may_end`` says the input may end here (between blocks)."""

    def __init__(self) -> None:
        import lz4.block

        self._unpack = lz4.block.decompress
        self._error = lz4.block.LZ4BlockError
        self._in = bytearray()
        self._out = b""
        self._started = False  # the magic was read
        self._blocks = 0
        self._failed: CorruptStreamError | None = None
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    @property
    def may_end(self) -> bool:
        return self._started and not self._in and not self._out and self._failed is None

    def _next_block(self) -> bytes | None:
        """Decode the next whole block in the input; None if it is not all there."""
        buf = self._in
        if not self._started:
            if len(buf) < 4:
                return None
            if bytes(buf[:4]) != MAGIC:
                raise CorruptStreamError("invalid lz4 data (not a legacy lz4 frame)")
            del buf[:4]
            self._started = True
        if len(buf) < 4:
            return None
        size = int.from_bytes(buf[:4], "little")
        if size > MAX_COMPRESSED:  # the frame ended; these bytes start what follows
            self.eof = True
            self.unused_data = bytes(buf)
            buf.clear()
            return None
        if len(buf) < 4 + size:
            return None
        block = bytes(buf[4 : 4 + size])
        del buf[: 4 + size]
        self._blocks += 1
        try:
            return self._unpack(block, uncompressed_size=BLOCK_SIZE)  # type: ignore[no-any-return]
        except self._error:
            raise CorruptStreamError(f"invalid lz4 data (legacy block {self._blocks} does not decode)") from None

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None and not self._out:
            raise self._failed
        if self.eof:
            self.unused_data += bytes(data)
            return b""
        self._in += data
        parts: list[bytes] = []
        room = max_length
        while room != 0:
            if not self._out:
                if self.eof or self._failed is not None:
                    break
                try:
                    block = self._next_block()
                except CorruptStreamError as exc:
                    if not parts:
                        raise
                    self._failed = exc  # what came before is returned; the next call raises
                    break
                if block is None:
                    break
                self._out = block
            take = self._out if room < 0 else self._out[:room]
            self._out = self._out[len(take) :]
            parts.append(take)
            if room > 0:
                room -= len(take)
        self.needs_input = not self.eof and not self._out and self._failed is None
        return b"".join(parts)
