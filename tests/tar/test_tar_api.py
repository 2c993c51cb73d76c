"""Writer, reader and filters on their own."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute.tar
from chute.errors import ArchiveError, TruncatedStreamError, UnsafeArchiveError
from chute.tar import header as h
from chute.tar.header import Member
from chute.tar.reader import TarReader
from chute.tar.safety import Limits, check_link_target, refuse_dotdot, strip_modes
from chute.tar.writer import TarWriter


class Trickle(io.RawIOBase):
    """A non-seekable stream returning at most ``step`` bytes per read, like a pipe."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = min(len(b), self._step, len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


names = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/\\"), min_size=1, max_size=80)


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.tuples(names, st.binary(max_size=3000), st.integers(0, 2**34 * 10**9)), min_size=1, max_size=6))
def test_round_trip_through_a_trickling_pipe(entries: list[tuple[str, bytes, int]]) -> None:
    buf = io.BytesIO()
    tw = TarWriter(buf)
    for i, (name, data, mtime_ns) in enumerate(entries):
        tw.add(Member(name=f"{i}/{name}" * 3, size=len(data), mtime_ns=mtime_ns), io.BytesIO(data))
    tw.close()
    got = [(m.name, f.read(), m.mtime_ns) for m, f in TarReader(io.BufferedReader(Trickle(buf.getvalue()), 64))]
    assert got == [(f"{i}/{n}" * 3, d, t) for i, (n, d, t) in enumerate(entries)]
    # the stdlib agrees on names and contents
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        assert [m.name for m in tf] == [g[0] for g in got]


def test_huge_size_uses_pax_and_decodes() -> None:
    m = Member(name="big", size=9 << 30, mtime_ns=1_500_000_000_123_456_789)
    blocks = h.encode(m)
    assert blocks[156:157] == h.PAX_LOCAL and b"size=9663676416" in blocks
    tf = tarfile.TarFile(fileobj=io.BytesIO(blocks + bytes(1024)), mode="r")
    info = tf.next()
    assert info is not None and info.size == 9 << 30 and info.pax_headers["mtime"] == "1500000000.123456789"
    tf.close()


def test_spooled_stream_of_unknown_size(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    with chute.tar.open(tmp_path / "a.tar.gz", "w", spool_limit=1000, spool_dir=str(tmp_path)) as tw:
        tw.add_stream("s", io.BufferedReader(Trickle(data, 4096)))
        tw.add_stream("small", io.BytesIO(b"abc"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz"]  # spool file gone
    out = subprocess.run(["tar", "-xzOf", str(tmp_path / "a.tar.gz"), "s"], capture_output=True, check=True).stdout
    assert out == data


def test_short_source_with_declared_size_is_an_error() -> None:
    tw = TarWriter(io.BytesIO())
    with pytest.raises(ArchiveError, match="x: the source ended"):
        tw.add_stream("x", io.BytesIO(b"abc"), size=10)


def test_truncated_archive_is_an_error() -> None:
    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        tw.add_bytes("a", b"x" * 2000)
    for cut in (100, 700, 1500):
        with pytest.raises(TruncatedStreamError):
            for _m, f in TarReader(io.BytesIO(buf.getvalue()[:cut])):
                f.read()


def test_bad_checksum_is_an_error() -> None:
    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        tw.add_bytes("a", b"x")
    data = bytearray(buf.getvalue())
    data[0] ^= 1
    with pytest.raises(ArchiveError, match="checksum"):
        list(TarReader(io.BytesIO(bytes(data))))


def test_oversized_extended_header_refused() -> None:
    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        tw.add_bytes("n" * 5000, b"")
    with pytest.raises(ArchiveError, match="limit"):
        list(TarReader(io.BytesIO(buf.getvalue()), max_header=1000))


def test_filters_alone() -> None:
    lim = Limits()
    assert strip_modes(Member("x", mode=0o6777), lim).mode == 0o755
    with pytest.raises(UnsafeArchiveError, match=r"a/\.\./b"):
        refuse_dotdot(Member("a/../b"), lim)
    ok = Member("a/b", type=h.SYMLINK, linkname="../c")
    assert check_link_target(ok, lim) is ok
    with pytest.raises(UnsafeArchiveError, match="a/b"):
        check_link_target(Member("a/b", type=h.SYMLINK, linkname="../../c"), lim)
    with pytest.raises(UnsafeArchiveError):
        check_link_target(Member("h", type=h.HARDLINK, linkname="x/../../y"), lim)


def test_hardlinked_files_stored_once(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_bytes(b"z" * 10000)
    (tmp_path / "src" / "b").hardlink_to(tmp_path / "src" / "a")
    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        tw.add_path(tmp_path / "src", "src")
    members = [(m.name, m.type, m.linkname) for m, _ in TarReader(io.BytesIO(buf.getvalue()))]
    assert members == [("src/", h.DIRECTORY, ""), ("src/a", h.REGULAR, ""), ("src/b", h.HARDLINK, "src/a")]
    assert len(buf.getvalue()) < 2 * 10000  # the data once


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (Member("dir/file/", size=5), "end in '/'"),
        (Member("", size=5), "empty or hold NUL"),
        (Member("a\0b", size=5), "empty or hold NUL"),
        (Member("link", h.SYMLINK, linkname="x\0y"), "empty or hold NUL"),
    ],
)
def test_names_no_tar_reads_back_are_refused(member: Member, why: str, tmp_path: Path) -> None:
    """A regular member named with a final '/' reads back as a folder (GNU tar takes its
    data for headers); NUL ends a name in the format. Refused before anything is written,
    and the archive stays whole: GNU tar lists the members before and after."""
    out = io.BytesIO()
    with TarWriter(out) as w:
        w.add_bytes("before", b"1")
        with pytest.raises(ValueError, match=why):
            w.add(member, io.BytesIO(b"12345"))
        w.add_bytes("after", b"2")
    (tmp_path / "a.tar").write_bytes(out.getvalue())
    listed = subprocess.run(["tar", "-tf", str(tmp_path / "a.tar")], capture_output=True, check=True)
    assert listed.stdout.split() == [b"before", b"after"]
