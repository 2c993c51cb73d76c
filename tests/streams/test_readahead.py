"""chute.streams.readahead: bytes in order, errors handed over, bounded memory, clean stop."""

from __future__ import annotations

import io
import threading

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.streams.readahead import ReadAhead


@settings(max_examples=examples(40), deadline=None)
@given(data=st.binary(max_size=20_000), chunk=st.integers(1, 5000), read=st.integers(1, 7000))
def test_same_bytes_in_order(data: bytes, chunk: int, read: int) -> None:
    ahead = ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2)
    out = bytearray()
    buf = bytearray(read)
    while n := ahead.readinto(buf):
        out += buf[:n]
    ahead.close()
    assert bytes(out) == data


class Failing(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError(5, "Input/output error")
        return b"x" * n


def test_source_error_reaches_the_consumer_after_the_good_data() -> None:
    ahead = ReadAhead(Failing(), chunk_size=10, depth=1)
    assert ahead.read(10) == b"x" * 10
    assert ahead.read(10) == b"x" * 10
    with pytest.raises(OSError, match="Input/output error"):
        ahead.read(10)
    ahead.close()


class Counting(io.RawIOBase):
    def __init__(self) -> None:
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        return b"y" * n


def test_reads_at_most_depth_chunks_ahead_and_close_stops_the_thread() -> None:
    src = Counting()
    ahead = ReadAhead(src, chunk_size=100, depth=3)
    threading.Event().wait(0.3)  # give the thread every chance to run ahead
    # 3 chunks queued, plus at most one read waiting for room
    assert src.reads <= 4
    ahead.close()
    assert not ahead._thread.is_alive()
    with pytest.raises(ValueError):
        ahead.read(1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        ReadAhead(io.BytesIO(b""), chunk_size=0)


@settings(max_examples=examples(40), deadline=None)
@given(
    data=st.binary(max_size=20_000),
    chunk=st.integers(1, 5000),
    steps=st.lists(st.tuples(st.sampled_from(["read", "readinto", "write_to"]), st.integers(0, 7000)), max_size=30),
)
def test_read_readinto_write_to_mixed(data: bytes, chunk: int, steps: list[tuple[str, int]]) -> None:
    """Whatever the mix of calls, the bytes come out in order, each once; write_to copies nothing."""
    import os

    ahead = ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2)
    out = bytearray()
    r, w = os.pipe()
    try:
        for op, n in steps:
            if op == "read":
                got = ahead.read(n)
                assert len(got) == min(n, len(data) - len(out))
                out += got
            elif op == "readinto":
                buf = bytearray(n)
                k = ahead.readinto(buf)
                out += buf[:k]
            else:
                n = min(n, 4000)  # below the pipe's buffer
                k = ahead.write_to(w, n)
                assert k == min(n, len(data) - len(out))
                out += os.read(r, k) if k else b""
        out += ahead.read()
    finally:
        os.close(r)
        os.close(w)
        ahead.close()
    assert bytes(out) == data


def test_read_all_and_none() -> None:
    ahead = ReadAhead(io.BytesIO(b"abc" * 1000), chunk_size=7)
    assert ahead.read(2) == b"ab"
    assert ahead.read(None) == (b"abc" * 1000)[2:]
    assert ahead.read(5) == b"" and ahead.read() == b""
    ahead.close()
    with pytest.raises(ValueError):
        ahead.write_to(1, 1)


def test_source_error_reaches_write_to() -> None:
    import os

    ahead = ReadAhead(Failing(), chunk_size=10, depth=1)
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        assert ahead.write_to(fd, 20) == 20
        with pytest.raises(OSError, match="Input/output error"):
            ahead.write_to(fd, 5)
    finally:
        os.close(fd)
        ahead.close()
