"""Read ahead of a consumer on a background thread, in bounded memory.

A consumer that does its own slow work per byte (creating files while unpacking an
archive) can then run beside the reader instead of after it, as the two-process pipeline
``zstd -d | tar -x`` does through the kernel's pipe. A thread overlaps what releases the
GIL: I/O, and the decoders, which all release it while they decode (zlib, bz2, lzma, and
zstd: ``backports.zstd`` and ``compression.zstd`` too). The Python code around each
decoder call (the codec's reader) and the consumer's own Python still take turns.

:class:`ReadAhead` reads like a buffered stream (``read``, ``readinto``), and writes its
next bytes straight to a file descriptor from the chunks it holds (``write_to``: no copy).
"""

from __future__ import annotations

import _thread
import io
import os
from _queue import Empty, SimpleQueue  # queue and threading would import collections: start-up

TYPE_CHECKING = False
if TYPE_CHECKING:
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

    def peek_chunk(self) -> memoryview:
        """The next bytes as they are held (the rest of the current chunk, else the next
        chunk; empty at the end), not consumed: a parser walks them in place and then
        says how many it used with :meth:`consume`."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if not self._current:
            self._next()
        return self._current

    def consume(self, n: int) -> None:
        """Pass over ``n`` bytes of what :meth:`peek_chunk` returned."""
        self._current = self._current[n:]

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

    def skip(self, size: int) -> int:
        """Pass over the next ``size`` bytes without making a ``bytes`` of them; return how
        many were passed over, fewer only at the end."""
        return self.write_to(-1, 0, size)  # size 0: nothing is written to the fd

    def write_to(self, fd: int, size: int, skip: int = 0) -> int:
        """Write the next ``size`` bytes to the file descriptor ``fd`` straight from the
        chunks (no copy), then pass over ``skip`` bytes (a tar member's padding); return
        how many bytes were written and passed over, fewer only at the end."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        cur = self._current
        if size + skip <= len(cur):  # the usual case: within one chunk
            chunk = cur[:size]
            while chunk:
                chunk = chunk[os.write(fd, chunk) :]
            self._current = cur[size + skip :]
            return size + skip
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
        if skip and done == size:
            while skip and (self._current or self._next()):
                cur = self._current
                n = min(skip, len(cur))
                self._current = cur[n:]
                skip -= n
                done += n
        return done


class _Worker:
    """A thread started with ``_thread`` (the ``threading`` module imports functools and
    collections: start-up), joined through a lock that it holds until it ends."""

    def __init__(self, target: Any) -> None:
        self._running = _thread.allocate_lock()
        self._running.acquire()
        self._target = target
        _thread.start_new_thread(self._main, ())

    def _main(self) -> None:
        try:
            self._target()
        finally:
            self._running.release()

    def is_alive(self) -> bool:
        return self._running.locked()

    def join(self, timeout: float) -> None:
        if self._running.acquire(timeout=timeout):
            self._running.release()


class ReadAhead(_Chunked):
    """A binary stream over ``source`` whose reads are done ``depth`` chunks ahead on a thread.

    At most ``depth`` chunks of ``chunk_size`` bytes wait in memory. An exception raised by
    ``source.read`` is raised again by the consumer's next read. ``close()`` stops the
    thread; it does not close ``source``. The thread does not keep the interpreter from
    exiting (as a daemon thread).
    """

    def __init__(self, source: Any, *, chunk_size: int = 1 << 20, depth: int = 4) -> None:
        super().__init__()
        if chunk_size <= 0 or depth <= 0:
            raise ValueError("chunk_size and depth must be positive")
        self._source = source
        self._chunk = chunk_size
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._room: SimpleQueue[None] = SimpleQueue()  # the bound: one token per chunk that may wait
        for _ in range(depth):
            self._room.put(None)
        self._stop = False
        self._thread = _Worker(self._run)

    def _put(self, item: Any) -> bool:
        while not self._stop:
            try:
                self._room.get(timeout=0.1)
            except Empty:
                continue
            self._queue.put(item)
            return True
        return False

    def _run(self) -> None:
        try:
            while not self._stop:
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
        self._room.put(None)
        if item is _EOF:
            return None
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.closed:
            self._stop = True
            self._room.put(None)  # wakes a thread waiting for room at once
            self._thread.join(timeout=5)
        super().close()
