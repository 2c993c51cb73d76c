"""Outputs that are not regular files: a device node, a FIFO, a symbolic link.

A device or FIFO named by ``-o`` (or as the derived output name) is written into, ``-f`` or
not, and stays what it was, as ``zstd -o`` and ``tar -f`` do; it is never replaced by a
regular file. A symbolic link to a regular file is replaced by the output (gzip, xz and
``zstd -f`` do the same); a link to a device is followed into the device (as zstd does).

The device is a twin of /dev/null made with mknod in the test's own folder (root only):
no test here ever names a device of the machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]
DATA = b"a line of text that compresses well\n" * 2000


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, *args], capture_output=True, cwd=cwd, timeout=60)


def null_twin(path: Path) -> Path:
    """A character device like /dev/null (1, 3) at ``path``; skips when not root."""
    if os.geteuid() != 0:
        pytest.skip("making a device node (mknod) needs root")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


def assert_null_twin(path: Path) -> None:
    st = os.lstat(path)
    assert stat.S_ISCHR(st.st_mode), f"{path} is no longer a character device"
    assert st.st_rdev == os.makedev(1, 3)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".chute-tmp")]


class Reader:
    """``cat FIFO > FILE`` in its own process: the FIFO's reader."""

    def __init__(self, fifo: Path, out: Path) -> None:
        self.out = out
        with open(out, "wb") as f:
            self.proc = subprocess.Popen(["cat", str(fifo)], stdout=f)

    def data(self) -> bytes:
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # nobody opened the FIFO for writing
            self.end()
            pytest.fail("the FIFO's reader got no writer")
        return self.out.read_bytes()

    def end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def reader() -> Iterator[Callable[[Path, Path], Reader]]:
    """Starts readers of FIFOs; ends any still blocked (on a FIFO nobody opened) after the test."""
    started: list[Reader] = []

    def start(fifo: Path, out: Path) -> Reader:
        started.append(Reader(fifo, out))
        return started[-1]

    yield start
    for r in started:
        r.end()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "data.txt"
    p.write_bytes(DATA)
    return p


@pytest.mark.parametrize("force", [[], ["-f"]])
def test_compress_into_device(src: Path, force: list[str]) -> None:
    dev = null_twin(src.parent / "null")
    r = run("-k", *force, "-o", str(dev), str(src))
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert_null_twin(dev)
    assert no_temp_files(src.parent)


def test_derived_name_that_is_a_device(src: Path) -> None:
    dev = null_twin(src.parent / "data.txt.zst")
    r = run("-k", "-F", "zstd", str(src))
    assert r.returncode == 0, r.stderr
    assert_null_twin(dev)


def test_decompress_into_device(src: Path) -> None:
    if not shutil.which("zstd"):
        pytest.skip("no zstd")
    subprocess.run(["zstd", "-q", "-k", str(src)], check=True)
    dev = null_twin(src.parent / "null")
    r = run("-d", "-k", "-o", str(dev), str(src) + ".zst")
    assert r.returncode == 0, r.stderr
    assert_null_twin(dev)


def test_device_keeps_mode_and_times_of_its_own(src: Path) -> None:
    dev = null_twin(src.parent / "null")
    os.chmod(dev, 0o640)
    os.utime(dev, ns=(10**18, 10**18))
    os.chmod(src, 0o600)
    assert run("-k", "-f", "-o", str(dev), str(src)).returncode == 0
    st = os.lstat(dev)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_mtime_ns != os.stat(src).st_mtime_ns


def test_error_leaves_the_device_in_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"garbage that is not deflate")
    dev = null_twin(tmp_path / "null")
    r = run("-d", "-f", "-k", "-o", str(dev), str(broken))
    assert r.returncode == 1
    assert r.stderr.startswith(f"chute: {broken}: ".encode()) and r.stderr.count(b"\n") == 1
    assert_null_twin(dev)


