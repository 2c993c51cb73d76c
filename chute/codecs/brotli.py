"""Brotli (RFC 7932), through Google's ``brotli`` binding.

Brotli has no magic number and no framing for concatenation: it is chosen by name or
suffix only, and anything after the end of the stream is trailing data. A SYNC flush
uses the encoder's own flush, so the stream so far is decodable (what
``Content-Encoding: br`` streaming needs).
"""

from __future__ import annotations

from ..errors import CorruptStreamError
from ._base import Buffer, FlushMode

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from typing import Any


class BrotliCompressor:
    def __init__(self, level: int = 11, *, window_bits: int = 22, mode: str = "generic") -> None:
        import brotli

        modes = {"generic": brotli.MODE_GENERIC, "text": brotli.MODE_TEXT, "font": brotli.MODE_FONT}
        self._obj = brotli.Compressor(quality=level, lgwin=window_bits, mode=modes[mode])

    def compress(self, data: Buffer) -> bytes:
        return self._obj.process(bytes(data) if not isinstance(data, bytes) else data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        return self._obj.flush()  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.finish()  # type: ignore[no-any-return]


#: Most input given to the decoder in one call.
FEED = 16 << 10


class BrotliDecompressor:
    """Adapts ``brotli.Decompressor`` (output_buffer_limit, can_accept_more_data) to the
    max_length contract; output beyond ``max_length`` is kept here and returned next.

    One ``process()`` call may stop early with decoded bytes still inside the decoder
    (at most about 32 KiB per call on a flushed, unfinished stream), while
    ``can_accept_more_data()`` already says True: this adapter keeps calling with empty
    input until the decoder has nothing more to give, so a SYNC-flushed prefix decodes
    in full and ``needs_input`` is only true when output really waits for input.
    """

    def __init__(self) -> None:
        import brotli

        self._obj: Any = brotli.Decompressor()
        self._error = brotli.error
        self._pending = b""
        self._extra = b""
        self._failed: CorruptStreamError | None = None
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None:
            # an error met after output: that output first, then the error
            if not self._extra:
                raise self._failed
            out = self._extra if max_length < 0 else self._extra[:max_length]
            self._extra = self._extra[len(out) :]
            return out
        if self.eof and not self._extra:
            raise EOFError("end of stream already reached")
        if len(data):
            self._pending += data
        parts = [self._extra] if self._extra else []
        size = len(self._extra)
        self._extra = b""
        obj = self._obj
        drained = False
        try:
            while (max_length < 0 or size < max_length) and not obj.is_finished():
                feed = b""
                if self._pending and obj.can_accept_more_data():
                    # in pieces: the binding drops the whole output of a call that meets
                    # data after the end of the stream, so a call holds little input
                    feed, self._pending = self._pending[:FEED], self._pending[FEED:]
                if max_length < 0:
                    chunk = obj.process(feed)
                else:
                    chunk = obj.process(feed, output_buffer_limit=max_length - size)
                if chunk:
                    parts.append(chunk)
                    size += len(chunk)
                elif not feed and (not self._pending or not obj.can_accept_more_data()):
                    drained = True
                    break
        except self._error as exc:
            error = CorruptStreamError(f"invalid brotli data ({exc})")
            if not parts:
                raise error from None
            # the output of earlier process() calls is returned (the binding drops that
            # of the call that fails); the next call raises
            self._failed = error
        out = b"".join(parts)
        if 0 <= max_length < len(out):
            out, self._extra = out[:max_length], out[max_length:]
        if self._failed is not None:
            self.needs_input = False
            return out
        if obj.is_finished() and not self._extra:
            self.eof = True
            self.unused_data = self._pending
            self._pending = b""
        self.needs_input = not self.eof and not self._extra and not self._pending and drained
        return out


def new_compressor(level: int = 11, **options: Any) -> BrotliCompressor:
    return BrotliCompressor(level, **options)
