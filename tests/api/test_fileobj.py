"""chute.open(): readers and writers over paths, file objects, pipes and sockets."""

from __future__ import annotations

import io
import os
import queue
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from conftest import examples, pieces, text_like
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute import codecs
from chute.codecs._stream import StreamDecoder
from chute.errors import LimitExceededError, TrailingDataError, TruncatedStreamError, UnknownFormatError

ALL = codecs.names()
NO_MAGIC = ("brotli", "deflate")
DATA = text_like(400_000, seed=11)
TIMEOUT = 10


def read_fmt(name: str) -> str | None:
    """The format to pass when reading: only formats without magic need one."""
    return name if name in NO_MAGIC else None


def in_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn`` in a thread; the returned callable waits (bounded) and returns or raises."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:
            box.put((False, exc))

    threading.Thread(target=run, daemon=True).start()

    def result() -> Any:
        try:
            ok, value = box.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no result within {TIMEOUT} s (blocked on a pipe?)")
        if not ok:
            raise value
        return value

    return result


@pytest.fixture
def pipe() -> Iterator[tuple[io.BufferedReader, io.BufferedWriter]]:
    r, w = os.pipe()
    rf, wf = os.fdopen(r, "rb"), os.fdopen(w, "wb")
    yield rf, wf
    for f in (rf, wf):
        if not f.closed:
            try:
                f.close()
            except BrokenPipeError:
                pass


# ------------------------------------------------------------------------- paths and modes


@pytest.mark.parametrize("name", ALL)
def test_paths_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / ("data" + codecs.get(name).suffixes[0])
    with chute.open(path, "wb") as f:  # format from the suffix
        for piece in pieces(DATA, [70_000, 1, 12_345]):
            assert f.write(piece) == len(piece)
        assert f.tell() == len(DATA)
        assert f.writable() and not f.readable() and not f.seekable()
    raw = path.read_bytes()
    assert chute.decompress(raw, name) == DATA
    if name not in NO_MAGIC:
        assert chute.detect(raw) == name
    with chute.open(path, format=read_fmt(name)) as r:
        assert r.readable() and not r.writable()
        assert r.read() == DATA
        assert r.format == name
        assert r.name == str(path)
        assert r.read() == b"" and r.read(10) == b""
    assert r.closed


def test_str_bytes_and_pathlike_paths(tmp_path: Path) -> None:
    for i, path in enumerate([str(tmp_path / "a.gz"), os.fsencode(tmp_path / "b.gz"), tmp_path / "c.gz"]):
        with chute.open(path, "wb") as f:
            f.write(b"%d" % i)
        with chute.open(path) as r:
            assert r.read() == b"%d" % i and r.format == "gzip"


def test_write_format_default_and_explicit(tmp_path: Path) -> None:
    with chute.open(tmp_path / "noext", "wb") as f:
        f.write(b"x")
    assert chute.detect((tmp_path / "noext").read_bytes()) == "zstd"
    with chute.open(tmp_path / "x.gz", "wb", format="bz2", level=1) as f:
        f.write(b"x")
    assert chute.detect((tmp_path / "x.gz").read_bytes()) == "bz2"


def test_modes_w_a_x(tmp_path: Path) -> None:
    path = tmp_path / "log.zst"
    with chute.open(path, "w") as f:
        f.write(b"one\n")
    with chute.open(path, "ab") as f:
        f.write(b"two\n")
    with chute.open(path, "a") as f:
        f.write(b"three\n")
    with chute.open(path) as r:
        assert r.read() == b"one\ntwo\nthree\n"
    with pytest.raises(FileExistsError):
        chute.open(path, "xb")
    with chute.open(tmp_path / "new.zst", "xb") as f:
        f.write(b"fresh")
    assert chute.decompress((tmp_path / "new.zst").read_bytes()) == b"fresh"
    with chute.open(path, "wb") as f:  # w truncates
        f.write(b"again")
    assert chute.decompress(path.read_bytes()) == b"again"


