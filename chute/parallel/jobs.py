"""Block-parallel compression, and the job loop that decodes a split file's pieces.

Input is cut into blocks; each block becomes one *independent* member of the format
(a gzip member, a zstd frame, an lz4 frame, a bz2 or xz stream), compressed on a worker
thread. Every reader of these formats decodes concatenated members, so the output stays
a standard file. Results are written in input order. At most ``2 x threads`` blocks are
in flight (one with a single worker, beside the block being read):
:meth:`ParallelCompressor.compress` blocks (waits for the oldest block) when the window
is full, so peak memory is about ``threads x 2 x (block + compressed block)`` plus a
constant, whatever the input size.

Each block's member function is one fixed function, or what a :class:`MemberPolicy` chooses
as the block is handed over (zstd ``--adapt``: :mod:`chute.parallel.adapt`).

zstd comes here for two threads or more (8 MiB frames: the same ratio as libzstd's
own workers, faster, and decodable in parallel); one thread, or tuning options, use
libzstd's worker (see :func:`chute.api.fileobj.new_compressor`). ``seekable=True``
writes the zstd seekable format or BGZF (:func:`seekable_compressor`).

:func:`parallel_decompress` asks :func:`chute.parallel.split.split` where a file cuts,
decodes the pieces on the pool (:mod:`chute.parallel.pool`) and writes them in order;
the blocks of lz4 frames are pieces too, with each frame's checks made where its output
is written; whatever does not split goes through the one-stream pump. A worker error is re-raised
by the next ``compress``/``flush``/``finish`` call, or where its piece is written.
"""

from __future__ import annotations

import os
import stat
import struct
import time

from ..codecs import Codec, FlushMode
from ..errors import ChuteError, CorruptStreamError, TruncatedStreamError
from .pool import Job, Pool, resolve_threads
from .seekable import PIECE, decode_frame_pieces
from .split import BGZF_HEAD, SEEKABLE_MAGIC, SKIPPABLE_SEEK_MAGIC, split

# typing, collections, queue and threading stay off the import: `chute -d` imports this
# module for every big file, most of which turn out to be one frame (start-up)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import collections
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO

    from ..codecs import Compressor
    from .split import Lz4Frame

    _Plan = tuple[str, list[tuple[int, int, list[Any]]], Callable[[Any], list[bytes]], int]

__all__ = ["MemberPolicy", "ParallelCompressor", "parallel_compressor", "parallel_decompress", "block_size_for"]

#: Pieces of immutable input at least this big are held by reference until their block is
#: complete; smaller ones are copied together (64 pieces at most per 4 MiB block).
KEEP_MIN = 64 << 10
#: A compressor that takes a block's pieces unjoined (``takes_parts``) gets them so only when
#: each is at least this big: each becomes a block of its own (lz4), and 64 KiB pieces (what
#: a pipe gives per read) would cost ratio; smaller ones are joined first.
PART_MIN = 1 << 20

Buffer = bytes | bytearray | memoryview

#: Input bytes per independent member. bz2 uses its own 900 kB blocks per level, so a
#: member of 8 of them keeps its ratio; xz needs big blocks to use its dictionary.
_BLOCK_SIZES = {"gzip": 1 << 20, "zstd": 8 << 20, "lz4": 4 << 20, "bz2": 8 * 900_000, "xz": 8 << 20}


def block_size_for(codec: Codec, seekable: bool = False) -> int:
    """Default input block size of one member for ``codec``."""
    if seekable:
        return 1 << 20
    return _BLOCK_SIZES.get(codec.name, 4 << 20)


