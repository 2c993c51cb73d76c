"""A bounded cache of compressed whole bodies, keyed by their content.

Many responses repeat byte for byte: a home page, a static API answer, a template rendered
from unchanged data. Compressing a 64 KiB page with zstd takes 50-100 µs, about what the
whole request costs without compression; finding it here takes a CRC32 (libdeflate, several
GB/s: a few µs) and a comparison with the stored original (free when the application
returns the same ``bytes`` object, a ``memcmp`` otherwise). The stored original makes a
hit exact: two bodies with the same CRC and length are never confused.

Bounded by bytes (originals plus compressed copies), least recently used out first; a body
larger than an eighth of the budget is not stored. Safe to share between threads (WSGI).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["BodyCache", "DEFAULT_CACHE_SIZE"]

#: Default budget of a middleware's cache: originals plus compressed copies.
DEFAULT_CACHE_SIZE = 16 << 20


def _crc32() -> Callable[[bytes], int]:
    try:
        import deflate

        return deflate.crc32
    except ImportError:  # pragma: no cover - deflate is a dependency
        import zlib

        return zlib.crc32


class BodyCache:
    """Compressed bodies by (coding, content); :meth:`get` / :meth:`put`, thread-safe."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_SIZE) -> None:
        if max_bytes < 0:
            raise ValueError("cache size must be >= 0")
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, int, int], tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._crc = _crc32()

    def key(self, coding: str, body: bytes) -> tuple[str, int, int] | None:
        """The lookup key of ``body``, or ``None`` when it is not cached (too big, cache off)."""
        if not 0 < len(body) <= self.max_entry:
            return None
        return coding, len(body), self._crc(body)

    def get(self, key: tuple[str, int, int], body: bytes) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry[0] is body or entry[0] == body):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, key: tuple[str, int, int], body: bytes, compressed: bytes) -> None:
        cost = len(body) + len(compressed)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= len(old[0]) + len(old[1])
            self._entries[key] = (body, compressed)
            self.size += cost
            while self.size > self.max_bytes and self._entries:
                _, (b, c) = self._entries.popitem(last=False)
                self.size -= len(b) + len(c)

    def __len__(self) -> int:
        return len(self._entries)
