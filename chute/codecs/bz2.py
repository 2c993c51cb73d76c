"""bzip2, through the standard library's ``bz2``. A flush ends the stream (see
:mod:`chute.codecs._restart`); ``bzip2 -d`` decodes the concatenated streams."""

from __future__ import annotations

from ..errors import CorruptStreamError
from ._base import Buffer, WrappedDecompressor
from ._restart import RestartingCompressor


def new_compressor(level: int = 9) -> RestartingCompressor:
    import bz2

    return RestartingCompressor(lambda: bz2.BZ2Compressor(level))


class Bz2Decompressor(WrappedDecompressor):
    def __init__(self) -> None:
        import bz2

        self._obj: bz2.BZ2Decompressor = bz2.BZ2Decompressor()

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        try:
            return self._obj.decompress(data, max_length)
        except OSError as exc:
            raise CorruptStreamError(f"invalid bzip2 data ({exc})") from None
