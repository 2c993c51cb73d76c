"""Read ahead of a consumer on a background thread, in bounded memory.

A consumer that does its own slow work per byte (creating files while unpacking an
archive) can then run beside the reader instead of after it, as the two-process pipeline
``zstd -d | tar -x`` does through the kernel's pipe. A thread overlaps what releases the
GIL: I/O, and the decoders that release it (zlib, bz2, lzma); ``compression.zstd`` and
``backports.zstd`` hold it while they decode, so with zstd only the consumer's system
calls run beside the decoder.

:class:`ReadAhead` reads like a buffered stream (``read``, ``readinto``), and writes its
next bytes straight to a file descriptor from the chunks it holds (``write_to``: no copy).
"""

from __future__ import annotations

import io
import os
import queue
import threading
from typing import Any

__all__ = ["ReadAhead"]

_EOF = object()


class _Chunked(io.RawIOBase):
    """Buffered reading over the chunks (``bytes``) that :meth:`_fetch` returns."""

    def __init__(self) -> None:
        super().__init__()
        self._current = memoryview(b"")
        self._done = False

    def _fetch(self) -> bytes | None:  # pragma: no cover - abstract
        """The next chunk, or None at the end of the data."""
        raise NotImplementedError

    def _next(self) -> bool:
        """Make the next chunk current; False at the end of the data."""
        while not self._current:
            if self._done:
                return False
            item = self._fetch()
            if item is None:
                self._done = True
                return False
            self._current = memoryview(item)
        return True

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(b).cast("B")
        if not self._current and not self._next():
            return 0
        n = min(len(view), len(self._current))
        view[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left if negative); fewer only at the end."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        cur = self._current
        if size is not None and 0 <= size <= len(cur):  # the usual case: within one chunk
            self._current = cur[size:]
            return cur[:size].tobytes()
        parts = []
        want = -1 if size is None or size < 0 else size
        while want and self._next():
            cur = self._current
            n = len(cur) if want < 0 else min(want, len(cur))
            parts.append(cur[:n].tobytes())
            self._current = cur[n:]
            if want > 0:
                want -= n
        return b"".join(parts)

    def write_to(self, fd: int, size: int) -> int:
        """Write the next ``size`` bytes to the file descriptor ``fd`` straight from the
        chunks (no copy); return how many were written, fewer only at the end."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        done = 0
        write = os.write
        while done < size and (self._current or self._next()):
            cur = self._current
            n = min(size - done, len(cur))
            chunk = cur[:n]
            while chunk:
                chunk = chunk[write(fd, chunk) :]
            self._current = cur[n:]
            done += n
        return done


class ReadAhead(_Chunked):
    """A binary stream over ``source`` whose reads are done ``depth`` chunks ahead on a thread.

    At most ``depth`` chunks of ``chunk_size`` bytes wait in memory. An exception raised by
    ``source.read`` is raised again by the consumer's next read. ``close()`` stops the
    thread; it does not close ``source``.
    """

    def __init__(self, source: Any, *, chunk_size: int = 1 << 20, depth: int = 4) -> None:
        super().__init__()
        if chunk_size <= 0 or depth <= 0:
            raise ValueError("chunk_size and depth must be positive")
        self._source = source
        self._chunk = chunk_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chute-readahead", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._source.read(self._chunk)
                if not data:
                    break
                if not self._put(data):
                    return
            self._put(_EOF)
        except BaseException as exc:  # handed to the consumer
            self._put(exc)

    def _fetch(self) -> bytes | None:
        item = self._queue.get()
        if item is _EOF:
            return None
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.closed:
            self._stop.set()
            self._thread.join(timeout=5)
        super().close()