@pytest.mark.parametrize("name", ["zlib", "deflate", "brotli"])
def test_append_refused_where_members_cannot_be_concatenated(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="append"):
        chute.open(tmp_path / "x", "ab", format=name)
    assert not (tmp_path / "x").exists()


def test_bad_arguments(tmp_path: Path) -> None:
    for mode in ("rw", "r+", "wbt", "", "rbb"):
        with pytest.raises(ValueError):
            chute.open(tmp_path / "x", mode)
    with pytest.raises(ValueError):
        chute.open(io.BytesIO(), "rb", encoding="utf-8")
    with pytest.raises(ValueError):
        chute.open(io.BytesIO(), "rb", level=3)
    with pytest.raises(ValueError):
        chute.open(io.BytesIO(), "wb", format="zstd", level=99)
    with pytest.raises(ValueError):
        chute.open(io.BytesIO(), "wb", format="nope")
    with pytest.raises(TypeError):
        chute.open(12.5, "rb")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        chute.open(tmp_path / "missing.gz")


def test_text_modes(tmp_path: Path) -> None:
    text = "héllo wörld\nsecond line\r\nthird ☃\n" * 1000
    path = tmp_path / "t.txt.gz"
    with chute.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    assert chute.decompress(path.read_bytes()) == text.encode("utf-8")
    with chute.open(path, "rt", encoding="utf-8", newline="") as r:
        assert r.read() == text
    with chute.open(path, "rt", encoding="utf-8") as r:  # universal newlines
        lines = list(r)
    assert lines[:3] == ["héllo wörld\n", "second line\n", "third ☃\n"] and len(lines) == 3000
    with chute.open(path, "rt", encoding="latin-1") as r:
        assert r.read(5) == "hÃ©ll"


# ------------------------------------------------------------------------------ file objects


@pytest.mark.parametrize("name", ALL)
def test_file_objects_stay_open(name: str) -> None:
    buf = io.BytesIO()
    with chute.open(buf, "wb", format=name) as f:
        f.write(DATA)
    assert not buf.closed
    src = io.BytesIO(buf.getvalue())
    with chute.open(src, format=read_fmt(name)) as r:
        assert r.read() == DATA
    assert not src.closed


def test_reading_starts_at_the_file_position() -> None:
    blob = chute.compress(b"payload", "gzip")
    src = io.BytesIO(b"HEADER" + blob)
    src.seek(6)
    with chute.open(src) as r:
        assert r.read() == b"payload"
        r.seek(0)
        assert r.read() == b"payload"


def test_read_methods() -> None:
    data = b"".join(b"line %d\n" % i for i in range(20_000))
    with chute.open(io.BytesIO(chute.compress(data, "gzip"))) as r:
        assert r.peek(1)[:5] == b"line "
        assert r.read(0) == b""
        assert r.read(7) == b"line 0\n"
        assert r.readline() == b"line 1\n"
        assert r.readline(3) == b"lin"
        assert r.readline() == b"e 2\n"
        buf = bytearray(7)
        assert r.readinto(buf) == 7 and bytes(buf) == b"line 3\n"
        pos = r.tell()
        assert pos == 28
        chunk = r.read1(100)
        assert 0 < len(chunk) <= 100 and data[pos:].startswith(chunk)
        pos += len(chunk)
        mv = memoryview(bytearray(10))
        n = r.readinto1(mv)
        assert 0 < n <= 10 and bytes(mv[:n]) == data[pos : pos + n]
        pos += n
        assert r.tell() == pos
        rest = list(r)
        assert b"".join(rest) == data[pos:]
        assert rest[-1] == b"line 19999\n"
        assert r.read1() == b"" and r.peek() == b""
    assert r.closed
    for method in (r.read, r.read1, r.peek, r.readline, r.tell):
        with pytest.raises(ValueError):
            method()


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=2_000).map(lambda b: b * 40),
    sizes=st.lists(st.integers(-1, 70_000), min_size=1, max_size=20),
    chunk=st.integers(1, 70_000),
)
def test_random_read_sizes(name: str, data: bytes, sizes: list[int], chunk: int) -> None:
    blob = chute.compress(data, name, codecs.get(name).fast)
    with chute.open(io.BytesIO(blob), format=read_fmt(name), chunk_size=chunk) as r:
        pos = 0
        for size in sizes:
            got = r.read(size)
            want = data[pos:] if size < 0 else data[pos : pos + size]
            assert got == want
            pos += len(got)
            assert r.tell() == pos
        assert r.read() == data[pos:]


