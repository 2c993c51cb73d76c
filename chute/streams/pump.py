"""The chunked read -> transform -> write loop behind every chute copy.

One reusable buffer (``readinto``), a fixed chunk size (128 KiB by default), output
bounded per step, and :class:`Stats` for progress bars and ``-v``. The pump knows no
format: it drives a compressor or a :class:`~chute.codecs._stream.StreamDecoder`.
"""

from __future__ import annotations

import io
import os
import select
import stat
import time

from ..codecs._stream import StreamDecoder
from . import _malloc
from ._writeall import flush_all, write_all

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and collections stay off the command path (start-up)
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO, Protocol

    from ..codecs import Compressor

    Progress = Callable[["Stats"], None]

    class Sink(Protocol):
        """Where decoded bytes go: a binary file, or a :class:`~chute.streams.writebehind.WriteBehind`."""

        def write(self, data: bytes, /) -> object: ...

        def flush(self) -> object: ...


__all__ = ["Stats", "DEFAULT_CHUNK", "compress_stream", "decompress_stream"]

DEFAULT_CHUNK = 128 << 10
#: Most output one decode step may produce, as a multiple of the chunk size ...
OUTPUT_FACTOR = 8
#: ... and at least this much: one whole lz4 block, which its decoder then hands over
#: without cutting it into slices (copies).
MIN_STEP_OUTPUT = 4 << 20


