"""Writes on a second thread (chute.writebehind) and the pump's use of it."""

from __future__ import annotations

import errno
import gzip
import io
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import chute
from chute import pump
from chute.codecs._stream import StreamDecoder
from chute.errors import TruncatedStreamError
from chute.parallel import parallel_decompress
from chute.writebehind import WriteBehind


def sample(n: int) -> bytes:
    rnd = random.Random(n)
    return b"".join(b"record %d %d\n" % (i, rnd.randrange(1000)) for i in range(n // 8 + 1))[:n]


class FailingSink(io.RawIOBase):
    def __init__(self, fail_after: int) -> None:
        self.data = bytearray()
        self.fail_after = fail_after

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if len(self.data) + len(b) > self.fail_after:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.data += b
        return len(b)


def test_pieces_arrive_in_order() -> None:
    out = io.BytesIO()
    wb = WriteBehind(out, depth=2)
    pieces = [bytes([i]) * (i + 1) for i in range(200)]
    for p in pieces:
        wb.write(p)
    wb.close()
    assert out.getvalue() == b"".join(pieces)


def test_a_write_error_is_raised_in_the_producer() -> None:
    sink = FailingSink(fail_after=10)
    wb = WriteBehind(sink, depth=1)
    with pytest.raises(OSError, match="No space"):
        for _ in range(100):
            wb.write(b"x" * 4)
        wb.close()
    assert bytes(sink.data) == b"x" * 8


def test_abort_returns_with_a_stuck_writer() -> None:
    release = threading.Event()

    class Stuck(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            release.wait(10)
            return len(b)

    wb = WriteBehind(Stuck(), depth=2)
    for _ in range(3):
        wb.write(b"data")
    t = time.monotonic()
    wb.close(abort=True)
    assert time.monotonic() - t < 2
    release.set()


def _gz_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "one.gz"
    path.write_bytes(gzip.compress(data, 6))
    return path


@pytest.mark.parametrize("size", [0, 1, 100_000, 3_000_000])
def test_pump_with_write_behind_round_trips(tmp_path: Path, size: int) -> None:
    data = sample(size)
    path = _gz_file(tmp_path, data)
    out = io.BytesIO()
    with open(path, "rb", buffering=0) as src:
        stats = pump.decompress_stream(src, out, StreamDecoder(), chunk_size=4096, write_behind=True)
    assert out.getvalue() == data
    assert stats.bytes_out == size and stats.format == "gzip"


def test_pump_uses_the_thread_only_for_regular_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[WriteBehind] = []
    real = WriteBehind.__init__

    def spy(self: WriteBehind, *args: Any, **kw: Any) -> None:
        made.append(self)
        real(self, *args, **kw)

    monkeypatch.setattr(WriteBehind, "__init__", spy)
    data = sample(200_000)
    path = _gz_file(tmp_path, data)
    out = io.BytesIO()
    pump.decompress_stream(io.BytesIO(path.read_bytes()), out, StreamDecoder(), write_behind=True)
    assert not made and out.getvalue() == data
    out = io.BytesIO()
    with open(path, "rb") as src:
        pump.decompress_stream(src, out, StreamDecoder(), write_behind=True)
    assert len(made) == 1 and out.getvalue() == data
    with open(path, "rb") as src:  # one gzip member: no split, one decoder, writes behind it
        parallel_decompress(src, io.BytesIO(), threads=2)
    assert len(made) == 2
    with open(path, "rb") as src:
        parallel_decompress(src, io.BytesIO(), threads=1)
    assert len(made) == 2


def test_decode_error_after_output_like_one_thread(tmp_path: Path) -> None:
    data = sample(2_000_000)
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(data, 6)[:-5000])
    outs = []
    for behind in (False, True):
        out = io.BytesIO()
        with open(path, "rb") as src, pytest.raises(TruncatedStreamError):
            pump.decompress_stream(src, out, StreamDecoder(), write_behind=behind)
        outs.append(out.getvalue())
    assert outs[0] == outs[1] and len(outs[0]) > 1_000_000


def test_write_error_surfaces_from_the_pump(tmp_path: Path) -> None:
    path = _gz_file(tmp_path, sample(3_000_000))
    sink = FailingSink(fail_after=1_000_000)
    with open(path, "rb") as src, pytest.raises(OSError, match="No space"):
        pump.decompress_stream(src, sink, StreamDecoder(), chunk_size=8192, write_behind=True)  # type: ignore[arg-type]


def test_copy_with_threads_writes_a_one_member_file(tmp_path: Path) -> None:
    data = sample(3_000_000)
    path = _gz_file(tmp_path, data)
    target = tmp_path / "out.bin"
    chute.copy(path, target, decompress=True, threads=2)
    assert target.read_bytes() == data
