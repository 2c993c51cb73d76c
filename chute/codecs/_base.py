"""The sans-IO codec interface shared by every format.

A *compressor* turns bytes into compressed bytes; a *decompressor* does the reverse for
exactly one member (one gzip member, one zstd frame, one bz2 stream...). Neither does
I/O, starts threads or knows about files. Multi-member streams, trailing data and format
detection are handled once, for every format, in :mod:`chute.codecs._stream`.
"""

from __future__ import annotations

# defined in _types (which _protocols imports, and this module's type hints import
# _protocols); codec modules take them from here
from ._types import Buffer as Buffer
from ._types import FlushMode as FlushMode

TYPE_CHECKING = False  # not typing's: importing typing costs start-up (see chute/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._protocols import Compressor, Decompressor

#: The 16 magic numbers of the skippable frame zstd and lz4 share: magic 0x184D2A50-0x184D2A5F
#: (little-endian), a 4-byte size, then that many bytes of payload.
SKIPPABLE_MAGICS = tuple(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16))


def cut_blocks(pending: bytearray, data: Buffer, size: int) -> tuple[list[Buffer], bytearray]:
    """Cut ``pending + data`` into whole blocks of ``size`` bytes and a remainder.

    Returns (blocks, new pending). Blocks taken straight from ``data`` are memoryview
    slices of it (no copy): a consumer that keeps one past the call must copy it. Used
    by block compressors (gzip members, chute.parallel).
    """
    view = memoryview(data).cast("B")
    blocks: list[Buffer] = []
    if pending:
        take = min(len(view), size - len(pending))
        pending += view[:take]
        view = view[take:]
        if len(pending) < size:
            return blocks, pending
        blocks.append(pending)
        pending = bytearray()
    while len(view) >= size:
        blocks.append(view[:size])
        view = view[size:]
    pending += view
    return blocks, pending


class WrappedDecompressor:
    """Base for adapters over a standard-library-style decompressor object (``bz2``,
    ``lzma``, ``compression.zstd``) kept in ``self._obj``: the state attributes pass
    through; subclasses set ``_errors`` (what the object raises) and ``_translate`` (the
    chute error for one of them).

    These bindings raise on damage without returning what the failing call decoded
    before it, so the object is asked for at most :attr:`STEP` bytes per call: what the
    earlier steps decoded is returned, and the error is raised by the next call. At most
    ``STEP`` bytes decoded before the damage are lost (the reference tools lose about as
    much: their output buffers are written when full).
    """

    _obj: Any
    _errors: tuple[type[BaseException], ...] = ()
    _failed: Exception | None = None
    STEP = 16 << 10

    def _translate(self, exc: BaseException) -> Exception:
        raise NotImplementedError

    @property
    def eof(self) -> bool:
        return bool(self._obj.eof)

    @property
    def needs_input(self) -> bool:
        return self._failed is None and bool(self._obj.needs_input)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._obj.unused_data)

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if self._failed is not None:
            raise self._failed
        obj = self._obj
        step = self.STEP
        parts: list[bytes] = []
        room = max_length
        try:
            while True:
                chunk = obj.decompress(data, step if room < 0 else min(step, room))
                data = b""
                if not chunk:
                    break
                parts.append(chunk)
                if room > 0:
                    room -= len(chunk)
                if room == 0 or obj.eof or obj.needs_input:
                    break
        except self._errors as exc:
            error = self._translate(exc)
            if not parts:
                raise error from None
            self._failed = error
        return parts[0] if len(parts) == 1 else b"".join(parts)


class Codec:
    """Everything the rest of chute knows about one format.

    ``new_compressor(level, **options)`` and ``new_decompressor(**options)`` build
    sans-IO objects; backend modules are imported only when they are first called, so
    the registry can be loaded (for detection, suffixes, help) without them.
    ``concatenable``: members can simply be concatenated and every reader decodes them
    all. ``zero_padding_ok``: zero bytes after the last member are accepted (gzip after
    tar padding, like ``gzip -d``). (A plain class rather than a dataclass: importing
    dataclasses costs a pipe tool's start-up several milliseconds.)
    """

    __slots__ = (
        "aliases",
        "best_level",
        "concatenable",
        "default_level",
        "extra",
        "fast_level",
        "levels",
        "magic",
        "name",
        "new_compressor",
        "new_decompressor",
        "suffixes",
        "zero_padding_ok",
    )

    def __init__(
        self,
        *,
        name: str,
        suffixes: tuple[str, ...],
        new_compressor: Callable[..., Compressor],
        new_decompressor: Callable[..., Decompressor],
        levels: tuple[int, int],
        default_level: int,
        aliases: tuple[str, ...] = (),
        magic: tuple[bytes, ...] = (),
        concatenable: bool = True,
        zero_padding_ok: bool = False,
        fast_level: int | None = None,
        best_level: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.suffixes = suffixes
        self.new_compressor = new_compressor
        self.new_decompressor = new_decompressor
        self.levels = levels
        self.default_level = default_level
        self.aliases = aliases
        self.magic = magic
        self.concatenable = concatenable
        self.zero_padding_ok = zero_padding_ok
        self.fast_level = fast_level
        self.best_level = best_level
        self.extra: dict[str, Any] = extra or {}

    def __repr__(self) -> str:
        return f"<Codec {self.name}>"

    def check_level(self, level: int | None) -> int:
        """Return ``level`` or the default, raising ``ValueError`` outside the range."""
        if level is None:
            return self.default_level
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be an int, not {type(level).__name__}")
        lo, hi = self.levels
        if not lo <= level <= hi:
            raise ValueError(f"{self.name} level must be between {lo} and {hi}, not {level}")
        return level

    @property
    def fast(self) -> int:
        return self.levels[0] if self.fast_level is None else self.fast_level

    @property
    def best(self) -> int:
        return self.levels[1] if self.best_level is None else self.best_level


def size_text(n: int) -> str:
    """A limit in an error message: ``128 MiB``, ``64 KiB``, ``100 bytes``."""
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} bytes"
