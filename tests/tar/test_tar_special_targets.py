"""Extraction over devices, FIFOs and links already in the target: never written into.

A member whose path is already a device node, a FIFO, or a symbolic link to one (inside
or outside the target) replaces that entry with the member's regular file, as GNU tar
does (it removes the old entry and creates the file); nothing is opened through it. A
FIFO nobody reads would block a writer for ever, so these tests would hang (and time out)
if extraction wrote into one.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

DATA = b"member contents\n" * 100


def _archive(tmp_path: Path) -> Path:
    arc = tmp_path / "a.tar"
    src = tmp_path / "src"
    src.mkdir()
    for name in ("dev", "fifo", "link-in", "link-out"):
        (src / name).write_bytes(DATA)
    with tarfile.open(arc, "w", format=tarfile.PAX_FORMAT) as tf:
        for name in ("dev", "fifo", "link-in", "link-out"):
            tf.add(src / name, arcname=name)
    return arc


def _target(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A target holding a device (root only), a FIFO and links to FIFOs; and a FIFO outside."""
    target = tmp_path / name
    target.mkdir()
    outside = tmp_path / f"{name}-outside-fifo"
    os.mkfifo(outside)
    os.mkfifo(target / "fifo")
    os.mkfifo(target / "inner-fifo")
    (target / "link-in").symlink_to("inner-fifo")
    (target / "link-out").symlink_to(outside)
    if os.geteuid() == 0:
        os.mknod(target / "dev", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return target, outside


def _check(target: Path, outside: Path) -> None:
    for name in ("dev", "fifo", "link-in", "link-out"):
        st = os.lstat(target / name)
        assert stat.S_ISREG(st.st_mode), name
        assert (target / name).read_bytes() == DATA
    assert stat.S_ISFIFO(os.lstat(target / "inner-fifo").st_mode)
    assert stat.S_ISFIFO(os.lstat(outside).st_mode)


@pytest.mark.parametrize("trust", [[], ["--trust"]], ids=["default", "trust"])
def test_chute_unpack_replaces_special_entries(tmp_path: Path, trust: list[str]) -> None:
    arc = _archive(tmp_path)
    target, outside = _target(tmp_path, "t")
    r = subprocess.run(
        [sys.executable, "-m", "chute", "unpack", *trust, "-C", str(target), str(arc)], capture_output=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    _check(target, outside)


def test_gnu_tar_does_the_same(tmp_path: Path) -> None:
    if not shutil.which("tar"):
        pytest.skip("GNU tar not installed")
    arc = _archive(tmp_path)
    target, outside = _target(tmp_path, "g")
    subprocess.run(["tar", "-xf", str(arc), "-C", str(target)], check=True, timeout=60)
    _check(target, outside)
