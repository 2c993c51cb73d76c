"""``chute pack`` / ``unpack`` / ``ls`` end to end, through pipes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]


def chute(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, *args], capture_output=True, **kw)  # type: ignore[call-overload,no-any-return]


def _tree(root: Path) -> dict[str, tuple[str, int, bytes | str, int]]:
    out: dict[str, tuple[str, int, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("l", 0, os.readlink(p), 0)
            elif os.path.isdir(p):
                out[rel] = ("d", st.st_mode & 0o755, b"", 0)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("f", st.st_mode & 0o755, hashlib.file_digest(f, "sha1").digest(), st.st_mtime_ns)
    return out


@pytest.mark.slow
def test_stdlib_round_trip_through_a_pipe(tmp_path: Path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out = tmp_path / "out"
    pack = subprocess.Popen(
        [*CHUTE, "pack", "-C", str(stdlib.parent), stdlib.name, "--exclude", "site-packages", "-o", "-", "-1", "-T0"],
        stdout=subprocess.PIPE,
    )
    assert pack.stdout is not None
    with pack.stdout:
        unpack = subprocess.run([*CHUTE, "unpack", "-", "-C", str(out)], stdin=pack.stdout)
    assert pack.wait() == 0 and unpack.returncode == 0
    expected = {k: v for k, v in _tree(stdlib).items() if not k.startswith("site-packages")}
    assert _tree(out / stdlib.name) == expected


def test_stdin_member_ls_and_strip(tmp_path: Path) -> None:
    (tmp_path / "src" / "a").mkdir(parents=True)
    (tmp_path / "src" / "a" / "f.txt").write_bytes(b"data")
    (tmp_path / "src" / "a" / "skip.log").write_bytes(b"no")
    archive = tmp_path / "x.tar.gz"
    r = chute(
        "pack",
        "-C",
        str(tmp_path / "src"),
        "a",
        "-",
        "--stdin-name",
        "in/put",
        "--exclude",
        "*.log",
        "-o",
        str(archive),
        input=b"from stdin" * 100_000,
    )
    assert r.returncode == 0, r.stderr
    ls = chute("ls", str(archive))
    assert ls.stdout.decode().split() == ["a/", "a/f.txt", "in/put"]
    long = chute("ls", "-l", str(archive)).stdout.decode().splitlines()
    assert long[2].startswith("-rw-r--r--") and " 1000000 " in long[2]
    r = chute("unpack", str(archive), "-C", str(tmp_path / "o"), "--strip-components", "1")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "f.txt").read_bytes() == b"data"
    assert (tmp_path / "o" / "put").read_bytes() == b"from stdin" * 100_000


def test_existing_output_untouched_and_failed_pack_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    out = tmp_path / "a.tar.zst"
    out.write_bytes(b"old")
    r = chute("pack", str(tmp_path / "f"), "-o", str(out))
    assert r.returncode == 1 and b"exists" in r.stderr and out.read_bytes() == b"old"
    missing = tmp_path / "b.tar.zst"
    r = chute("pack", str(tmp_path / "f"), str(tmp_path / "nope"), "-o", str(missing))
    assert r.returncode == 1 and b"nope" in r.stderr and b"Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.zst", "f"]


def test_spool_to_disk_for_unknown_size(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    archive = tmp_path / "s.tar"
    r = chute("pack", "-", "--spool-limit", "64K", "-o", str(archive), input=data)
    assert r.returncode == 0, r.stderr
    got = subprocess.run(["tar", "-xOf", str(archive), "stdin"], capture_output=True, check=True).stdout
    assert got == data


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs mounted for the test (needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    except FileNotFoundError:
        pytest.skip("no mount command")
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("to", ["file", "stdout"])
@pytest.mark.parametrize("fmt", [["-F", "none"], ["-F", "zstd", "-T2"], ["-F", "gzip"]])
def test_pack_to_a_full_disk_names_the_archive(
    tmp_path: Path, small_disk: Path, fmt: list[str], to: str, unbuffered: bool
) -> None:
    # Random data does not compress: every format writes more than the disk holds, in a
    # write larger than any buffer (the zstd -T2 archive in one write at the end).
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "random").write_bytes(os.urandom(1 << 20))
    (tmp_path / "src" / "small.txt").write_bytes(b"small\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    archive = small_disk / "a.tar"
    cmd = ["pack", *fmt, "-C", str(tmp_path), "src", "-o"]
    if to == "file":
        r = chute(*cmd, str(archive), env=env)
        name = str(archive)
    else:
        with open(archive, "wb") as out:
            r = subprocess.run([*CHUTE, *cmd, "-"], stdout=out, stderr=subprocess.PIPE, env=env)
        name = "stdout"  # as gzip names it
    assert r.returncode == 1
    assert r.stderr.decode() == f"chute: {name}: no space left on device\n"
    assert [p.name for p in small_disk.iterdir()] == ([] if to == "file" else ["a.tar"])
