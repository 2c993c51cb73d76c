"""Block-parallel compression and decompression (chute.parallel.jobs)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import examples, loaded_by
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chute
from chute.parallel import jobs as parallel
from chute.parallel.jobs import ParallelCompressor, parallel_compressor, parallel_decompress

TOOLS = {"gzip": "gzip", "zstd": "zstd", "lz4": "lz4", "bz2": "bzip2", "xz": "xz"}
BLOCK = 1 << 16


def sample(n: int) -> bytes:
    rnd = os.urandom(max(1, n // 4))
    text = b"the quick brown fox jumps over the lazy dog %d\n" * (n // 40 + 1)
    return (rnd + text)[:n]


def compress(fmt: str, data: bytes, threads: int, *, chunk: int = 10_000, **opts: object) -> bytes:
    buf = io.BytesIO()
    with chute.open(buf, "wb", format=fmt, threads=threads, **opts) as f:
        for pos in range(0, len(data), chunk):
            f.write(data[pos : pos + chunk])
    return buf.getvalue()


SIZES = [0, 1, BLOCK - 1, BLOCK, 3 * BLOCK, 3 * BLOCK + 7]


@pytest.mark.interop
@pytest.mark.parametrize("fmt", sorted(TOOLS))
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_round_trip_and_reference_tool(fmt: str, threads: int) -> None:
    if shutil.which(TOOLS[fmt]) is None:
        pytest.skip(f"{TOOLS[fmt]} not installed")
    for size in SIZES:
        data = sample(size)
        # a small block size puts member boundaries at the awkward places SIZES names
        comp = parallel_compressor(fmt, None, threads=threads, block_size=BLOCK)
        out = comp.compress(data[:5]) + comp.compress(data[5:]) + comp.finish()
        assert chute.decompress(out) == data, (fmt, threads, size)
        done = subprocess.run([TOOLS[fmt], "-dc"], input=out, capture_output=True, check=True)
        assert done.stdout == data, (fmt, threads, size)


@pytest.mark.parametrize("fmt", ["gzip", "zstd", "lz4", "bz2", "xz"])
def test_open_with_threads_round_trips(fmt: str) -> None:
    data = sample(300_000)
    opts = {} if fmt == "zstd" else {"block_size": BLOCK}  # zstd uses its own workers
    assert chute.decompress(compress(fmt, data, 2, **opts)) == data


@pytest.mark.parametrize("fmt", ["gzip", "lz4", "zstd"])
def test_flush_makes_everything_decodable(fmt: str) -> None:
    comp = parallel_compressor(fmt, None, threads=2, block_size=BLOCK)
    data = sample(100_000)
    out = comp.compress(data) + comp.flush()
    dec = chute.codecs._stream.StreamDecoder(fmt)
    assert dec.decompress(out) == data
    comp.close()


def test_output_is_ordered_and_memory_bounded() -> None:
    """compress() blocks once 2 x threads blocks are in flight; results come out in order."""
    inflight = 0
    peak = 0
    lock = threading.Lock()

    def slow_member(data: object) -> bytes:
        nonlocal inflight, peak
        with lock:
            inflight += 1
        time.sleep(0.002)
        with lock:
            inflight -= 1
        return bytes(memoryview(data))  # type: ignore[arg-type]

    comp = ParallelCompressor(slow_member, threads=2, block_size=100)
    data = bytes(range(256)) * 40
    out = comp.compress(data)
    assert len(comp._pending) <= 4
    out += comp.finish()
    assert out == data
    assert peak <= 4


def test_worker_error_propagates() -> None:
    def broken(data: object) -> bytes:
        raise OSError(28, "No space left on device")

    comp = ParallelCompressor(broken, threads=2, block_size=10)
    with pytest.raises(OSError, match="No space"):
        comp.compress(b"x" * 100)
        comp.finish()
    comp.close()


def test_threads_zero_means_all_cores() -> None:
    data = sample(50_000)
    assert chute.decompress(compress("gzip", data, 0)) == data


def test_workers_are_daemons() -> None:
    comp = parallel_compressor("gzip", 6, threads=3)
    names = [t for t in threading.enumerate() if t.name.startswith("chute-worker")]
    assert names and all(t.daemon for t in names)
    comp.finish()


@pytest.mark.parametrize("fmt", ["zstd", "gzip"])
def test_parallel_decompress_seekable(tmp_path, fmt: str) -> None:
    data = sample(700_000)
    path = tmp_path / "x"
    path.write_bytes(compress(fmt, data, 2, seekable=True, block_size=30_000))
    out = io.BytesIO()
    with open(path, "rb") as src:
        stats = parallel_decompress(src, out, threads=2)
    assert out.getvalue() == data
    assert stats.bytes_out == len(data) and stats.bytes_in == path.stat().st_size
    out = io.BytesIO()
    chute.copy(path, out, decompress=True, threads=4)
    assert out.getvalue() == data


@pytest.mark.parametrize("fmt", ["zstd", "gzip", "bz2", "xz", "lz4"])
def test_parallel_decompress_falls_back(fmt: str) -> None:
    data = sample(200_000)
    out = io.BytesIO()
    parallel_decompress(io.BytesIO(chute.compress(data, fmt)), out, threads=2)
    assert out.getvalue() == data


class _Sink(io.RawIOBase):
    """Records which thread wrote; fails with a full disk after ``good`` bytes."""

    def __init__(self, good: int = 1 << 62) -> None:
        self.data = bytearray()
        self.threads: set[int] = set()
        self.good = good

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
        self.threads.add(threading.get_ident())
        if len(self.data) + len(b) > self.good:
            raise OSError(28, "No space left on device")
        self.data += b
        return len(b)


def test_one_stream_decode_writes_on_a_second_thread() -> None:
    """A file that cannot be split still uses two cores: the caller decodes, a thread writes
    (as zstd -d's asynchronous I/O does); with one thread the caller does both."""
    data = sample(3 << 20)
    blob = chute.compress(data, "zstd")
    two = _Sink()
    parallel_decompress(io.BytesIO(blob), two, threads=2)
    assert bytes(two.data) == data and threading.get_ident() not in two.threads
    one = _Sink()
    parallel_decompress(io.BytesIO(blob), one, threads=1)
    assert bytes(one.data) == data and one.threads == {threading.get_ident()}


def test_one_stream_decode_reports_a_write_error_and_stops() -> None:
    data = os.urandom(16 << 20)  # stored blocks: the decode cannot outrun the reads
    sink = _Sink(good=2 << 20)
    src = io.BytesIO(chute.compress(data, "zstd"))
    with pytest.raises(OSError, match="No space"):
        parallel_decompress(src, sink, threads=2)
    assert len(sink.data) <= 2 << 20
    assert src.tell() < len(src.getvalue())  # it stopped reading too


class _SlowSink(_Sink):
    """A destination slower than the decoder, so batches wait for the writing thread."""

    def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
        time.sleep(0.02)
        return super().write(b)


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_one_stream_decode_delivers_what_one_thread_does_before_an_error(damage: str) -> None:
    """A download cut short (or damaged) is recovered up to the damage at two threads as
    at one: the decoded batches still queued for the writing thread are written, then the
    error is raised."""
    data = b"".join(b"record %d of a long log, value %x\n" % (i, i * 7919) for i in range(600_000))
    blob = bytearray(chute.compress(data, "zstd"))
    if damage == "cut":
        del blob[len(blob) * 3 // 4 :]
    else:
        blob[-3] ^= 0x10  # the content checksum: the error comes at the very end
    got = {}
    for threads in (1, 2):
        sink = _SlowSink() if threads == 2 else _Sink()
        with pytest.raises(chute.ChuteError):
            parallel_decompress(io.BytesIO(bytes(blob)), sink, threads=threads)
        got[threads] = bytes(sink.data)
    assert len(got[1]) > 12 << 20
    assert got[2] == got[1] == data[: len(got[1])]


def test_seekable_frames_past_the_job_limit_go_to_one_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seek table listing a frame bigger than a job may hold (it may lie about it, and
    a job holds a frame's whole output): the file is decoded as one stream instead."""
    from chute.parallel import jobs as parallel

    data = sample(300_000)
    blob = compress("zstd", data, 2, seekable=True, block_size=100_000)
    from chute.parallel.split import split

    def pieces() -> object:
        return split(io.BytesIO(blob), max_input=parallel.MAX_FRAME_INPUT, max_output=parallel.MAX_JOB_OUTPUT)

    assert pieces() is not None
    monkeypatch.setattr(parallel, "MAX_JOB_OUTPUT", 50_000)
    assert pieces() is None
    out = io.BytesIO()
    parallel_decompress(io.BytesIO(blob), out, threads=2)
    assert out.getvalue() == data


def test_parallel_decompress_corrupt_frame_is_an_error(tmp_path) -> None:
    data = sample(200_000)
    blob = bytearray(compress("zstd", data, 2, seekable=True, block_size=20_000))
    blob[100] ^= 0xFF
    with pytest.raises(chute.errors.CorruptStreamError):
        parallel_decompress(io.BytesIO(bytes(blob)), io.BytesIO(), threads=2)


def test_zstd_workers_reuse_their_context_with_the_same_frames() -> None:
    """Each worker keeps one zstd context across blocks; every frame is byte for byte what
    a fresh context writes, also after a block that failed."""
    from chute import codecs
    from chute.codecs.zstd import backend

    zstd = backend()
    P = zstd.CompressionParameter

    def fresh(data: bytes) -> bytes:
        comp = zstd.ZstdCompressor(options={P.compression_level: 5, P.checksum_flag: 1})
        return comp.compress(data, zstd.ZstdCompressor.FLUSH_FRAME)  # type: ignore[no-any-return]

    frame = parallel.member_function(codecs.get("zstd"), 5)
    blocks = [sample(300_000), sample(5000), b"", sample(700_000)]
    for block in blocks:
        assert frame(block) == fresh(block)
    with pytest.raises(TypeError):
        frame(12345)  # type: ignore[arg-type]
    assert frame(blocks[0]) == fresh(blocks[0])


def test_seekable_rejects_other_formats() -> None:
    with pytest.raises(ValueError, match="seekable"):
        parallel_compressor("lz4", None, threads=2, seekable=True)


def test_ctrl_c_stops_within_a_second() -> None:
    import _thread
    import signal

    def stuck(data: object) -> bytes:
        time.sleep(3)
        return b""

    # interrupt_main() does nothing while SIGINT is ignored (a test run started in the
    # background or under nohup): the test sets the handler it relies on
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    comp = ParallelCompressor(stuck, threads=1, block_size=10)
    try:
        timer = threading.Timer(0.2, _thread.interrupt_main)
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            comp.compress(b"x" * 10)
            comp.finish()
        assert time.monotonic() - started < 1.0
    finally:
        comp.close()
        signal.signal(signal.SIGINT, previous)


def test_lz4_one_thread_compresses_in_the_callers_thread() -> None:
    """threads=1 for lz4 writes the block compressor's 4 MiB frames, compressed in the
    caller's thread (no worker: the hand-off cost more CPU than it saved); threads=None
    is the codec's own compressor, one frame."""
    from chute.api.fileobj import new_compressor

    data = sample(9 << 20)
    before = {t.name for t in threading.enumerate()}
    one = new_compressor("lz4", threads=1)
    assert isinstance(one, ParallelCompressor) and not one.keeps_input
    blob = one.compress(data) + one.finish()
    assert {t.name for t in threading.enumerate()} == before  # no worker was started
    assert lz4_blocks_per_frame(blob) == [1, 1, 1]  # 4 + 4 + 1 MiB: three frames
    assert chute.decompress(blob) == data
    two = new_compressor("lz4", threads=2)
    assert two.compress(data) + two.finish() == blob
    plain = new_compressor("lz4", threads=None)
    assert not isinstance(plain, ParallelCompressor)
    single = plain.compress(data) + plain.finish()
    assert chute.decompress(single) == data
    # options the one-frame writer alone knows keep it
    assert not isinstance(new_compressor("lz4", threads=1, block_linked=True), ParallelCompressor)
    if shutil.which("lz4"):
        done = subprocess.run(["lz4", "-dc"], input=blob, capture_output=True, check=True)
        assert done.stdout == data


_KINDS = ["bytes", "bytearray", "view-bytes", "view-bytearray"]


def _as_kind(data: bytes, kind: str) -> bytes | bytearray | memoryview:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "view-bytes":
        return memoryview(data)[:]
    if kind == "view-bytearray":
        return memoryview(bytearray(data))
    return data


@settings(max_examples=examples(30), deadline=None)
@given(
    writes=st.lists(st.tuples(st.integers(0, 3 * BLOCK), st.sampled_from(_KINDS)), max_size=10),
    flush_at=st.sets(st.integers(0, 9), max_size=2),
)
@example(writes=[(20_000, "bytearray"), (20_000, "view-bytearray"), (30_000, "bytes")], flush_at=set())
def test_lz4_layout_follows_the_writes_not_threads_or_buffer_types(
    writes: list[tuple[int, str]], flush_at: set[int]
) -> None:
    """The same writes give the same bytes at one thread (inline) and two (workers), and
    whether each write is bytes, a bytearray or a view: a mutable piece big enough to be a
    block of its own is copied whole, not merged into its neighbours."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "KEEP_MIN", BLOCK // 8)
        patch.setattr(parallel, "PART_MIN", BLOCK // 4)
        data = [sample(size) for size, _ in writes]
        outs = _lz4_outputs(data, [kind for _, kind in writes], flush_at)
    assert len(outs) == 1
    assert chute.decompress(outs.pop()) == b"".join(data)


def _lz4_outputs(data: list[bytes], kinds: list[str], flush_at: set[int]) -> set[bytes]:
    outs = set()
    for threads, typed in ((1, True), (2, True), (1, False), (2, False)):
        comp = parallel_compressor("lz4", None, threads=threads, block_size=BLOCK)
        out = []
        for i, (chunk, kind) in enumerate(zip(data, kinds, strict=True)):
            buf = _as_kind(chunk, kind if typed else "bytes")
            out.append(comp.compress(buf))
            if isinstance(buf, bytearray) or (isinstance(buf, memoryview) and not buf.readonly):
                buf[:] = b"\xff" * len(buf)  # the caller reuses its buffer
            if i in flush_at:
                out.append(comp.flush())
        out.append(comp.finish())
        outs.add(b"".join(out))
    return outs


def lz4_blocks_per_frame(blob: bytes) -> list[int]:
    """How many data blocks each frame of ``blob`` holds (frames as chute writes them:
    no content size, a content checksum)."""
    counts, pos = [], 0
    while pos < len(blob):
        assert blob[pos : pos + 4] == b"\x04\x22\x4d\x18" and blob[pos + 4] == 0x64
        pos += 7
        n = 0
        while (word := int.from_bytes(blob[pos : pos + 4], "little")) != 0:
            pos += 4 + (word & 0x7FFFFFFF)
            n += 1
        counts.append(n)
        pos += 8  # end mark and content checksum
    return counts


def test_lz4_from_a_pipe_makes_whole_blocks(tmp_path: Path) -> None:
    """A pipe gives 64 KiB per read; they are gathered into 4 MiB blocks, not made 64 KiB
    blocks each (which would cost ratio and decode speed)."""
    import sys

    src = tmp_path / "in"
    data = sample(9 << 20)
    src.write_bytes(data)
    cmd = f"cat {src} | {sys.executable} -m chute -F lz4 -T1 -c"
    blob = subprocess.run(cmd, shell=True, capture_output=True, check=True).stdout
    assert lz4_blocks_per_frame(blob) == [1, 1, 1]  # 4 + 4 + 1 MiB
    assert chute.decompress(blob) == data


def test_one_frame_file_decode_loads_nothing_heavy(tmp_path: Path) -> None:
    """``chute -d`` plans a split for every file of 16 MiB and more; for one that turns
    out to be one member, the plan costs no typing, re, collections or threads (start-up)."""
    import zlib

    big = tmp_path / "big.gz"
    comp = zlib.compressobj(0, zlib.DEFLATED, 31)  # stored: 17 MiB in one member, fast
    big.write_bytes(comp.compress(os.urandom(17 << 20)) + comp.flush())
    loaded = loaded_by(tmp_path, "-d", "-c", str(big))
    heavy = {"typing", "re", "collections", "functools", "enum", "queue", "threading", "dataclasses", "contextlib"}
    assert "chute.parallel.jobs" in loaded  # the planning path did run
    assert sorted(loaded & heavy) == []


@settings(max_examples=examples(40), deadline=None)
@given(
    writes=st.lists(
        st.tuples(st.integers(0, 3 * BLOCK), st.sampled_from(["bytes", "bytearray", "view-bytes", "view-bytearray"])),
        max_size=12,
    ),
    flush_at=st.sets(st.integers(0, 11), max_size=3),
)
def test_any_mix_of_buffers_round_trips_and_nothing_is_aliased(
    writes: list[tuple[int, str]], flush_at: set[int]
) -> None:
    """Immutable input is kept by reference, mutable input is copied: writes of every
    kind, the caller's mutable buffers scribbled over after each call, decode exactly."""
    comp = parallel_compressor("lz4", None, threads=2, block_size=BLOCK)
    expected, out = [], []
    for i, (size, kind) in enumerate(writes):
        data = sample(size)
        expected.append(data)
        buf: bytes | bytearray | memoryview = data
        if kind == "bytearray":
            buf = bytearray(data)
        elif kind == "view-bytes":
            buf = memoryview(data)[:]
        elif kind == "view-bytearray":
            buf = memoryview(bytearray(data))
        out.append(comp.compress(buf))
        if isinstance(buf, bytearray) or (isinstance(buf, memoryview) and not buf.readonly):
            buf[:] = b"\xff" * len(buf)
        if i in flush_at:
            out.append(comp.flush())
    out.append(comp.finish())
    assert chute.decompress(b"".join(out)) == b"".join(expected)


def test_small_immutable_writes_are_joined_once_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from chute.parallel import jobs as parallel
    from chute.parallel.pool import Job, Pool

    seen: list[object] = []
    real = Pool.submit

    def submit(self: Pool, data: tuple[object, object], size: int = 0) -> Job:
        seen.append(data[1])  # (the block's member function, the block)
        return real(self, data, size)

    monkeypatch.setattr(Pool, "submit", submit)
    monkeypatch.setattr(parallel, "KEEP_MIN", BLOCK // 4)
    data = sample(4 * BLOCK + 100)
    writes = [data[i : i + BLOCK // 4] for i in range(0, len(data), BLOCK // 4)]
    comp = parallel_compressor("zstd", None, threads=2, block_size=BLOCK)
    out = [comp.compress(w) for w in writes]
    out.append(comp.finish())
    assert chute.decompress(b"".join(out)) == data
    assert [len(x) for x in seen] == [BLOCK] * 4 + [100]  # type: ignore[arg-type]
    assert all(type(x) is bytes for x in seen[:4])  # one join each, not a growing bytearray
    assert type(seen[4]) is bytearray  # the 100-byte rest is under KEEP_MIN: copied
    # lz4 takes a block's pieces of PART_MIN and more as they are: no join, each piece a view
    # of the caller's bytes (and an lz4 block of its own)
    seen.clear()
    monkeypatch.setattr(parallel, "PART_MIN", BLOCK // 4)
    comp = parallel_compressor("lz4", None, threads=2, block_size=BLOCK)
    out = [comp.compress(w) for w in writes]
    out.append(comp.finish())
    assert chute.decompress(b"".join(out)) == data
    for block in seen[:4]:
        assert type(block) is list and len(block) == 4
        assert all(type(v) is memoryview and any(v.obj is w for w in writes) and len(v) == BLOCK // 4 for v in block)
    assert type(seen[4]) is bytearray and len(seen[4]) == 100  # type: ignore[arg-type]
    # smaller pieces (a pipe's 64 KiB reads) would be small blocks, which cost ratio: joined
    seen.clear()
    monkeypatch.setattr(parallel, "PART_MIN", BLOCK // 4 + 1)
    comp = parallel_compressor("lz4", None, threads=2, block_size=BLOCK)
    out = [comp.compress(w) for w in writes]
    out.append(comp.finish())
    assert chute.decompress(b"".join(out)) == data
    assert all(type(x) is bytes and len(x) == BLOCK for x in seen[:4])
    # pieces under KEEP_MIN are copied together instead: one bytearray per block
    seen.clear()
    comp = parallel_compressor("lz4", None, threads=2, block_size=BLOCK)
    out = [comp.compress(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    out.append(comp.finish())
    assert chute.decompress(b"".join(out)) == data
    assert [len(x) for x in seen] == [BLOCK] * 4 + [100]  # type: ignore[arg-type]
    assert all(type(x) is bytearray for x in seen)


def test_member_policy_chooses_each_blocks_function() -> None:
    """A policy is asked once per block, in order, whether handing it over waited for a
    worker; the function it returns compresses that block."""
    from chute.parallel.jobs import MemberPolicy

    release = threading.Event()

    def held(data: object) -> bytes:
        assert release.wait(10)
        return b"H" + bytes(memoryview(data))  # type: ignore[arg-type]

    def quick(data: object) -> bytes:
        return b"Q" + bytes(memoryview(data))  # type: ignore[arg-type]

    class Record(MemberPolicy):
        def __init__(self) -> None:
            self.asked: list[tuple[bool, bool]] = []

        def member(self, waited: bool, idle: bool) -> Callable[[object], bytes]:
            self.asked.append((waited, idle))
            return held if len(self.asked) == 1 else quick

    policy = Record()
    comp = ParallelCompressor(policy, threads=1, block_size=4)  # type: ignore[arg-type]
    assert comp.compress(b"aaaa") == b""  # the first block, held by its worker
    timer = threading.Timer(0.2, release.set)
    timer.start()
    out = comp.compress(b"bbbb")  # one in flight at most: waits for the held one
    assert comp._pending[0].done.wait(10)
    out += comp.compress(b"cccc") + comp.finish()
    timer.join()
    assert out == b"Haaaa" + b"Qbbbb" + b"Qcccc"
    assert policy.asked == [(False, True), (True, True), (False, True)]
    # two workers, four blocks in flight: a block still being compressed is not idle
    release.clear()
    policy = Record()
    comp = ParallelCompressor(policy, threads=2, block_size=4)  # type: ignore[arg-type]
    comp.compress(b"aaaabbbb")
    release.set()
    assert comp.finish() == b"Haaaa" + b"Qbbbb"
    assert policy.asked == [(False, True), (False, False)]


@pytest.mark.parametrize("where", ["pipe", "file", "null"])
def test_one_stream_decode_writes_on_a_thread_except_into_the_null_device(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write thread takes the writes off the decoder where they cost time (a pipe, a
    file); into the null device a write costs nothing, so the caller makes them."""
    from chute.streams import writebehind

    made: list[object] = []

    class Counted(writebehind.WriteBehind):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(writebehind, "WriteBehind", Counted)
    data = sample(3 << 20)
    blob = chute.compress(data, "zstd")
    received = bytearray()
    reader = None
    if where == "pipe":
        r, w = os.pipe()
        dst = open(w, "wb", buffering=0)  # noqa: SIM115 - closed below

        def drain() -> None:
            with open(r, "rb", buffering=0) as f:
                while chunk := f.read(1 << 16):
                    received.extend(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
    else:
        dst = open(tmp_path / "out" if where == "file" else os.devnull, "wb")  # noqa: SIM115
    try:
        parallel_decompress(io.BytesIO(blob), dst, threads=2)
    finally:
        dst.close()
        if reader is not None:
            reader.join(timeout=30)
    assert len(made) == (0 if where == "null" else 1)
    if where == "pipe":
        assert bytes(received) == data
    elif where == "file":
        assert (tmp_path / "out").read_bytes() == data
