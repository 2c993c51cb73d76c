"""The tar invocations people type, run through GNU tar and through chute on the same
archive: the same members extracted or listed, the same output, both failing or neither."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]
ENV = {**os.environ, "TZ": "UTC", "LC_ALL": "C.UTF-8"}


def _need_tar() -> None:
    if (
        shutil.which("tar") is None
        or b"GNU tar" not in subprocess.run(["tar", "--version"], capture_output=True).stdout
    ):
        pytest.skip("GNU tar is not installed")


def run(*cmd: str, cwd: Path | None = None, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(cmd), capture_output=True, cwd=cwd, env=ENV, input=input)


def chute(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return run(*CHUTE, *args, **kw)  # type: ignore[arg-type]


def tree(root: Path) -> dict[str, tuple[str, bytes | str]]:
    out: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("l", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("d", b"")
            else:
                out[rel] = ("f", hashlib.sha1(Path(p).read_bytes()).digest())
    return out


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An archive GNU tar wrote: folders, files at several depths, a symlink, a hard link,
    names with spaces and glob characters, one owner name long enough to widen -tv's column."""
    _need_tar()
    src = tmp_path / "src"
    (src / "d" / "e").mkdir(parents=True)
    (src / "doc").mkdir()
    (src / "a.txt").write_bytes(b"a" * 100)
    (src / "d" / "b.txt").write_bytes(b"b")
    (src / "d" / "e" / "c.md").write_bytes(b"c" * 5000)
    (src / "doc" / "x y.md").write_bytes(b"spaces")
    (src / "doc" / "[k].txt").write_bytes(b"brackets")
    (src / "big.bin").write_bytes(os.urandom(123_456_789 % 10_000_000))
    os.symlink("a.txt", src / "link")
    os.link(src / "a.txt", src / "hard")
    for p in [src, *src.rglob("*")]:
        if not p.is_symlink():
            os.utime(p, (1_700_000_000, 1_700_000_000))
    out = tmp_path / "t.tar"
    r = run(
        "tar",
        "--sort=name",
        "--owner=a-rather-long-user-name:1234",
        "--group=staff:50",
        "-cf",
        str(out),
        "src",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    return out


SELECTIONS = [
    ["src/d"],
    ["src/d/"],
    ["src/a.txt", "src/doc"],
    ["src/doc/x y.md"],
    ["src/nope"],
    ["src/d", "src/nope"],
    ["src/d/*.txt"],  # literal without --wildcards: not found
    ["--wildcards", "src/d/*.txt"],
    ["--wildcards", "*.md"],
    ["--wildcards", "src/d*"],
    ["--wildcards", "src/doc/[[]k].txt"],
    ["--no-wildcards", "src/doc/[k].txt"],
    ["--exclude", "e"],
    ["--exclude", "*.md"],
    ["--exclude", "d/*.txt"],
    ["--exclude", "src/d", "src"],
    ["--exclude", "d", "src/d"],  # found, though all excluded: no error
    ["--exclude", "doc", "--wildcards", "src/*.txt"],
]


@pytest.mark.parametrize("sel", SELECTIONS, ids=lambda s: " ".join(s))
def test_unpack_selects_as_tar_does(archive: Path, tmp_path: Path, sel: list[str]) -> None:
    theirs, ours = tmp_path / "tar", tmp_path / "chute"
    theirs.mkdir()
    ours.mkdir()
    t = run("tar", "-xf", str(archive), "-C", str(theirs), *sel)
    c = chute("unpack", str(archive), "-C", str(ours), *sel)
    assert (c.returncode == 0) == (t.returncode == 0), (t.stderr, c.stderr)
    assert tree(ours) == tree(theirs)
    assert b"Traceback" not in c.stderr
    for name in [s for s in sel if s in ("src/nope", "src/d/*.txt") and "--wildcards" not in sel]:
        assert f"{name}: not found in archive".encode() in c.stderr


@pytest.mark.parametrize("sel", SELECTIONS, ids=lambda s: " ".join(s))
def test_ls_selects_as_tar_does(archive: Path, sel: list[str]) -> None:
    t = run("tar", "-tf", str(archive), *sel)
    c = chute("ls", str(archive), *sel)
    assert (c.returncode == 0) == (t.returncode == 0), (t.stderr, c.stderr)
    assert c.stdout == t.stdout


@pytest.mark.parametrize("extra", [[], ["--numeric-owner"], ["src/d"]])
def test_ls_long_is_tar_tv_byte_for_byte(archive: Path, extra: list[str]) -> None:
    t = run("tar", "-tvf", str(archive), *extra)
    c = chute("ls", "-l", str(archive), *extra)
    assert t.returncode == 0 and c.returncode == 0, c.stderr
    assert c.stdout == t.stdout
    assert b"a-rather-long-user-name/staff" in c.stdout or b"1234/50" in c.stdout


def test_ls_long_of_a_compressed_archive_from_bsdtar(tmp_path: Path) -> None:
    """Owner names absent (numbers shown), a device-free tree, gzip around it."""
    _need_tar()
    if shutil.which("bsdtar") is None:
        pytest.skip("bsdtar is not installed")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "f").write_bytes(b"x" * 3)
    a = tmp_path / "b.tar.gz"
    assert (
        run(
            "bsdtar", "--uid", "77", "--gid", "88", "--uname", "", "--gname", "", "-czf", str(a), "s", cwd=tmp_path
        ).returncode
        == 0
    )
    t = run("tar", "-tvzf", str(a))
    c = chute("ls", "-l", str(a))
    assert c.returncode == 0 and c.stdout == t.stdout