OPS = st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 50_000)),
    st.tuples(st.just("read1"), st.integers(-1, 50_000)),
    st.tuples(st.just("readinto"), st.integers(0, 50_000)),
    st.tuples(st.just("readline"), st.integers(-1, 500)),
    st.tuples(st.just("peek"), st.integers(0, 10)),
    st.tuples(st.just("seek"), st.integers(0, 70_000)),
    st.tuples(st.just("skip"), st.integers(-5_000, 5_000)),
)


@pytest.mark.parametrize("name", ["zstd", "gzip", "lz4", "brotli"])
@settings(max_examples=examples(25), deadline=None)
@given(ops=st.lists(OPS, max_size=25), chunk=st.sampled_from([7, 100, 4_096, 131_072]))
def test_reader_behaves_like_bytesio(name: str, ops: list[tuple[str, int]], chunk: int) -> None:
    """Any mix of read methods and seeks gives what io.BytesIO gives on the plain data."""
    data = DATA[:60_000]
    model = io.BytesIO(data)
    with chute.open(io.BytesIO(chute.compress(data, name, 1)), format=name, chunk_size=chunk) as r:
        for op, n in ops:
            if op == "peek":
                got = r.peek(n)
                assert got and data[model.tell() :].startswith(got) if model.tell() < len(data) else got == b""
            elif op == "read1":
                at_end = model.tell() == len(data)
                got = r.read1(n)
                assert got == model.read(len(got))
                assert (n == 0 or at_end) == (got == b"")
            elif op == "readinto":
                buf = bytearray(n)
                k = r.readinto(buf)
                assert bytes(buf[:k]) == model.read(n)
            elif op == "seek":
                assert r.seek(n) == model.seek(min(n, len(data)))
            elif op == "skip":
                target = max(0, min(len(data), model.tell() + n))
                assert r.seek(target - model.tell(), io.SEEK_CUR) == model.seek(target)
            else:
                assert getattr(r, op)(n) == getattr(model, op)(n)
            assert r.tell() == model.tell()
        assert r.read() == model.read()


@pytest.mark.parametrize("name", ["zstd", "gzip", "bz2"])
def test_seek_and_tell(name: str) -> None:
    blob = chute.compress(DATA, name)
    with chute.open(io.BytesIO(blob)) as r:
        assert r.seekable()
        assert r.seek(1_000) == 1_000 and r.tell() == 1_000
        assert r.read(5) == DATA[1_000:1_005]
        assert r.seek(10) == 10 and r.read(5) == DATA[10:15]  # backward: decoded again
        assert r.seek(100, io.SEEK_CUR) == 115 and r.read(3) == DATA[115:118]
        assert r.seek(-18, io.SEEK_CUR) == 100 and r.read(3) == DATA[100:103]
        assert r.seek(300_000) == 300_000 and r.read(4) == DATA[300_000:300_004]
        assert r.seek(len(DATA) + 100) == len(DATA)  # past the end: stops at the end
        assert r.read() == b""
        assert r.seek(0) == 0 and r.read() == DATA
        with pytest.raises(io.UnsupportedOperation):
            r.seek(0, io.SEEK_END)
        with pytest.raises(ValueError):
            r.seek(-1)
        with pytest.raises(ValueError):
            r.seek(0, 7)


