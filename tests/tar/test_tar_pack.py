"""The writer's short paths (trees of small files, the usual header) against the general
ones and against GNU tar and bsdtar."""

from __future__ import annotations

import grp
import hashlib
import io
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.errors import ArchiveError
from chute.tar import header as h
from chute.tar.header import Member
from chute.tar.reader import TarReader
from chute.tar.writer import TarWriter, _read_file, encode_header

CHUTE = [sys.executable, "-m", "chute"]

names = st.one_of(
    st.text(st.sampled_from("abc/._-"), max_size=300),  # ASCII, around the 100-byte field
    st.text(max_size=120),  # anything, non-ASCII and surrogates included
    st.text(st.characters(codec="ascii"), min_size=95, max_size=105),
)
# the limits of the octal fields (7 digits for ids, 11 for size and mtime) and around them
big = st.one_of(st.sampled_from([0, 1, 8**7 - 1, 8**7, -1]), st.integers(0, 8**7 + 5), st.integers(-(2**40), 2**70))
edges_ns = [(8**11 - 1) * 10**9, (8**11 - 1) * 10**9 + 1, 8**11 * 10**9, -1, -(10**9), 999_999_999]


@settings(max_examples=examples(500), deadline=None)
@given(
    name=names,
    type=st.one_of(
        st.sampled_from([h.REGULAR, h.DIRECTORY, h.SYMLINK, h.HARDLINK, h.FIFO, h.CHARDEV]),
        st.binary(min_size=1, max_size=1),
    ),
    mode=st.integers(0, 0o177777),
    size=st.one_of(st.integers(0, 5000), st.integers(8**11 - 2, 8**11 + 2), st.integers(0, 2**70)),
    mtime_ns=st.one_of(
        st.integers(0, 2**34).map(lambda s: s * 10**9),
        st.integers(-(2**63), 2**70),
        st.sampled_from(edges_ns),
    ),
    linkname=st.one_of(st.just(""), names),
    uid=big,
    gid=big,
    uname=st.one_of(st.just(""), st.text(max_size=40)),
    gname=st.one_of(st.just(""), st.text(max_size=40)),
    dev=st.tuples(st.integers(0, 8**7 + 1), st.integers(0, 8**7 + 1)),
)
def test_usual_header_is_the_general_encoding(
    name: str,
    type: bytes,
    mode: int,
    size: int,
    mtime_ns: int,
    linkname: str,
    uid: int,
    gid: int,
    uname: str,
    gname: str,
    dev: tuple[int, int],
) -> None:
    m = Member(name, type, mode, size, mtime_ns, linkname, uid, gid, uname, gname, *dev)
    try:
        expected = h.encode(m)
    except (ValueError, OverflowError, UnicodeError):  # what the general encoder refuses
        return
    assert encode_header(m) == expected


ascii_text = st.text(st.characters(codec="ascii"), max_size=100)


def around(limit: int) -> st.SearchStrategy[str]:
    """ASCII text, often exactly at ``limit`` characters or one more."""
    return st.one_of(ascii_text, st.sampled_from([limit, limit + 1]).map(lambda n: "x" * n))


@settings(max_examples=examples(500), deadline=None)
@given(
    name=around(100),
    type=st.sampled_from([h.REGULAR, h.DIRECTORY, h.SYMLINK, h.HARDLINK, h.FIFO]),
    size=st.one_of(st.integers(0, 10**6), st.sampled_from([8**11 - 1, 8**11])),
    mtime_ns=st.one_of(st.integers(0, 2**34 * 10**9), st.sampled_from(edges_ns)),
    linkname=around(100),
    ids=st.tuples(st.sampled_from([0, 1000, 8**7 - 1, 8**7]), st.sampled_from([0, 8**7 - 1, 8**7])),
    unames=st.tuples(around(31), around(31)),
)
def test_usual_header_around_its_limits(
    name: str, type: bytes, size: int, mtime_ns: int, linkname: str, ids: tuple[int, int], unames: tuple[str, str]
) -> None:
    # Every field usual but one at or just past a limit: the first value past it must
    # leave the short path (a PAX record), not be cut to fit the field.
    m = Member(name, type, 0o644, size, mtime_ns, linkname, *ids, *unames)
    assert encode_header(m) == h.encode(m)


# ----------------------------------------------------------------------------- whole trees