@pytest.mark.parametrize("sel", [["src/a.txt"], ["src/d"], ["--wildcards", "*.md"], []])
def test_to_stdout_is_tar_xO(archive: Path, sel: list[str]) -> None:
    t = run("tar", "-xOf", str(archive), *sel)
    c = chute("unpack", str(archive), "-O", *sel)
    assert t.returncode == 0 and c.returncode == 0, c.stderr
    assert c.stdout == t.stdout


def test_to_stdout_creates_nothing(archive: Path, tmp_path: Path) -> None:
    where = tmp_path / "nothing"
    c = chute("unpack", str(archive), "-O", "-C", str(where), "src/a.txt")
    assert c.returncode == 0 and c.stdout == b"a" * 100 and not where.exists()


def test_verbose_unpack_names_as_tar_xv(archive: Path, tmp_path: Path) -> None:
    (tmp_path / "o1").mkdir()
    t = run("tar", "-xvf", str(archive), "-C", str(tmp_path / "o1"), "src/d", "src/link")
    c = chute("unpack", "-v", str(archive), "-C", str(tmp_path / "o2"), "src/d", "src/link")
    assert c.returncode == 0 and c.stdout == t.stdout and c.stdout
    c = chute("unpack", "-v", "-O", str(archive), "src/d")  # data on stdout: names on stderr
    assert c.stdout == b"b" + b"c" * 5000 and c.stderr == t.stdout.replace(b"src/link\n", b"")


@pytest.mark.parametrize(
    ("flag", "kept"),
    [("--keep-old-files", True), ("-k", True), ("--skip-old-files", True), ("--overwrite", False), (None, False)],
)
def test_old_files_policies_as_tar(archive: Path, tmp_path: Path, flag: str | None, kept: bool) -> None:
    results = {}
    for tool in ("tar", "chute"):
        d = tmp_path / tool / "src"
        (d / "d").mkdir(parents=True)
        (d / "a.txt").write_bytes(b"old")
        flags = [flag] if flag else []
        if tool == "tar":
            r = run("tar", "-xf", str(archive), "-C", str(d.parent), *flags)
        else:
            r = chute("unpack", str(archive), "-C", str(d.parent), *flags)
        assert b"Traceback" not in r.stderr
        results[tool] = (r.returncode == 0, tree(d.parent))
        assert ((d / "a.txt").read_bytes() == b"old") == kept
    assert results["tar"] == results["chute"]
    if flag in ("-k", "--keep-old-files"):
        assert not results["chute"][0]


def test_pack_verbose_is_tar_cv(tmp_path: Path, archive: Path) -> None:
    src = tmp_path / "src"
    t = run("tar", "--sort=name", "--exclude", "e", "-cvf", str(tmp_path / "t2.tar"), "src", cwd=tmp_path)
    c = chute("pack", "-v", "src", "--exclude", "e", "-o", str(tmp_path / "c.tar"), cwd=tmp_path)
    assert c.returncode == 0 and t.returncode == 0
    assert c.stdout == t.stdout and b"src/d/\n" in c.stdout
    c = chute("pack", "-v", "src", "-o", "-", "-F", "none", cwd=tmp_path)  # archive on stdout: names on stderr
    assert c.returncode == 0 and c.stderr.startswith(b"src/\n") and c.stdout[:3] == b"src"
    assert src.exists()


def test_pack_files_from_null(tmp_path: Path, archive: Path) -> None:
    names = b"src/a.txt\0src/doc/x y.md\0src/d\0"
    t = run("tar", "--sort=name", "--null", "-T", "-", "-cf", str(tmp_path / "t2.tar"), cwd=tmp_path, input=names)
    c = chute("pack", "--null", "--files-from", "-", "-o", str(tmp_path / "c.tar"), cwd=tmp_path, input=names)
    assert c.returncode == 0 and t.returncode == 0, c.stderr
    listing = run("tar", "-tf", str(tmp_path / "c.tar")).stdout
    assert listing == run("tar", "-tf", str(tmp_path / "t2.tar")).stdout
    lines = tmp_path / "list"
    lines.write_bytes(names.replace(b"\0", b"\n"))
    c = chute("pack", "--files-from", str(lines), "-o", str(tmp_path / "c2.tar"), cwd=tmp_path)
    assert c.returncode == 0 and run("tar", "-tf", str(tmp_path / "c2.tar")).stdout == listing


