"""chute.streams.writebehind: bytes in order, bounded memory, errors handed back, clean stop."""

from __future__ import annotations

import io
import threading
import time

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.streams import writebehind
from chute.streams.writebehind import WriteBehind


class Recorder(io.RawIOBase):
    """Records writes and flushes in the order the thread made them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes]] = []

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.events.append(("write", bytes(b)))
        return len(b)

    def flush(self) -> None:
        self.events.append(("flush", b""))

    def data(self) -> bytes:
        return b"".join(d for kind, d in self.events if kind == "write")


@settings(max_examples=examples(60), deadline=None)
@given(
    pieces=st.lists(st.tuples(st.binary(max_size=3000), st.sampled_from(["bytes", "bytearray", "view"])), max_size=30),
    depth=st.integers(1, 5),
    batch=st.integers(1, 8000),
)
def test_same_bytes_in_order_even_if_the_caller_reuses_its_buffer(
    pieces: list[tuple[bytes, str]], depth: int, batch: int
) -> None:
    dst = Recorder()
    behind = WriteBehind(dst, depth=depth, batch=batch)  # type: ignore[arg-type]
    for data, kind in pieces:
        buf = bytearray(data)
        piece: bytes | bytearray | memoryview = {"bytes": data, "bytearray": buf}.get(kind, memoryview(buf))
        assert behind.write(piece) == len(data)
        buf[:] = b"\xff" * len(buf)  # the caller reuses its buffer at once
    behind.close()
    assert dst.data() == b"".join(d for d, _ in pieces)
    assert dst.events[-1] == ("flush", b"")  # close flushes last
    assert all(len(d) for kind, d in dst.events if kind == "write")  # empty writes are not queued


class Gate(Recorder):
    """A destination whose writes wait until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.entered.release()
        self.open.wait(10)
        return super().write(b)


def test_at_most_depth_chunks_are_held() -> None:
    dst = Gate()
    behind = WriteBehind(dst, depth=3, batch=1)  # type: ignore[arg-type]
    behind.write(b"a")  # taken by the thread, which waits at the gate
    assert dst.entered.acquire(timeout=5)
    behind.write(b"b")
    behind.write(b"c")
    done = threading.Event()

    def fourth() -> None:
        behind.write(b"d")
        done.set()

    t = threading.Thread(target=fourth)
    t.start()
    assert not done.wait(0.3)  # one in the write, two queued: the fourth waits for room
    dst.open.set()
    assert done.wait(5)
    t.join()
    behind.close()
    assert dst.data() == b"abcd"


def test_flush_is_asked_for_in_order_and_does_not_wait() -> None:
    dst = Gate()
    behind = WriteBehind(dst, depth=2, batch=1)  # type: ignore[arg-type]
    behind.flush()  # nothing written yet: no request
    behind.write(b"x")
    t0 = time.monotonic()
    behind.flush()
    behind.flush()  # nothing new since the last request: no second one
    assert time.monotonic() - t0 < 0.5  # the write is still stuck at the gate
    dst.open.set()
    behind.write(b"y")
    behind.close()
    assert dst.events == [("write", b"x"), ("flush", b""), ("write", b"y"), ("flush", b"")]


class Full(Recorder):
    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def write(self, b: bytes) -> int:  # type: ignore[override]
        if self.good == 0:
            raise OSError(28, "No space left on device")
        self.good -= 1
        return super().write(b)


def test_a_write_error_reaches_the_producer_and_drops_the_rest() -> None:
    dst = Full(good=2)
    behind = WriteBehind(dst, depth=2, batch=1)  # type: ignore[arg-type]
    with pytest.raises(OSError) as info:
        for i in range(1000):  # the error stops the producer long before the end
            behind.write(b"%d" % i)
            time.sleep(0.001)
    assert info.value.errno == 28
    with pytest.raises(OSError):
        behind.close()
    assert dst.data() == b"01"
    assert ("flush", b"") not in dst.events  # nothing is flushed after the error


def test_an_error_found_at_close_is_raised_by_close() -> None:
    behind = WriteBehind(Full(good=0), depth=4)  # type: ignore[arg-type]
    behind.write(b"x")  # returns at once: the thread fails later
    with pytest.raises(OSError, match="No space"):
        behind.close()


def test_abort_drops_what_is_queued_and_does_not_wait_for_a_stuck_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writebehind, "ABORT_WAIT", 0.2)
    dst = Gate()
    behind = WriteBehind(dst, depth=4, batch=1)  # type: ignore[arg-type]
    behind.write(b"stuck")
    assert dst.entered.acquire(timeout=5)
    behind.write(b"queued")
    t0 = time.monotonic()
    behind.abort()
    assert time.monotonic() - t0 < 2
    dst.open.set()
    time.sleep(0.2)
    assert dst.data() == b"stuck"  # the queued chunk was dropped, and nothing was flushed
    assert ("flush", b"") not in dst.events
    with pytest.raises(ValueError):
        behind.write(b"late")


def test_abort_drops_the_rest_of_the_batch_being_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """An abort met in the middle of a batch (after a failed decode) stops at the chunk
    being written: the caller that got the error may reuse ``dst`` once abort returns."""
    monkeypatch.setattr(writebehind, "ABORT_WAIT", 0.2)
    dst = Gate()
    behind = WriteBehind(dst, depth=4, batch=1 << 20)  # type: ignore[arg-type]
    behind.write(b"stuck")
    behind.write(b"same batch")
    behind.flush()  # hands both chunks over as one batch
    assert dst.entered.acquire(timeout=5)
    behind.abort()
    dst.open.set()
    time.sleep(0.2)
    assert dst.data() == b"stuck"


def test_context_manager_closes_or_aborts() -> None:
    dst = Recorder()
    with WriteBehind(dst) as behind:  # type: ignore[arg-type]
        behind.write(b"ok")
    assert dst.data() == b"ok" and behind.closed
    with pytest.raises(ValueError):
        behind.write(b"x")
    with pytest.raises(ValueError):
        behind.flush()
    with pytest.raises(RuntimeError), WriteBehind(dst) as behind:  # type: ignore[arg-type]
        raise RuntimeError
    assert behind.closed


def test_depth_and_batch_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WriteBehind(Recorder(), depth=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WriteBehind(Recorder(), batch=0)  # type: ignore[arg-type]


def test_small_writes_are_handed_over_in_batches() -> None:
    dst = Gate()
    dst.open.set()
    behind = WriteBehind(dst, batch=10)  # type: ignore[arg-type]
    behind.write(b"1234")
    behind.write(b"5678")
    time.sleep(0.2)
    assert dst.events == []  # 8 bytes: still gathered
    behind.write(b"90")  # 10: handed over, written in order
    assert dst.entered.acquire(timeout=5)
    behind.write(b"ab")
    behind.flush()  # hands over what is gathered, then flushes
    behind.close()
    assert dst.events == [
        ("write", b"1234"),
        ("write", b"5678"),
        ("write", b"90"),
        ("write", b"ab"),
        ("flush", b""),
        ("flush", b""),
    ]


def test_a_batch_not_yet_handed_over_is_written_by_close_or_dropped_by_abort() -> None:
    dst = Recorder()
    behind = WriteBehind(dst, batch=1 << 20)  # type: ignore[arg-type]
    behind.write(b"tail")
    behind.close()
    assert dst.events == [("write", b"tail"), ("flush", b"")]
    dst = Recorder()
    behind = WriteBehind(dst, batch=1 << 20)  # type: ignore[arg-type]
    behind.write(b"tail")
    behind.abort()
    time.sleep(0.1)
    assert dst.events == []
