"""Every write is complete or an error: short counts, non-blocking pipes and full disks.

A raw file's ``write`` (``io.FileIO``: ``sys.stdout.buffer`` under ``PYTHONUNBUFFERED=1``,
a file opened with ``buffering=0``) returns what one system call took, which on a nearly full
disk or a non-blocking pipe is less than it was given. The destinations here are real: a
small tmpfs (mounted per test; skipped where mounting is not allowed), a pipe whose write end
is non-blocking with a slow reader, and file objects whose ``write`` takes at most 7 bytes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import chute
import chute.tar
from chute.streams.writebehind import WriteBehind

CHUTE = [sys.executable, "-m", "chute"]
DATA = os.urandom(300_000) + b"compressible text line\n" * 40_000  # ~1.2 MB, part incompressible


class Trickle(io.RawIOBase):
    """A raw file that takes at most ``per_call`` bytes per write (a legal raw file)."""

    def __init__(self, per_call: int = 7) -> None:
        self.per_call = per_call
        self.data = bytearray()
        self.calls = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.calls += 1
        view = memoryview(b).cast("B")[: self.per_call]
        self.data += view
        return len(view)


class TrickleObject:
    """Not an io class: a file-like object whose write also returns a short count."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, b: Any) -> int:
        view = memoryview(b).cast("B")[:7]
        self.data += view
        return len(view)

    def flush(self) -> None:
        pass


class NoCount:
    """A file-like object whose write returns None: it takes everything (legacy objects)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, b: Any) -> None:
        self.data += b

    def flush(self) -> None:
        pass


class Stuck(TrickleObject):
    """Takes no byte at all: a write must fail, not loop forever."""

    def write(self, b: Any) -> int:
        return 0


def _env(unbuffered: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


# --------------------------------------------------------------------------- the API


@pytest.mark.parametrize("threads", [None, 1, 2])
@pytest.mark.parametrize("fmt", ["gzip", "zstd"])
@pytest.mark.parametrize("dst_type", [Trickle, TrickleObject, NoCount])
def test_copy_writes_everything_to_a_short_writer(fmt: str, threads: int | None, dst_type: type) -> None:
    data = DATA[:200_000]
    packed = dst_type()
    chute.copy(io.BytesIO(data), packed, compress=fmt, threads=threads)
    assert chute.decompress(bytes(packed.data)) == data
    out = dst_type()
    chute.copy(io.BytesIO(chute.compress(data, fmt)), out, decompress=True, threads=threads)
    assert bytes(out.data) == data


def test_parallel_decode_of_many_frames_writes_everything() -> None:
    """Several frames, so the parallel decoder (not the one-stream path) writes."""
    frames = [chute.compress(DATA[i : i + 150_000], "zstd") for i in range(0, len(DATA), 150_000)]
    src = io.BytesIO(b"".join(frames))
    out = Trickle(1000)
    chute.copy(src, out, decompress=True, threads=2)
    assert bytes(out.data) == DATA


def test_writer_object_writes_everything() -> None:
    raw = Trickle()
    with chute.open(raw, "wb", format="gzip") as f:
        f.write(DATA[:50_000])
        f.flush()
        f.write(DATA[50_000:100_000])
    assert chute.decompress(bytes(raw.data)) == DATA[:100_000]


def test_write_behind_writes_everything() -> None:
    raw = Trickle(1000)
    with WriteBehind(raw, batch=10_000) as behind:
        for i in range(0, 201_000, 3000):
            behind.write(DATA[i : i + 3000])
    assert bytes(raw.data) == DATA[:201_000]


def test_tar_writer_writes_everything() -> None:
    raw = Trickle(500)
    with chute.tar.open(raw, "w", format="none") as tar:
        tar.add_bytes("a.bin", DATA[:100_000])
    with tarfile.open(fileobj=io.BytesIO(bytes(raw.data))) as t:
        f = t.extractfile("a.bin")
        assert f is not None and f.read() == DATA[:100_000]


def test_read_range_writes_everything(tmp_path: Path) -> None:
    path = tmp_path / "d.zst"
    path.write_bytes(chute.compress(DATA, "zstd"))
    out = TrickleObject()
    from chute.api.functions import read_range

    assert read_range(path, 1000, 101_000, out) == 100_000  # type: ignore[arg-type]
    assert bytes(out.data) == DATA[1000:101_000]


def test_a_writer_that_takes_nothing_raises() -> None:
    with pytest.raises(OSError, match="took 0 of"):
        chute.copy(io.BytesIO(DATA[:1000]), Stuck(), compress="zstd")


def _nonblocking_pipe() -> tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(w, False)
    return r, w


def _slow_reader(fd: int, into: bytearray, size: int = 8192, pause: float = 0.0005) -> threading.Thread:
    def run() -> None:
        with open(fd, "rb", buffering=0) as f:
            while chunk := f.read(size):
                into.extend(chunk)
                time.sleep(pause)

    t = threading.Thread(target=run)
    t.start()
    return t


@pytest.mark.parametrize("buffering", [0, -1])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_non_blocking_pipe_gets_everything(buffering: int, threads: int) -> None:
    """A full non-blocking pipe makes a raw write return None or a short count, and a
    buffered one raise BlockingIOError: chute waits until the pipe takes more."""
    packed = chute.compress(DATA, "gzip")
    r, w = _nonblocking_pipe()
    got = bytearray()
    reader = _slow_reader(r, got)
    try:
        with open(w, "wb", buffering=buffering) as dst:
            chute.copy(io.BytesIO(packed), dst, decompress=True, threads=threads)
    finally:
        reader.join(timeout=60)
    assert bytes(got) == DATA


def test_a_full_raw_file_raises_and_names_it(tmpfs: Path) -> None:
    path = tmpfs / "out.zst"
    with open(path, "wb", buffering=0) as dst, pytest.raises(OSError) as info:
        chute.copy(io.BytesIO(DATA), dst, compress="zstd", level=1)
    assert info.value.errno == 28 and info.value.filename == str(path)


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def tmpfs(tmp_path: Path) -> Any:
    """A 256 KiB tmpfs: writes past it are cut short, then fail with ENOSPC."""
    where = tmp_path / "small"
    where.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True, timeout=30
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip() or r.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The plain data, and compressed copies of one frame and of several."""
    d = tmp_path_factory.mktemp("short")
    plain = d / "plain.bin"
    plain.write_bytes(DATA)
    files = {"plain": plain}
    for fmt, suffix in (("zstd", "zst"), ("gzip", "gz")):
        one = d / f"one.{suffix}"
        one.write_bytes(chute.compress(DATA, fmt))
        many = d / f"many.{suffix}"
        with open(many, "wb") as f:  # several members: the parallel decoder's path with -T2
            chute.copy(io.BytesIO(DATA * 3), f, compress=fmt, threads=2, block_size=1 << 20)
        files[f"one.{fmt}"] = one
        files[f"many.{fmt}"] = many
    return files


