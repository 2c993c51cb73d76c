"""Block-parallel compression and decompression on a bounded pool of daemon threads.

Input is cut into blocks; each block becomes one *independent* member of the format
(a gzip member, a zstd frame, an lz4 frame, a bz2 or xz stream), compressed on a worker
thread. Every reader of these formats decodes concatenated members, so the output stays
a standard file. Results are written in input order. At most ``2 x threads`` blocks are
in flight: :meth:`ParallelCompressor.compress` blocks (waits for the oldest block) when
the window is full, so peak memory is about ``threads x 2 x (block + compressed block)``
plus a constant, whatever the input size.

zstd without ``seekable`` never comes here: the library's own workers (``nb_workers``)
do it better (see :func:`chute.fileobj.new_compressor`). ``seekable=True`` writes the
zstd seekable format or BGZF (see :mod:`chute.seekable`).

Workers are daemon threads and every wait has a timeout, so Ctrl-C in the caller's
thread stops the run within a fraction of a second; a worker error is re-raised by the
next ``compress``/``flush``/``finish`` call.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from .codecs import Codec, Compressor, FlushMode
from .codecs._base import cut_blocks

__all__ = ["ParallelCompressor", "parallel_compressor", "parallel_decompress", "block_size_for"]

Buffer = bytes | bytearray | memoryview
_POLL = 0.1

#: Input bytes per independent member. bz2 uses its own 900 kB blocks per level, so a
#: member of 8 of them keeps its ratio; xz needs big blocks to use its dictionary.
_BLOCK_SIZES = {"gzip": 1 << 20, "zstd": 4 << 20, "lz4": 4 << 20, "bz2": 8 * 900_000, "xz": 8 << 20}


def block_size_for(codec: Codec, seekable: bool = False) -> int:
    """Default input block size of one member for ``codec``."""
    if seekable:
        return 1 << 20
    return _BLOCK_SIZES.get(codec.name, 4 << 20)


def resolve_threads(threads: int | None) -> int:
    """``None`` -> 1, ``0`` -> every usable core, N -> N."""
    if threads is None:
        return 1
    if threads < 0:
        raise ValueError("threads must be >= 0")
    if threads == 0:
        from .fileobj import usable_cores

        return usable_cores()
    return threads


class _Job:
    __slots__ = ("data", "done", "error", "result", "size")

    def __init__(self, data: Any, size: int) -> None:
        self.data: Any = data
        self.size = size
        self.done = threading.Event()
        self.result = b""
        self.error: BaseException | None = None

    def wait(self) -> bytes:
        while not self.done.wait(_POLL):
            pass
        if self.error is not None:
            raise self.error
        return self.result


class _Pool:
    """``n`` daemon threads running ``fn`` over jobs from an unbounded queue (the caller bounds it)."""

    def __init__(self, fn: Callable[[Any], bytes], n: int) -> None:
        self._fn = fn
        self._q: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"chute-worker-{i}", daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            try:
                assert job.data is not None
                job.result = self._fn(job.data)
            except BaseException as exc:  # handed to the caller's thread
                job.error = exc
            job.data = None
            job.done.set()

    def submit(self, data: Any, size: int = 0) -> _Job:
        job = _Job(data, size)
        self._q.put(job)
        return job

    def close(self) -> None:
        for _ in self._threads:
            self._q.put(None)


def member_function(codec: Codec, level: int, **options: Any) -> Callable[[Buffer], bytes]:
    """A thread-safe function compressing one block into one complete member of ``codec``."""
    if codec.name == "gzip":
        import deflate

        gz = deflate.gzip_compress
        return lambda data: bytes(gz(data, level))
    if codec.name == "zstd":
        from .codecs.zstd import backend

        zstd = backend()
        P = zstd.CompressionParameter
        opts = {P.compression_level: level, P.checksum_flag: int(options.get("checksum", True))}

        def zstd_frame(data: Buffer) -> bytes:
            return zstd.ZstdCompressor(options=opts).compress(data, zstd.ZstdCompressor.FLUSH_FRAME)  # type: ignore[no-any-return]

        return zstd_frame

    if codec.name == "lz4" and set(options) <= {"checksum"}:
        import lz4.frame as lf

        checksum = bool(options.get("checksum", True))
        return lambda data: lf.compress(
            data, compression_level=level, block_size=lf.BLOCKSIZE_MAX4MB, content_checksum=checksum
        )

    def one_member(data: Buffer) -> bytes:
        comp = codec.new_compressor(level, **options)
        return comp.compress(data) + comp.finish()

    return one_member


class ParallelCompressor:
    """A :class:`~chute.codecs.Compressor` that compresses blocks on ``threads`` workers.

    ``make_member`` compresses one block to one independent member; ``on_member(size_in,
    member)`` (optional) sees each member in order and may return bytes to emit instead
    (used to record a seek table); ``trailer()`` is appended by :meth:`finish`.
    ``empty_member``: emit one member for empty input (gzip and friends need one to be a
    valid file).
    """

    def __init__(
        self,
        make_member: Callable[[Buffer], bytes],
        *,
        threads: int,
        block_size: int,
        on_member: Callable[[int, bytes], bytes] | None = None,
        trailer: Callable[[], bytes] | None = None,
        empty_member: bool = True,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self._make = make_member
        self._block = block_size
        self._on_member = on_member
        self._trailer = trailer
        self._empty_member = empty_member
        self._limit = 2 * threads
        self._pool = _Pool(make_member, threads)
        self._pending: collections.deque[_Job] = collections.deque()
        self._buf = bytearray()
        self._emitted = False
        self._closed = False

    def _take(self, job: _Job) -> bytes:
        out = job.wait()
        self._emitted = True
        if self._on_member is not None:
            return self._on_member(job.size, out)
        return out

    def _submit(self, data: Buffer) -> list[bytes]:
        out: list[bytes] = []
        while len(self._pending) >= self._limit:
            out.append(self._take(self._pending.popleft()))
        self._pending.append(self._pool.submit(data, len(data)))
        while self._pending and self._pending[0].done.is_set():
            out.append(self._take(self._pending.popleft()))
        return out

    def _drain(self) -> list[bytes]:
        out = []
        while self._pending:
            out.append(self._take(self._pending.popleft()))
        return out

    def _check(self) -> None:
        if self._closed:
            raise ValueError("compressor is closed")

    def compress(self, data: Buffer) -> bytes:
        self._check()
        blocks, self._buf = cut_blocks(self._buf, data, self._block)
        out: list[bytes] = []
        for block in blocks:
            out += self._submit(bytes(block))  # a copy: workers outlive the caller's buffer
        return b"".join(out)

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        """Compress what is buffered as a member of its own and wait for every block."""
        self._check()
        out: list[bytes] = []
        if self._buf:
            out += self._submit(bytes(self._buf))
            self._buf = bytearray()
        out += self._drain()
        return b"".join(out)

    def finish(self) -> bytes:
        self._check()
        out: list[bytes] = []
        if self._buf or (not self._emitted and not self._pending and self._empty_member):
            out += self._submit(bytes(self._buf))
            self._buf = bytearray()
        out += self._drain()
        if self._trailer is not None:
            out.append(self._trailer())
        self.close()
        return b"".join(out)

    def close(self) -> None:
        """Stop the workers (blocks still running finish in the background)."""
        if not self._closed:
            self._closed = True
            self._pending.clear()
            self._pool.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def parallel_compressor(
    codec: Codec | str,
    level: int | None = None,
    *,
    threads: int | None = None,
    seekable: bool = False,
    block_size: int | None = None,
    **options: Any,
) -> Compressor:
    """A compressor writing independent members of ``codec`` on ``threads`` workers.

    ``threads``: 0 = every usable core. ``seekable``: zstd seekable format or BGZF gzip
    (other formats raise ``ValueError``). ``block_size``: input bytes per member (for
    BGZF at most 65280). Other ``options`` go to the codec's compressor for each member.
    """
    from . import codecs

    if isinstance(codec, str):
        codec = codecs.get(codec)
    level = codec.check_level(level)
    n = resolve_threads(threads)
    if seekable:
        from .seekable import seekable_compressor

        return seekable_compressor(codec, level, threads=n, block_size=block_size, **options)
    options.pop("strategy", None)
    options.pop("nb_workers", None)
    size = block_size if block_size is not None else block_size_for(codec)
    return ParallelCompressor(member_function(codec, level, **options), threads=n, block_size=size)


# --------------------------------------------------------------------------- decompression


def parallel_decompress(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    threads: int | None = 0,
    format: str | None = None,
    chunk_size: int = 1 << 20,
    **options: Any,
) -> Any:
    """Decompress ``src`` to ``dst`` using ``threads`` workers where the file allows it.

    Seekable zstd and BGZF/multi-member gzip files in a seekable ``src`` are split along
    their frames (from the seek table, or by walking member headers) and decoded in
    parallel, in order, with at most ``2 x threads`` frames in flight. Anything else
    (pipes, single-member files, other formats) goes through
    :func:`chute.pump.decompress_stream` on one thread, with no error. Returns
    :class:`~chute.pump.Stats`.
    """
    from .codecs._stream import StreamDecoder
    from .pump import Stats, decompress_stream

    n = resolve_threads(threads)
    index = None
    if n > 1 and not options:
        from .seekable import find_index

        index = find_index(src, format)
    if index is None:
        return decompress_stream(src, dst, StreamDecoder(format, **options), chunk_size=chunk_size)
    from .seekable import decode_frame

    stats = Stats(format=index.format)
    fmt = index.format

    def decode_group(job: tuple[bytes, list[tuple[int, int, int]]]) -> bytes:
        raw, frames = job
        view = memoryview(raw)
        return b"".join(decode_frame(fmt, view[a:b], size) for a, b, size in frames)

    pool = _Pool(decode_group, n)
    pending: collections.deque[_Job] = collections.deque()
    base = src.tell()
    comp, dec = index.comp_offsets, index.offsets

    def emit(job: _Job) -> None:
        out = job.wait()
        dst.write(out)
        stats.bytes_out += len(out)

    try:
        i, count = 0, len(comp) - 1
        while i < count:
            # a job: consecutive frames holding at least 1 MiB of output (BGZF members are 64 KiB)
            j = i + 1
            while j < count and dec[j] - dec[i] < (1 << 20):
                j += 1
            src.seek(base + comp[i])
            raw = src.read(comp[j] - comp[i])
            if len(raw) != comp[j] - comp[i]:
                from .errors import TruncatedStreamError

                raise TruncatedStreamError(f"{fmt} file ends inside frame {j - 1}")
            stats.bytes_in += len(raw)
            frames = [(comp[k] - comp[i], comp[k + 1] - comp[i], dec[k + 1] - dec[k]) for k in range(i, j)]
            if len(pending) >= 2 * n:
                emit(pending.popleft())
            pending.append(pool.submit((raw, frames)))
            i = j
        while pending:
            emit(pending.popleft())
        stats.bytes_in += index.tail
    finally:
        pending.clear()
        pool.close()
    stats.ended = time.monotonic()
    return stats
