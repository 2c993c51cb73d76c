"""Hostile archives: each refused with an error naming the member, nothing written outside."""

from __future__ import annotations

import io
import os
import shutil
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


def _no_temp_files(target: Path) -> None:
    assert not list(target.parent.glob("*.part")) and not list(target.rglob(".chute-*"))


def refused(
    box: tuple[Path, Path],
    data: bytes,
    member: str,
    exc: type[Exception] = UnsafeArchiveError,
    policy: str = "default",
    prepare: Callable[[Path], object] = lambda target: None,
) -> str:
    """``member`` is refused under ``policy``: with ``strict``, the extraction stops there
    with an error naming it; without, it is skipped with one warning line naming it and
    the rest goes on. Either way nothing outside the target changes, no temp file is left.
    ``prepare(target)`` sets the target up before each run."""
    target, outside = box
    before = _outside_state(outside)
    shutil.rmtree(target)
    target.mkdir()
    prepare(target)
    with pytest.raises(exc) as info:
        extract(io.BytesIO(data), target, policy=policy, strict=True)
    assert member in str(info.value)
    assert _outside_state(outside) == before
    _no_temp_files(target)
    shutil.rmtree(target)
    target.mkdir()
    prepare(target)
    warnings: list[str] = []
    stats = extract(io.BytesIO(data), target, policy=policy, warn=warnings.append)
    assert stats.refused == len(warnings) >= 1 and stats.failed == 0
    assert any(member in w and w.endswith("; skipped") for w in warnings), warnings
    assert all("\n" not in w for w in warnings)
    assert _outside_state(outside) == before
    _no_temp_files(target)
    return str(info.value)


ESC = "../outside/victim"

# name -> (archive, member refused by the default policy, member refused by the data policy)
CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "CVE-2007-4559 dotdot": (lambda: build((_info(ESC), b"pwned")), ESC, ESC),
    "dotdot in the middle": (lambda: build((_info("a/../../outside/victim"), b"pwned")), "a/../../outside", "a/../"),
    "absolute symlink, then a file through it": (
        lambda: build(_info("abs", tarfile.SYMTYPE, "/etc"), (_info("abs/passwd"), b"pwned")),
        "abs/passwd",
        "abs",
    ),
    "symlink escaping, then a file through it": (
        lambda: build(_info("up", tarfile.SYMTYPE, "../outside"), (_info("up/victim"), b"pwned")),
        "up/victim",
        "up",
    ),
    "symlink then file through it": (
        lambda: build(_info("sub", tarfile.DIRTYPE), _info("sub/l", tarfile.SYMTYPE, "."), (_info("sub/l/f"), b"x")),
        "sub/l/f",
        "sub/l/f",
    ),
    "symlink then folder through it": (
        lambda: build(_info("up", tarfile.SYMTYPE, "../outside"), _info("up/new", tarfile.DIRTYPE)),
        "up/new",
        "up",
    ),
    "hardlink outside": (lambda: build(_info("h", tarfile.LNKTYPE, ESC)), "h", "h"),
    "hardlink absolute": (lambda: build(_info("h", tarfile.LNKTYPE, "/etc/passwd")), "h", "h"),
    "hardlink through an archive symlink": (
        lambda: build(_info("l", tarfile.SYMTYPE, "../outside"), _info("h", tarfile.LNKTYPE, "l/victim")),
        "h",
        "l",
    ),
    "symlink dotdot through symlink (CVE-2025-4517 shape)": (
        lambda: build(
            _info("d", tarfile.DIRTYPE),
            _info("d/l", tarfile.SYMTYPE, ".."),
            _info("m", tarfile.SYMTYPE, "d/l/../outside"),
            (_info("m/victim"), b"pwned"),
        ),
        "m/victim",
        "m",
    ),
    "dangling symlink then dotdot": (
        lambda: build(
            _info("m", tarfile.SYMTYPE, "later/../x"), _info("later", tarfile.SYMTYPE, "."), (_info("m/f"), b"x")
        ),
        "m/f",
        "m",
    ),
    "char device": (lambda: build(_info("dev", tarfile.CHRTYPE)), "dev", "dev"),
    "block device": (lambda: build(_info("blk", tarfile.BLKTYPE)), "blk", "blk"),
    "fifo": (lambda: build(_info("fifo", tarfile.FIFOTYPE)), "fifo", "fifo"),
}


@pytest.mark.parametrize("policy", ["default", "data"])
@pytest.mark.parametrize("case", list(CASES))
def test_refused(box: tuple[Path, Path], case: str, policy: str) -> None:
    make, default_refuses, data_refuses = CASES[case]
    refused(box, make(), default_refuses if policy == "default" else data_refuses, policy=policy)


@pytest.mark.parametrize(("name", "link"), [("abs", "/etc/passwd"), ("up", "../outside"), ("d/x", "../../outside/v")])
def test_symlinks_are_data_under_the_default_policy(box: tuple[Path, Path], name: str, link: str) -> None:
    """Restored as they are, exit status 0, as GNU tar and bsdtar do; refused by ``data``."""
    target, _ = box
    warnings: list[str] = []
    stats = extract(io.BytesIO(build(_info(name, tarfile.SYMTYPE, link))), target, warn=warnings.append)
    assert os.readlink(target / name) == link and (stats.refused, warnings) == (0, [])
    refused(box, build(_info(name, tarfile.SYMTYPE, link)), name, policy="data")


