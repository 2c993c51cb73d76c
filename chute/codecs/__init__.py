"""The format registry: names, aliases, suffixes and magic numbers of every codec.

Adding a format is one module in this package and one entry in ``_MODULES``. Codec
modules import their backends lazily, so loading the registry costs little.
"""

from __future__ import annotations

import os
import sys

from ._base import Buffer, Codec, FlushMode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._protocols import Compressor, Decompressor

__all__ = [
    "Buffer",
    "Codec",
    "Compressor",
    "Decompressor",
    "FlushMode",
    "get",
    "names",
    "all_codecs",
    "from_suffix",
    "detect",
    "MAX_MAGIC",
]

# Detection order matters only for formats without magic (zlib is checked last).
_MODULES = ("zstd", "gzip", "lz4", "xz", "bz2", "brotli", "zlib", "deflate")
_CODECS: dict[str, Codec] | None = None
_LOOKUP: dict[str, Codec] = {}

#: Bytes needed to tell every format apart.
MAX_MAGIC = 6


def __getattr__(name: str) -> object:
    if name in ("Compressor", "Decompressor"):  # loaded on first use: they import typing
        from . import _protocols

        return getattr(_protocols, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load() -> dict[str, Codec]:
    global _CODECS
    if _CODECS is None:
        codecs: dict[str, Codec] = {}
        for mod in _MODULES:
            __import__(f"{__name__}.{mod}")  # not importlib: importing it costs start-up
            codec: Codec = sys.modules[f"{__name__}.{mod}"].CODEC
            codecs[codec.name] = codec
            for key in (codec.name, *codec.aliases):
                _LOOKUP[key] = codec
        _CODECS = codecs
    return _CODECS


def all_codecs() -> list[Codec]:
    return list(_load().values())


def names() -> list[str]:
    """Canonical format names, in registry order."""
    return list(_load())


def get(name: str) -> Codec:
    """The codec called ``name`` (or one of its aliases), case-insensitive.

    Raises ``ValueError`` for an unknown name.
    """
    _load()
    try:
        return _LOOKUP[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown format {name!r} (choose from {', '.join(names())})") from None


def from_suffix(path: str | os.PathLike[str]) -> Codec | None:
    """The codec whose suffix ends ``path`` (``.tar.gz`` and ``.tgz`` give gzip)."""
    name = os.fspath(path).lower()
    best: tuple[int, Codec] | None = None
    for codec in _load().values():
        for suffix in codec.suffixes:
            if name.endswith(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), codec)
    return best[1] if best else None


def detect(prefix: bytes) -> str | None:
    """The name of the format whose magic starts ``prefix``, or ``None``.

    Give at least :data:`MAX_MAGIC` bytes when the stream has them. Brotli and raw
    deflate have no magic and are never detected.
    """
    prefix = bytes(prefix[:MAX_MAGIC])
    for codec in _load().values():
        if any(prefix.startswith(m) for m in codec.magic):
            return codec.name
        sniff = codec.extra.get("detect")
        if sniff is not None and sniff(prefix):
            return codec.name
    return None


def could_be_magic(prefix: bytes) -> bool:
    """True if more bytes could still turn ``prefix`` into a known magic number."""
    for codec in _load().values():
        for m in codec.magic:
            if len(prefix) < len(m) and m.startswith(prefix):
                return True
        if codec.extra.get("detect") is not None and len(prefix) < 2:
            return True
    return False