@pytest.mark.parametrize("force", [[], ["-f"]])
def test_compress_into_fifo_with_a_reader(src: Path, force: list[str], reader: Callable[[Path, Path], Reader]) -> None:
    fifo = src.parent / "fifo"
    os.mkfifo(fifo)
    got = reader(fifo, src.parent / "got.gz")
    r = run("-k", *force, "-F", "gzip", "-o", str(fifo), str(src))
    assert r.returncode == 0, r.stderr
    data = got.data()
    assert subprocess.run(["gzip", "-dc"], input=data, capture_output=True, check=True).stdout == DATA
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert no_temp_files(src.parent)


def test_decompress_into_fifo_with_a_reader(src: Path, reader: Callable[[Path, Path], Reader]) -> None:
    if not shutil.which("xz"):
        pytest.skip("no xz")
    subprocess.run(["xz", "-k", str(src)], check=True)
    fifo = src.parent / "fifo"
    os.mkfifo(fifo)
    got = reader(fifo, src.parent / "got")
    r = run("-d", "-k", "-o", str(fifo), str(src) + ".xz")
    assert r.returncode == 0, r.stderr
    assert got.data() == DATA
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_symlink_to_device_is_followed(src: Path) -> None:
    dev = null_twin(src.parent / "null")
    link = src.parent / "link"
    link.symlink_to("null")
    r = run("-k", "-o", str(link), str(src))
    assert r.returncode == 0, r.stderr
    assert os.readlink(link) == "null"
    assert_null_twin(dev)


def test_symlink_to_regular_file_is_replaced_with_force(src: Path) -> None:
    target = src.parent / "old.zst"
    target.write_bytes(b"old contents")
    link = src.parent / "link"
    link.symlink_to("old.zst")
    refused = run("-k", "-o", str(link), str(src))
    assert refused.returncode == 1 and b"already exists" in refused.stderr
    assert link.is_symlink()
    r = run("-k", "-f", "-F", "zstd", "-o", str(link), str(src))
    assert r.returncode == 0, r.stderr
    assert not link.is_symlink()
    assert target.read_bytes() == b"old contents"
    assert subprocess.run(["zstd", "-dc", str(link)], capture_output=True, check=True).stdout == DATA


@pytest.mark.parametrize("force", [[], ["-f"]])
def test_pack_into_device(tmp_path: Path, force: list[str]) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.txt").write_bytes(DATA)
    dev = null_twin(tmp_path / "null")
    r = run("pack", *force, "-o", str(dev), "tree", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert_null_twin(dev)
    assert no_temp_files(tmp_path)


def test_pack_into_fifo_read_by_gnu_tar(tmp_path: Path, reader: Callable[[Path, Path], Reader]) -> None:
    if not shutil.which("tar") or not shutil.which("zstd"):
        pytest.skip("needs GNU tar and zstd")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.txt").write_bytes(DATA)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = reader(fifo, tmp_path / "got.tar.zst")
    r = run("pack", "-o", str(fifo), "tree", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got.data()
    listing = subprocess.run(["tar", "--zstd", "-tf", str(tmp_path / "got.tar.zst")], capture_output=True, check=True)
    assert listing.stdout.split() == [b"tree/", b"tree/a.txt"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_precompress_leaves_a_device_sibling_alone(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(DATA)
    dev = null_twin(tmp_path / "page.html.gz")
    r = run("precompress", "-f", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert f"chute: {dev}: not a regular file -- left alone".encode() in r.stderr
    assert_null_twin(dev)
    assert (tmp_path / "page.html.zst").is_file()
    assert no_temp_files(tmp_path)


def test_folder_as_output_is_an_error_naming_it(src: Path) -> None:
    folder = src.parent / "folder"
    folder.mkdir()
    r = run("-k", "-f", "-o", str(folder), str(src))
    assert r.returncode == 1
    assert r.stderr == f"chute: {folder}: is a directory\n".encode()
    assert folder.is_dir() and not list(folder.iterdir())
    assert no_temp_files(src.parent)