def test_absolute_names_land_inside_the_target(box: tuple[Path, Path]) -> None:
    target, outside = box
    warnings: list[str] = []
    data = build((_info(str(outside / "victim")), b"pwned"), (_info(str(outside / "new")), b"x"))
    stats = extract(io.BytesIO(data), target, warn=warnings.append)
    assert (target / str(outside / "victim").lstrip("/")).read_bytes() == b"pwned"
    assert (outside / "victim").read_bytes() == b"precious" and not (outside / "new").exists()
    assert warnings == ["removing leading '/' from member names"] and stats.refused == 0


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
    warnings: list[str] = []
    lim = Limits(max_name_length=None)
    stats = extract(io.BytesIO(build(*members)), target, limits=lim, warn=warnings.append)
    # the links are data, restored, but nothing is written through one: the link made
    # through the symlink "a", and the file through "escape", are skipped
    assert stats.refused == 2 and warnings[1].startswith("escape/victim: 'escape' in the target is a symlink")
    assert (outside / "victim").read_bytes() == b"precious"
    shutil.rmtree(target)
    with pytest.raises(ChuteError) as info:
        extract(io.BytesIO(build(*members)), target, limits=lim, policy="data", strict=True)
    assert "escape" in str(info.value) or "l" * 200 in str(info.value)
    assert (outside / "victim").read_bytes() == b"precious"


@pytest.mark.parametrize("policy", ["default", "data"])
@pytest.mark.parametrize("member", ["evil/victim", "evil/new", "evil/sub/new"])
def test_existing_symlink_in_target_not_followed(box: tuple[Path, Path], member: str, policy: str) -> None:
    _, outside = box
    link = lambda t: (t / "evil").symlink_to(outside)  # noqa: E731
    refused(box, build((_info(member), b"pwned")), member, prepare=link, policy=policy)
    refused(box, build(_info(member, tarfile.DIRTYPE)), member, prepare=link, policy=policy)
    refused(box, build(_info(member, tarfile.SYMTYPE, "x")), member, prepare=link, policy=policy)
    refused(box, build((_info("f"), b"x"), _info(member, tarfile.LNKTYPE, "f")), member, prepare=link, policy=policy)


def test_existing_symlink_replaced_not_written_through(box: tuple[Path, Path]) -> None:
    target, outside = box
    (target / "victim").symlink_to(outside / "victim")
    extract(io.BytesIO(build((_info("victim"), b"new"))), target)
    assert (outside / "victim").read_bytes() == b"precious"
    assert (target / "victim").read_bytes() == b"new" and not (target / "victim").is_symlink()


def test_hardlink_to_existing_symlink(box: tuple[Path, Path]) -> None:
    """The default policy makes it (one more name for the same symlink, written through by
    nothing); the data policy refuses it."""
    target, outside = box
    (target / "s").symlink_to(outside / "victim")
    extract(io.BytesIO(build(_info("h", tarfile.LNKTYPE, "s"))), target)
    assert os.readlink(target / "h") == str(outside / "victim")
    assert os.lstat(target / "h").st_ino == os.lstat(target / "s").st_ino
    assert (outside / "victim").read_bytes() == b"precious"
    link = lambda t: (t / "s").symlink_to(outside / "victim")  # noqa: E731
    refused(box, build(_info("h", tarfile.LNKTYPE, "s")), "h", policy="data", prepare=link)


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
        extract(io.BytesIO(data), target, limits=limits, strict=True)


def test_limits_skip_or_stop(box: tuple[Path, Path]) -> None:
    """Over the total size, a member is skipped and smaller ones after it still fit; over
    the member count, the extraction stops (reading on is what the limit guards against)."""
    target, _ = box
    data = build((_info("a"), b"123"), (_info("b"), b"4567"), (_info("c"), b"89"), (_info("d"), b""))
    warnings: list[str] = []
    stats = extract(io.BytesIO(data), target, limits=Limits(max_total_size=5), warn=warnings.append)
    assert sorted(p.name for p in target.iterdir()) == ["a", "c", "d"] and stats.refused == 1
    assert len(warnings) == 1 and warnings[0].startswith("b: ")
    with pytest.raises(LimitExceededError, match="c: more than 2 members"):
        extract(io.BytesIO(data), target / "n", limits=Limits(max_members=2))


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
    archive.write_bytes(build((_info(ESC), b"pwned"), (_info("ok"), b"fine")))
    for strict, status in ((False, 2), (True, 1)):
        r = subprocess.run(
            [sys.executable, "-m", "chute", "unpack", str(archive), "-C", str(target), *["--strict"] * strict],
            capture_output=True,
            text=True,
        )
        assert r.returncode == status
        assert r.stderr.count("\n") == 1 and ESC in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.startswith(f"chute: {archive}: {ESC}: ")
        assert (outside / "victim").read_bytes() == b"precious"
        assert (target / "ok").exists() == (not strict)
        shutil.rmtree(target)