def test_open_detects_and_reports_errors() -> None:
    blob = chute.compress(DATA, "xz")
    # what was decoded before the error is returned; the next read raises it
    with chute.open(io.BytesIO(blob[:-10])) as r:
        assert r.read() == DATA
        with pytest.raises(TruncatedStreamError):
            r.read()
    with chute.open(io.BytesIO(blob + b"garbage")) as r:
        assert r.read() == DATA
        with pytest.raises(TrailingDataError):
            r.read()
    with chute.open(io.BytesIO(b"not compressed")) as r, pytest.raises(UnknownFormatError):
        r.read(1)
    with chute.open(io.BytesIO(blob), max_output=1_000) as r, pytest.raises(LimitExceededError):
        r.read()
    with chute.open(io.BytesIO(blob + b"garbage"), trailing="ignore") as r:
        assert r.read() == DATA
    two = chute.compress(b"a", "gzip") + chute.compress(b"b", "gzip")
    with chute.open(io.BytesIO(two), members="first") as r:
        assert r.read() == b"a"


def test_memory_limit() -> None:
    # Written as a stream, so the frame declares no content size and keeps its 32 MiB window
    # (a one-call compress() shrinks the window to fit a known 1 KB).
    buf = io.BytesIO()
    with chute.open(buf, "wb", format="zstd", window_log=25) as w:
        w.write(b"x" * 1_000)
    blob = buf.getvalue()
    with chute.open(io.BytesIO(blob), memory_limit=1 << 20) as r, pytest.raises(LimitExceededError):
        r.read()
    with chute.open(io.BytesIO(blob), memory_limit=64 << 20) as r:
        assert r.read() == b"x" * 1_000


# ------------------------------------------------------------------------------ flush()


@pytest.mark.parametrize("name", ALL)
def test_flush_makes_everything_decodable(name: str) -> None:
    sink = io.BytesIO()
    records = [b"record %d %s\n" % (i, b"x" * i) for i in range(30)]
    with chute.open(sink, "wb", format=name) as f:
        for i, rec in enumerate(records):
            f.write(rec)
            f.flush()
            got = StreamDecoder(name).decompress(sink.getvalue())
            assert got == b"".join(records[: i + 1])
        f.flush()  # nothing new: harmless
    assert chute.decompress(sink.getvalue(), name) == b"".join(records)


def test_flush_after_close_is_harmless_and_write_is_refused() -> None:
    f = chute.open(io.BytesIO(), "wb", format="gzip")
    f.close()
    f.flush()
    f.close()
    with pytest.raises(ValueError):
        f.write(b"x")


# ---------------------------------------------------------------------- pipes and sockets


@pytest.mark.parametrize("name", ALL)
def test_write_to_and_read_from_a_pipe(pipe: tuple[io.BufferedReader, io.BufferedWriter], name: str) -> None:
    rf, wf = pipe

    def produce() -> None:
        with chute.open(wf, "wb", format=name, level=codecs.get(name).fast) as f:
            for piece in pieces(DATA, [65_537, 3, 200_000]):
                f.write(piece)
        wf.close()

    done = in_thread(produce)
    with chute.open(rf, format=read_fmt(name)) as r:
        assert not r.seekable()
        assert r.peek(1)[:1] == DATA[:1]  # detection on a pipe loses nothing
        got = r.read(1_000) + r.read()
        with pytest.raises(io.UnsupportedOperation):
            r.seek(0)
    done()
    assert got == DATA


@pytest.mark.parametrize("name", ALL)
def test_flushed_records_arrive_through_a_live_pipe(
    pipe: tuple[io.BufferedReader, io.BufferedWriter], name: str
) -> None:
    rf, wf = pipe
    writer = chute.open(wf, "wb", format=name, level=codecs.get(name).fast)
    reader = chute.open(rf, format=read_fmt(name))
    try:
        for i in range(3):
            record = b"event %d happened\n" % i
            writer.write(record)
            writer.flush()  # the writer stays open: the reader must not wait for more
            assert in_thread(partial(reader.read, len(record)))() == record
        writer.write(b"partial ")  # not flushed: may stay in the compressor until close
        writer.close()
        wf.close()
        assert in_thread(reader.read)() == b"partial "
    finally:
        writer.close()
        reader.close()


