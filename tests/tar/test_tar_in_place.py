"""Files written under their own names in a target that was empty at the start.

There nothing can be replaced, so a file is created as it is (``O_EXCL``) instead of under a
temporary name renamed into place. The guarantees stay: a member that fails, or that a
signal or Ctrl-C cuts, is removed; a name seen twice is replaced whole; a target that held
anything at the start still sees each file appear only once complete.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import need_tool

from chute.errors import TruncatedStreamError
from chute.streams.atomic import _LIVE
from chute.tar.extract import extract

LONG = "l" * 120  # a name over 100 bytes: a GNU long-name header, so the general path


def _tar(*members: tuple[str, bytes], gnu_tar: bool = False, tmp: Path | None = None) -> bytes:
    if gnu_tar:  # written by GNU tar itself: `tar -cf - -C DIR .` names every member ./NAME
        need_tool("tar")
        assert tmp is not None
        src = tmp / "src"
        for name, data in members:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(data)
        return subprocess.run(["tar", "-cf", "-", "-C", str(src), "."], capture_output=True, check=True).stdout
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1_600_000_000, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


class Spy:
    """Looks at the member's folder each time data is written to a file (``os.write``:
    every extraction path writes data that way, on the writer thread or not)."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.seen: list[list[str]] = []
        real = os.write

        def write(fd: int, data: Any) -> int:
            self.seen.append(sorted(os.listdir(self.folder)))
            return real(fd, data)

        monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("name", ["d/f", f"d/{LONG}"], ids=["short-path", "general-path"])
@pytest.mark.parametrize("size", [3000, 2 << 20], ids=["small", "large"])
def test_empty_target_creates_each_file_under_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, size: int
) -> None:
    data = b"x" * size
    archive = _tar((name, data))
    base = name.rpartition("/")[2]
    # a target made by the extraction: the file has its own name while its data is written
    fresh = tmp_path / "fresh"
    spy = Spy(fresh / "d", monkeypatch)
    extract(io.BytesIO(archive), fresh)
    assert spy.seen[-1] == [base]
    assert (fresh / name).read_bytes() == data
    # a target that holds anything: a temporary name, renamed once the file is complete
    used = tmp_path / "used"
    (used / "d").mkdir(parents=True)
    spy = Spy(used / "d", monkeypatch)
    extract(io.BytesIO(archive), used)
    assert base not in spy.seen[-1] and [n for n in spy.seen[-1] if n.startswith(".chute-")]
    assert (used / name).read_bytes() == data


@pytest.mark.parametrize("name", ["d/f", f"d/{LONG}"], ids=["short-path", "general-path"])
@pytest.mark.parametrize("stop", ["truncated", "ctrl-c"])
def test_a_cut_member_leaves_nothing_under_its_name(tmp_path: Path, name: str, stop: str) -> None:
    first, second = b"1" * 700, b"2" * 5000
    archive = _tar(("d/a", first), (name, second))
    target = tmp_path / "t"
    if stop == "truncated":
        cut = archive.index(second) + 1000  # inside the second member's data
        with pytest.raises(TruncatedStreamError):
            extract(io.BytesIO(archive[:cut]), target)
    else:
        start = archive.index(second)

        class CtrlC(io.BytesIO):
            """Ctrl-C as the second member's data is read (whichever way it is read)."""

            def read(self, n: int | None = -1) -> bytes:
                if self.tell() == start:
                    raise KeyboardInterrupt
                return super().read(n)

            def readinto(self, b: Any) -> int:
                if self.tell() == start:
                    raise KeyboardInterrupt
                return super().readinto(b)

        with pytest.raises(KeyboardInterrupt):
            extract(CtrlC(archive), target)
    assert (target / "d" / "a").read_bytes() == first
    assert sorted(os.listdir(target / "d")) == ["a"]
    assert not any(p.startswith(str(target)) for p in _LIVE)


@pytest.mark.parametrize("name", ["b", LONG], ids=["short-path", "general-path"])
def test_ctrl_c_right_after_the_file_is_created_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A signal landing between the file's creation and the code that removes it on an
    error: the extractor still removes it (it was registered before it existed)."""
    archive = _tar(("d/a", b"1" * 10), (f"d/{name}", b"2" * 10))
    real = os.open

    def open_then_interrupt(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        fd = real(path, flags, mode, dir_fd=dir_fd)
        if path == name:
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    target = tmp_path / "t"
    with pytest.raises(KeyboardInterrupt):
        extract(io.BytesIO(archive), target)
    assert sorted(os.listdir(target / "d")) == ["a"]
    assert not any(p.startswith(str(target)) for p in _LIVE)


@pytest.mark.parametrize("gnu_tar", [False, True], ids=["tarfile", "gnu-tar"])
def test_a_name_seen_twice_is_replaced_whole(tmp_path: Path, gnu_tar: bool) -> None:
    """The second copy of a member (as ``tar -r`` appends) replaces the first, as GNU tar
    does; in an empty target the first was created in place, the second cannot be."""
    if gnu_tar:
        one = _tar(("d/f", b"old" * 100), gnu_tar=True, tmp=tmp_path / "one")
        two = _tar(("d/f", b"new"), gnu_tar=True, tmp=tmp_path / "two")
        archive = _concat(one, two)
    else:
        archive = _tar(("d/f", b"old" * 100), ("d/f", b"new"), (f"d/{LONG}", b"1"), (f"d/{LONG}", b"22"))
    target = tmp_path / "t"
    extract(io.BytesIO(archive), target)
    assert (target / "d" / "f").read_bytes() == b"new"
    if not gnu_tar:
        assert (target / "d" / LONG).read_bytes() == b"22"
    assert not [n for n in os.listdir(target / "d") if n.startswith(".chute-")]


def _concat(one: bytes, two: bytes) -> bytes:
    """The members of tar archive ``one`` followed by those of ``two`` (``one`` without its
    end-of-archive blocks)."""
    pos = 0
    while one[pos : pos + 512] != b"\0" * 512:
        size = int(one[pos + 124 : pos + 135] or b"0", 8)
        pos += 512 + size + (-size % 512)
    return one[:pos] + two
