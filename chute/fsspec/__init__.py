"""chute inside fsspec: a ``chute`` protocol, and chute's codecs as fsspec's compressions.

- ``chute::PROTOCOL://PATH`` (the :class:`~chute.fsspec.filesystem.ChuteFileSystem`):
  files of the target filesystem decompressed on reading (the format detected from the
  bytes; brotli and deflate, which have no magic number, from the suffix) and compressed on
  writing (the format of the suffix, else zstd). chute's package metadata registers the
  protocol under fsspec's ``fsspec.specs`` entry points, so any process where chute is
  installed resolves ``chute::`` URLs without importing anything first: Dask workers too.
- :func:`register`: chute's codecs take over fsspec's ``compression=`` names (``gzip``,
  ``zstd``, ``bz2``, ``xz``, ``lzma``, ``lz4``) and add ``brotli``, for ``compression="infer"``
  and by name. It acts in the process that calls it; for Dask workers, register
  :class:`chute.fsspec.dask.RegisterCompressions` as a worker plugin, or use ``chute::``
  URLs, which need nothing: the first ``chute::`` URL a process resolves registers them
  there, so that ``compression="infer"`` (Dask's default) passes a ``chute::`` file, which
  chute already decodes, through unchanged instead of decoding it twice.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["register", "compressions"]

#: fsspec's compression names (and the suffixes "infer" maps to them) -> chute's format.
_COMPRESSIONS: dict[str, tuple[str, list[str]]] = {
    "gzip": ("gzip", ["gz"]),
    "zstd": ("zstd", ["zst"]),
    "bz2": ("bz2", ["bz2"]),
    "xz": ("xz", ["xz"]),
    "lzma": ("xz", []),  # fsspec's name for its xz reader; "infer" maps .xz to "xz"
    "lz4": ("lz4", ["lz4"]),
    "brotli": ("brotli", ["br"]),
}


def compressions() -> dict[str, str]:
    """fsspec compression name -> the chute format :func:`register` puts behind it."""
    return {name: fmt for name, (fmt, _) in _COMPRESSIONS.items()}


def register() -> None:
    """Make ``fsspec.open(..., compression="infer")`` (and ``compression="zstd"``...) read
    and write through chute's codecs in this process; calling it again does nothing more."""
    from fsspec.compression import register_compression

    for name, (fmt, suffixes) in _COMPRESSIONS.items():
        register_compression(name, _Codec(fmt), suffixes, force=True)


class _Codec:
    """fsspec's compression callback, ``(file, mode, **kwargs) -> file``: a chute reader
    or writer over ``file`` (which fsspec closes after it)."""

    def __init__(self, format: str) -> None:
        self.format = format

    def __call__(self, infile: Any, mode: str = "rb", **kwargs: Any) -> Any:
        from ..api.fileobj import ChuteReader, ChuteWriter, new_compressor
        from ..codecs import get

        if getattr(infile, "chute_coded", False):
            return infile  # a chute:: file, already decoded or encoding: not twice
        name = str(getattr(infile, "path", "") or getattr(infile, "name", "") or "")
        if "r" in mode:
            return ChuteReader(infile, format=self.format, name=name)
        return ChuteWriter(infile, new_compressor(get(self.format), kwargs.get("level")), name=name)

    def __repr__(self) -> str:
        return f"chute.fsspec codec {self.format}"
