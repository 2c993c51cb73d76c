"""bzip2, through the standard library's ``bz2``. A flush ends the stream (see
:mod:`chute.codecs._restart`); ``bzip2 -d`` decodes the concatenated streams."""

from __future__ import annotations

from ..errors import CorruptStreamError
from ._base import WrappedDecompressor
from ._restart import RestartingCompressor


def new_compressor(level: int = 9) -> RestartingCompressor:
    import bz2

    return RestartingCompressor(lambda: bz2.BZ2Compressor(level))


class Bz2Decompressor(WrappedDecompressor):
    def __init__(self) -> None:
        import bz2

        self._obj: bz2.BZ2Decompressor = bz2.BZ2Decompressor()
        self._errors = (OSError,)

    def _translate(self, exc: BaseException) -> Exception:
        return CorruptStreamError(f"invalid bzip2 data ({exc})")
