"""The writer's header for a small file of a tree (``_file_header``: one ``struct.pack``
of the PAX mtime header and the ustar block) is ``header.encode``'s, byte for byte, and
GNU tar reads it back."""

from __future__ import annotations

import datetime
import io
import subprocess

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.tar import header as h
from chute.tar.header import Member
from chute.tar.writer import _file_header

names = st.one_of(
    st.text(st.sampled_from("ab/._-"), min_size=1, max_size=102),  # ASCII, at the field's 100 bytes
    st.text(min_size=1, max_size=20),  # not ASCII: not taken
    st.sampled_from(["a" * 100, "a" * 101, "d/" + "b" * 98, "d/" + "b" * 85, "d/", "x/" * 50]),
)
# whole seconds, fractions of every length, the edges of the 11-digit field, before 1970
mtimes = st.one_of(
    st.integers(0, 2**34).map(lambda s: s * 10**9),
    st.integers(0, 2**34 * 10**9),
    st.integers(-(10**12), 10**12),
    st.sampled_from([(8**11 - 1) * 10**9 + 1, 8**11 * 10**9, 1, 10**8, 999_999_999, 123_000_000_000]),
)
sizes = st.one_of(st.integers(0, 1 << 20), st.sampled_from([8**11 - 1, 8**11]))


@settings(max_examples=examples(1000), deadline=None)
@given(names, st.integers(0, 0o177777), sizes, mtimes)
def test_file_header_is_the_general_encoding(name: str, mode: int, size: int, mtime_ns: int) -> None:
    got = _file_header(name, 0o100000 | mode, size, mtime_ns)
    member = Member(name, h.REGULAR, mode & 0o7777, size, mtime_ns)
    fits = len(name) <= 100 and name.isascii() and 0 <= mtime_ns // 10**9 < 8**11 and size < 8**11
    assert (got is not None) == fits
    if got is not None:
        assert got == h.encode(member)


@pytest.mark.skipif(subprocess.run(["which", "tar"], capture_output=True).returncode, reason="GNU tar not installed")
def test_gnu_tar_reads_the_headers(tmp_path: object) -> None:
    """Names, sizes and the exact mtimes (GNU tar's --full-time) as written."""
    cases = [("a", 0, 10**9), ("d/f", 5, 1_600_000_000_123_456_789), ("d/" + "g" * 98, 700, 1_700_000_000_5 * 10**8)]
    out = io.BytesIO()
    for name, size, mtime in cases:
        header = _file_header(name, 0o100640, size, mtime)
        assert header is not None
        out.write(header + b"z" * size + bytes(-size % 512))
    out.write(bytes(1024))
    listing = subprocess.run(
        ["tar", "--full-time", "--utc", "-tvf", "-"], input=out.getvalue(), capture_output=True, check=True
    ).stdout.decode()
    for (name, size, mtime), line in zip(cases, listing.splitlines(), strict=True):
        fields = line.split()
        assert fields[0] == "-rw-r-----" and fields[2] == str(size) and fields[-1] == name
        secs, frac = divmod(mtime, 10**9)
        when = datetime.datetime.fromtimestamp(secs, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        assert f"{fields[3]} {fields[4]}" == when + (f".{frac:09d}".rstrip("0") if frac else "")