CASES = [
    (["-c", "-F", "zstd"], "plain"),
    (["-c", "-F", "gzip"], "plain"),
    (["-dc"], "one.zstd"),
    (["-dc"], "one.gzip"),
    (["-dc"], "many.zstd"),
    (["-dc"], "many.gzip"),
    (["cat"], "one.zstd"),
    (["cat"], "many.gzip"),
]


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("threads", ["-T1", "-T2"])
@pytest.mark.parametrize(("args", "src"), CASES, ids=[f"{' '.join(a)}-{s}" for a, s in CASES])
def test_a_full_disk_behind_stdout_is_an_error_naming_it(
    tmpfs: Path, inputs: dict[str, Path], args: list[str], src: str, threads: str, unbuffered: bool
) -> None:
    with open(tmpfs / "out", "wb") as out:
        r = subprocess.run(
            [*CHUTE, *args, threads, str(inputs[src])],
            stdout=out,
            stderr=subprocess.PIPE,
            env=_env(unbuffered),
            timeout=120,
        )
    assert r.stderr.decode() == "chute: stdout: no space left on device\n"
    assert r.returncode == 1


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", [["-F", "gzip", "-T1"], ["-F", "zstd", "-T2"], ["-d", "-T2"]])
def test_a_full_disk_behind_an_output_file_names_it_and_leaves_nothing(
    tmpfs: Path, inputs: dict[str, Path], args: list[str], unbuffered: bool
) -> None:
    src = inputs["many.zstd"] if "-d" in args else inputs["plain"]
    out = tmpfs / "out"
    r = subprocess.run(
        [*CHUTE, *args, str(src), "-o", str(out)], capture_output=True, env=_env(unbuffered), timeout=120
    )
    assert r.stderr.decode() == f"chute: {out}: no space left on device\n"
    assert r.returncode == 1
    assert os.listdir(tmpfs) == []


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("threads", ["-T1", "-T2"])
@pytest.mark.parametrize(("args", "src"), CASES, ids=[f"{' '.join(a)}-{s}" for a, s in CASES])
def test_a_non_blocking_pipe_behind_stdout_gets_everything(
    inputs: dict[str, Path], args: list[str], src: str, threads: str, unbuffered: bool
) -> None:
    r, w = _nonblocking_pipe()
    got = bytearray()
    reader = _slow_reader(r, got)
    try:
        proc = subprocess.run(
            [*CHUTE, *args, threads, str(inputs[src])],
            stdout=w,
            stderr=subprocess.PIPE,
            env=_env(unbuffered),
            timeout=120,
        )
    finally:
        os.close(w)
        reader.join(timeout=60)
    assert proc.stderr == b"" and proc.returncode == 0
    expected = DATA * 3 if src.startswith("many") else DATA
    if args[0] == "-c":
        assert chute.decompress(bytes(got)) == expected
    else:
        assert bytes(got) == expected


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A tar archive of 4,000 empty members: ``chute ls`` prints about 200 KB of text."""
    names = [f"member-with-a-fairly-long-name-{i:05d}.txt" for i in range(4000)]
    path = tmp_path_factory.mktemp("ls") / "many.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name in names:
            t.addfile(tarfile.TarInfo(name), io.BytesIO())
    return path, names


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_text_output_to_a_non_blocking_pipe_is_complete(listing: tuple[Path, list[str]], unbuffered: bool) -> None:
    path, names = listing
    r, w = _nonblocking_pipe()
    got = bytearray()
    reader = _slow_reader(r, got, 4096, 0.002)
    try:
        proc = subprocess.run(
            [*CHUTE, "ls", str(path)], stdout=w, stderr=subprocess.PIPE, env=_env(unbuffered), timeout=120
        )
    finally:
        os.close(w)
        reader.join(timeout=60)
    assert proc.stderr == b"" and proc.returncode == 0
    assert got.decode().splitlines() == names


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_text_output_to_a_full_disk_is_an_error_naming_it(
    tmpfs: Path, listing: tuple[Path, list[str]], unbuffered: bool
) -> None:
    path, _ = listing
    (tmpfs / "filler").write_bytes(b"\0" * 150_000)  # what is left is less than the listing
    with open(tmpfs / "out", "wb") as out:
        r = subprocess.run(
            [*CHUTE, "ls", str(path)], stdout=out, stderr=subprocess.PIPE, env=_env(unbuffered), timeout=120
        )
    assert r.stderr.decode() == "chute: stdout: no space left on device\n"
    assert r.returncode == 1