def member_function(codec: Codec, level: int, **options: Any) -> Callable[[Buffer], bytes]:
    """A thread-safe function compressing one block into one complete member of ``codec``."""
    if codec.name == "gzip":
        import deflate

        from ..codecs.gzip import sized_member

        gz = deflate.gzip_compress
        return lambda data: sized_member(gz(data, level))
    if codec.name == "zstd":
        from ..codecs.zstd import core

        zstd = core()
        opts = {zstd.ZSTD_c_compressionLevel: level, zstd.ZSTD_c_checksumFlag: int(options.get("checksum", True))}
        if not options.get("content_size", True):
            opts[zstd.ZSTD_c_contentSizeFlag] = 0

        import threading

        # one context per worker, reused frame after frame: a fresh one per block costs
        # ~5% more CPU (its tables are allocated and cleared again each time)
        mine = threading.local()
        end = zstd.ZstdCompressor.FLUSH_FRAME

        def zstd_frame(data: Buffer) -> bytes:
            comp = getattr(mine, "comp", None) or zstd.ZstdCompressor(options=opts)
            mine.comp = None  # a frame cut short by an error must not be continued
            out: bytes = comp.compress(data, end)
            mine.comp = comp
            return out

        return zstd_frame

    if codec.name == "lz4" and set(options) <= {"checksum"}:
        import threading

        from ..codecs.lz4 import Lz4Compressor, compress_frame

        checksum = bool(options.get("checksum", True))
        local4 = threading.local()

        def lz4_frame(data: Buffer | list[Buffer]) -> bytes:
            # one compressor per worker, as for zstd: LZ4F allocates its 4 MiB block buffer
            # and tables once, not per frame
            comp = getattr(local4, "comp", None) or Lz4Compressor(level, checksum=checksum)
            out = compress_frame(data, comp=comp)
            local4.comp = comp
            return out

        lz4_frame.takes_parts = True  # type: ignore[attr-defined]  # see ParallelCompressor
        return lz4_frame

    def one_member(data: Buffer) -> bytes:
        comp = codec.new_compressor(level, **options)
        return comp.compress(data) + comp.finish()

    return one_member


class MemberPolicy:
    """Chooses the member function of each block as it is handed to the workers (a
    :class:`ParallelCompressor` given a policy in place of one ``make_member``).

    :meth:`member` is told what handing the block over met: ``waited``, the caller had to
    wait for a block still being compressed before there was room for this one (the
    workers are the bottleneck); ``idle``, every block still in flight is already
    compressed (the workers waited for the caller). Called once per block, in order.
    """

    def member(self, waited: bool, idle: bool) -> Callable[[Buffer], bytes]:
        raise NotImplementedError


def _call(job: tuple[Callable[[Any], bytes], Any]) -> bytes:
    """A worker's task: a block's member function applied to the block."""
    return job[0](job[1])


