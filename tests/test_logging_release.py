"""close() releases what a handler holds (files, threads, compressors) at once, without
the cyclic garbage collector: a program that makes and closes handlers does not grow."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chute.logging import CompressedFileHandler, CompressingRotatingFileHandler, CompressingTimedRotatingFileHandler


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


MAKERS: dict[str, Callable[[Path], logging.Handler]] = {
    "rotating-shift": lambda d: CompressingRotatingFileHandler(d / "a.log", maxBytes=300, backupCount=3),
    "rotating-sequence": lambda d: CompressingRotatingFileHandler(
        d / "a.log", maxBytes=300, backupCount=3, naming="sequence", format="gzip"
    ),
    "timed": lambda d: CompressingTimedRotatingFileHandler(d / "t.log", when="S", backupCount=2),
    "compressed-zstd": lambda d: CompressedFileHandler(d / "c.log.zst", flush_interval=0.01, compresslevel=19),
    "compressed-gzip": lambda d: CompressedFileHandler(d / "c.log.gz", flush_interval=0.01),
}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_close_releases_everything_without_the_collector(tmp_path: Path, kind: str, no_gc: None) -> None:
    threads, fds = threading.active_count(), _fds()
    dead = []
    for round in range(20):
        h = MAKERS[kind](tmp_path)
        h.setFormatter(logging.Formatter("%(message)s"))
        for i in range(40):
            h.handle(
                logging.LogRecord(
                    "t", logging.INFO, __file__, 0, f"round {round} record {i:03d} {'p' * 20}", None, None
                )
            )
        if kind == "timed":
            h.doRollover()  # type: ignore[attr-defined]
        stream = getattr(h, "stream", None)
        refs = [weakref.ref(h)] + ([weakref.ref(stream)] if stream is not None else [])
        h.close()
        del h, stream
        dead.append(all(r() is None for r in refs))
    assert all(dead)  # freed by reference counting alone: no cycle keeps them
    deadline = time.monotonic() + 5
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.01)  # a joined thread leaves the list a moment after it ends
    assert threading.active_count() == threads
    assert _fds() == fds
