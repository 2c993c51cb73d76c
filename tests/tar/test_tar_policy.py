"""The extraction policy from the command line: symlinks restored as they are (as GNU tar
and bsdtar do), refusals skipped with one line and exit status 2, ``--strict``,
``--policy data``, and errors that name the archive."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from chute.tar.extract import extract

CHUTE = [sys.executable, "-m", "chute"]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required in CI")
        pytest.skip(f"{tool} not installed")


def _chute(*args: object, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHUTE, *map(str, args)],
        input=None if stdin is None else stdin.decode("latin-1"),
        capture_output=True,
        text=True,
        encoding="latin-1",
    )


def _links(root: Path) -> dict[str, str]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(folder, name)
            if os.path.islink(p):
                out[os.path.relpath(p, root)] = os.readlink(p)
    return out


def _alternatives(root: Path) -> Path:
    """A tree shaped like /etc/alternatives: absolute symlinks (some dangling), links up
    and out of the tree, a link to a folder, and a few plain files."""
    root.mkdir()
    for i in range(120):
        (root / f"alt{i}").symlink_to(f"/usr/bin/tool-{i}")
    (root / "python").symlink_to("/usr/bin/python3")
    (root / "man").mkdir()
    for i in range(30):
        (root / "man" / f"page{i}.1.gz").symlink_to(f"/usr/share/man/man1/page{i}.1.gz")
    (root / "man" / "up").symlink_to("../../elsewhere")
    (root / "dir").symlink_to("/etc")
    (root / "README").write_text("alternatives\n")
    (root / "rel").symlink_to("README")
    return root


def test_a_tree_of_absolute_symlinks_round_trips(tmp_path: Path) -> None:
    """``chute pack DIR -o a.tar.zst && chute unpack a.tar.zst -C out`` restores every link
    as it was, exit status 0, and GNU tar extracts the same tree from the archive."""
    src = _alternatives(tmp_path / "alternatives")
    archive = tmp_path / "a.tar.zst"
    r = _chute("pack", "-C", tmp_path, "alternatives", "-o", archive)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = _chute("unpack", archive, "-C", out)
    assert (r.returncode, r.stderr) == (0, "")
    want = {f"alternatives/{k}": v for k, v in _links(src).items()}
    assert _links(out) == want and len(want) == 154
    assert (out / "alternatives" / "README").read_text() == "alternatives\n"
    _need("tar")
    _need("zstd")
    gnu = tmp_path / "gnu"
    gnu.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", archive, "-C", gnu], check=True)
    assert _links(gnu) == _links(out)
    # the data policy refuses the links that leave the target, one line each, and goes on
    r = _chute("unpack", archive, "-C", tmp_path / "data", "--policy", "data")
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and len(lines) == 152 and all(line.endswith("; skipped") for line in lines)
    assert _links(tmp_path / "data") == {"alternatives/rel": "README", "alternatives/man/up": "../../elsewhere"}


def _build(*members: tuple[str, bytes, bytes | str]) -> bytes:
    """Members ``(name, type, data or link target)``; PAX, so any name fits."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, body in members:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            if isinstance(body, str):
                ti.linkname = body
                tf.addfile(ti)
            else:
                ti.size = len(body)
                tf.addfile(ti, io.BytesIO(body))
    return buf.getvalue()


def test_refusals_are_skipped_with_a_line_each_then_exit_2(tmp_path: Path) -> None:
    data = _build(
        ("ok1", tarfile.REGTYPE, b"1"),
        ("../escape", tarfile.REGTYPE, b"x"),
        ("fifo", tarfile.FIFOTYPE, b""),
        ("up", tarfile.SYMTYPE, ".."),
        ("up/through", tarfile.REGTYPE, b"x"),
        ("ok2", tarfile.REGTYPE, b"2"),
    )
    archive = tmp_path / "a.tar"
    archive.write_bytes(data)
    out = tmp_path / "out"
    r = _chute("unpack", archive, "-C", out)
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and len(lines) == 3
    for line, member in zip(lines, ["../escape", "fifo", "up/through"], strict=True):
        assert line.startswith(f"chute: {archive}: {member}: ") and line.endswith("; skipped")
    assert sorted(os.listdir(out)) == ["ok1", "ok2", "up"] and os.readlink(out / "up") == ".."
    assert not (tmp_path / "escape").exists() and not (tmp_path / "through").exists()
    # --strict: the first refusal stops it, exit status 1
    r = _chute("unpack", archive, "-C", tmp_path / "strict", "--strict")
    assert r.returncode == 1 and r.stderr == f"chute: {archive}: ../escape: path with '..' refused\n"
    assert os.listdir(tmp_path / "strict") == ["ok1"]
    # the same from a pipe
    r = _chute("unpack", "-", "-C", tmp_path / "pipe", stdin=data)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 3
    assert r.stderr.startswith("chute: -: ../escape: ")


