"""Zstandard (RFC 8878), through the standard library's ``compression.zstd`` (Python 3.14+)
or its backport ``backports.zstd`` on older interpreters: one API, one code path.

Frames carry a content checksum by default, like the zstd CLI. Decompression refuses
frames whose window exceeds ``memory_limit`` (default 128 MiB, the zstd CLI's default),
so a hostile frame cannot make us allocate gigabytes. Skippable frames are decoded as
empty members and so skipped.
"""

from __future__ import annotations

from ..errors import CorruptStreamError, LimitExceededError
from ._base import Buffer, Codec, FlushMode, WrappedDecompressor

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

DEFAULT_MEMORY_LIMIT = 128 << 20
SKIPPABLE_MAGICS = tuple(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16))


def backend() -> ModuleType:
    """The ``compression.zstd`` module or its backport."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef,unused-ignore]
    return zstd  # type: ignore[no-any-return]


def window_log_for(memory_limit: int) -> int:
    """The largest window log whose window fits in ``memory_limit`` bytes (at least 10)."""
    if memory_limit <= 0:
        raise ValueError("memory_limit must be positive")
    return max(10, min(31, memory_limit.bit_length() - 1))


class ZstdCompressor:
    def __init__(
        self,
        level: int = 3,
        *,
        threads: int = 0,
        checksum: bool = True,
        window_log: int | None = None,
        long_distance: bool = False,
        job_size: int | None = None,
    ) -> None:
        zstd = backend()
        P = zstd.CompressionParameter
        options: dict[Any, int] = {P.compression_level: level, P.checksum_flag: int(checksum)}
        if threads:
            options[P.nb_workers] = threads
            if threads == 1 and job_size is None:
                # One worker overlapping the caller's I/O (zstd -T1). zstd's default job
                # (4x the window, 8 MiB at level 3) costs ~20 MiB more peak RSS for a
                # ratio difference under 0.5%; 4 MiB jobs keep a one-thread run < 64 MiB.
                job_size = 4 << 20
            if job_size is not None:
                options[P.job_size] = job_size
        if window_log is not None:
            options[P.window_log] = window_log
        if long_distance:
            options[P.enable_long_distance_matching] = 1
        self._obj = zstd.ZstdCompressor(options=options)
        self._cls = zstd.ZstdCompressor

    def compress(self, data: Buffer) -> bytes:
        return self._obj.compress(data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        # FULL ends the frame: the next frame starts with no history, a decoder may start there.
        how = self._cls.FLUSH_FRAME if mode is FlushMode.FULL else self._cls.FLUSH_BLOCK
        return self._obj.flush(how)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.flush(self._cls.FLUSH_FRAME)  # type: ignore[no-any-return]

    def compress_whole(self, data: Buffer) -> bytes:
        """Compress ``data`` as the whole stream in one call (then finished). zstd then
        knows the size: it records it in the frame header and sizes its tables to the
        input, which at levels 20-22 saves hundreds of MiB on small inputs."""
        return self._obj.compress(data, self._cls.FLUSH_FRAME)  # type: ignore[no-any-return]


class ZstdDecompressor(WrappedDecompressor):
    def __init__(self, *, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        zstd = backend()
        log = window_log_for(memory_limit)
        self._obj = zstd.ZstdDecompressor(options={zstd.DecompressionParameter.window_log_max: log})
        self._error = zstd.ZstdError
        self._limit = memory_limit

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        try:
            return self._obj.decompress(data, max_length)  # type: ignore[no-any-return]
        except self._error as exc:
            msg = str(exc)
            if "memory" in msg.lower() or "window" in msg.lower():
                raise LimitExceededError(
                    f"zstd frame needs a window larger than the memory limit "
                    f"({self._limit >> 20} MiB); raise it with --memory ({msg})"
                ) from None
            if "checksum" in msg.lower():
                from ..errors import ChecksumError

                raise ChecksumError(f"zstd content checksum mismatch ({msg})") from None
            raise CorruptStreamError(f"invalid zstd data ({msg})") from None


def new_compressor(level: int = 3, **options: Any) -> ZstdCompressor:
    return ZstdCompressor(level, **options)


def new_decompressor(**options: Any) -> ZstdDecompressor:
    return ZstdDecompressor(**options)


CODEC = Codec(
    name="zstd",
    aliases=("zst", "zstandard"),
    suffixes=(".zst", ".tzst", ".zstd"),
    magic=(b"\x28\xb5\x2f\xfd", *SKIPPABLE_MAGICS),
    new_compressor=new_compressor,
    new_decompressor=new_decompressor,
    levels=(-7, 22),
    default_level=3,
    fast_level=1,
    best_level=19,
)
