"""The decoded bytes of a compressed file object, as a raw stream (``readinto``)."""

from __future__ import annotations

import io

from ..errors import CorruptStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from ..codecs._stream import StreamDecoder

#: Decoded bytes asked of the decoder at a time while skipping.
SKIP_STEP = 4 << 20


class DecodingRaw(io.RawIOBase):
    """Decoded bytes of ``fp`` through ``make_decoder()`` (a
    :class:`~chute.codecs._stream.StreamDecoder`), read ``chunk_size`` bytes at a time; what
    :class:`chute.api.fileobj.ChuteReader` wraps in a ``BufferedReader``.

    ``skip``: decoded bytes returned already by someone else (the parallel gzip engine,
    which hands a file over to one thread where it fails): they are decoded again and
    dropped, and count in :meth:`tell`; a stream that decodes to fewer raises
    :class:`~chute.errors.CorruptStreamError`. The decoder's errors come after the bytes
    decoded before them (the decoder holds them for its next call).
    """

    def __init__(self, fp: BinaryIO, make_decoder: Callable[[], StreamDecoder], chunk_size: int, skip: int = 0) -> None:
        super().__init__()
        self._fp = fp
        # read1: what a pipe or socket holds now. read(n) on a buffered pipe waits for n
        # bytes, so a flushed record of a live stream would wait for the next 128 KiB.
        self._read = getattr(fp, "read1", fp.read)
        self._make_decoder = make_decoder
        self._decoder = make_decoder()
        self._chunk = chunk_size
        self._start = fp.tell() if _seekable(fp) else 0
        self.pos = skip
        self._skip = skip

    def readable(self) -> bool:
        return True

    @property
    def decoder(self) -> StreamDecoder:
        return self._decoder

    def readinto(self, b: Any) -> int:
        dec = self._decoder
        view = memoryview(b).cast("B")
        if not len(view):
            return 0
        while not dec.eof:
            want = min(self._skip, SKIP_STEP) if self._skip else len(view)
            if dec.needs_input:
                chunk = self._read(self._chunk)
                if not chunk:
                    dec.end()
                    break
                out = dec.decompress(chunk, want)
            else:
                out = dec.decompress(b"", want)
            if self._skip:
                self._skip -= len(out)
            elif out:
                n = len(out)
                view[:n] = out
                self.pos += n
                return n
        if self._skip:
            raise CorruptStreamError(f"{dec.format} stream decodes to fewer bytes than the {self.pos} already returned")
        return 0

    def tell(self) -> int:
        """Decoded bytes returned so far (what ``BufferedReader.tell()`` builds on)."""
        return self.pos

    def rewind(self) -> None:
        self._fp.seek(self._start)
        self._decoder = self._make_decoder()
        self.pos = self._skip = 0


def _seekable(fp: Any) -> bool:
    try:
        return bool(fp.seekable())
    except (AttributeError, ValueError, OSError):
        return False
