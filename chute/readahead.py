"""Read ahead of a consumer on a background thread, in bounded memory.

Decompression releases the GIL, so a consumer that does its own slow work per byte
(creating files while unpacking an archive) can run beside the decoder instead of after
it: the two-process pipeline ``zstd -d | tar -x`` gets this from the kernel's pipe.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import Any

__all__ = ["ReadAhead"]

_EOF = object()


class ReadAhead(io.RawIOBase):
    """A raw binary stream over ``source`` whose reads are done ``depth`` chunks ahead.

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
        self._current = memoryview(b"")
        self._done = False
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

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(b).cast("B")
        while not self._current:
            if self._done:
                return 0
            item = self._queue.get()
            if item is _EOF:
                self._done = True
                return 0
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._current = memoryview(item)
        n = min(len(view), len(self._current))
        view[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._stop.set()
            self._thread.join(timeout=5)
        super().close()
