"""Compression Dictionary Transport (RFC 9842): ``dcz`` responses for the middlewares.

A response names itself as a dictionary for later requests by carrying a
``Use-As-Dictionary: match="/app/*.js"`` header (set by the application). The middleware
records the body of such a response (status 200, not already encoded, at most
``max_size`` bytes) in its :class:`DictionaryStore`, keyed by its SHA-256. A browser that
kept it sends, on a later request matching the pattern, ``Available-Dictionary: :<base64 of
the SHA-256>:`` (an RFC 8941 byte sequence) and ``dcz`` in ``Accept-Encoding``; when the store
knows that dictionary, the response goes out with ``Content-Encoding: dcz``: a 40-byte
header (``5e 2a 4d 18 20 00 00 00``, a zstd skippable frame of 32 bytes, then the
SHA-256), then a zstd stream made with the dictionary as raw content, with a window of at
most max(8 MiB, 1.25 x the dictionary's size), capped at 128 MiB. Such responses, and every
response the middleware could have encoded, carry ``Vary: Accept-Encoding,
Available-Dictionary``.

Dictionaries may also be registered up front (:meth:`DictionaryStore.add`), e.g. the
previous version of a bundle, so that servers with several processes all know them.

``dcb`` (shared Brotli) is not offered: the ``brotli`` binding chute uses (1.2) takes no
dictionary.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..codecs.zstd_dict import DICT_MAGIC
from ._policy import _zstd_options
from .negotiate import choose_encoding

__all__ = ["DictionaryStore", "Dictionary", "DCZ_MAGIC", "choose", "parse_sf_binary", "records"]

#: The start of every dcz body: a zstd skippable frame (magic 0x184D2A5E) of 32 bytes.
DCZ_MAGIC = b"\x5e\x2a\x4d\x18\x20\x00\x00\x00"
MIN_WINDOW = 8 << 20
MAX_WINDOW = 128 << 20


def parse_sf_binary(value: str | None) -> bytes | None:
    """The bytes of an RFC 8941 byte sequence (``:base64:``), or None if it is not one."""
    if value is None:
        return None
    value = value.strip()
    if len(value) < 2 or value[0] != ":" or value[-1] != ":":
        return None
    try:
        return base64.b64decode(value[1:-1], validate=True)
    except ValueError:
        return None


def sf_binary(data: bytes) -> str:
    return ":" + base64.b64encode(data).decode("ascii") + ":"


class Dictionary:
    """One dictionary the server knows: its bytes, their SHA-256, and a zstd raw dictionary."""

    def __init__(self, content: bytes) -> None:
        from ..codecs.zstd import core

        self.content = content
        self.digest = hashlib.sha256(content).digest()
        self.header = DCZ_MAGIC + self.digest
        self.zstd_dict = core().ZstdDict(content, is_raw=True)
        limit = min(MAX_WINDOW, max(MIN_WINDOW, len(content) * 5 // 4))
        self.window_log = limit.bit_length() - 1  # the largest power of two within the limit

    @property
    def available_dictionary(self) -> str:
        """The ``Available-Dictionary`` value a client sends for this dictionary."""
        return sf_binary(self.digest)

    def _compressor(self, level: int, *, streamed: bool) -> Any:
        from ..codecs.zstd import core

        z = core()
        options = _zstd_options(z, level)
        options[z.ZSTD_c_windowLog] = self.window_log
        zd = self.zstd_dict.as_digested_dict if not streamed else self.zstd_dict
        return z.ZstdCompressor(options=options, zstd_dict=zd)

    def compress_whole(self, body: bytes, level: int) -> bytes:
        """A whole dcz body."""
        from ..codecs.zstd import core

        c = self._compressor(level, streamed=False)
        return self.header + bytes(c.compress(body, core().ZstdCompressor.FLUSH_FRAME))

    def stream(self, level: int) -> DczStream:
        """A sans-IO compressor for a streamed dcz body (``compress``, ``flush``, ``finish``)."""
        return DczStream(self, level)


class DczStream:
    """A streamed dcz body: the 40-byte header comes out with the first piece."""

    def __init__(self, dictionary: Dictionary, level: int) -> None:
        from ..codecs.zstd import core

        self._c = dictionary._compressor(level, streamed=True)
        self._cls = core().ZstdCompressor
        self._header = dictionary.header

    def _out(self, data: bytes) -> bytes:
        if self._header:
            data, self._header = self._header + data, b""
        return data

    def compress(self, data: bytes) -> bytes:
        return self._out(bytes(self._c.compress(data)))

    def flush(self) -> bytes:
        return self._out(bytes(self._c.flush(self._cls.FLUSH_BLOCK)))

    def finish(self) -> bytes:
        return self._out(bytes(self._c.flush(self._cls.FLUSH_FRAME)))


class DictionaryStore:
    """The dictionaries a server knows, by SHA-256, the least recently used dropped first
    beyond ``max_entries`` or ``max_bytes`` in all. ``max_size``: largest dictionary kept
    (a bigger ``Use-As-Dictionary`` response is served but not recorded). Thread-safe."""

    def __init__(self, *, max_entries: int = 64, max_bytes: int = 64 << 20, max_size: int = 16 << 20) -> None:
        if max_entries <= 0 or max_bytes <= 0 or max_size <= 0:
            raise ValueError("max_entries, max_bytes and max_size must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_size = max_size
        self._items: OrderedDict[bytes, Dictionary] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, content: bytes) -> Dictionary | None:
        """Know ``content`` as a dictionary; None if refused (too big, or bytes a zstd
        library would take for a trained dictionary rather than raw content)."""
        content = bytes(content)
        if len(content) > self.max_size or len(content) > self.max_bytes or content[:4] == DICT_MAGIC:
            return None
        d = Dictionary(content)
        with self._lock:
            old = self._items.pop(d.digest, None)
            if old is not None:
                self._bytes -= len(old.content)
            self._items[d.digest] = d
            self._bytes += len(content)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.content)
        return d

    def find(self, available_dictionary: str | None) -> Dictionary | None:
        """The dictionary an ``Available-Dictionary`` header names, if known."""
        digest = parse_sf_binary(available_dictionary)
        if digest is None or len(digest) != 32:
            return None
        with self._lock:
            d = self._items.get(digest)
            if d is not None:
                self._items.move_to_end(digest)
            return d

    def recorder(self) -> Recorder:
        return Recorder(self)


class Recorder:
    """Collects a ``Use-As-Dictionary`` response body as it goes out; adds it when complete."""

    def __init__(self, store: DictionaryStore) -> None:
        self.store = store
        self.parts: list[bytes] | None = []
        self.size = 0

    def feed(self, piece: bytes) -> None:
        if self.parts is None or not piece:
            return
        self.size += len(piece)
        if self.size > self.store.max_size:
            self.parts = None  # too big to keep: served, not recorded
            return
        self.parts.append(bytes(piece))

    def done(self) -> None:
        if self.parts is not None:
            self.store.add(b"".join(self.parts))
        self.parts = None

    def tee(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """``pieces``, fed to the recorder on the way; recorded when they run out."""
        for piece in pieces:
            self.feed(piece)
            yield piece
        self.done()


def choose(
    accept_encoding: str | None,
    encodings: Sequence[str],
    store: DictionaryStore | None,
    available_dictionary: str | None,
) -> tuple[str | None, Dictionary | None]:
    """(content-coding, dictionary): ``dcz`` with the dictionary when the client offers one
    the store knows and accepts ``dcz`` at least as much as the other codings; otherwise the
    usual choice among ``encodings`` and no dictionary."""
    if store is not None and available_dictionary is not None:
        d = store.find(available_dictionary)
        if d is not None and choose_encoding(accept_encoding, ("dcz", *encodings)) == "dcz":
            return "dcz", d
    return choose_encoding(accept_encoding, encodings), None


def records(status: int, headers: dict[str, str]) -> bool:
    """True if a response with these (lower-case) headers is to be recorded as a dictionary."""
    if status != 200 or "use-as-dictionary" not in headers:
        return False
    return headers.get("content-encoding", "identity").strip().lower() == "identity"
