"""``chute unpack --strict`` stops at the first member the system refuses to write: one
line naming the archive and the member (its whole path, not the name of the file the
system was given: the last part, or a temporary name), exit status 1, no traceback. Run
as root, the refusal is made by a stand-in ``os.open`` (permission denied for one file)."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

# chute's command line with os.open refusing to create the file named argv[1] ("tmp": any
# temporary file of chute's), as a folder without write permission would
RUN_REFUSING = """
import errno, os, sys
real_open, refused = os.open, sys.argv[1]
def fake_open(path, flags, mode=0o777, *, dir_fd=None):
    if flags & os.O_CREAT and (path == refused or (refused == "tmp" and str(path).startswith(".chute-"))):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    return real_open(path, flags, mode, dir_fd=dir_fd)
os.open = fake_open
from chute.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _archive(path: Path, files: int, large: bool = False) -> None:
    """``files`` small files, after one of 3 MiB (``big/f100``, which the main thread
    writes itself, not the writer thread) if ``large``."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        if large:
            ti = tarfile.TarInfo("big/f100")
            ti.size = 3 << 20
            tf.addfile(ti, io.BytesIO(b"L" * ti.size))
        for i in range(files):
            ti = tarfile.TarInfo(f"d{i % 7}/f{i}")
            ti.size = i % 3000 + 1
            tf.addfile(ti, io.BytesIO(b"x" * ti.size))


@pytest.mark.parametrize("refused", ["f100", "tmp"], ids=["own-name", "temporary-name"])
@pytest.mark.parametrize("large", [False, True], ids=["small", "over-1-MiB"])
def test_strict_permission_denied_names_the_member(tmp_path: Path, refused: str, large: bool) -> None:
    arc = tmp_path / "a.tar"
    _archive(arc, 300, large)
    out = tmp_path / "out"
    if refused == "tmp":  # a target that holds a file: every file is made under a temporary name
        out.mkdir()
        (out / "old").touch()
    r = subprocess.run(
        [sys.executable, "-c", RUN_REFUSING, refused, "unpack", "--strict", str(arc), "-C", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    member = "big/f100" if large else "d0/f0" if refused == "tmp" else "d2/f100"
    assert r.stderr == f"chute: {arc}: {member}: permission denied\n"
    assert not list(out.rglob(".chute-*"))


def test_without_strict_the_member_is_skipped(tmp_path: Path) -> None:
    arc = tmp_path / "a.tar"
    _archive(arc, 300)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-c", RUN_REFUSING, "f100", "unpack", str(arc), "-C", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and r.stderr == f"chute: {arc}: d2/f100: permission denied; skipped\n"
    assert len(list(out.rglob("f*"))) == 299
