"""The ``chute`` fsspec protocol: another filesystem's files, compressed and decompressed.

``fsspec.open("chute::s3://bucket/logs/x.log.zst", "rt")`` reads the decompressed lines;
``"wb"`` writes a file compressed in the format of its suffix (zstd without one). Listing,
``info``, removing and copying are the target filesystem's own: sizes are the compressed
sizes. Registered as fsspec's ``chute`` protocol through the ``fsspec.specs`` entry point.

Importing this module (what resolving a ``chute::`` URL does) runs :func:`chute.fsspec.register`:
fsspec's ``compression="infer"``, which Dask's readers pass by default, would otherwise wrap
a ``chute::`` file, decoded already, in a second decoder.
"""

from __future__ import annotations

from fsspec import filesystem as _filesystem
from fsspec.spec import AbstractFileSystem

from . import register

try:
    from fsspec.implementations.chained import ChainedFileSystem as _Base
except ImportError:  # fsspec before ChainedFileSystem: url_to_fs hands the path on as "fo"
    _Base = AbstractFileSystem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ChuteFileSystem"]

register()

_DELEGATED = (
    "ls",
    "info",
    "exists",
    "isdir",
    "isfile",
    "size",
    "mkdir",
    "makedirs",
    "rmdir",
    "rm_file",
    "_rm",
    "cp_file",
    "modified",
    "created",
    "ukey",
)


class ChuteFileSystem(_Base):  # type: ignore[misc]  # fsspec has no type hints
    """Files of ``fs`` (or of the filesystem ``target_protocol`` with ``target_options``),
    opened through chute's codecs. ``compression`` (``"infer"`` by default: from the bytes
    when reading, the suffix when writing) may name one format for every file instead;
    ``level`` is the compression level for writing."""

    protocol = "chute"
    cachable = False  # one instance per target: the target's options are what matter

    def __init__(
        self,
        target_protocol: str | None = None,
        target_options: dict[str, Any] | None = None,
        fs: Any = None,
        fo: str | None = None,
        compression: str | None = "infer",
        level: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if fs is None:
            fs = _filesystem(target_protocol or "file", **(target_options or {}))
        self.fs = fs
        self.compression = compression
        self.level = level

        def strip(path: str) -> str:  # acts as a method: each instance has its own target
            return str(self.fs._strip_protocol(type(self)._strip_protocol(path)))

        self._strip_protocol = strip  # type: ignore[method-assign]

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        text = path if isinstance(path, str) else str(path)
        for prefix in ("chute::", "chute://"):
            if text.startswith(prefix):
                return text[len(prefix) :]
        return text

    def __getattribute__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(object.__getattribute__(self, "fs"), name)
        return object.__getattribute__(self, name)

    def _format(self, path: str, writing: bool) -> str | None:
        """The format to use: ``compression`` if it names one, else (``"infer"``) the suffix's
        (for reading, only where the bytes cannot tell: brotli, deflate), else for writing zstd."""
        from ..codecs import from_suffix

        if self.compression not in (None, "infer"):
            return str(self.compression)
        codec = from_suffix(path)
        if writing:
            return codec.name if codec is not None else "zstd"
        if codec is not None and not codec.magic and "detect" not in codec.extra:
            return str(codec.name)
        return None

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        from ..api.fileobj import ChuteReader, ChuteWriter, new_compressor
        from ..codecs import get

        if "r" in mode:
            raw = self.fs.open(path, "rb", block_size=block_size, cache_options=cache_options, **kwargs)
            reader = ChuteReader(raw, format=self._format(path, False), owns_fp=True, name=path)
            reader.chute_coded = True  # type: ignore[attr-defined]  # see chute.fsspec._Codec
            return reader
        if "a" in mode:
            raise ValueError("chute:: files are not appended to")
        raw = self.fs.open(path, mode, block_size=block_size, autocommit=autocommit, **kwargs)
        fmt = self._format(path, True)
        assert fmt is not None
        writer = ChuteWriter(raw, new_compressor(get(fmt), self.level), owns_fp=True, name=path)
        writer.chute_coded = True  # type: ignore[attr-defined]
        return writer