def __getattr__(name: str) -> Any:
    # ``Progress`` (a callback taking :class:`Stats`) is built on first use: collections.abc
    # would load collections on every run, and the alias only serves annotations
    if name == "Progress":
        from collections.abc import Callable

        return Callable[[Stats], None]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Stats:
    """What one copy did. ``bytes_in``/``bytes_out`` count what was read and written."""

    __slots__ = ("bytes_in", "bytes_out", "ended", "format", "started")

    def __init__(self, format: str | None = None) -> None:
        self.bytes_in = 0
        self.bytes_out = 0
        self.started = time.monotonic()
        self.ended: float | None = None
        self.format = format

    def __repr__(self) -> str:
        return (
            f"Stats(format={self.format!r}, bytes_in={self.bytes_in}, bytes_out={self.bytes_out}, "
            f"seconds={self.seconds:.3f})"
        )

    @property
    def seconds(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def ratio(self) -> float:
        """Compressed size over uncompressed size (0.25 means 4x smaller)."""
        big, small = (
            (self.bytes_in, self.bytes_out) if self.bytes_in >= self.bytes_out else (self.bytes_out, self.bytes_in)
        )
        return small / big if big else 0.0


def _interruptible(src: Any, read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap ``read`` so that a signal ends a read that waits on a quiet pipe.

    Only for unbuffered sources (``io.FileIO``) that are not regular files, and only once
    :func:`chute.streams.atomic.cleanup_on_signals` has set up its wakeup pipe: the read first
    waits in select() on the source and on that pipe, and the loop around it gives the
    interpreter the chance to run the signal handler.
    """
    from .atomic import wakeup_fd

    wake = wakeup_fd()
    if wake is None or not isinstance(src, io.FileIO) or not _may_block(src):
        return read
    try:
        fd = src.fileno()
    except (OSError, ValueError):
        return read

    def wait_then_read(arg: Any) -> Any:
        while True:
            ready = _wait_readable([fd, wake], None)
            if wake in ready:
                try:
                    os.read(wake, 512)
                except BlockingIOError:
                    pass
            if fd in ready:
                return read(arg)

    return wait_then_read


def _wait_readable(fds: list[int], timeout: float | None) -> list[int]:
    """The descriptors of ``fds`` that can be read (or are at end or in error) within
    ``timeout`` seconds (``None``: no limit). poll, not select: select refuses a
    descriptor numbered 1024 or more, which a process with many files open hands out."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return select.select(fds, [], [], timeout)[0]
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    events = poller.poll(None if timeout is None else timeout * 1000)
    return [fd for fd, _ in events]


def _may_block(src: Any) -> bool:
    """Whether a read from ``src`` may wait for data (a pipe, a socket, a terminal, an
    unknown stream); not for a regular file or memory."""
    if isinstance(src, io.BytesIO):
        return False
    try:
        return not stat.S_ISREG(os.fstat(src.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return True


def _reader(src: Any) -> Callable[[bytearray | memoryview], int]:
    readinto = getattr(src, "readinto", None)
    if readinto is not None:
        return _interruptible(src, readinto)

    def fallback(buf: bytearray | memoryview) -> int:
        data = src.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    return fallback


def compress_stream(
    src: BinaryIO,
    dst: BinaryIO,
    compressor: Compressor,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    stats: Stats | None = None,
    flush_interval: float | None = None,
) -> Stats:
    """Compress ``src`` into ``dst`` until EOF and finish the stream.

    With ``flush_interval`` (seconds), data that arrived is flushed (made decodable and
    written through) at most that long after it arrived, even if the source then goes
    quiet: the loop waits on the source with a timeout rather than blocking in read.
    """
    stats = stats or Stats()
    if flush_interval is not None:
        _compress_realtime(src, dst, compressor, chunk_size, flush_interval, progress, stats)
        return _finish(dst, compressor, progress, stats)
    if getattr(compressor, "keeps_input", False) and hasattr(src, "read"):
        # it keeps what it is given: new bytes per read, so it need not copy them
        chunks: Iterator[bytes | memoryview] = _fresh_chunks(src, chunk_size)
    else:
        chunks = _buffered_chunks(src, chunk_size)
    tune = _malloc.wanted
    for chunk in chunks:
        stats.bytes_in += len(chunk)
        if tune and stats.bytes_in > chunk_size:  # a long stream: keep the heap (see _malloc)
            _malloc.tune()
            tune = False
        out = compressor.compress(chunk)
        if out:
            write_all(dst, out)
            stats.bytes_out += len(out)
        if progress is not None:
            progress(stats)
    return _finish(dst, compressor, progress, stats)


def _buffered_chunks(src: BinaryIO, chunk_size: int) -> Iterator[memoryview]:
    """Views of one reusable buffer, each valid until the next is taken."""
    view = memoryview(bytearray(chunk_size))
    readinto = _reader(src)
    while n := readinto(view):
        yield view[:n]


def _fresh_chunks(src: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """A new ``bytes`` per read, for a compressor that keeps its input (the parallel ones)."""
    read = _interruptible(src, src.read)
    while data := read(chunk_size):
        yield data


def _finish(dst: BinaryIO, compressor: Compressor, progress: Progress | None, stats: Stats) -> Stats:
    out = compressor.finish()
    if out:
        write_all(dst, out)
        stats.bytes_out += len(out)
    closer = getattr(compressor, "close", None)
    if closer is not None:
        closer()
    stats.ended = time.monotonic()
    if progress is not None:
        progress(stats)
    return stats


def _compress_realtime(
    src: BinaryIO,
    dst: BinaryIO,
    compressor: Compressor,
    chunk_size: int,
    interval: float,
    progress: Progress | None,
    stats: Stats,
) -> None:
    from ..codecs import FlushMode
    from .atomic import wakeup_fd

    try:
        fd = src.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    last_flush = time.monotonic()
    pending = False

    def flush() -> None:
        nonlocal pending, last_flush
        out = compressor.flush(FlushMode.SYNC)
        if out:
            write_all(dst, out)
            stats.bytes_out += len(out)
        flush_all(dst)
        pending = False
        last_flush = time.monotonic()

    wake = wakeup_fd()
    watch = [fd] if wake is None else [fd, wake]
    while True:
        if fd >= 0:
            wait = max(0.0, last_flush + interval - time.monotonic()) if pending else None
            ready = _wait_readable(watch, wait)
            if wake is not None and wake in ready:
                try:
                    os.read(wake, 512)
                except BlockingIOError:
                    pass
                continue  # the loop lets the interpreter run the signal handler
            if not ready:
                flush()
                continue
        # os.read returns what a pipe holds now; a buffered read() would wait for a full
        # chunk. Nothing was read through src's buffer before, so none is skipped.
        data = os.read(fd, chunk_size) if fd >= 0 else src.read(chunk_size)
        if not data:
            break
        stats.bytes_in += len(data)
        out = compressor.compress(data)
        if out:
            write_all(dst, out)
            stats.bytes_out += len(out)
        pending = True
        if time.monotonic() - last_flush >= interval:
            flush()
        if progress is not None:
            progress(stats)


def decompress_stream(
    src: BinaryIO,
    dst: Sink | None,
    decoder: StreamDecoder,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    stats: Stats | None = None,
) -> Stats:
    """Decode ``src`` into ``dst`` (``None`` only checks) until the stream ends.

    Raises the decoder's errors: truncation, corruption, trailing data, limits.
    """
    stats = stats or Stats()
    limit = max(chunk_size * OUTPUT_FACTOR, MIN_STEP_OUTPUT)
    # read1: what a pipe holds now, so a live stream is decoded as it arrives; the output
    # is flushed before each read that may block, so it is delivered as well.
    read = _interruptible(src, getattr(src, "read1", src.read))
    flush = dst is not None and _may_block(src)
    tune = _malloc.wanted
    next_trim = _malloc.TRIM_EVERY
    while not decoder.eof:
        if decoder.needs_input:
            if flush:
                flush_all(dst)
            chunk = read(chunk_size)
            if not chunk:
                decoder.end()
                break
            stats.bytes_in += len(chunk)
            if tune and stats.bytes_in > chunk_size:  # a long stream: keep the heap (see _malloc)
                _malloc.tune()
                tune = False
            out = decoder.decompress(chunk, limit)
        else:
            out = decoder.decompress(b"", limit)
        if out:
            stats.bytes_out += len(out)
            if dst is not None:
                write_all(dst, out)
            if stats.bytes_out >= next_trim:  # keep a long decode's heap from fragmenting
                _malloc.trim()
                next_trim = stats.bytes_out + _malloc.TRIM_EVERY
        if progress is not None:
            progress(stats)
    stats.format = decoder.format
    stats.ended = time.monotonic()
    if progress is not None:
        progress(stats)
    return stats