def make_small_tree(root: Path) -> Path:
    """Files around every limit of the short path, and entries that must leave it."""
    root.mkdir()
    sizes = [0, 1, 511, 512, 513, 1024, 4097, (1 << 20) - 1, 1 << 20, (1 << 20) + 1]
    for i, size in enumerate(sizes):
        (root / f"size-{size}").write_bytes(bytes([65 + i]) * size)
    (root / "names").mkdir()
    for n in (1, 88, 89, 90, 120):  # the name field holds 100 bytes: "tree/names/" + 89
        (root / "names" / ("n" * n)).write_bytes(b"%d" % n)
    (root / "names" / "ünïcödé").write_bytes(b"u")
    (root / "many").mkdir()
    for i in range(300):
        (root / "many" / f"f{i:03d}").write_bytes(os.urandom(i * 7))
    (root / "mode").write_bytes(b"x")
    (root / "mode").chmod(0o4751)
    (root / "hard1").write_bytes(b"linked")
    os.link(root / "hard1", root / "hard2")
    (root / "sym").symlink_to("size-1")
    os.mkfifo(root / "fifo")
    (root / "empty-dir").mkdir()
    for i, p in enumerate(sorted(root.rglob("*"))):
        # whole seconds and fractions, and one before 1970
        ns = -(10**9) * 5 if i == 3 else 1_600_000_000 * 10**9 + i * 123_456_789 * (i % 3 != 0)
        os.utime(p, ns=(ns, ns), follow_symlinks=False)
    return root


def reference_archive(root: Path, arc: str, owner: bool) -> bytes:
    """What the writer is meant to produce, from the format's rules alone (header.encode)."""
    out = io.BytesIO()
    links: dict[tuple[int, int], str] = {}

    def add(path: Path, name: str) -> None:
        st_ = os.lstat(path)
        m = Member(name=name, mode=stat.S_IMODE(st_.st_mode), mtime_ns=st_.st_mtime_ns)
        if owner:
            m.uid, m.gid = st_.st_uid, st_.st_gid
            m.uname, m.gname = pwd.getpwuid(st_.st_uid).pw_name, grp.getgrgid(st_.st_gid).gr_name
        data = b""
        if stat.S_ISDIR(st_.st_mode):
            m.type, m.name = h.DIRECTORY, name + "/"
        elif stat.S_ISLNK(st_.st_mode):
            m.type, m.linkname = h.SYMLINK, os.readlink(path)
        elif stat.S_ISFIFO(st_.st_mode):
            m.type = h.FIFO
        elif (st_.st_dev, st_.st_ino) in links:
            m.type, m.linkname = h.HARDLINK, links[(st_.st_dev, st_.st_ino)]
        else:
            if st_.st_nlink > 1:
                links[(st_.st_dev, st_.st_ino)] = name
            data = path.read_bytes()
            m.size = len(data)
        out.write(h.encode(m) + data + bytes(-len(data) % 512))
        if stat.S_ISDIR(st_.st_mode):
            for child in sorted(os.listdir(path)):
                add(path / child, f"{name}/{child}")

    add(root, arc)
    out.write(bytes(1024))
    return out.getvalue()


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_small_tree(tmp_path_factory.mktemp("src") / "tree")


@pytest.mark.parametrize("owner", [False, True])
def test_tree_is_written_as_the_format_says(small_tree: Path, owner: bool) -> None:
    buf = io.BytesIO()
    with TarWriter(buf, owner=owner) as tw:
        tw.add_path(small_tree, "tree")
    assert buf.getvalue() == reference_archive(small_tree, "tree", owner)


def test_exclude_drops_names_before_they_are_read(small_tree: Path) -> None:
    seen: list[str] = []

    def exclude(name: str) -> bool:
        seen.append(name)
        return name.startswith("tree/many/") or name == "tree/names"

    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        tw.add_path(small_tree, "tree", exclude=exclude)
    got = [m.name for m, _ in TarReader(io.BytesIO(buf.getvalue()))]
    assert not any(n.startswith(("tree/many/f", "tree/names")) for n in got)
    assert "tree/size-512" in got and "tree/many/" in got
    assert len(seen) == len(set(seen))  # asked once per name
    assert not any(s.startswith("tree/names/") for s in seen)  # an excluded folder is not walked


class ShortWrites(io.RawIOBase):
    """A raw file taking at most ``step`` bytes per write, as a pipe or a full disk may."""

    def __init__(self, step: int) -> None:
        self.data = bytearray()
        self.step = step

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        with memoryview(b) as view:  # type: ignore[arg-type]
            n = min(len(view), self.step)
            self.data += view[:n]
        return n


def test_short_writes_are_completed(small_tree: Path) -> None:
    raw = ShortWrites(1000)
    with TarWriter(raw) as tw:  # type: ignore[arg-type]
        tw.add_path(small_tree, "tree")
        tw.add_bytes("big", b"z" * (3 << 20), mtime=0)
    expected = io.BytesIO()
    with TarWriter(expected) as tw:
        tw.add_path(small_tree, "tree")
        tw.add_bytes("big", b"z" * (3 << 20), mtime=0)
    assert bytes(raw.data) == expected.getvalue()


