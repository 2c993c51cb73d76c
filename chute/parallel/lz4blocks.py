"""Decode LZ4 frames of independent blocks on several threads.

An LZ4 frame whose header sets the block-independence flag (the ``lz4`` CLI's default,
and chute's) is a run of blocks that each decode alone into at most the frame's maximum
block size. So one frame, even a single 50 GB one, decodes in parallel: workers decode
blocks with ``lz4.block`` (which releases the GIL), and the caller's thread writes their
output in order and checks the frame's XXH32 content checksum on it (``xxhash`` also
releases the GIL). LZ4F, behind the one-thread path, could do neither: it has no way to
decode a block apart from the checksum of everything before it.

Only frames are handled here; anything else (a frame with linked blocks or a dictionary,
a skippable frame, bytes that are not a frame, a header LZ4F would reject) is decoded
from its first byte by :func:`chute.streams.pump.decompress_stream`, which also gives the
one-thread path's errors. So the source must be seekable; :func:`decode` checks.
"""

from __future__ import annotations

import io
import time

from ..codecs.lz4 import _BLOCK_MAX, _FRAME_MAGIC, block_decoder, header_check_byte, independent_blocks
from ..errors import ChecksumError, ChuteError, CorruptStreamError, TruncatedStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    import collections
    from typing import Any, BinaryIO

__all__ = ["decode", "MAX_WORKERS", "JOB_OUTPUT"]

#: The caller's thread hashes and writes everything (about 2.5 GB/s here); a worker
#: decodes 1.5-2 GB/s. More workers than this cannot be kept busy, and each costs
#: memory for two jobs in flight.
MAX_WORKERS = 4
#: Blocks are grouped into jobs of this much output at most (one 4 MiB block, or 64
#: blocks of 64 KiB), so that a job's work outweighs handing it to a thread.
JOB_OUTPUT = 4 << 20


class _NotHere(Exception):
    """The bytes at this offset are not a frame this module decodes."""


def _block_decoder(block_max: int, block_checksum: bool) -> Any:
    decode = block_decoder(block_max, block_checksum)

    def decode_job(job: tuple[int, list[tuple[bytes, bool, int]]]) -> tuple[list[bytes], ChuteError | None]:
        """The job's blocks decoded, and the error that stopped them (the blocks before a
        damaged one are still written, as one thread writes them)."""
        first, blocks = job
        out: list[bytes] = []
        for i, (data, stored, expect) in enumerate(blocks, first):
            try:
                out.append(decode(data, stored, expect, i))
            except ChuteError as exc:
                return out, exc
        return out, None

    return decode_job


