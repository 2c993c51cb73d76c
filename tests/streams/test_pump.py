"""chute.streams.pump: the chunked loop, statistics, bounded output, real-time flushing."""

from __future__ import annotations

import io
import itertools
import os
import threading
import time

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute import codecs
from chute.codecs._stream import StreamDecoder
from chute.streams.pump import MIN_STEP_OUTPUT, OUTPUT_FACTOR, Stats, compress_stream, decompress_stream


@settings(max_examples=examples(30), deadline=None)
@given(data=st.binary(max_size=50_000), chunk=st.integers(1, 70_000), fmt=st.sampled_from(["zstd", "gzip", "lz4"]))
def test_roundtrip_any_chunk_size(data: bytes, chunk: int, fmt: str) -> None:
    comp = io.BytesIO()
    s1 = compress_stream(io.BytesIO(data), comp, codecs.get(fmt).new_compressor(1), chunk_size=chunk)
    assert (s1.bytes_in, s1.bytes_out) == (len(data), len(comp.getvalue()))
    out = io.BytesIO()
    s2 = decompress_stream(io.BytesIO(comp.getvalue()), out, StreamDecoder(), chunk_size=chunk)
    assert out.getvalue() == data
    assert s2.format == fmt and s2.bytes_out == len(data)


class CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.largest = 0
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.largest = max(self.largest, len(b))
        self.total += len(b)
        return len(b)


def test_decompression_output_is_bounded_per_step() -> None:
    bomb = codecs.get("zstd").new_compressor(19)
    blob = bomb.compress(b"\0" * (64 << 20)) + bomb.finish()
    sink = CountingSink()
    decompress_stream(io.BytesIO(blob), sink, StreamDecoder(), chunk_size=4096)
    assert sink.total == 64 << 20
    assert sink.largest <= max(4096 * OUTPUT_FACTOR, MIN_STEP_OUTPUT)
    assert sink.largest <= 4 << 20


def test_check_only_and_truncation() -> None:
    c = codecs.get("gzip").new_compressor(6)
    blob = c.compress(os.urandom(10_000)) + c.finish()
    assert decompress_stream(io.BytesIO(blob), None, StreamDecoder()).bytes_out == 10_000
    from chute.errors import TruncatedStreamError

    with pytest.raises(TruncatedStreamError):
        decompress_stream(io.BytesIO(blob[:-3]), None, StreamDecoder())


def test_progress_called_and_stats_ratio() -> None:
    seen: list[int] = []
    stats = compress_stream(
        io.BytesIO(b"a" * 300_000),
        io.BytesIO(),
        codecs.get("zstd").new_compressor(3),
        chunk_size=100_000,
        progress=lambda s: seen.append(s.bytes_in),
    )
    assert seen[-1] == 300_000 and len(seen) >= 3
    assert 0 < stats.ratio < 0.01
    assert stats.ended is not None and stats.seconds >= 0
    assert Stats().ratio == 0.0


