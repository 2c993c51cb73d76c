"""The extraction fast paths agree with the general ones and keep every guarantee.

Header decoding (numeric fields split at once, checksum through adler32), plain names
(no normalization), files created with their final mode (no fchmod), file data written
straight from ReadAhead's chunks, data and padding read at once.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.errors import ArchiveError, TruncatedStreamError, UnsafeArchiveError
from chute.streams.readahead import ReadAhead
from chute.tar import extract as ex
from chute.tar import header as h
from chute.tar.extract import Extractor, extract
from chute.tar.header import Member
from chute.tar.reader import TarReader
from chute.tar.safety import refuse_absolute


def _reference_checksum_ok(block: bytes) -> bool:
    try:
        stored = h.parse_number(block[148:156])
    except ArchiveError:  # no number: no header
        return False
    if stored == sum(block[:148]) + 256 + sum(block[156:]):
        return True
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 256
    return stored == signed + sum(b - 256 if b > 127 else b for b in block[156:])


def _outcome(f: object, *args: object) -> object:
    try:
        return f(*args)  # type: ignore[operator]
    except ArchiveError as exc:
        return type(exc)


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(min_size=512, max_size=512), st.booleans(), st.booleans())
def test_checksum_matches_the_plain_sums(block: bytes, fix: bool, high: bool) -> None:
    b = bytearray(block)
    if high:  # the largest sums: every byte high
        b[:] = bytes(255 - x % 8 for x in b)
    if fix:
        b[148:156] = b"%06o\0 " % (sum(b[:148]) + 256 + sum(b[156:]))
    assert _outcome(h.checksum_ok, bytes(b)) == _outcome(_reference_checksum_ok, bytes(b))


octal_field = st.one_of(
    st.integers(0, 8**7 - 1).map(lambda v: b"%07o\0" % v),  # the usual shape
    st.integers(0, 8**6 - 1).map(lambda v: b" %06o " % v),  # old tars: spaces
    st.integers(0, 8**6 - 1).map(lambda v: b"%06o\0\0" % v),  # short, NUL padded
    st.just(b"\0" * 8),
    st.binary(min_size=8, max_size=8),  # anything, base-256 included
)
long_field = st.one_of(
    st.integers(0, 8**11 - 1).map(lambda v: b"%011o\0" % v),
    st.integers(0, 8**11 - 1).map(lambda v: b"%011o " % v),
    st.integers(0, 8**12 - 1).map(lambda v: b"%012o" % v),  # no terminator
    st.binary(min_size=12, max_size=12),
)


@settings(max_examples=examples(300), deadline=None)
@given(octal_field, octal_field, octal_field, long_field, long_field)
def test_numeric_fields_decode_as_the_general_parser(
    mode: bytes, uid: bytes, gid: bytes, size: bytes, mtime: bytes
) -> None:
    block = bytearray(h.encode(Member(name="f", size=1))[-512:])
    block[100:148] = mode + uid + gid + size + mtime
    expected: object
    try:
        expected = (
            h.parse_number(mode) & 0o7777,
            h.parse_number(uid),
            h.parse_number(gid),
            h.parse_number(size),
            h.parse_number(mtime) * 10**9,
        )
        if h.parse_number(size) < 0:
            expected = ArchiveError
    except ArchiveError:
        expected = ArchiveError
    try:
        m = h.decode(bytes(block))
        got: object = (m.mode, m.uid, m.gid, m.size, m.mtime_ns)
    except ArchiveError:
        got = ArchiveError
    assert got == expected


def test_decode_matches_tarfile_on_a_real_header() -> None:
    ti = tarfile.TarInfo("dir/" + "n" * 90)
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 1234, 0o640, 1_700_000_000, 7, 8, "u", "g"
    block = ti.tobuf(tarfile.USTAR_FORMAT)
    assert h.checksum_ok(block)
    m = h.decode(block)
    assert (m.name, m.size, m.mode, m.mtime_ns, m.uid, m.gid, m.uname, m.gname) == (
        ti.name,
        1234,
        0o640,
        1_700_000_000 * 10**9,
        7,
        8,
        "u",
        "g",
    )
    assert struct.calcsize("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s") == 500


# ----------------------------------------------------------------------------- extraction


def _tar(*members: tuple[str, bytes, int]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, mode in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


MODES = [0o644, 0o755, 0o600, 0o444, 0o700, 0o000, 0o4755, 0o666, 0o1777]


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000, 0o777])
@pytest.mark.parametrize("trust", [False, True])
def test_modes_exact_whatever_the_umask(tmp_path: Path, umask: None, mask: int, trust: bool) -> None:
    os.umask(mask)
    data = _tar(*((f"m{mode:o}", b"x", mode) for mode in MODES))
    extract(io.BytesIO(data), tmp_path / "t", trust=trust)
    for mode in MODES:
        want = mode if trust else mode & 0o755
        assert stat.S_IMODE(os.stat(tmp_path / "t" / f"m{mode:o}").st_mode) == want, oct(mode)
        assert os.stat(tmp_path / "t" / f"m{mode:o}").st_mtime == 1_600_000_000


def _exact(folder: Path) -> bool:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return ex._mode_is_exact(fd)
    finally:
        os.close(fd)


def _count_fchmod(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fchmod

    def fchmod(fd: int, mode: int) -> None:
        calls.append(mode)
        real(fd, mode)

    monkeypatch.setattr(ex.os, "fchmod", fchmod)
    return calls


def test_no_fchmod_when_the_umask_leaves_the_mode(tmp_path: Path, umask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _exact(tmp_path) or ex._read_umask() != 0o022:
        pytest.skip("this folder has a default ACL, or /proc is missing")
    calls = _count_fchmod(monkeypatch)
    extract(io.BytesIO(_tar(("a", b"x", 0o644), ("b", b"y", 0o600), ("c", b"z", 0o664))), tmp_path / "t")
    assert calls == []  # 0o664 is stripped to 0o644 by the policy first
    extract(io.BytesIO(_tar(("w", b"x", 0o664))), tmp_path / "u", trust=True)
    assert calls == [0o664]  # group write: created private, then fchmod-ed


def test_fchmod_when_the_folder_may_not_honour_the_mode(
    tmp_path: Path, umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_fchmod(monkeypatch)
    monkeypatch.setattr(ex, "_mode_is_exact", lambda fd: False)
    extract(io.BytesIO(_tar(("a", b"x", 0o644), ("d/b", b"y", 0o755))), tmp_path / "t")
    assert sorted(calls) == [0o644, 0o755]
    monkeypatch.setattr(ex, "_mode_is_exact", lambda fd: True)
    monkeypatch.setattr(ex, "_read_umask", lambda: None)  # umask unknown: fchmod too
    extract(io.BytesIO(_tar(("a", b"x", 0o644))), tmp_path / "u")
    assert sorted(calls) == [0o644, 0o644, 0o755]


def _default_acl_other_none() -> bytes:
    """A default POSIX ACL (xattr form): user rwx, group r-x, other ---."""
    entries = [(0x01, 7), (0x04, 5), (0x20, 0)]  # ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, 0xFFFFFFFF) for tag, perm in entries)


def test_default_acl_folder_still_gets_the_archive_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "t"
    target.mkdir()
    try:
        os.setxattr(target, "system.posix_acl_default", _default_acl_other_none())
    except (OSError, AttributeError):
        pytest.skip("no POSIX ACLs here")
    (target / "probe").touch()
    if stat.S_IMODE(os.stat(target / "probe").st_mode) & 0o007:
        pytest.skip("the default ACL is not applied here")
    assert not _exact(target)
    extract(io.BytesIO(_tar(("f", b"x", 0o644), ("sub/g", b"y", 0o755))), target)
    assert stat.S_IMODE(os.stat(target / "f").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(target / "sub" / "g").st_mode) == 0o755


def test_temporary_name_taken_is_skipped_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.mkdir()
    squatter = target / f".chute-{os.getpid()}-1.part"
    squatter.write_bytes(b"not ours")
    extract(io.BytesIO(_tar(("f", b"data", 0o644))), target)
    assert (target / "f").read_bytes() == b"data"
    assert squatter.read_bytes() == b"not ours"
    assert sorted(p.name for p in target.iterdir()) == sorted(["f", squatter.name])


@pytest.mark.parametrize(
    ("name", "strip", "expected"),
    [
        ("a/b/c", 0, ("a", "b", "c")),
        ("./a//b/./c", 0, ("a", "b", "c")),
        ("/abs/x", 0, ("abs", "x")),
        ("a/b/c", 1, ("b", "c")),
        ("a/b/", 0, ("a", "b")),
        ("a", 1, None),
        ("..x/y", 0, ("..x", "y")),
    ],
)
def test_parts_plain_and_normalized(tmp_path: Path, name: str, strip: int, expected: tuple[str, ...] | None) -> None:
    with Extractor(tmp_path, strip_components=strip) as e:
        assert e._parts(name, Member(name=name)) == expected


def test_parts_dotdot_refused_after_strip_even_without_the_filter(tmp_path: Path) -> None:
    with Extractor(tmp_path, filters=[refuse_absolute], strip_components=1) as e:
        assert e._parts("../x", Member(name="../x")) == ("x",)  # stripped away: as before
        with pytest.raises(UnsafeArchiveError, match=r"a/\.\./x"):
            e._parts("a/../x", Member(name="a/../x"))
    with Extractor(tmp_path, trust=True) as e:
        assert e._parts("a/../x", Member(name="a/../x")) == ("a", "..", "x")


# ----------------------------------------------------------------------------- data paths

SIZES = [0, 1, 511, 512, 513, 100_000, (1 << 20) - 512, 1 << 20, (1 << 20) + 1, 3 << 20]


@pytest.mark.parametrize("through", ["buffered", "readahead", "trickle"])
def test_every_size_extracts_whole(tmp_path: Path, through: str) -> None:
    members = [(f"f{n}", os.urandom(n), 0o644) for n in SIZES]
    data = _tar(*members)
    fp: object
    if through == "buffered":
        fp = io.BufferedReader(io.BytesIO(data), 1 << 16)
    elif through == "readahead":
        fp = ReadAhead(io.BytesIO(data), chunk_size=77_777, depth=2)  # chunks cut members anywhere
    else:
        fp = io.BufferedReader(_Trickle(data), 1000)
    extract(fp, tmp_path / "t")  # type: ignore[arg-type]
    for name, content, _ in members:
        assert (tmp_path / "t" / name).read_bytes() == content
    assert not list((tmp_path / "t").glob(".chute-*"))


class _Trickle(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = min(len(b), 333, len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@pytest.mark.parametrize("through", ["buffered", "readahead"])
@pytest.mark.parametrize(("into", "where"), [(700, "data"), (1010, "padding")])
def test_truncated_in_data_or_padding_leaves_no_file(tmp_path: Path, through: str, into: int, where: str) -> None:
    data = _tar(("ok", b"fine", 0o644), ("last", b"z" * 1000, 0o644))
    cut = data.index(b"z" * 1000) + into
    fp: object = io.BufferedReader(io.BytesIO(data[:cut]))
    if through == "readahead":
        fp = ReadAhead(io.BytesIO(data[:cut]), chunk_size=300)
    with pytest.raises(TruncatedStreamError, match=f"last: archive ends inside the member's {where}"):
        extract(fp, tmp_path / "t")  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["ok"]


def test_reader_stream_still_reads_after_partial_use() -> None:
    data = _tar(("a", b"0123456789" * 100, 0o644), ("b", b"tail", 0o644))
    got = []
    for m, f in TarReader(io.BufferedReader(io.BytesIO(data))):
        got.append((m.name, f.read(5), f.read()))
    assert got == [("a", b"01234", (b"0123456789" * 100)[5:]), ("b", b"tail", b"")]
