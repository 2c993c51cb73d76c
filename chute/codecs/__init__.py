"""The format registry: names, aliases, suffixes, levels and magic numbers of every codec.

Adding a format is one module in this package (``new_compressor`` and ``new_decompressor``)
and one :class:`Codec` in ``_CODECS`` below. A codec's module is imported the first time one
of its factories is called, so detection, suffixes and help load no codec module at all
(importing all eight, with the backends' own modules they import, cost each run ~4 ms).
"""

from __future__ import annotations

import os
import sys

from ._base import SKIPPABLE_MAGICS, Buffer, Codec, FlushMode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
    "readable_codecs",
    "looks_like_zlib",
    "MAX_MAGIC",
]

#: Bytes needed to tell every format apart (an LZMA-alone header is 13 bytes).
MAX_MAGIC = 13

#: The legacy lz4 frame's magic number (0x184C2102), written by ``lz4 -l``.
LZ4_LEGACY_MAGIC = b"\x02\x21\x4c\x18"


def __getattr__(name: str) -> object:
    if name in ("Compressor", "Decompressor"):  # loaded on first use: they import typing
        from . import _protocols

        return getattr(_protocols, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _factory(module: str, name: str) -> Callable[..., Any]:
    """``chute.codecs.<module>.<name>``, imported when first called."""
    target: Callable[..., Any] | None = None

    def factory(*args: Any, **kwargs: Any) -> Any:
        nonlocal target
        if target is None:
            __import__(f"{__name__}.{module}")  # not importlib: importing it costs start-up
            target = getattr(sys.modules[f"{__name__}.{module}"], name)
        return target(*args, **kwargs)

    factory.__qualname__ = f"{module}.{name}"
    return factory


def looks_like_zlib(prefix: bytes) -> bool:
    """A zlib header: CMF 0x78 (deflate, 32 KiB window) and a header checksum
    (``(CMF * 256 + FLG) % 31 == 0``), which rules out most text that starts with ``x``."""
    return len(prefix) >= 2 and prefix[0] == 0x78 and (prefix[0] * 256 + prefix[1]) % 31 == 0


def _looks_like_lzma(prefix: bytes) -> bool:
    from .lzma_alone import looks_like_lzma

    return looks_like_lzma(prefix)


def _could_be_lzma(prefix: bytes) -> bool:
    from .lzma_alone import could_be_lzma

    return could_be_lzma(prefix)


def _codec(module: str, decompressor: str = "new_decompressor", *, name: str | None = None, **fields: Any) -> Codec:
    return Codec(
        name=name or module,
        new_compressor=_factory(module, "new_compressor"),
        new_decompressor=_factory(module, decompressor),
        **fields,
    )


# Detection order matters only for formats without magic (zlib is checked last).
_CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        _codec(
            "zstd",
            aliases=("zst", "zstandard"),
            suffixes=(".zst", ".tzst", ".zstd"),
            magic=(b"\x28\xb5\x2f\xfd", *SKIPPABLE_MAGICS),
            levels=(-7, 22),
            default_level=3,
            fast_level=1,
            best_level=19,
        ),
        _codec(
            "gzip",
            aliases=("gz",),
            suffixes=(".gz", ".tgz"),
            magic=(b"\x1f\x8b",),
            levels=(1, 12),
            default_level=6,
            best_level=9,
            zero_padding_ok=True,
            extra={"trailing": "ignore"},  # what `gzip -d` does with trailing garbage
        ),
        _codec(
            "lz4",
            suffixes=(".lz4",),
            magic=(b"\x04\x22\x4d\x18", LZ4_LEGACY_MAGIC, *SKIPPABLE_MAGICS),
            levels=(1, 12),
            default_level=1,
            # Read whole blocks (lz4.MAX_BLOCK) when compressing a stream: each is then
            # compressed straight from the read buffer instead of being gathered from
            # 128 KiB pieces (10% less CPU on 200 MB)
            extra={"read_size": 4 << 20},
        ),
        _codec(
            "xz",
            "XzDecompressor",
            suffixes=(".xz", ".txz"),
            magic=(b"\xfd7zXZ\x00",),
            levels=(0, 9),
            default_level=6,
            zero_padding_ok=True,
            extra={"padding_unit": 4},  # stream padding: 4-byte units, also between streams
        ),
        _codec(
            "bz2",
            "Bz2Decompressor",
            aliases=("bzip2", "bz"),
            suffixes=(".bz2", ".tbz2", ".tbz"),
            magic=(b"BZh",),
            levels=(1, 9),
            default_level=9,
            extra={"trailing": "ignore"},  # what `bzip2 -d` does with trailing garbage
        ),
        _codec(
            "brotli",
            "BrotliDecompressor",
            aliases=("br",),
            suffixes=(".br",),
            levels=(0, 11),
            default_level=11,
            concatenable=False,
        ),
        _codec(
            "zlib",
            aliases=("zz",),
            suffixes=(".zz", ".zlib"),
            levels=(1, 9),
            default_level=6,
            concatenable=False,
            extra={"detect": looks_like_zlib},
        ),
        _codec(
            "deflate",
            aliases=("raw",),
            suffixes=(".deflate",),
            levels=(1, 9),
            default_level=6,
            concatenable=False,
        ),
    )
}
#: Formats chute decodes but does not write: detected and decoded like the others, and
#: left out of :func:`names` (the formats one can choose to write).
_READ_ONLY: dict[str, Codec] = {
    c.name: c
    for c in (
        _codec(
            "lzma_alone",
            "LzmaAloneDecompressor",
            name="lzma",
            aliases=("lzma-alone", "alone"),
            suffixes=(".lzma",),
            levels=(0, 9),
            default_level=6,
            concatenable=False,
            # after every magic, zlib's included: the header test needs 13 bytes
            extra={"detect": _looks_like_lzma, "could_be": _could_be_lzma},
        ),
    )
}
_LOOKUP: dict[str, Codec] = {key: c for c in (*_CODECS.values(), *_READ_ONLY.values()) for key in (c.name, *c.aliases)}


