"""Hostile archives: each refused with an error naming the member, nothing written outside."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from chute.errors import ChuteError, LimitExceededError, TruncatedStreamError, UnsafeArchiveError
from chute.tar.extract import extract
from chute.tar.safety import Limits


def _info(name: str, type: bytes = tarfile.REGTYPE, linkname: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.linkname = linkname
    ti.mode = mode
    return ti


def build(*members: tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for m in members:
            if isinstance(m, tuple):
                ti, data = m
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(m)
    return buf.getvalue()


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Path]:
    """(target, outside): outside holds a file that must never change."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_bytes(b"precious")
    target = tmp_path / "target"
    target.mkdir()
    return target, outside


def _outside_state(outside: Path) -> list[tuple[str, bytes]]:
    return sorted((p.name, p.read_bytes() if p.is_file() else b"") for p in outside.iterdir())


def refused(box: tuple[Path, Path], data: bytes, member: str, exc: type[Exception] = UnsafeArchiveError) -> str:
    target, outside = box
    before = _outside_state(outside)
    with pytest.raises(exc) as info:
        extract(io.BytesIO(data), target)
    assert member in str(info.value)
    assert _outside_state(outside) == before
    assert not list(target.parent.glob("*.part")) and not list(target.rglob(".chute-*"))
    return str(info.value)


ESC = "../outside/victim"

CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "absolute path": (lambda: build((_info("/tmp/chute-abs-test"), b"x")), "/tmp/chute-abs-test"),
    "CVE-2007-4559 dotdot": (lambda: build((_info(ESC), b"pwned")), ESC),
    "dotdot in the middle": (lambda: build((_info("a/../../outside/victim"), b"pwned")), "a/../../outside"),
    "absolute symlink": (lambda: build(_info("abs", tarfile.SYMTYPE, "/etc/passwd")), "abs"),
    "symlink escaping": (lambda: build(_info("up", tarfile.SYMTYPE, "../outside")), "up"),
    "symlink then file through it": (
        lambda: build(_info("sub", tarfile.DIRTYPE), _info("sub/l", tarfile.SYMTYPE, "."), (_info("sub/l/f"), b"x")),
        "sub/l/f",
    ),
    "hardlink outside": (lambda: build(_info("h", tarfile.LNKTYPE, ESC)), "h"),
    "hardlink absolute": (lambda: build(_info("h", tarfile.LNKTYPE, "/etc/passwd")), "h"),
    "symlink dotdot through symlink (CVE-2025-4517 shape)": (
        lambda: build(
            _info("d", tarfile.DIRTYPE),
            _info("d/l", tarfile.SYMTYPE, ".."),
            _info("m", tarfile.SYMTYPE, "d/l/../outside"),
        ),
        "m",
    ),
    "dangling symlink then dotdot": (
        lambda: build(_info("m", tarfile.SYMTYPE, "later/../x"), _info("later", tarfile.SYMTYPE, ".")),
        "m",
    ),
    "char device": (lambda: build(_info("dev", tarfile.CHRTYPE)), "dev"),
    "block device": (lambda: build(_info("blk", tarfile.BLKTYPE)), "blk"),
    "fifo": (lambda: build(_info("fifo", tarfile.FIFOTYPE)), "fifo"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused(box: tuple[Path, Path], case: str) -> None:
    make, member = CASES[case]
    refused(box, make(), member)


def test_cve_2025_4517_long_chain(box: tuple[Path, Path]) -> None:
    """The PATH_MAX trick: nested long dirs and symlinks, then a link climbing through them."""
    comp = "d" * 200
    steps = "abcdefghijklmnop"
    members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = []
    path = ""
    for s in steps:
        members.append(_info(os.path.join(path, comp), tarfile.DIRTYPE))
        members.append(_info(os.path.join(path, s), tarfile.SYMTYPE, comp))
        path = os.path.join(path, comp)
    linkpath = os.path.join(*steps, "l" * 200)
    members.append(_info(linkpath, tarfile.SYMTYPE, "../" * len(steps)))
    members.append(_info("escape", tarfile.SYMTYPE, linkpath + "/.." * 17 + "/outside"))
    members.append((_info("escape/victim"), b"pwned"))
    target, outside = box
    with pytest.raises(ChuteError) as info:
        extract(io.BytesIO(build(*members)), target, limits=Limits(max_name_length=None))
    assert "escape" in str(info.value) or "l" * 200 in str(info.value)
    assert (outside / "victim").read_bytes() == b"precious"


def test_existing_symlink_in_target_not_followed(box: tuple[Path, Path]) -> None:
    target, outside = box
    (target / "evil").symlink_to(outside)
    refused(box, build((_info("evil/victim"), b"pwned")), "evil/victim")


def test_existing_symlink_replaced_not_written_through(box: tuple[Path, Path]) -> None:
    target, outside = box
    (target / "victim").symlink_to(outside / "victim")
    extract(io.BytesIO(build((_info("victim"), b"new"))), target)
    assert (outside / "victim").read_bytes() == b"precious"
    assert (target / "victim").read_bytes() == b"new" and not (target / "victim").is_symlink()


def test_hardlink_to_existing_symlink_refused(box: tuple[Path, Path]) -> None:
    target, outside = box
    (target / "s").symlink_to(outside / "victim")
    refused(box, build(_info("h", tarfile.LNKTYPE, "s")), "h")


def test_hardlink_then_overwrite_does_not_touch_the_first(box: tuple[Path, Path]) -> None:
    target, _ = box
    extract(io.BytesIO(build((_info("f"), b"one"), _info("h", tarfile.LNKTYPE, "f"), (_info("h"), b"two"))), target)
    assert (target / "f").read_bytes() == b"one" and (target / "h").read_bytes() == b"two"


def test_modes_stripped(box: tuple[Path, Path]) -> None:
    target, _ = box
    extract(io.BytesIO(build((_info("s", mode=0o7777), b"x"), _info("d", tarfile.DIRTYPE, mode=0o3777))), target)
    assert stat.S_IMODE(os.stat(target / "s").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(target / "d").st_mode) == 0o755


@pytest.mark.parametrize(
    ("limits", "member"),
    [
        (Limits(max_members=2), "c"),
        (Limits(max_total_size=5), "b"),
        (Limits(max_name_length=1), "ab"),
    ],
)
def test_limits(box: tuple[Path, Path], limits: Limits, member: str) -> None:
    target, _ = box
    data = build((_info("a"), b"123"), (_info("b"), b"456"), (_info("c"), b""), (_info("ab"), b""))
    if limits.max_name_length == 1:
        data = build((_info("ab"), b""))
    with pytest.raises(LimitExceededError, match=member):
        extract(io.BytesIO(data), target, limits=limits)


def test_truncated_member_leaves_no_partial_file(box: tuple[Path, Path]) -> None:
    target, _ = box
    data = build((_info("ok"), b"fine"), (_info("big"), os.urandom(100_000)))
    with pytest.raises(TruncatedStreamError, match="big"):
        extract(io.BytesIO(data[:60_000]), target)
    assert sorted(p.name for p in target.iterdir()) == ["ok"]


def test_trust_lifts_the_checks(box: tuple[Path, Path]) -> None:
    target, _ = box
    extract(
        io.BytesIO(build(_info("up", tarfile.SYMTYPE, "../outside"), (_info("x", mode=0o4755), b"x"))),
        target,
        trust=True,
    )
    assert os.readlink(target / "up") == "../outside"
    assert stat.S_IMODE(os.stat(target / "x").st_mode) == 0o4755


def test_cli_error_is_one_line(box: tuple[Path, Path], tmp_path: Path) -> None:
    import subprocess
    import sys

    target, outside = box
    archive = tmp_path / "evil.tar"
    archive.write_bytes(build((_info(ESC), b"pwned")))
    r = subprocess.run(
        [sys.executable, "-m", "chute", "unpack", str(archive), "-C", str(target)], capture_output=True, text=True
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and ESC in r.stderr and "Traceback" not in r.stderr
    assert (outside / "victim").read_bytes() == b"precious"