def test_unpack_files_from(archive: Path, tmp_path: Path) -> None:
    (tmp_path / "o1").mkdir()
    names = b"src/a.txt\nsrc/d/e\n"
    t = run("tar", "-xf", str(archive), "-C", str(tmp_path / "o1"), "-T", "-", input=names)
    c = chute("unpack", str(archive), "-C", str(tmp_path / "o2"), "-T", "-", input=names)
    assert t.returncode == 0 and c.returncode == 0
    assert tree(tmp_path / "o2") == tree(tmp_path / "o1")


SUFFIXES = {
    ".tar.gz": "gzip",
    ".tgz": "gzip",
    ".tar.zst": "zstd",
    ".tzst": "zstd",
    ".tar.xz": "xz",
    ".txz": "xz",
    ".tar.bz2": "bzip2",
    ".tbz2": "bzip2",
    ".tar.lz4": "lz4",
}


@pytest.mark.parametrize("suffix", [*SUFFIXES, ".tar"])
def test_pack_format_from_suffix(archive: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / ("c" + suffix)
    c = chute("pack", "src", "-o", str(out), cwd=tmp_path)
    assert c.returncode == 0, c.stderr
    if suffix == ".tar":
        data = out.read_bytes()
    else:
        tool = SUFFIXES[suffix]
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
        r = run(tool, "-dc", str(out))
        assert r.returncode == 0, r.stderr
        data = r.stdout
    assert run("tar", "-tf", "-", input=data).stdout.startswith(b"src/\n")


@pytest.mark.parametrize("name", ["d.zip", "d.zst", "d.gz", "d.tar.rar", "d"])
def test_pack_unknown_suffix_is_an_error_unless_F(archive: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    c = chute("pack", "src", "-o", str(out), cwd=tmp_path)
    assert c.returncode == 1 and not out.exists()
    assert c.stderr.startswith(f"chute: {out}: not a tar archive name".encode()) and c.stderr.count(b"\n") == 1
    c = chute("pack", "src", "-o", str(out), "-F", "gzip", cwd=tmp_path)
    assert c.returncode == 0 and out.read_bytes()[:2] == b"\x1f\x8b"


def test_names_between_options(archive: Path, tmp_path: Path) -> None:
    """tar takes options anywhere: ``-xf A NAME -C DIR NAME``."""
    c = chute("unpack", str(archive), "src/a.txt", "-C", str(tmp_path / "o"), "src/d/b.txt")
    assert c.returncode == 0, c.stderr
    assert sorted(tree(tmp_path / "o")) == ["src", "src/a.txt", "src/d", "src/d/b.txt"]


def test_ls_null_output_with_names(archive: Path) -> None:
    """ls's own --null (NUL-ended output) is not the --files-from --null of unpack/pack."""
    c = chute("ls", "--null", str(archive), "src/d")
    assert c.returncode == 0, c.stderr
    assert c.stdout == run("tar", "-tf", str(archive), "src/d").stdout.replace(b"\n", b"\0")


def test_ls_long_devices_fifo_sparse_as_tar_tv(tmp_path: Path) -> None:
    """A device's size column is major,minor; a sparse file's is its full size, which
    widens the column for the lines after it, as in GNU tar. (Devices written by Python's
    tarfile: making one on disk would need root.)"""
    import tarfile

    _need_tar()
    d = tmp_path / "dv"
    d.mkdir()
    os.mkfifo(d / "fifo")
    with open(d / "sparse", "wb") as f:
        f.truncate(5 << 30)
    a = tmp_path / "dv.tar"
    assert run("tar", "--sparse", "--sort=name", "-cf", str(a), "dv", cwd=tmp_path).returncode == 0
    devs = tmp_path / "devs.tar"
    with tarfile.open(devs, "w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, major, minor in (("null", tarfile.CHRTYPE, 1, 3), ("sda", tarfile.BLKTYPE, 8, 0)):
            ti = tarfile.TarInfo(name)
            ti.type, ti.devmajor, ti.devminor, ti.mtime, ti.uname, ti.gname = kind, major, minor, 1e9, "root", "disk"
            tf.addfile(ti)
    listed = []
    for archive in (a, devs):
        t = run("tar", "-tvf", str(archive))
        c = chute("ls", "-l", str(archive))
        assert t.returncode == 0 and c.returncode == 0 and c.stdout == t.stdout
        listed.append(c.stdout)
    assert b" 5368709120 " in listed[0] and b"\np" in listed[0]
    assert b" 1,3 " in listed[1] and b" 8,0 " in listed[1]
