"""chute.streams.follow: tail -f for compressed files."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import chute
from chute.errors import CorruptStreamError
from chute.streams.follow import follow


class Sink(io.BytesIO):
    def wait_for(self, want: bytes, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.getvalue() == want:
                return
            time.sleep(0.01)
        raise AssertionError(f"{self.getvalue()!r} != {want!r}")


def _start(target: Path | io.BufferedReader, **kw: object) -> tuple[Sink, threading.Event, Callable[[], None]]:
    out, stop = Sink(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            follow(target, out, poll_interval=0.02, stop=stop, **kw)  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()

    def finish() -> None:
        stop.set()
        t.join(10)
        assert not t.is_alive()
        if errors:
            raise errors[0]

    return out, stop, finish


@pytest.mark.parametrize("fmt", ["zstd", "gzip", "lz4", "bz2", "xz", "brotli"])
def test_follows_growing_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "log"
    path.touch()
    out, _, finish = _start(path, format="brotli" if fmt == "brotli" else None)
    try:
        want = b""
        with chute.open(path, "wb", format=fmt) as w:
            for i in range(4):
                rec = f"record {i}\n".encode() * (i + 1)
                w.write(rec)
                w.flush()
                want += rec
                out.wait_for(want)  # seen before the writer closes
    finally:
        finish()
    assert out.getvalue() == want


def test_follows_appended_members_and_real_zstd(tmp_path: Path) -> None:
    path = tmp_path / "log.zst"
    path.write_bytes(subprocess.run(["zstd", "-c"], input=b"a\n", capture_output=True, check=True).stdout)
    out, _, finish = _start(path)
    try:
        out.wait_for(b"a\n")
        with open(path, "ab") as f:
            f.write(subprocess.run(["zstd", "-c"], input=b"b\n", capture_output=True, check=True).stdout)
        out.wait_for(b"a\nb\n")
    finally:
        finish()


def test_rotation_replaced_file(tmp_path: Path) -> None:
    path = tmp_path / "log.gz"
    with chute.open(path, "wb", format="gzip") as w:
        w.write(b"old\n")
    out, _, finish = _start(path)
    try:
        out.wait_for(b"old\n")
        os.rename(path, tmp_path / "log.1.gz")
        time.sleep(0.1)  # the path is missing for a while: keep waiting
        with chute.open(path, "wb", format="gzip") as w:
            w.write(b"new\n")
        out.wait_for(b"old\nnew\n")
    finally:
        finish()


def test_truncated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.zst"
    with chute.open(path, "wb") as w:
        w.write(b"first version, long enough to be bigger\n" * 20)
    out, _, finish = _start(path)
    try:
        out.wait_for(b"first version, long enough to be bigger\n" * 20)
        with open(path, "r+b") as f:
            f.truncate(0)
        time.sleep(0.1)
        with chute.open(path, "ab") as w:
            w.write(b"second\n")
        out.wait_for(b"first version, long enough to be bigger\n" * 20 + b"second\n")
    finally:
        finish()


def test_partial_member_is_not_truncation(tmp_path: Path) -> None:
    data = chute.compress(b"hello world\n" * 100, format="xz")
    path = tmp_path / "x.xz"
    path.write_bytes(data[: len(data) // 2])
    out, _, finish = _start(path)
    time.sleep(0.1)
    with open(path, "ab") as f:
        f.write(data[len(data) // 2 :])
    out.wait_for(b"hello world\n" * 100)
    finish()  # no TruncatedStreamError


def test_corrupt_data_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 64)
    with open(path, "rb") as f, pytest.raises(CorruptStreamError):
        follow(f, io.BytesIO(), poll_interval=0.01, stop=threading.Event())


def test_fileobj_and_bad_args(tmp_path: Path) -> None:
    path = tmp_path / "f.lz4"
    path.write_bytes(chute.compress(b"xyz", format="lz4"))
    stop = threading.Event()
    stop.set()
    out = io.BytesIO()
    with open(path, "rb") as f:
        follow(f, out, stop=stop)
    assert out.getvalue() == b"xyz"
    with pytest.raises(ValueError):
        follow(path, out, poll_interval=0)
