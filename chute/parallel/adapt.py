"""zstd ``--adapt``: a compression level that follows the speed of the output.

The input is cut into frames of :data:`ADAPT_BLOCK` bytes, each an independent zstd
frame compressed on the pool's workers, so any change of level falls between two frames
and the output is an ordinary multi-frame zstd stream. Each frame's level is chosen when
it is handed to the workers, from what the caller's last wait said:

* the workers are the bottleneck: the caller had to wait for a frame still being
  compressed before it could hand over the next one (the reader takes the output as fast
  as it comes) -> one level lower, down to ``min_level``;
* the caller is the bottleneck: every frame handed over before has been compressed while
  the caller was away reading input or writing output (a slow pipe, a slow disk, a slow
  network) -> one level higher, up to ``max_level``;
* otherwise the level stays.

One step per frame: the level settles where compressing a frame takes about as long as
moving it. The output therefore depends on timing, not on the input alone (as with
``zstd --adapt``).
"""

from __future__ import annotations

from ..codecs import FlushMode

TYPE_CHECKING = False
if TYPE_CHECKING:
    import collections
    from collections.abc import Callable

    from ..codecs._base import Buffer
    from .pool import Job

__all__ = ["AdaptiveCompressor", "ADAPT_BLOCK"]

#: Input bytes per frame: small enough for the level to move every few MB.
ADAPT_BLOCK = 1 << 20


class AdaptiveCompressor:
    """A zstd compressor whose level moves between ``min_level`` and ``max_level``
    (see the module's description), starting at ``level``, on ``threads`` workers.
    ``checksum`` and ``content_size`` as for each frame of :func:`member_function`.
    :attr:`levels` lists the level of each frame written so far."""

    keeps_input = False

    def __init__(
        self,
        level: int,
        *,
        threads: int,
        min_level: int,
        max_level: int,
        checksum: bool = True,
        content_size: bool = True,
        block_size: int = ADAPT_BLOCK,
    ) -> None:
        from collections import deque

        from .. import codecs
        from .jobs import member_function
        from .pool import Pool

        if not min_level <= max_level:
            raise ValueError("min_level must not exceed max_level")
        if threads < 1:
            raise ValueError("threads must be >= 1")
        zstd = codecs.get("zstd")
        self._frames: dict[int, Callable[[Buffer], bytes]] = {}

        def frame_for(level: int) -> Callable[[Buffer], bytes]:
            return member_function(zstd, level, checksum=checksum, content_size=content_size)

        self._frame_for = frame_for
        self.level = max(min_level, min(max_level, level))
        self._min, self._max = min_level, max_level
        self.levels: list[int] = []
        self.block_size = block_size
        self._buf = bytearray()
        self._limit = 2 * threads if threads > 1 else 1
        self._pool = Pool(lambda job: job[0](job[1]), threads)
        self._pending: collections.deque[Job] = deque()
        self._closed = False

    def _submit(self, block: bytes) -> list[bytes]:
        out: list[bytes] = []
        waited = False
        while len(self._pending) >= self._limit:
            job = self._pending.popleft()
            waited = waited or not job.done.is_set()
            out.append(job.wait())
        if self.levels:
            if waited:
                self.level = max(self._min, self.level - 1)
            elif all(job.done.is_set() for job in self._pending):
                self.level = min(self._max, self.level + 1)
        frame = self._frames.get(self.level)
        if frame is None:
            frame = self._frames[self.level] = self._frame_for(self.level)
        self.levels.append(self.level)
        self._pending.append(self._pool.submit((frame, block), len(block)))
        while self._pending and self._pending[0].done.is_set():
            out.append(self._pending.popleft().wait())
        return out

    def _check(self) -> None:
        if self._closed:
            raise ValueError("compressor is closed")

    def compress(self, data: Buffer) -> bytes:
        self._check()
        buf = self._buf
        buf += data
        out: list[bytes] = []
        size = self.block_size
        while len(buf) >= size:
            out += self._submit(bytes(buf[:size]))
            del buf[:size]
        return b"".join(out)

    def _drain(self) -> list[bytes]:
        out = []
        while self._pending:
            out.append(self._pending.popleft().wait())
        return out

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        """What is buffered becomes a frame of its own; waits for every frame."""
        self._check()
        out: list[bytes] = []
        if self._buf:
            out += self._submit(bytes(self._buf))
            self._buf = bytearray()
        return b"".join(out + self._drain())

    def finish(self) -> bytes:
        self._check()
        out: list[bytes] = []
        if self._buf or not self.levels:  # an empty input is one empty frame
            out += self._submit(bytes(self._buf))
            self._buf = bytearray()
        out += self._drain()
        self.close()
        return b"".join(out)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pending.clear()
            self._pool.close()
