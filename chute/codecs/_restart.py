"""Flushing for formats whose encoders cannot sync mid-stream (bz2, xz through Python).

A flush ends the current stream and the next byte starts a new one. Every reader of
these formats (``bzip2 -d``, ``xz -d``, chute) decodes concatenated streams, so the
output stays one valid file, and each flush point is a real boundary.
"""

from __future__ import annotations

from ._base import Buffer, FlushMode

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class RestartingCompressor:
    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._obj = factory()
        self._dirty = False  # input since the current stream began
        self._emitted = False

    def compress(self, data: Buffer) -> bytes:
        if len(data):
            self._dirty = True
        return self._obj.compress(data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        if not self._dirty:
            return b""
        out = self._obj.flush()
        self._obj = self._factory()
        self._dirty = False
        self._emitted = True
        return out  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        if self._dirty or not self._emitted:
            self._emitted = True
            self._dirty = False
            return self._obj.flush()  # type: ignore[no-any-return]
        return b""