def _read(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise TruncatedStreamError("lz4 stream is truncated (input ended inside a member)")
    return data


def _header(src: BinaryIO) -> tuple[int, int, int | None]:
    """Read a frame header: (FLG, maximum block size, content size or None).

    Raises :class:`_NotHere` for anything but a valid frame of independent blocks
    without a dictionary; the caller then rewinds and leaves the frame to LZ4F.
    """
    magic = src.read(4)
    if len(magic) < 4 or int.from_bytes(magic, "little") != _FRAME_MAGIC:
        raise _NotHere
    desc = src.read(2)
    if len(desc) < 2:
        raise _NotHere
    flg, bd = desc
    if not independent_blocks(flg, bd):
        raise _NotHere
    size_field = src.read(8) if flg & 0x08 else b""
    check = src.read(1)
    if len(size_field) != (8 if flg & 0x08 else 0) or len(check) != 1:
        raise _NotHere
    if header_check_byte(desc + size_field) != check[0]:
        raise _NotHere
    return flg, _BLOCK_MAX[(bd >> 4) & 7], int.from_bytes(size_field, "little") if size_field else None


def _submit(pool: Any, pending: Any, job: Any, limit: int, hasher: Any, write: Any) -> int:
    """Queue ``job`` on ``pool``, first emitting the oldest pending job if ``limit`` are
    in flight; return the size of what was emitted."""
    done = _emit(pending.popleft(), hasher, write) if len(pending) >= limit else 0
    pending.append(pool.submit(job))
    return done


def _emit(job: Any, hasher: Any, write: Any) -> int:
    """Wait for ``job``, check-sum and write its output; return its size."""
    size = 0
    pieces, damage = job.wait()
    for piece in pieces:
        if hasher is not None:
            hasher.update(piece)
        if write is not None:
            write(piece)
        size += len(piece)
    if damage is not None:
        raise damage
    return size


def decode(
    src: BinaryIO,
    dst: BinaryIO | None,
    threads: int,
    *,
    chunk_size: int,
    **options: Any,
) -> Any:
    """Decode the lz4 stream ``src`` (seekable, at the start of a frame) into ``dst``.

    Frames of independent blocks decode on ``threads - 1`` workers (at least one, at most
    :data:`MAX_WORKERS`) beside this thread, which checks and writes; with at
    most two jobs per worker in flight (peak memory about ``4 x workers x JOB_OUTPUT``
    plus a constant); from the first frame that is not one of those, the rest of the
    stream goes through :func:`chute.streams.pump.decompress_stream` on this thread. ``options``
    are :class:`~chute.codecs._stream.StreamDecoder` options for that part. Returns
    :class:`~chute.streams.pump.Stats`.
    """
    import xxhash

    from ..codecs._stream import StreamDecoder
    from ..streams import _malloc
    from ..streams._writeall import write_all
    from ..streams.pump import Stats, decompress_stream
    from .pool import Job, Pool

    stats = Stats(format="lz4")
    # the caller's thread needs a core of its own: with every core decoding, it would
    # wait for one between jobs, and its sequential work is the bound (measured: one
    # worker beside it on two cores 0.155 s for 200 MB, two workers 0.203 s)
    workers = max(1, min(threads - 1, MAX_WORKERS))
    frames = 0
    write = None if dst is None else lambda data: write_all(dst, data)
    from collections import deque

    pending: collections.deque[Job] = deque()
    pool: Pool | None = None
    decoders: dict[tuple[int, bool], Any] = {}
    base = start = src.tell()
    try:
        while True:
            start = src.tell()
            try:
                flg, block_max, content_size = _header(src)
            except _NotHere:
                break
            key = (block_max, bool(flg & 0x10))
            if key not in decoders:
                decoders[key] = _block_decoder(*key)
            if pool is None:
                _malloc.tune()  # parallel work: a pool of one worker does not apply it itself
                pool = Pool(lambda job: decoders[job[0]](job[1]), workers)
            hasher = xxhash.xxh32() if flg & 0x04 else None
            produced = 0
            group: list[tuple[bytes, bool, int]] = []
            first = 0
            per_job = max(1, JOB_OUTPUT // block_max)
            count = 0

            damage: ChuteError | None = None
            try:
                while True:
                    word = int.from_bytes(_read(src, 4), "little")
                    if word == 0:
                        break
                    size = word & 0x7FFFFFFF
                    if size > block_max:
                        raise CorruptStreamError(
                            f"invalid lz4 data (block {count} claims {size} bytes, over the maximum)"
                        )
                    data = _read(src, size)
                    expect = int.from_bytes(_read(src, 4), "little") if flg & 0x10 else 0
                    group.append((data, bool(word >> 31), expect))
                    count += 1
                    if len(group) >= per_job:
                        produced += _submit(pool, pending, (key, (first, group)), 2 * workers, hasher, write)
                        first, group = count, []
            except ChuteError as exc:
                damage = exc  # raised after the blocks before it, as one thread would
            if group:
                produced += _submit(pool, pending, (key, (first, group)), 2 * workers, hasher, write)
            while pending:
                produced += _emit(pending.popleft(), hasher, write)
            if damage is not None:
                raise damage
            # LZ4F's order: the size first, then the checksum
            if content_size is not None and produced != content_size:
                raise CorruptStreamError(
                    f"invalid lz4 data (frame header says {content_size} bytes, it holds {produced})"
                )
            if hasher is not None:
                expect = int.from_bytes(_read(src, 4), "little")
                if hasher.intdigest() != expect:
                    raise ChecksumError("lz4 checksum mismatch (content checksum of the frame)")
            frames += 1
            stats.bytes_out += produced
    finally:
        pending.clear()
        if pool is not None:
            pool.close()
    stats.bytes_in = start - base
    src.seek(start, io.SEEK_SET)
    if src.read(1):  # something else follows: the one-thread decoder takes it from here
        src.seek(start, io.SEEK_SET)
        decoder = StreamDecoder("lz4", **options)
        decoder.members = frames
        rest = decompress_stream(src, dst, decoder, chunk_size=chunk_size)
        stats.bytes_in += rest.bytes_in
        stats.bytes_out += rest.bytes_out
    elif not frames:
        raise TruncatedStreamError("empty input: no compressed data")
    stats.ended = time.monotonic()
    return stats