class ParallelCompressor:
    """A :class:`~chute.codecs.Compressor` that compresses blocks on ``threads`` workers.

    ``make_member`` compresses one block to one independent member, or is a
    :class:`MemberPolicy` that chooses that function per block; ``on_member(size_in,
    member)`` (optional) sees each member in order and may return bytes to emit instead
    (used to record a seek table); ``trailer()`` is appended by :meth:`finish`.
    ``empty_member``: emit one member for empty input (gzip and friends need one to be a
    valid file).

    Workers hold each block past the :meth:`compress` call that gave it, so a block cut
    from a mutable buffer is copied; ``bytes`` are kept as they are. :attr:`keeps_input`
    tells a reader (the pump) to hand over fresh ``bytes`` of :attr:`block_size`, which
    then go to the workers with no copy at all. ``takes_parts``: ``make_member`` also takes
    a list of buffers (a block's pieces, in order), so pieces held by reference are not
    joined first (lz4, whose frames may hold blocks of any size up to the maximum).

    ``inline``: no worker; each block is compressed in the caller's thread, inside the
    :meth:`compress` call that completes it, into the same members (for one thread where
    the hand-off to a worker costs more CPU than overlapping the caller's I/O saves: lz4).
    Nothing is then held past the call but a partial block, so :attr:`keeps_input` is
    False and the reader may reuse one buffer.
    """

    keeps_input = True

    def __init__(
        self,
        make_member: Callable[[Buffer], bytes] | MemberPolicy,
        *,
        threads: int,
        block_size: int,
        on_member: Callable[[int, bytes], bytes] | None = None,
        trailer: Callable[[], bytes] | None = None,
        empty_member: bool = True,
        takes_parts: bool = False,
        inline: bool = False,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self._policy: MemberPolicy | None = None
        self._make: Callable[[Buffer], bytes] | None = None
        if isinstance(make_member, MemberPolicy):
            self._policy = make_member
        else:
            self._make = make_member
        self._block = self.block_size = block_size
        self._on_member = on_member
        self._trailer = trailer
        self._empty_member = empty_member
        self._takes_parts = takes_parts
        # one worker: the block being read is the second one in flight (a third only raised peak memory)
        self._limit = 2 * threads if threads > 1 else 1
        self._pool = None if inline else Pool(_call, threads)
        self.keeps_input = not inline
        from collections import deque

        self._pending: collections.deque[Job] = deque()
        self._parts: list[Buffer] = []  # a partial block: views of immutable input, bytearrays
        self._held = 0  # bytes in _parts
        self._emitted = False
        self._closed = False

    def _take(self, job: Job) -> bytes:
        out: bytes = job.wait()
        self._emitted = True
        if self._on_member is not None:
            return self._on_member(job.size, out)
        return out

    def _member(self, waited: bool) -> Callable[[Buffer], bytes]:
        """The member function of the block being handed over (see :class:`MemberPolicy`)."""
        if self._policy is None:
            assert self._make is not None
            return self._make
        return self._policy.member(waited, all(job.done.is_set() for job in self._pending))

    def _submit(self, data: Buffer | list[Buffer], size: int) -> list[bytes]:
        if self._pool is None:  # inline
            member = self._member(False)(data)  # type: ignore[arg-type]  # a list only where takes_parts
            self._emitted = True
            return [member if self._on_member is None else self._on_member(size, member)]
        out: list[bytes] = []
        waited = False
        while len(self._pending) >= self._limit:
            job = self._pending.popleft()
            waited = waited or not job.done.is_set()
            out.append(self._take(job))
        self._pending.append(self._pool.submit((self._member(waited), data), size))
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

    def _submit_buffered(self) -> list[bytes]:
        """Submit the partial block held back (one piece is handed over as is)."""
        parts, held, self._parts, self._held = self._parts, self._held, [], 0
        if len(parts) == 1:
            return self._submit(parts[0], held)
        if self._takes_parts and all(len(p) >= PART_MIN for p in parts):
            return self._submit(parts, held)
        return self._submit(b"".join(parts), held)

    def compress(self, data: Buffer) -> bytes:
        # Workers outlive the caller's buffer. Immutable input (bytes, views of bytes) is
        # kept as it is: whole blocks go to the workers as views, and pieces of at least
        # KEEP_MIN are held by reference and joined once per block. Anything else is copied:
        # a piece of mutable input of at least KEEP_MIN into bytes of its own (so a block
        # is cut into the same parts whatever the type of the input, and so are lz4's
        # blocks), small pieces gathered in one bytearray (a view per 100-byte write would
        # cost more than the write).
        self._check()
        keep = _immutable(data)
        out: list[bytes] = []
        size, parts = self._block, self._parts
        with memoryview(data) as whole:
            view = whole.cast("B")
            while len(view):
                if not parts and len(view) >= size:
                    block = view[:size]
                    out += self._submit(block if keep or self._pool is None else bytes(block), size)
                    view = view[size:]
                    continue
                piece = view[: size - self._held]
                if len(piece) >= KEEP_MIN:
                    parts.append(piece if keep else piece.tobytes())
                elif parts and type(parts[-1]) is bytearray:
                    parts[-1] += piece
                else:
                    parts.append(bytearray(piece))
                self._held += len(piece)
                view = view[len(piece) :]
                if self._held == size:
                    out += self._submit_buffered()
                    parts = self._parts
        return b"".join(out)

    def end_member(self) -> bytes:
        """End the member being gathered: what is buffered becomes a member of its own and
        the next input starts a new one. Unlike :meth:`flush`, waits for no worker;
        returns the members that are finished, in order."""
        self._check()
        return b"".join(self._submit_buffered()) if self._parts else b""

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        """Compress what is buffered as a member of its own and wait for every block."""
        self._check()
        out: list[bytes] = []
        if self._parts:
            out += self._submit_buffered()
        out += self._drain()
        return b"".join(out)

    def finish(self) -> bytes:
        self._check()
        out: list[bytes] = []
        if self._parts or (not self._emitted and not self._pending and self._empty_member):
            out += self._submit_buffered()
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
            if self._pool is not None:
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
    from .. import codecs

    if isinstance(codec, str):
        codec = codecs.get(codec)
    level = codec.check_level(level)
    n = resolve_threads(threads)
    if seekable:
        return seekable_compressor(codec, level, threads=n, block_size=block_size, **options)
    options.pop("strategy", None)
    options.pop("nb_workers", None)
    if options.pop("rsyncable", False):
        if codec.name != "gzip" or block_size is not None:
            raise ValueError("rsyncable members are written for gzip, with their own sizes")
        return ContentMembers(member_function(codec, level, **options), threads=n)
    size = block_size if block_size is not None else block_size_for(codec)
    make = member_function(codec, level, **options)
    # lz4 compresses about as fast as a file is read: one worker's hand-off (a fresh buffer
    # per read, the block moving to another core) cost more CPU than the overlap saved
    # (chute -F lz4 -1 -T1 of 202 MB: 5-8% less CPU inline, to /dev/null and to a file)
    inline = n == 1 and codec.name == "lz4"
    takes_parts = getattr(make, "takes_parts", False)
    return ParallelCompressor(make, threads=n, block_size=size, takes_parts=takes_parts, inline=inline)


class ContentMembers:
    """A compressor writing one independent member per content-defined chunk
    (:class:`chute.codecs.cuts.ContentCuts`: 16 KiB to 1 MiB, about 270 KiB on most
    data), compressed on ``threads`` workers: after a small change of the input, only
    the members around it change (gzip ``--rsyncable``). The cuts depend on the bytes
    alone, so the output is the same at any thread count and however the input is fed.
    A :meth:`flush` ends a member where it is called."""

    keeps_input = False

    def __init__(self, make_member: Callable[[Buffer], bytes], *, threads: int) -> None:
        from ..codecs.cuts import MAX_CHUNK, ContentCuts

        self._cuts = ContentCuts()
        self._members = ParallelCompressor(make_member, threads=threads, block_size=MAX_CHUNK)
        self.block_size = 128 << 10  # read size: the cuts need no bigger reads

    def compress(self, data: Buffer) -> bytes:
        out: list[bytes] = []
        members = self._members
        for chunk in self._cuts.feed(data):
            out.append(members.compress(chunk))
            out.append(members.end_member())
        return b"".join(out)

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        return self._members.compress(self._cuts.rest()) + self._members.flush(mode)

    def finish(self) -> bytes:
        return self._members.compress(self._cuts.rest()) + self._members.finish()

    def close(self) -> None:
        self._members.close()


# --------------------------------------------------------------------------- seekable layouts


#: BGZF: most input bytes per member (its total size must fit 16 bits), and the empty
#: member that ends a file.
BGZF_MAX_INPUT = 0xFF00
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BGZF_PER_TASK = 16  # BGZF members per worker task (1 MiB of input)


def _bgzf_members(level: int) -> Callable[[Any], bytes]:
    import deflate

    compress, crc32 = deflate.deflate_compress, deflate.crc32

    def members(data: Any) -> bytes:
        view = memoryview(data).cast("B")
        out = []
        for pos in range(0, max(len(view), 1), BGZF_MAX_INPUT):
            chunk = view[pos : pos + BGZF_MAX_INPUT]
            body = bytes(compress(chunk, level)) if len(chunk) else b"\x03\x00"
            total = 18 + len(body) + 8
            if total > 0x10000:  # pragma: no cover - libdeflate stores incompressible data
                raise CorruptStreamError("BGZF member larger than 64 KiB")
            head = BGZF_HEAD.pack(0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, 66, 67, 2, total - 1)
            out.append(head + body + struct.pack("<II", crc32(chunk) & 0xFFFFFFFF, len(chunk)))
        return b"".join(out)

    return members


def seekable_compressor(
    codec: Codec, level: int, *, threads: int = 1, block_size: int | None = None, **options: Any
) -> Compressor:
    """A compressor writing the seekable layout of ``codec`` (zstd or gzip) on ``threads`` workers."""
    if codec.name == "gzip":
        if block_size is not None and not 0 < block_size <= BGZF_MAX_INPUT:
            raise ValueError(f"BGZF block_size must be 1..{BGZF_MAX_INPUT}")
        per = block_size or BGZF_MAX_INPUT
        make = _bgzf_members(level)
        if per != BGZF_MAX_INPUT:
            inner = make

            def make(data: Any) -> bytes:
                view = memoryview(data).cast("B")
                return b"".join(inner(view[p : p + per]) for p in range(0, max(len(view), 1), per))

        return ParallelCompressor(
            make, threads=threads, block_size=per * _BGZF_PER_TASK, trailer=lambda: BGZF_EOF, empty_member=False
        )
    if codec.name == "zstd":
        options.pop("threads", None)
        entries: list[tuple[int, int]] = []

        def record(size_in: int, member: bytes) -> bytes:
            if size_in >= 1 << 32 or len(member) >= 1 << 32:
                raise ValueError("seekable zstd frames must hold less than 4 GiB")
            entries.append((len(member), size_in))
            return member

        def table() -> bytes:
            body = b"".join(struct.pack("<II", c, d) for c, d in entries)
            body += struct.pack("<IBI", len(entries), 0, SEEKABLE_MAGIC)
            return struct.pack("<II", SKIPPABLE_SEEK_MAGIC, len(body)) + body

        return ParallelCompressor(
            member_function(codec, level, **options),
            threads=threads,
            block_size=block_size or (1 << 20),
            on_member=record,
            trailer=table,
            empty_member=False,
        )
    raise ValueError(f"seekable output exists for zstd and gzip only, not {codec.name}")


# --------------------------------------------------------------------------- decompression


#: Compressed bytes per decompression job (consecutive pieces are grouped up to this).
JOB_INPUT = 1 << 20
#: A job of pieces whose decoded size is known closes once it holds this much output
#: (BGZF members hold 64 KiB at most).
JOB_OUTPUT = 1 << 20
#: A frame bigger than this (compressed) is not read whole: such files go to one decoder.
#: Frames written for parallel decoding are far smaller (chute: 1-8 MiB of input).
MAX_FRAME_INPUT = 8 << 20
#: A job whose output passes this stops; the main thread decodes from there on its own.
MAX_JOB_OUTPUT = 64 << 20
#: Most output one zstd decode call of a job returns.
ZSTD_PIECE = 8 << 20


class _TooBig(Exception):
    """A job's output passed :data:`MAX_JOB_OUTPUT` (a frame that expands that much)."""


def _piece_decoder(fmt: str, options: dict[str, Any]) -> Callable[[bytes, list[Any]], list[bytes]]:
    """Decode a job ``(raw, [(start, end, size), ...])`` of whole pieces into output pieces."""
    stream = _gzip_member if fmt == "gzip" else _stream_frame(fmt, options)

    def decode(raw: bytes, pieces: list[tuple[int, int, int | None]]) -> list[bytes]:
        view = memoryview(raw)
        out: list[bytes] = []
        total = 0
        for a, b, size in pieces:
            if size is not None:  # the split bounded it (a seek table's word)
                got = decode_frame_pieces(fmt, view[a:b], size)
            else:
                got = stream(view[a:b], MAX_JOB_OUTPUT - total)
            total += sum(map(len, got))
            out += got
        return out

    return decode


def _jobs(pieces: list[tuple[int, int, int | None]]) -> list[tuple[int, int, list[tuple[int, int, int | None]]]]:
    """Consecutive pieces grouped into jobs ``(start, end, pieces relative to start)``: up
    to :data:`JOB_INPUT` compressed bytes, or :data:`JOB_OUTPUT` decoded bytes where known."""
    jobs = []
    group: list[tuple[int, int, int | None]] = []
    held = 0
    for a, b, size in pieces:
        if group and (held >= JOB_OUTPUT or b - group[0][0] > JOB_INPUT):
            jobs.append(_job(group))
            group, held = [], 0
        group.append((a, b, size))
        held += size or 0
    if group:
        jobs.append(_job(group))
    return jobs


def _job(group: list[tuple[int, int, int | None]]) -> tuple[int, int, list[tuple[int, int, int | None]]]:
    start = group[0][0]
    return start, group[-1][1], [(a - start, b - start, size) for a, b, size in group]


def _stream_frame(fmt: str, options: dict[str, Any]) -> Callable[[memoryview, int], list[bytes]]:
    """Decode one frame through a fresh stream decoder, in pieces; :class:`_TooBig` once
    they pass ``room`` bytes."""
    from ..codecs._stream import StreamDecoder
    from ..codecs.lz4 import MAX_BLOCK

    # lz4 hands over whole blocks; zstd a frame's output in few calls (32 KiB pieces cost
    # twice the CPU in calls and handovers between threads); xz and bz2 small pieces
    piece = MAX_BLOCK if fmt == "lz4" else ZSTD_PIECE if fmt == "zstd" else PIECE

    def frame(data: memoryview, room: int) -> list[bytes]:
        dec = StreamDecoder(fmt, **options)
        pieces: list[bytes] = []
        chunk = dec.decompress(data, piece)
        while True:
            pieces.append(chunk)
            room -= len(chunk)
            if room < 0:
                raise _TooBig
            if dec.eof or dec.needs_input:
                break
            chunk = dec.decompress(b"", piece)
        dec.end()
        return pieces

    return frame


def _gzip_member(data: memoryview, room: int) -> list[bytes]:
    """Decode one whole gzip member in one libdeflate call sized by its ISIZE (3x faster
    than streaming through zlib). An ISIZE that is wrong (a member over 4 GiB, or a lie)
    fails the member, and the caller decodes from there on one thread."""
    size = int.from_bytes(data[-4:], "little")
    # checked before libdeflate allocates the output: deflate expands at most 1032:1, so
    # a larger ISIZE is a lie and one thread reports it
    if size > room or size > 1032 * len(data):
        raise _TooBig
    return decode_frame_pieces("gzip", data, size)


class _Damaged(Exception):
    """An lz4 block of a job did not decode: ``done`` holds the output of the blocks before
    it, which is written before ``error`` is raised, as one thread writes them."""

    def __init__(self, done: list[Any], error: ChuteError) -> None:
        super().__init__(error)
        self.done = done
        self.error = error


def _block_decoder(block_max: int, block_checksum: bool) -> Callable[[bytes, list[Any]], list[bytes]]:
    """Decode a job ``(raw, [(start, end, index), ...])`` of lz4 blocks (each its size
    word, body and optional checksum) into one output piece per block (:class:`_Damaged`
    when one does not decode)."""
    from ..codecs.lz4 import block_decoder

    decode = block_decoder(block_max, block_checksum)

    def blocks(raw: bytes, found: list[tuple[int, int, int]]) -> list[Any]:
        view = memoryview(raw)
        out = []
        for a, b, index in found:
            word = int.from_bytes(view[a : a + 4], "little")
            body = view[a + 4 : a + 4 + (word & 0x7FFFFFFF)]
            if word >> 31 and not block_checksum:
                out.append(body)  # stored: written from the job's input, not copied again
                continue
            expect = int.from_bytes(view[b - 4 : b], "little") if block_checksum else 0
            try:
                out.append(decode(body, bool(word >> 31), expect, index))
            except ChuteError as exc:
                raise _Damaged(out, exc) from None
        return out

    return blocks


#: lz4 blocks: the caller's thread hashes and writes everything (about 2.5 GB/s here); a
#: worker decodes 1.5-2 GB/s. More workers than this cannot be kept busy, and each costs
#: memory for two jobs in flight.
LZ4_MAX_WORKERS = 4


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

    A seekable ``src`` that :func:`chute.parallel.split.split` cuts into pieces (seek
    tables, BGZF, zstd and lz4 frames, gzip members that record their size, xz and bz2
    streams) is decoded in parallel and written in order, with at most ``2 x threads``
    jobs of about 1 MiB of input in flight. If a piece fails to decode (or would expand
    past 64 MiB), the rest of the file is decoded on the caller's thread, which reports
    any real error.

    Any other lz4 file whose frames have independent blocks (the ``lz4`` CLI's default)
    is cut into its blocks: ``threads - 1`` workers (1 to 4: this thread needs a core to
    hash and write) decode jobs of at most 4 MiB of output, at most two per worker in
    flight; this thread writes them in order and checks each frame's content size and
    checksum after its last block. Damage is raised where one thread would meet it,
    after everything before it is written; from the first frame that is not one of
    those, the rest is decoded as one stream.

    A big single-member gzip file (what ``gzip`` and pigz write) goes to the optional gzip
    engine when :func:`chute.parallel.gzengine.usable` says it pays, with the bytes and
    errors of one thread (:func:`chute.parallel.gzengine.decode`).

    Anything else (pipes, one-frame files, other formats, frames over 8 MiB compressed)
    goes through :func:`chute.streams.pump.decompress_stream`, with no error: with
    ``threads`` > 1 the caller decodes while a second thread writes to ``dst``
    (:class:`chute.streams.writebehind.WriteBehind`, at most 4 batches of about 2 MiB
    behind; on a decoding error, what was decoded before it is written first, as with one
    thread), except into the null device, where writes cost nothing and the caller makes
    them. Returns :class:`~chute.streams.pump.Stats`.
    """
    from ..codecs._stream import StreamDecoder
    from ..streams.pump import Stats, decompress_stream
    from .split import Lz4Blocks

    n = resolve_threads(threads)
    plan = None
    if n > 1 and set(options) <= {"memory_limit"}:
        # the pieces of the other layouts decode without the caller's options; lz4 blocks have none
        plan = split(src, format, max_input=MAX_FRAME_INPUT, max_output=MAX_JOB_OUTPUT, members=not options)
    if plan is None and n > 1 and format in (None, "gzip") and set(options) <= {"memory_limit"}:
        from . import gzengine

        # one gzip member (gzip, pigz): the engine's threads cut it, at an index's checkpoints if it has one
        index = gzengine.sidecar(src, n)
        if index is not None or gzengine.usable(src, n):
            return gzengine.decode(src, dst, threads=n, format=format, chunk_size=chunk_size, index=index)
    if plan is None and n > 1 and not _discards(dst):
        # one stream: the decoder and the writes to dst still take a core each
        from ..streams.writebehind import WriteBehind

        behind = WriteBehind(dst)
        try:
            stats = decompress_stream(src, behind, StreamDecoder(format, **options), chunk_size=chunk_size)
        except ChuteError:
            # damaged or cut short: what was decoded before the damage still reaches dst, as
            # with one thread (a download cut short is recovered up to where it ends); a
            # write error met meanwhile is raised instead, as one thread would have met it first
            behind.close()
            raise
        except BaseException:
            behind.abort()
            raise
        behind.close()
        return stats
    if plan is None:
        return decompress_stream(src, dst, StreamDecoder(format, **options), chunk_size=chunk_size)
    from collections import deque

    from ..streams import _malloc
    from ..streams._writeall import write_all

    fmt = plan.format
    stats = Stats(format=fmt)
    base = src.tell()
    if isinstance(plan, Lz4Blocks):
        workers = max(1, min(n - 1, LZ4_MAX_WORKERS))
        _malloc.tune()  # a pool of one worker does not apply it itself
        decoders: dict[tuple[int, bool], Callable[[bytes, list[Any]], list[bytes]]] = {}
        jobs: Iterator[tuple[int, int, list[Any], Lz4Frame | None, bool]] = plan.jobs()
    else:
        workers = n
        decode = _piece_decoder(fmt, options)
        jobs = ((a, b, pieces, None, False) for a, b, pieces in _jobs(plan.pieces))
    pool = Pool(lambda job: job[0](job[1], job[2]), workers)
    pending: collections.deque[tuple[int, Job, Lz4Frame | None, bool]] = deque()
    fallback: int | None = None

    def emit(start: int, job: Job, frame: Lz4Frame | None, last: bool) -> bool:
        """Write the job's output; False: it did not decode (members: ``fallback`` is set to
        its start, to decode from there as one stream)."""
        nonlocal fallback
        damage: _Damaged | None = None
        try:
            pieces = job.wait()
        except _Damaged as exc:  # an lz4 block: the blocks before it, then one thread's error
            pieces, damage = exc.done, exc
        except (_TooBig, ChuteError):
            if frame is not None:
                raise
            fallback = start
            return False
        for piece in pieces:
            if frame is not None:
                frame.add(piece)
            write_all(dst, piece)
            stats.bytes_out += len(piece)
        if damage is not None:
            raise damage.error
        if last:
            assert frame is not None
            frame.end()
        return True

    damage: ChuteError | None = None
    try:
        while True:
            try:
                start, end, pieces, frame, last = next(jobs)
            except StopIteration:
                break
            except ChuteError as exc:
                damage = exc  # raised after the blocks before it, as one thread would
                break
            src.seek(base + start)
            raw = src.read(end - start)
            if len(raw) != end - start:
                if frame is not None:
                    damage = TruncatedStreamError("lz4 stream is truncated (input ended inside a member)")
                else:
                    fallback = start
                break
            stats.bytes_in += len(raw)
            # emit(*popleft()): nothing here keeps the job's output alive after it is written,
            # so the next one reuses its memory (a reference kept cost 8% more CPU on lz4)
            if len(pending) >= 2 * workers and not emit(*pending.popleft()):
                break
            if frame is None:
                work: Callable[[bytes, list[Any]], list[bytes]] = decode
            else:
                key = (frame.block_max, frame.block_checksum)
                work = decoders.get(key) or decoders.setdefault(key, _block_decoder(*key))
            pending.append((start, pool.submit((work, raw, pieces)), frame, last))
        while fallback is None and pending:
            emit(*pending.popleft())
    finally:
        pending.clear()
        pool.close()
    if damage is not None:
        raise damage
    if isinstance(plan, Lz4Blocks):
        stats.bytes_in = plan.end
        src.seek(base + plan.end)
        if src.read(1):  # something else follows: the one-stream decoder takes it from here
            src.seek(base + plan.end)
            decoder = StreamDecoder("lz4", **options)
            decoder.members = plan.frames
            rest = decompress_stream(src, dst, decoder, chunk_size=chunk_size)
            stats.bytes_in += rest.bytes_in
            stats.bytes_out += rest.bytes_out
    elif fallback is not None:
        # a piece that did not decode on its own (a corrupt frame, a false bz2 match, a
        # frame that expands too much): decode the rest in one stream, as one thread would
        src.seek(base + fallback)
        rest = decompress_stream(src, dst, StreamDecoder(fmt, **options), chunk_size=chunk_size)
        stats.bytes_in = fallback + rest.bytes_in
        stats.bytes_out += rest.bytes_out
    else:
        stats.bytes_in += plan.tail
    stats.ended = time.monotonic()
    return stats


def _discards(dst: BinaryIO) -> bool:
    """Whether ``dst`` is the null device, where a write costs nothing: a thread to make
    the writes has nothing to take off the decoder and costs 4-10% of a decode."""
    try:
        info = os.fstat(dst.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (io.UnsupportedOperation is both)
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == os.stat(os.devnull).st_rdev


def _immutable(data: Buffer) -> bool:
    """Whether ``data`` is ``bytes``, or a view of ``bytes``: safe to keep past the call."""
    return type(data) is bytes or (type(data) is memoryview and type(data.obj) is bytes)