def all_codecs() -> list[Codec]:
    """Every format chute writes (the formats of :func:`names`)."""
    return list(_CODECS.values())


def readable_codecs() -> list[Codec]:
    """Every format chute decodes: :func:`all_codecs`, then the read-only ones (``lzma``)."""
    return [*_CODECS.values(), *_READ_ONLY.values()]


def names() -> list[str]:
    """Canonical format names, in registry order."""
    return list(_CODECS)


def get(name: str) -> Codec:
    """The codec called ``name`` (or one of its aliases), case-insensitive.

    Raises ``ValueError`` for an unknown name.
    """
    try:
        return _LOOKUP[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown format {name!r} (choose from {', '.join(names())})") from None


def from_suffix(path: str | os.PathLike[str]) -> Codec | None:
    """The codec whose suffix ends ``path`` (``.tar.gz`` and ``.tgz`` give gzip)."""
    name = os.fspath(path).lower()
    best: tuple[int, Codec] | None = None
    for codec in readable_codecs():
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
    for codec in readable_codecs():
        if any(prefix.startswith(m) for m in codec.magic):
            return codec.name
        sniff = codec.extra.get("detect")
        if sniff is not None and sniff(prefix):
            return codec.name
    return None


def could_be_magic(prefix: bytes) -> bool:
    """True if more bytes could still turn ``prefix`` into a known magic number."""
    for codec in readable_codecs():
        for m in codec.magic:
            if len(prefix) < len(m) and m.startswith(prefix):
                return True
        could_be = codec.extra.get("could_be")
        if could_be is not None and could_be(prefix):
            return True
        if could_be is None and codec.extra.get("detect") is not None and len(prefix) < 2:
            return True
    return False