@pytest.mark.parametrize("trust", [False, True])
def test_nul_in_a_name_is_one_line_and_leaves_nothing(tmp_path: Path, trust: bool) -> None:
    """Whatever the policy, a pax name with NUL is a malformed header (as Go's archive/tar
    reads it; GNU tar and bsdtar cut the name there, so tools would disagree on where the
    file lands): one line naming the archive, no traceback, no temp file; what came before
    it is extracted."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        members = (("ok", tarfile.REGTYPE, 1), ("a\0b", tarfile.REGTYPE, 5000), ("l\0", tarfile.SYMTYPE, 0))
        for name, kind, size in members:
            ti = tarfile.TarInfo("placeholder")
            ti.type, ti.size, ti.linkname = kind, size, "t" if kind == tarfile.SYMTYPE else ""
            ti.pax_headers = {"path": name}  # a PAX path keeps the NUL
            tf.addfile(ti, io.BytesIO(b"x" * size))
    data = buf.getvalue()
    archive = tmp_path / "a.tar"
    archive.write_bytes(data)
    out = tmp_path / "out"
    r = _chute("unpack", archive, "-C", out, *["--trust"] * trust)
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"chute: {archive}: ") and "NUL in the value of 'path'" in lines[0]
    assert os.listdir(out) == ["ok"]


def test_members_with_no_name(tmp_path: Path) -> None:
    """A file named ``.`` or with an empty name: skipped with a line, exit 2 (GNU tar and
    bsdtar fail them too); the folder ``./`` that ``tar -C DIR -cf - .`` writes is the
    target itself: quietly nothing to do."""
    dot = _build(("./", tarfile.DIRTYPE, b""), ("./f", tarfile.REGTYPE, b"x"))
    warnings: list[str] = []
    stats = extract(io.BytesIO(dot), tmp_path / "dot", warn=warnings.append)
    assert (stats.refused, warnings, os.listdir(tmp_path / "dot")) == (0, [], ["f"])
    for name in (".", ""):
        block = bytearray(_build(("x", tarfile.REGTYPE, b"data"), ("y", tarfile.REGTYPE, b"")))
        block[0:100] = name.encode().ljust(100, b"\0")  # rename the first member
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block[:512])
        archive = tmp_path / f"noname{len(name)}.tar"
        archive.write_bytes(bytes(block))
        r = _chute("unpack", archive, "-C", tmp_path / f"o{len(name)}")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "the name is empty or '.'; not extracted; skipped" in r.stderr
        assert os.listdir(tmp_path / f"o{len(name)}") == ["y"]


@pytest.mark.parametrize("command", ["ls", "unpack"])
def test_empty_archives(tmp_path: Path, command: str) -> None:
    """0 bytes, compressed or not: an error naming the archive (GNU tar: "This does not look
    like a tar archive", Python's tarfile: "empty file"); only zero blocks: an empty archive."""
    _need("zstd")
    plain = tmp_path / "empty.tar"
    plain.write_bytes(b"")
    zst = tmp_path / "empty.tar.zst"
    subprocess.run(["zstd", "-q", "-o", zst, plain], check=True)
    nothing = tmp_path / "nothing.tar.zst"
    nothing.write_bytes(b"")
    extra = ["-C", tmp_path / "out"] if command == "unpack" else []
    for archive in (plain, zst, nothing):
        r = _chute(command, archive, *extra)
        assert r.returncode == 1 and r.stderr.startswith(f"chute: {archive}: ") and r.stderr.count("\n") == 1
    zeros = tmp_path / "zeros.tar"
    zeros.write_bytes(bytes(10240))
    r = _chute(command, zeros, *extra)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_full_disk_names_the_archive_and_member(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        archive = tmp_path / "big.tar"
        big = os.urandom(2 << 20)
        archive.write_bytes(_build(("a", tarfile.REGTYPE, b"a" * 300_000), ("big", tarfile.REGTYPE, big)))
        r = _chute("unpack", archive, "-C", small)
        assert r.returncode == 1 and r.stderr == f"chute: {archive}: big: no space left on device\n"
        assert os.listdir(small) == ["a"]  # no partial file, no temp file
    finally:
        subprocess.run(["umount", small], check=True)


@pytest.mark.parametrize("how", [{"trust": True}, {"policy": "trust"}])
def test_trust_by_either_name_follows_links_as_asked(tmp_path: Path, how: dict[str, object]) -> None:
    """``--trust`` keeps its meaning, whichever way it is asked for: no check, and paths
    through symlinks already in the target are followed (a trusted archive may rely on it)."""
    target = tmp_path / "t"
    (target / "real").mkdir(parents=True)
    (target / "link").symlink_to("real")
    data = _build(("link/f", tarfile.REGTYPE, b"x"), ("dev", tarfile.FIFOTYPE, b""))
    stats = extract(io.BytesIO(data), target, **how)  # type: ignore[arg-type]
    assert (target / "real" / "f").read_bytes() == b"x" and stats.refused == 0
    assert (target / "dev").is_fifo()
