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

from .jobs import MemberPolicy, ParallelCompressor, member_function

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..codecs._base import Buffer

__all__ = ["AdaptiveCompressor", "AdaptiveLevel", "ADAPT_BLOCK"]

#: Input bytes per frame: small enough for the level to move every few MB.
ADAPT_BLOCK = 1 << 20


class AdaptiveLevel(MemberPolicy):
    """The level of each zstd frame (see the module's description): starts at ``level``,
    moves one step per frame between ``min_level`` and ``max_level``. :attr:`levels`
    lists the level of each frame chosen so far."""

    def __init__(self, level: int, *, min_level: int, max_level: int, checksum: bool, content_size: bool) -> None:
        from .. import codecs

        if not min_level <= max_level:
            raise ValueError("min_level must not exceed max_level")
        self._zstd = codecs.get("zstd")
        self._options = {"checksum": checksum, "content_size": content_size}
        self._frames: dict[int, Callable[[Buffer], bytes]] = {}
        self.level = max(min_level, min(max_level, level))
        self._min, self._max = min_level, max_level
        self.levels: list[int] = []

    def member(self, waited: bool, idle: bool) -> Callable[[Buffer], bytes]:
        if self.levels:
            if waited:
                self.level = max(self._min, self.level - 1)
            elif idle:
                self.level = min(self._max, self.level + 1)
        self.levels.append(self.level)
        frame = self._frames.get(self.level)
        if frame is None:
            frame = self._frames[self.level] = member_function(self._zstd, self.level, **self._options)
        return frame


class AdaptiveCompressor(ParallelCompressor):
    """A zstd compressor whose level moves between ``min_level`` and ``max_level``
    (:class:`AdaptiveLevel`), starting at ``level``, on ``threads`` workers: a
    :class:`~chute.parallel.jobs.ParallelCompressor` of ``block_size`` frames.
    ``checksum`` and ``content_size`` as for each frame of :func:`member_function`.
    :attr:`levels` lists the level of each frame written so far."""

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
        self.policy = AdaptiveLevel(
            level, min_level=min_level, max_level=max_level, checksum=checksum, content_size=content_size
        )
        super().__init__(self.policy, threads=threads, block_size=block_size)

    @property
    def level(self) -> int:
        return self.policy.level

    @property
    def levels(self) -> list[int]:
        return self.policy.levels