def test_socketpair_both_ways() -> None:
    a, b = socket.socketpair()
    with a, b:
        wfile, rfile = a.makefile("wb"), b.makefile("rb")

        def produce() -> None:
            with chute.open(wfile, "wb", format="lz4") as f:
                f.write(DATA)
            wfile.close()
            a.shutdown(socket.SHUT_WR)

        done = in_thread(produce)
        with chute.open(rfile) as r:
            lines = r.readlines()
        rfile.close()
        done()
    assert b"".join(lines) == DATA
    assert len(lines) == DATA.count(b"\n") + (not DATA.endswith(b"\n"))
    assert all(line.endswith(b"\n") for line in lines[:-1])


class Trickle(io.RawIOBase):
    """A non-seekable source that hands out 1 to 3 bytes per read, like a slow pipe."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), 1 + self._pos % 3, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.mark.parametrize("name", ALL)
def test_detection_from_a_trickle_loses_nothing(name: str) -> None:
    data = DATA[:20_000]
    blob = chute.compress(data, name, codecs.get(name).fast)
    with Trickle(blob) as src, chute.open(src, format=read_fmt(name)) as r:
        assert not r.seekable()
        assert r.read(1) == data[:1]
        assert r.read() == data[1:]
        assert r.format == name


def test_truncated_pipe_is_an_error(pipe: tuple[io.BufferedReader, io.BufferedWriter]) -> None:
    rf, wf = pipe
    blob = chute.compress(DATA, "zstd")

    def produce() -> None:
        wf.write(blob[: len(blob) // 2])
        wf.close()

    done = in_thread(produce)
    with chute.open(rf) as r:
        got = r.read()  # what the first half holds
        assert DATA.startswith(got)
        with pytest.raises(TruncatedStreamError):
            r.read()
    done()


# -------------------------------------------------------------------- decompression bombs


def _bomb(name: str) -> bytes:
    """1 GiB of zeros, compressed without ever holding 1 GiB."""
    zeros = bytes(1 << 20)
    codec = codecs.get(name)
    if name == "zstd":
        comp = codec.new_compressor(3)
        return b"".join(comp.compress(zeros) for _ in range(1 << 10)) + comp.finish()
    if name == "gzip":  # 1024 members of 1 MiB, like chute's own block output
        return chute.compress(zeros, "gzip") * (1 << 10)
    member = chute.compress(bytes(16 << 20), "bz2")  # 64 streams of 16 MiB
    return member * 64


@pytest.mark.slow  # decodes 1 GiB per format
@pytest.mark.parametrize("name", ["zstd", "gzip", "bz2"])
def test_bomb_read_in_pieces_keeps_memory_bounded(name: str) -> None:
    bomb = _bomb(name)
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        total = 0
        with chute.open(io.BytesIO(bomb)) as r:
            while data := r.read(1 << 20):
                assert len(data) <= 1 << 20
                total += len(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 1 << 30
    assert peak < 8 << 20, f"peak {peak >> 20} MiB while reading a 1 GiB bomb"


def test_bomb_small_reads_stay_small() -> None:
    bomb = _bomb("zstd")
    tracemalloc.start()
    try:
        with chute.open(io.BytesIO(bomb)) as r:
            for _ in range(200):
                assert r.read(100) == bytes(100)
            assert len(r.peek(1)) <= 1 << 20
            assert len(r.read1(1 << 30)) <= 1 << 20  # read1 returns what one step gives
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_rsyncable_gzip_without_threads(tmp_path: Path) -> None:
    """``rsyncable=True`` without ``threads`` writes the content-cut members that any
    thread count writes; gzip decodes them."""
    import gzip

    data = text_like(3 << 20, seed=5)
    outs = []
    for threads in (None, 1, 3):
        path = tmp_path / f"r{threads}.gz"
        with chute.open(path, "wb", format="gzip", rsyncable=True, threads=threads) as f:
            for pos in range(0, len(data), 100_000):
                f.write(data[pos : pos + 100_000])
        outs.append(path.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    assert gzip.decompress(outs[0]) == data
    assert outs[0].count(b"\x1f\x8b\x08") > 3  # members cut by content, not one stream
