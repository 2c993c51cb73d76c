"""asyncio front end: compress and decompress async iterables of bytes and asyncio streams.

Codec work on a chunk of at least ``offload`` bytes (64 KiB by default) runs in a worker
thread (:func:`asyncio.to_thread`; the codecs release the GIL), so other tasks keep running
while it compresses; smaller chunks are handled inline, where a thread hop would cost more
than the work. One codec object is only ever used by one call at a time. Memory is bounded:
decoding yields at most ``chunk_size`` bytes per step and ``max_output`` caps the total.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

__all__ = ["CompressingStreamWriter", "compress", "compress_stream", "decompress", "decompress_stream"]

OFFLOAD = 64 * 1024
CHUNK = 64 * 1024
T = TypeVar("T")


async def _run(fn: Callable[..., T], arg: Any, size: int, offload: int) -> T:
    if size >= offload:
        return await asyncio.to_thread(fn, arg)
    return fn(arg)


async def _aiter(chunks: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(chunks, AsyncIterable):
        async for c in chunks:
            yield c
    else:
        for c in chunks:
            yield c


def _new_compressor(format: str, level: int | None, **options: Any) -> Any:
    from .api.fileobj import new_compressor, resolve_format

    return new_compressor(resolve_format(format), level, **options)


async def compress(
    chunks: AsyncIterable[bytes] | Iterable[bytes],
    format: str = "zstd",
    level: int | None = None,
    *,
    flush_each: bool = False,
    offload: int = OFFLOAD,
    **options: Any,
) -> AsyncIterator[bytes]:
    """Yield the compressed form of ``chunks`` (one stream, trailer at the end).

    ``flush_each=True`` ends each input chunk with a sync point, so everything yielded so far
    decodes to everything consumed so far (records, server-sent events). Empty outputs are
    not yielded. ``options`` go to the codec as in :func:`chute.open`.
    """
    from .codecs import FlushMode

    comp = _new_compressor(format, level, **options)
    pending = 0  # bytes given since the last flush: what a flush or finish may still have to work on
    async for chunk in _aiter(chunks):
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected bytes, got {type(chunk).__name__}")
        out = await _run(comp.compress, chunk, len(chunk), offload)
        pending += len(chunk)
        if flush_each:
            out += await _run(comp.flush, FlushMode.SYNC, pending, offload)
            pending = 0
        if out:
            yield out
    out = await _run(lambda _: comp.finish(), None, pending, offload)
    if out:
        yield out


async def decompress(
    chunks: AsyncIterable[bytes] | Iterable[bytes],
    format: str | None = None,
    *,
    max_output: int | None = None,
    chunk_size: int = CHUNK,
    offload: int = OFFLOAD,
) -> AsyncIterator[bytes]:
    """Yield the decoded content of a compressed stream, at most ``chunk_size`` bytes at a time.

    The format is detected from the first bytes unless given (brotli must be named).
    Truncated input raises :class:`~chute.errors.TruncatedStreamError` at the end, corrupt
    input :class:`~chute.errors.CorruptStreamError`, too much output
    :class:`~chute.errors.LimitExceededError`.
    """
    from .codecs._stream import StreamDecoder

    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    dec = StreamDecoder(format, max_output=max_output)
    async for data in _aiter(chunks):
        out = await _run(lambda d: dec.decompress(d, chunk_size), data, len(data), offload)
        while True:
            if out:
                yield out
            if dec.needs_input or dec.eof:
                break
            out = dec.decompress(b"", chunk_size)
    dec.end()


async def _reader_chunks(reader: asyncio.StreamReader, size: int) -> AsyncIterator[bytes]:
    while True:
        data = await reader.read(size)
        if not data:
            return
        yield data


async def compress_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    format: str = "zstd",
    level: int | None = None,
    *,
    flush_each: bool = False,
    read_size: int = CHUNK,
    **options: Any,
) -> None:
    """Copy ``reader`` to ``writer`` compressed, draining as it goes (``writer`` stays open)."""
    async for out in compress(_reader_chunks(reader, read_size), format, level, flush_each=flush_each, **options):
        writer.write(out)
        await writer.drain()


async def decompress_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    format: str | None = None,
    *,
    max_output: int | None = None,
    read_size: int = CHUNK,
) -> None:
    """Copy ``reader`` to ``writer`` decompressed, draining as it goes (``writer`` stays open)."""
    async for out in decompress(_reader_chunks(reader, read_size), format, max_output=max_output):
        writer.write(out)
        await writer.drain()


class CompressingStreamWriter:
    """Wrap an :class:`asyncio.StreamWriter` (or anything with ``write``/``drain``): compress on the way.

    ``await write(data)`` compresses (off the loop for big chunks) and drains; ``await flush()``
    adds a sync point so the peer can decode everything written so far; ``await aclose()`` writes
    the trailer, and closes the underlying writer if ``close_writer`` (default True).
    Use as ``async with CompressingStreamWriter(w) as cw: ...``.
    """

    def __init__(
        self,
        writer: Any,
        format: str = "zstd",
        level: int | None = None,
        *,
        close_writer: bool = True,
        offload: int = OFFLOAD,
        **options: Any,
    ) -> None:
        self._w = writer
        self._comp = _new_compressor(format, level, **options)
        self._close_writer = close_writer
        self._offload = offload
        self._lock = asyncio.Lock()
        self._pending = 0  # bytes since the last flush (buffered codecs work at flush/finish)
        self.closed = False

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ValueError("write to closed writer")
        async with self._lock:
            out = await _run(self._comp.compress, data, len(data), self._offload)
            self._pending += len(data)
            if out:
                self._w.write(out)
                await self._w.drain()

    async def flush(self) -> None:
        from .codecs import FlushMode

        if self.closed:
            return
        async with self._lock:
            out = await _run(self._comp.flush, FlushMode.SYNC, self._pending, self._offload)
            self._pending = 0
            if out:
                self._w.write(out)
            await self._w.drain()

    async def aclose(self) -> None:
        if self.closed:
            return
        async with self._lock:
            self.closed = True
            out = await _run(lambda _: self._comp.finish(), None, self._pending, self._offload)
            if out:
                self._w.write(out)
            await self._w.drain()
            if self._close_writer:
                self._w.close()
                wait_closed = getattr(self._w, "wait_closed", None)
                if wait_closed is not None:
                    await wait_closed()

    async def __aenter__(self) -> CompressingStreamWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