@pytest.mark.parametrize("high_fd", [False, True], ids=["fd", "fd-past-1024"])
def test_flush_interval_flushes_a_quiet_pipe(high_fd: bool, request: pytest.FixtureRequest) -> None:
    r, w = os.pipe()
    if high_fd:  # a process with many files open: select() refuses fds >= 1024, poll does not
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard <= 1500:
            pytest.skip(f"the hard limit on open files ({hard}) is below 1500")
        if soft != resource.RLIM_INFINITY and soft <= 1500:
            resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
            request.addfinalizer(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
        high = 1500
        while True:
            try:
                os.fstat(high)
                high += 1
            except OSError:
                break
        os.dup2(r, high)
        os.close(r)
        r = high
    src = os.fdopen(r, "rb")
    out = io.BytesIO()
    lock = threading.Lock()

    class LockedSink(io.BytesIO):
        def write(self, b: bytes) -> int:  # type: ignore[override]
            with lock:
                return out.write(b)

    sink = LockedSink()
    t = threading.Thread(
        target=compress_stream,
        args=(src, sink, codecs.get("zstd").new_compressor(3)),
        kwargs={"flush_interval": 0.05},
    )
    t.start()
    os.write(w, b"first record\n")
    deadline = time.monotonic() + 5
    decoded = b""
    while time.monotonic() < deadline:
        with lock:
            wire = out.getvalue()
        dec = StreamDecoder("zstd")
        decoded = dec.decompress(wire)
        if decoded:
            break
        time.sleep(0.02)
    assert decoded == b"first record\n"  # delivered while the writer end is still open
    os.close(w)
    t.join(timeout=5)
    src.close()
    assert codecs.get("zstd") and StreamDecoder("zstd").decompress(out.getvalue()) == b"first record\n"


def test_long_decode_trims_the_heap_every_trim_every_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # 12 MiB of 1 MiB gzip members: the shape whose heap fragments without trimming.
    from chute.streams import _malloc

    data = os.urandom(1 << 16) * 192
    comp = io.BytesIO()
    compress_stream(io.BytesIO(data), comp, codecs.get("gzip").new_compressor(1))
    calls: list[int] = []
    sink = CountingSink()
    monkeypatch.setattr(_malloc, "TRIM_EVERY", 1 << 20)
    monkeypatch.setattr(_malloc, "trim", lambda: calls.append(sink.total))
    decompress_stream(io.BytesIO(comp.getvalue()), sink, StreamDecoder(), chunk_size=64 << 10)
    assert sink.total == len(data)
    step = max((64 << 10) * OUTPUT_FACTOR, MIN_STEP_OUTPUT)
    # once per TRIM_EVERY bytes of output, give or take one decode step
    assert len(data) // ((1 << 20) + step) <= len(calls) <= len(data) // (1 << 20)
    assert all(b - a >= 1 << 20 for a, b in itertools.pairwise(calls))


def test_malloc_trim_respects_wanted_false(monkeypatch: pytest.MonkeyPatch) -> None:
    from chute.streams import _malloc

    calls: list[int] = []
    monkeypatch.setattr(_malloc, "_trim", calls.append)
    monkeypatch.setattr(_malloc, "wanted", False)
    _malloc.trim()
    assert calls == []
    monkeypatch.setattr(_malloc, "wanted", None)
    _malloc.trim()
    assert calls == [0]


def test_progress_alias_is_still_importable() -> None:
    """``chute.streams.pump.Progress`` is built on first use (start-up), but still there."""
    import chute.streams.pump as pump
    from chute.streams.pump import Progress

    assert Progress.__args__[0] is pump.Stats
    with pytest.raises(AttributeError):
        pump.NoSuchName  # noqa: B018


class _Keeper:
    """A compressor that keeps what it is given (as the parallel ones do): records it."""

    keeps_input = True

    def __init__(self) -> None:
        self.got: list[object] = []

    def compress(self, data: object) -> bytes:
        self.got.append(data)
        return b""

    def finish(self) -> bytes:
        return b"end"


def test_a_compressor_that_keeps_its_input_gets_fresh_bytes() -> None:
    data = os.urandom(10_000)
    keeper = _Keeper()
    out = io.BytesIO()
    stats = compress_stream(io.BytesIO(data), out, keeper, chunk_size=4096)  # type: ignore[arg-type]
    assert all(type(piece) is bytes for piece in keeper.got)  # never a view of a reused buffer
    assert len({id(piece) for piece in keeper.got}) == len(keeper.got) == 3
    assert b"".join(keeper.got) == data  # type: ignore[arg-type]
    assert stats.bytes_in == len(data) and out.getvalue() == b"end"


def test_parallel_copy_reads_whole_blocks_and_does_not_copy_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import chute
    from chute.parallel import pool as parallel

    seen: list[tuple[type, int]] = []
    real = parallel.Pool.submit

    def submit(self: parallel.Pool, data: tuple[object, object], size: int = 0) -> parallel.Job:
        seen.append((type(data[1]), size))  # (the block's member function, the block)
        return real(self, data, size)

    monkeypatch.setattr(parallel.Pool, "submit", submit)
    data = os.urandom(9 << 20)
    out = io.BytesIO()
    chute.copy(io.BytesIO(data), out, compress="lz4", threads=2)
    assert chute.decompress(out.getvalue()) == data
    # 4 MiB reads, each handed to a worker as the memoryview of the bytes read: no copy
    assert [size for _, size in seen] == [4 << 20, 4 << 20, 1 << 20]
    assert {kind for kind, _ in seen[:2]} == {memoryview}


class _Flushes(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def test_decode_output_is_flushed_before_reads_that_may_wait(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Before each read from a pipe the output so far is flushed (a live stream reaches its
    reader); a regular file or memory never makes a read wait, so nothing is flushed."""
    data = os.urandom(300_000) * 2
    comp = codecs.get("zstd").new_compressor(1)
    blob = comp.compress(data) + comp.finish()
    path = tmp_path / "x.zst"
    path.write_bytes(blob)
    for src_kind in ("file", "memory"):
        out = _Flushes()
        with open(path, "rb") if src_kind == "file" else io.BytesIO(blob) as src:
            decompress_stream(src, out, StreamDecoder(), chunk_size=50_000)
        assert out.getvalue() == data and out.flushes == 0
    r, w = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(w, blob), os.close(w)))
    feeder.start()
    out = _Flushes()
    with open(r, "rb") as src:
        decompress_stream(src, out, StreamDecoder(), chunk_size=50_000)
    feeder.join()
    assert out.getvalue() == data and out.flushes >= 2