def test_a_file_shorter_than_its_size_is_an_error(tmp_path: Path) -> None:
    # The size comes from the stat made while listing the folder; a file that shrinks
    # before it is read must not leave a member shorter than its header says.
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    with pytest.raises(ArchiveError, match="ended 3 bytes early"):
        _read_file(str(f), 8, "f")
    assert _read_file(str(f), 3, "f") == b"123"  # a file that grew: its first bytes
    # a file replaced by a folder between its stat and its read: the error names it
    with pytest.raises(IsADirectoryError) as err:
        _read_file(str(tmp_path), 8, "f")
    assert err.value.filename == str(tmp_path)


# ----------------------------------------------------------------------------- reference tools


def _files(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    out: dict[str, tuple[str, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st_ = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st_.st_mode):
                out[rel] = ("l", os.readlink(p), 0)
            elif stat.S_ISDIR(st_.st_mode):
                out[rel] = ("d", b"", stat.S_IMODE(st_.st_mode))
            elif stat.S_ISFIFO(st_.st_mode):
                out[rel] = ("p", b"", st_.st_mtime_ns)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("f", hashlib.sha1(f.read()).digest(), st_.st_mtime_ns)
    return out


@pytest.mark.parametrize("fmt", ["none", "zstd"])
@pytest.mark.parametrize("tool", ["tar", "bsdtar"])
def test_tools_read_what_pack_writes(small_tree: Path, tmp_path: Path, tool: str, fmt: str) -> None:
    if shutil.which(tool) is None or (fmt == "zstd" and shutil.which("zstd") is None):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} or zstd missing in CI")
        pytest.skip(f"{tool} or zstd not installed")
    archive = tmp_path / ("a.tar" if fmt == "none" else "a.tar.zst")
    r = subprocess.run([*CHUTE, "pack", "-F", fmt, "-T2", "-C", str(small_tree.parent), "tree", "-o", str(archive)])
    assert r.returncode == 0
    env = {**os.environ, "LC_ALL": "C.UTF-8"}  # names as they are, not escaped
    listing = subprocess.run([tool, "-tf", str(archive)], capture_output=True, check=True, env=env).stdout.splitlines()
    ours = [m.name.encode("utf-8", "surrogateescape") for m, _ in TarReader(_plain(archive, fmt))]
    assert [n.rstrip(b"/") for n in listing] == [n.rstrip(b"/") for n in ours]
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run([tool, "-xpf", str(archive), "-C", str(out)], check=True, env=env)
    # contents, link targets and mtimes to the nanosecond, from the PAX records
    assert _files(out / "tree") == _files(small_tree)
    assert os.path.samefile(out / "tree" / "hard1", out / "tree" / "hard2")


def _plain(archive: Path, fmt: str) -> io.BytesIO:
    data = archive.read_bytes()
    if fmt == "zstd":
        data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    return io.BytesIO(data)


def test_a_socket_is_left_out_with_a_line_as_tar_does(tmp_path: Path) -> None:
    """GNU tar and bsdtar leave sockets out with a warning and archive the rest; so does
    chute, with one line (the name quoted by chute.quoting, as ``chute ls``: a newline prints
    as ``\\n``) and exit status 2. GNU tar lists the same members."""
    import socket

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_bytes(b"hi\n")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "t" / "a\nb.sock"))
        r = subprocess.run([*CHUTE, "pack", "t", "-o", str(tmp_path / "x.tar")], capture_output=True, cwd=tmp_path)
        gnu = subprocess.run(["tar", "-cf", str(tmp_path / "g.tar"), "t"], capture_output=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == b"chute: t/a\\nb.sock: socket ignored\n"
    assert gnu.returncode == 0 and b"socket ignored" in gnu.stderr
    listed = subprocess.run(["tar", "-tf", str(tmp_path / "x.tar")], capture_output=True, check=True).stdout
    assert listed == subprocess.run(["tar", "-tf", str(tmp_path / "g.tar")], capture_output=True, check=True).stdout
    assert listed.split() == [b"t/", b"t/f"]


def test_the_writer_warns_about_a_socket_it_leaves_out(tmp_path: Path) -> None:
    import socket
    import warnings

    from chute.errors import ArchiveWarning

    (tmp_path / "t").mkdir()
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "t" / "s.sock"))
        buf = io.BytesIO()
        tw = TarWriter(buf)
        with pytest.warns(ArchiveWarning, match=r"s\.sock: socket ignored"):
            tw.add_path(str(tmp_path / "t"), "t")
        tw.close()
        told: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            TarWriter(io.BytesIO(), on_warning=told.append).add_path(str(tmp_path / "t" / "s.sock"), "s")
    assert told == [f"{tmp_path}/t/s.sock: socket ignored"]
    assert [m.name for m, _ in TarReader(io.BytesIO(buf.getvalue()))] == ["t/"]
