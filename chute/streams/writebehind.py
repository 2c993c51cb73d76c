"""Write behind a producer on a background thread, in bounded memory.

A decoder that releases the GIL (all of chute's do) and a ``write`` system call that
releases it too can then run side by side: the caller's thread decodes the next chunk
while a second thread writes the last one, as ``zstd -d`` does with its asynchronous
I/O. On a two-core machine this takes the write's system time (about a fifth of a
zstd decode into the page cache) off the decoder's path.

Writes are handed over in batches of :data:`BATCH` bytes or more: a hand-over between
threads (a wake-up and the GIL) costs tens of microseconds on a virtual machine, which
per 400 KB decode step added a seventh to the CPU time of a 2 GB zstd decode. At most
``depth`` batches wait, plus the one being gathered (``batch`` bytes and one chunk).
Chunks are kept by reference, so only ``bytes`` are taken as they are; anything mutable
is copied first.
"""

from __future__ import annotations

from _queue import Empty, SimpleQueue  # queue and threading would import collections: start-up

from ._writeall import flush_all, write_all
from .readahead import _Worker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = ["WriteBehind"]

#: How long :meth:`WriteBehind.abort` waits for a write in progress, in seconds.
ABORT_WAIT = 1.0
#: Bytes gathered before they are handed to the writing thread (or at ``flush()``), by default.
BATCH = 2 << 20

_FLUSH = object()
_CLOSE = object()


class WriteBehind:
    """A writer whose ``write`` returns at once and whose data reaches ``dst`` on a thread.

    ``flush()`` hands over what is gathered and asks the thread to flush ``dst`` once it
    has written what came before; it does not wait (a live stream's output still leaves
    as soon as it can). ``close()`` waits until everything is written and flushed, and
    raises the first error the thread met (``BrokenPipeError``, a full disk, ...). After
    such an error every ``write`` raises it too, and the rest of the data is dropped.
    ``abort()`` stops without writing what is still queued (for an error elsewhere).
    Neither closes ``dst``.
    """

    def __init__(self, dst: BinaryIO, *, depth: int = 4, batch: int = BATCH) -> None:
        if depth <= 0 or batch <= 0:
            raise ValueError("depth and batch must be positive")
        self._batch_size = batch
        self._dst = dst
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._room: SimpleQueue[None] = SimpleQueue()  # the bound: one token per queued batch
        for _ in range(depth):
            self._room.put(None)
        self._error: BaseException | None = None
        self._dropping = False
        self._batch: list[bytes] = []
        self._batched = 0
        self._dirty = False  # handed over since the last flush request
        self.closed = False
        self._thread = _Worker(self._run)

    def _run(self) -> None:
        dst = self._dst
        while True:
            item = self._queue.get()
            try:
                if item is _CLOSE:
                    if not self._dropping:
                        flush_all(dst)
                    return
                if self._dropping:
                    continue
                if item is _FLUSH:
                    flush_all(dst)
                else:
                    for chunk in item:
                        if self._dropping:  # aborted in the middle of a batch
                            break
                        write_all(dst, chunk)
            except BaseException as exc:  # handed to the producer
                self._error = exc
                self._dropping = True
            finally:
                if item is not _CLOSE and item is not _FLUSH:
                    self._room.put(None)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error
        if self.closed:
            raise ValueError("I/O operation on a closed WriteBehind")

    def write(self, data: Any) -> int:
        n = len(data)
        if not n:
            return 0
        self._check()
        self._batch.append(data if type(data) is bytes else bytes(data))
        self._batched += n
        if self._batched >= self._batch_size:
            self._hand_over()
        return n

    def _hand_over(self) -> None:
        batch, self._batch, self._batched = self._batch, [], 0
        while True:  # a timed wait, so a signal (Ctrl-C) is seen at once
            try:
                self._room.get(timeout=0.5)
                break
            except Empty:
                if self._error is not None:
                    raise self._error from None
        self._queue.put(batch)
        self._dirty = True

    def flush(self) -> None:
        # no room token: at most one request per batch handed over, so the queue stays bounded
        self._check()
        if self._batch:
            self._hand_over()
        if self._dirty:
            self._dirty = False
            self._queue.put(_FLUSH)

    def close(self) -> None:
        """Wait for every queued write and the final flush; raise the thread's error."""
        if self.closed:
            return
        try:
            if self._batch and self._error is None:
                self._hand_over()
        except BaseException:
            self.abort()
            raise
        self.closed = True
        self._queue.put(_CLOSE)
        while self._thread.is_alive():  # a timed wait, so a signal (Ctrl-C) is seen at once
            self._thread.join(timeout=0.5)
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop the thread without writing what is still queued, nor the rest of the batch
        it is writing: once this returns, at most the one write in progress (stuck on a pipe
        after :data:`ABORT_WAIT` seconds) still reaches ``dst``."""
        if self.closed:
            return
        self.closed = True
        self._dropping = True
        self._batch = []
        self._queue.put(_CLOSE)
        # not forever: the thread may be stuck in a write to a pipe nobody reads
        self._thread.join(timeout=ABORT_WAIT)

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
