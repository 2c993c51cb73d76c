"""The compressor and decompressor protocols (what every codec object provides).

Kept apart from :mod:`chute.codecs._base` because ``typing.Protocol`` means importing
``typing``, which costs start-up: :mod:`chute.codecs` loads this module on first use of
``Compressor`` or ``Decompressor``; chute's own modules name them for type checkers only.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._types import Buffer, FlushMode

__all__ = ["Compressor", "Decompressor"]


@runtime_checkable
class Compressor(Protocol):
    def compress(self, data: Buffer) -> bytes:
        """Compress ``data``; may return ``b""`` while the codec buffers."""

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        """Return output that makes everything compressed so far decodable."""

    def finish(self) -> bytes:
        """End the stream (trailer, checksum). The compressor cannot be used after."""


@runtime_checkable
class Decompressor(Protocol):
    """Decodes one member. ``eof`` is true at its end; bytes after it go to ``unused_data``."""

    @property
    def eof(self) -> bool:
        """True once the member has ended."""

    @property
    def needs_input(self) -> bool:
        """False while output is held back: call again with ``b""``."""

    @property
    def unused_data(self) -> bytes:
        """Bytes after the end of the member (valid once ``eof``)."""

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        """Decode ``data``, returning at most ``max_length`` bytes (-1: no bound).

        When output was held back, call again with ``b""`` until ``needs_input``.
        """
