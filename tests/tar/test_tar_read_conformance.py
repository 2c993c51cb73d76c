"""Reading what other tools write, as GNU tar and bsdtar read it.

Archives written by GNU tar (``--format=v7|oldgnu|gnu|ustar|posix``) and bsdtar
(``--format=ustar|pax|gnutar|v7``), and headers built by hand from the specifications
(:mod:`handmade`) for the shapes no installed tool writes: V7 directories, GNU dumpdirs,
unknown and Solaris types, repeated extended headers, malformed pax records. Each is read
by chute and by both reference tools, and the trees or listings compared.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import examples, need_tool
from handmade import archive, gnu_long, header, member, pax, record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chute.errors import ArchiveError, ArchiveWarning
from chute.quoting import quote, quote_bytes
from chute.tar import header as h
from chute.tar.extract import extract
from chute.tar.reader import TarReader

pytestmark = pytest.mark.interop

CHUTE = [sys.executable, "-m", "chute"]
UTF8 = {**os.environ, "LC_ALL": "C.UTF-8"}


# ----------------------------------------------------------------------------- helpers


def kinds(root: Path) -> dict[str, Any]:
    """path -> ("d",) | ("f", content) | ("l", target): what extraction made."""
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, os.fsencode(root))
            if os.path.islink(p):
                out[rel] = ("l", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("d",)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("f", f.read())
    return out


def tool_tree(tool: str, data: bytes, tmp: Path) -> tuple[dict[str, Any], int]:
    """What ``tool -x`` makes of ``data`` (read from a pipe), and its exit status."""
    need_tool(tool)
    out = tmp / f"by-{tool}"
    out.mkdir()
    done = subprocess.run([tool, "-xf", "-", "-C", str(out)], input=data, capture_output=True, env=UTF8)
    return kinds(out), done.returncode


def chute_tree(data: bytes, tmp: Path) -> dict[str, Any]:
    """What chute's extraction (the fast path where it applies) makes of ``data``."""
    out = tmp / "by-chute"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        extract(io.BytesIO(data), out)
    return kinds(out)


def tool_list(tool: str, data: bytes) -> tuple[bytes, int]:
    """``tool -tf -`` of ``data``: the listing and the exit status."""
    done = tool_run(tool, data)
    return done.stdout, done.returncode


def tool_run(tool: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    need_tool(tool)
    return subprocess.run([tool, "-tf", "-"], input=data, capture_output=True, env=UTF8)


def chute_ls(data: bytes, *args: str, tmp: Path, name: bytes = b"a.tar") -> subprocess.CompletedProcess[bytes]:
    """``chute ls ARGS NAME`` run in ``tmp``, where ``data`` is written to ``NAME``."""
    (tmp / os.fsdecode(name)).write_bytes(data)
    return subprocess.run([*CHUTE, "ls", *args, os.fsdecode(name)], capture_output=True, env=UTF8, cwd=tmp)


def _read_names(names: Any) -> tuple[list[bytes], str | None]:
    got: list[bytes] = []
    try:
        for name in names:
            got.append(name)
    except ArchiveError as exc:
        return got, f"{type(exc).__name__}: {exc}"
    return got, None


def names_two_ways(data: bytes) -> list[bytes]:
    """Member names by the general path and by ``TarReader.names()``, checked equal (and
    the same error after the same names, if any)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        general = _read_names(m.name.encode("utf-8", "surrogateescape") for m, _ in TarReader(io.BytesIO(data)))
        fast = _read_names(TarReader(io.BytesIO(data)).names())
    assert fast == general
    assert general[1] is None, general[1]
    return general[0]


# ----------------------------------------------------------------------------- archives the tools write

# names that need quoting, and one in every class of the quoting rules
QUIRKY = [
    b"plain.txt",
    b"sp ace",
    b"nl\nx",
    b"tab\tx",
    b"cr\rx",
    b"bs\\x",
    b"esc\x1bx",
    b"del\x7fx",
    b"bad\x83x",
    b"caf\xc3\xa9",
    b"c1\xc2\x85x",
    b"bel\x07vt\x0bff\x0c",
    b"quote\"'x",
]


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quirky") / "t"
    os.makedirs(os.fsencode(root / "d" / "empty"))
    for i, n in enumerate(QUIRKY):
        with open(os.path.join(os.fsencode(root / "d"), n), "wb") as f:
            f.write(b"%d\n" % i)
    os.symlink(b"plain.txt", os.path.join(os.fsencode(root / "d"), b"link"))
    return root


WRITERS = [("tar", f) for f in ("v7", "oldgnu", "gnu", "ustar", "posix")] + [
    ("bsdtar", f) for f in ("ustar", "pax", "gnutar", "v7")
]


def _written_by(tool: str, fmt: str, src: Path, tmp: Path) -> bytes:
    need_tool(tool)
    out = tmp / f"{tool}-{fmt}.tar"
    opt = [f"--format={fmt}"] if tool == "tar" else ["--format", fmt]
    subprocess.run([tool, *opt, "-cf", str(out), "-C", str(src), "."], check=True, env=UTF8, capture_output=True)
    return out.read_bytes()


@pytest.mark.parametrize(("tool", "fmt"), WRITERS, ids=[f"{t}-{f}" for t, f in WRITERS])
def test_listing_matches_gnu_tar(quirky: Path, tmp_path: Path, tool: str, fmt: str) -> None:
    data = _written_by(tool, fmt, quirky, tmp_path)
    expected, status = tool_list("tar", data)
    assert status == 0
    got = chute_ls(data, tmp=tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected
    assert got.stderr == b""
    names_two_ways(data)


@pytest.mark.parametrize(("tool", "fmt"), WRITERS, ids=[f"{t}-{f}" for t, f in WRITERS])
def test_null_listing_gives_the_names_as_stored(quirky: Path, tmp_path: Path, tool: str, fmt: str) -> None:
    data = _written_by(tool, fmt, quirky, tmp_path)
    got = chute_ls(data, "--null", tmp=tmp_path)
    assert got.returncode == 0, got.stderr
    listed = got.stdout.split(b"\0")
    assert listed[-1] == b""
    with tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape") as tf:
        stored = [ti.name.encode("utf-8", "surrogateescape") for ti in tf]
    # tarfile drops a directory's trailing slash; the names are otherwise the bytes stored
    assert [n.rstrip(b"/") for n in listed[:-1]] == [n.rstrip(b"/") for n in stored]
    assert {b"./d/" + n for n in QUIRKY} <= set(listed)


@pytest.mark.parametrize(("tool", "fmt"), WRITERS, ids=[f"{t}-{f}" for t, f in WRITERS])
def test_extraction_matches_gnu_tar(quirky: Path, tmp_path: Path, tool: str, fmt: str) -> None:
    data = _written_by(tool, fmt, quirky, tmp_path)
    expected, status = tool_tree("tar", data, tmp_path)
    assert status == 0
    got = chute_tree(data, tmp_path)
    assert got == expected
    # bsdtar's v7 writes folders as regular-file headers named "dir/": still folders
    assert got[b"d/empty"] == ("d",)


def test_long_listing_quotes_names_and_link_targets(tmp_path: Path) -> None:
    data = archive(member(b"a\nb", b"x"), header(b"l\x83", b"2", linkname=b"t\tu"))
    got = chute_ls(data, "-l", tmp=tmp_path)
    assert got.returncode == 0
    lines = got.stdout.decode().splitlines()
    assert lines[0].endswith(" a\\nb")
    assert lines[1].endswith(" l\\203 -> t\\tu")
    raw = chute_ls(data, "-l", "--null", tmp=tmp_path).stdout
    assert raw.endswith(b" l\x83 -> t\tu\0")


# ----------------------------------------------------------------------------- quoting


def test_quote_is_gnu_tars_escape_style() -> None:
    assert quote("plain name") == "plain name"
    assert quote(b"a\nb\tc\\d") == "a\\nb\\tc\\\\d"
    assert quote(b"\x07\x08\x0b\x0c\r") == "\\a\\b\\v\\f\\r"
    assert quote(b"\x00\x1b\x7f") == "\\000\\033\\177"
    assert quote(b"bad\x83") == "bad\\203"
    assert quote("bad\udc83") == "bad\\203"  # a str decoded with surrogateescape
    assert quote("café 日本") == "café 日本"
    assert quote("c1\x85") == "c1\\302\\205"
    assert quote("zw\u200bx") == "zw\\342\\200\\213x"  # invisible: escaped
    assert quote_bytes(b"caf\xc3\xa9\n") == "café\\n".encode()


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=40))
def test_quoted_names_are_one_printable_line_and_reversible(raw: bytes) -> None:
    shown = quote(raw)
    assert shown.isprintable()
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in shown)
    assert quote_bytes(raw) == shown.encode()
    # GNU tar's escapes read back to the bytes
    back = shown.encode().decode("unicode_escape").encode("latin-1") if shown.isascii() else None
    if back is not None:
        assert back == raw


# ----------------------------------------------------------------------------- hand-built shapes


def _same_as_tools(data: bytes, tmp: Path, tools: tuple[str, ...] = ("tar", "bsdtar")) -> dict[str, Any]:
    got = chute_tree(data, tmp)
    for tool in tools:
        expected, _ = tool_tree(tool, data, tmp)
        assert got == expected, tool
    return got


V7_DIRS = {
    "v7-nul-type": archive(header(b"d/", b"\0", magic="v7"), member(b"d/f", b"hi\n", b"\0", magic="v7")),
    "v7-0-type": archive(header(b"d/", b"0", magic="v7"), member(b"d/f", b"hi\n", b"0", magic="v7")),
    # a size on the folder: no data follows it (the next member must not vanish)
    "v7-with-size": archive(header(b"d/", b"\0", magic="v7", size=1), member(b"d/f", b"hi\n", b"\0", magic="v7")),
    "ustar-slash": archive(header(b"d/", b"0", size=700), member(b"d/f", b"hi\n")),
    "gnu-nul-slash": archive(header(b"d/", b"\0", magic="gnu", size=1), member(b"d/f", b"hi\n", magic="gnu")),
}


@pytest.mark.parametrize("shape", sorted(V7_DIRS))
def test_slash_named_regular_headers_are_directories(tmp_path: Path, shape: str) -> None:
    data = V7_DIRS[shape]
    got = _same_as_tools(data, tmp_path)
    assert got == {b"d": ("d",), b"d/f": ("f", b"hi\n")}
    assert names_two_ways(data) == [b"d/", b"d/f"]
    listed = chute_ls(data, "-l", tmp=tmp_path)
    assert listed.returncode == 0
    assert listed.stdout.decode().splitlines()[0].startswith("d")


def test_dumpdir_is_a_directory_and_its_listing_is_skipped(tmp_path: Path) -> None:
    for name in (b"d/", b"d"):
        data = archive(member(name, b"Yf\0Nold\0\0", b"D", magic="gnu"), member(b"d/f", b"hi\n", magic="gnu"))
        got = _same_as_tools(data, tmp_path / name.decode().replace("/", "s"))
        assert got == {b"d": ("d",), b"d/f": ("f", b"hi\n")}
        assert names_two_ways(data) == [name, b"d/f"]


def test_unknown_type_is_a_regular_file_with_a_warning(tmp_path: Path) -> None:
    data = archive(member(b"f", b"acl text\n", b"A"), member(b"g", b"hi\n"), member(b"h", b"q", b"Q"))
    # GNU tar: "Unknown file type 'A', extracted as normal file"
    got = _same_as_tools(data, tmp_path, ("tar",))
    assert got == {b"f": ("f", b"acl text\n"), b"g": ("f", b"hi\n"), b"h": ("f", b"q")}
    seen: list[str] = []
    assert [m.name for m, _ in TarReader(io.BytesIO(data), on_warning=seen.append)] == ["f", "g", "h"]
    assert seen == [
        "f: unknown member type 'A' at offset 0, read as a regular file",
        "h: unknown member type 'Q' at offset 2048, read as a regular file",
    ]
    with pytest.warns(ArchiveWarning) as caught:
        list(TarReader(io.BytesIO(data)))
    assert [str(w.message) for w in caught] == seen
    listed = chute_ls(data, tmp=tmp_path, name=b"acl\x83.tar")
    assert listed.returncode == 2
    assert listed.stdout == b"f\ng\nh\n"
    assert listed.stderr.decode().splitlines() == [
        "chute: acl\\203.tar: f: unknown member type 'A' at offset 0, read as a regular file",
        "chute: acl\\203.tar: h: unknown member type 'Q' at offset 2048, read as a regular file",
    ]
    # unpack: the same lines, the members extracted, exit status 2
    unpacked = subprocess.run(
        [*CHUTE, "unpack", "acl\udc83.tar", "-C", "out"], capture_output=True, env=UTF8, cwd=tmp_path
    )
    assert unpacked.returncode == 2
    assert unpacked.stderr.decode().splitlines() == listed.stderr.decode().splitlines()
    assert sorted(os.listdir(tmp_path / "out")) == ["f", "g", "h"]
    to_stdout = subprocess.run([*CHUTE, "unpack", "-O", "acl\udc83.tar"], capture_output=True, env=UTF8, cwd=tmp_path)
    assert to_stdout.returncode == 2 and to_stdout.stdout == b"acl text\nhi\nq"
    assert to_stdout.stderr.decode().splitlines() == listed.stderr.decode().splitlines()


def test_unknown_type_with_a_slash_is_a_directory(tmp_path: Path) -> None:
    # Solaris tar's ACL header 'A' names the folder it describes: GNU tar makes a file "d"
    # of it and then cannot make d/f; bsdtar makes the folder. A folder it is, its data skipped.
    data = archive(member(b"d/", b"user::rwx\0", b"A"), header(b"d/", b"5"), member(b"d/f", b"hi\n"))
    got = _same_as_tools(data, tmp_path, ("bsdtar",))
    assert got == {b"d": ("d",), b"d/f": ("f", b"hi\n")}
    seen: list[str] = []
    members = [(m.name, m.type) for m, _ in TarReader(io.BytesIO(data), on_warning=seen.append)]
    assert members == [("d/", h.DIRECTORY), ("d/", h.DIRECTORY), ("d/f", h.REGULAR)]
    assert seen == ["d/: unknown member type 'A' at offset 0, read as a directory"]


def test_solaris_extended_header_is_a_pax_header(tmp_path: Path) -> None:
    # Solaris tar names its X headers after the temporary folder it wrote them from
    x = pax(record(b"path", b"misc/regtype-suntar") + record(b"mtime", b"1041808783.5"), b"X", b"/tmp/PaxHeaders.378/f")
    data = archive(x, member(b"regtype-suntar", b"sun\n"))
    got = _same_as_tools(data, tmp_path)
    assert got == {b"misc": ("d",), b"misc/regtype-suntar": ("f", b"sun\n")}
    [(m, _)] = list(TarReader(io.BytesIO(data)))
    assert m.mtime_ns == 1041808783_500000000
    assert names_two_ways(data) == [b"misc/regtype-suntar"]


# several extended headers before one member: (shape, archive, name every reference agrees on)
REPEATED = {
    "two-x": archive(pax(record(b"path", b"evil")), pax(record(b"path", b"good")), member(b"f", b"x")),
    "x-then-x-without-path": archive(
        pax(record(b"path", b"evil")), pax(record(b"mtime", b"1600000000")), member(b"good", b"x")
    ),
    "x-then-solaris-X": archive(pax(record(b"path", b"evil")), pax(record(b"path", b"good"), b"X"), member(b"f", b"x")),
    "two-L": archive(gnu_long(b"evil"), gnu_long(b"good"), member(b"f", b"x", magic="gnu")),
    "same-name-in-L-and-x": archive(gnu_long(b"good"), pax(record(b"path", b"good")), member(b"f", b"x")),
}


@pytest.mark.parametrize("shape", sorted(REPEATED))
def test_of_repeated_extended_headers_the_last_applies(tmp_path: Path, shape: str) -> None:
    data = REPEATED[shape]
    for tool in ("tar", "bsdtar"):  # bsdtar reads the same, with a complaint and exit 1
        listing, _ = tool_list(tool, data)
        assert listing == b"good\n", tool
    got = _same_as_tools(data, tmp_path)
    assert got == {b"good": ("f", b"x")}
    assert names_two_ways(data) == [b"good"]
    [(m, _)] = list(TarReader(io.BytesIO(data)))
    if shape == "x-then-x-without-path":
        assert m.mtime_ns == 1600000000 * 10**9
        assert m.uid == 1000  # not from the first header either


@pytest.mark.parametrize(
    "first_pax",
    [True, False],
    ids=["x-then-L", "L-then-x"],
)
def test_a_long_name_and_a_different_pax_path_are_refused(tmp_path: Path, first_pax: bool) -> None:
    x, long = pax(record(b"path", b"by-pax")), gnu_long(b"by-gnu")
    data = archive(*((x, long) if first_pax else (long, x)), member(b"f", b"x"))
    # the references disagree: GNU tar takes the pax path, bsdtar the first, Go the long name
    listings = {tool_list(tool, data)[0] for tool in ("tar", "bsdtar")}
    if not first_pax:
        assert listings == {b"by-pax\n", b"by-gnu\n"}
    with pytest.raises(ArchiveError, match="GNU long name 'by-gnu' and its pax path 'by-pax' differ"):
        list(TarReader(io.BytesIO(data)))
    got = chute_ls(data, tmp=tmp_path)
    assert got.returncode == 1
    assert got.stderr.decode().startswith("chute: ")
    assert got.stderr.count(b"\n") == 1


@pytest.mark.parametrize("key", [b"path", b"linkpath", b"size", b"GNU.sparse.size"])
def test_a_global_header_cannot_name_or_size_every_member(tmp_path: Path, key: bytes) -> None:
    # GNU tar applies a global path to every later member; bsdtar and Go ignore it
    data = archive(pax(record(key, b"7"), b"g"), member(b"a", b"x"), member(b"b", b"y"))
    with pytest.raises(ArchiveError, match=f"'{key.decode()}' in a global header"):
        list(TarReader(io.BytesIO(data)))
    if key == b"path":
        assert tool_list("tar", data)[0] != tool_list("bsdtar", data)[0]


def test_a_global_header_gives_its_metadata_to_every_member() -> None:
    data = archive(
        pax(record(b"mtime", b"1500000000") + record(b"comment", b"v1"), b"g"),
        member(b"a", b"x"),
        pax(record(b"mtime", b""), b"g"),  # an empty value takes the key back (POSIX)
        member(b"b", b"y"),
    )
    got = [(m.name, m.mtime_ns) for m, _ in TarReader(io.BytesIO(data))]
    assert got == [("a", 1500000000 * 10**9), ("b", 1_700_000_000 * 10**9)]


# ----------------------------------------------------------------------------- malformed pax records

GOOD = record(b"mtime", b"1600000000")
MALFORMED = {
    "key-with-nul": record(b"pa\0th", b"evil"),
    "no-equals": b"12 pathevil\n",
    "empty-key": record(b"", b"evil"),
    "length-short": b"12 path=evil\n",
    "length-long": b"14 path=evil\nX",
    "length-not-a-number": b"1x path=evil\n",
    "length-signed": b"+13 path=evil\n",
    "length-leading-space": b" 13 path=evil\n",
    "length-zero": b"0 path=evil\n",
    "no-space-after-length": b"12path=evil\n",
    "record-cut": record(b"path", b"evil")[:-3],
    "junk-after-records": record(b"path", b"evil") + b"junk",
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_malformed_pax_records_are_refused(tmp_path: Path, shape: str) -> None:
    data = archive(member(b"first", b"1"), pax(GOOD + MALFORMED[shape]), member(b"good", b"x"))
    for tool in ("tar", "bsdtar"):  # both complain; all but GNU tar on an empty key exit non-zero
        done = tool_run(tool, data)
        assert done.stderr, tool
        assert done.returncode != 0 or (tool, shape) == ("tar", "empty-key")
    with pytest.raises(ArchiveError, match=r"^pax header at offset 1024: malformed record at byte \d+: "):
        list(TarReader(io.BytesIO(data)))
    got = chute_ls(data, tmp=tmp_path, name=b"bad.tar")
    assert got.returncode == 1
    assert got.stdout == b"first\n"  # what came before is listed
    [line] = got.stderr.decode().splitlines()
    assert line.startswith("chute: bad.tar: pax header at offset 1024: malformed record at byte ")
    assert "b'" not in line and "\\x" not in line


def test_nul_in_a_pax_name_value_is_refused() -> None:
    # GNU tar and bsdtar cut the name at the NUL, Go's archive/tar refuses it: refused here
    for key in (b"path", b"linkpath", b"uname", b"gname"):
        data = archive(pax(record(key, b"ev\0il")), member(b"f", b"x"))
        with pytest.raises(ArchiveError, match=f"NUL in the value of '{key.decode()}'"):
            list(TarReader(io.BytesIO(data)))
    data = archive(pax(record(b"comment", b"a\0b")), member(b"f", b"x"))
    assert [m.name for m, _ in TarReader(io.BytesIO(data))] == ["f"]


@pytest.mark.parametrize(("key", "value"), [(b"mtime", b"abc"), (b"uid", b"-5x"), (b"size", b"3x"), (b"gid", b"+5")])
def test_invalid_pax_numbers_are_refused(tmp_path: Path, key: bytes, value: bytes) -> None:
    data = archive(pax(record(key, value)), member(b"f", b"x"))
    assert tool_list("tar", data)[1] != 0  # GNU tar: "Malformed extended header: invalid ..."
    with pytest.raises(ArchiveError, match=re.escape(f"member at offset 0: invalid {key.decode()} '{value.decode()}'")):
        list(TarReader(io.BytesIO(data)))


def test_nul_padding_after_the_records_is_read_as_gnu_tar_does() -> None:
    data = archive(pax(record(b"path", b"good") + b"\0" * 5), member(b"f", b"x"))
    assert tool_list("tar", data) == (b"good\n", 0)
    assert names_two_ways(data) == [b"good"]


# a record list, and the bytes of the header that holds it
keys = st.one_of(
    st.sampled_from([b"path", b"linkpath", b"mtime", b"uid", b"SCHILY.xattr.user.x", b"comment"]),
    st.binary(min_size=1, max_size=12).filter(lambda k: b"=" not in k and b"\0" not in k),
)
values = st.binary(max_size=40).filter(lambda v: b"\0" not in v)
record_lists = st.lists(st.tuples(keys, values), max_size=6)


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(record_lists, st.integers(0, 6))
def test_pax_records_round_trip(recs: list[tuple[bytes, bytes]], padding: int) -> None:
    data = b"".join(record(k, v) for k, v in recs) + b"\0" * padding
    got = h.pax_records(data, "test")
    assert got == [(k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for k, v in recs]
    assert h.parse_pax(data, "test") == dict(got)


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(record_lists, st.data())
def test_damaged_pax_records_are_read_whole_or_refused(recs: list[tuple[bytes, bytes]], draw: Any) -> None:
    data = bytearray(b"".join(record(k, v) for k, v in recs))
    for _ in range(draw.draw(st.integers(1, 3))):
        what = draw.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw.draw(st.integers(0, len(data)))
        byte = draw.draw(st.sampled_from([0, 0x20, 0x3D, 0x0A, 0x30, 0x39, 0xFF]) | st.integers(0, 255))
        if what == "flip" and at < len(data):
            data[at] = byte
        elif what == "cut":
            del data[at:]
        elif what == "insert":
            data[at:at] = bytes([byte])
        elif at < len(data):
            del data[at]
    try:
        got = h.pax_records(bytes(data), "test")
    except ArchiveError as exc:
        assert str(exc).startswith("test: malformed record at byte ")
        return
    # accepted: every byte is accounted for by well-formed records, then NUL padding
    pos = 0
    for key, value in got:
        body = b" " + key.encode("utf-8", "surrogateescape") + b"=" + value.encode("utf-8", "surrogateescape") + b"\n"
        digits = bytes(data[pos : data.index(b" ", pos)])
        assert int(digits) == len(digits) + len(body)
        assert data[pos : pos + int(digits)] == digits + body
        assert b"\0" not in key.encode("utf-8", "surrogateescape")
        pos += int(digits)
    assert not data[pos:].strip(b"\0")


# ----------------------------------------------------------------------------- not a tar archive


def test_not_a_tar_archive_names_the_archive(tmp_path: Path) -> None:
    text = b"import os\nstatement\\ " * 60
    for name, data in (("notatar.py", text), ("x.gz", None), ("short.txt", b"hello\n")):
        path = tmp_path / name
        if data is None:
            need_tool("gzip")
            path.write_bytes(subprocess.run(["gzip", "-c"], input=text, capture_output=True, check=True).stdout)
        else:
            path.write_bytes(data)
        got = subprocess.run([*CHUTE, "ls", str(path)], capture_output=True, cwd=tmp_path)
        assert got.returncode == 1
        [line] = got.stderr.decode().splitlines()
        assert line.startswith(f"chute: {path}: not a tar archive")
        assert "b'" not in line


def test_a_garbage_numeric_field_is_a_bad_header_not_a_bytes_repr() -> None:
    block = bytearray(header(b"f", size=3))
    block[148:156] = b"atement\\"
    with pytest.raises(ArchiveError, match=r"^not a tar archive \(bad header checksum at offset 0\)$"):
        list(TarReader(io.BytesIO(bytes(block) + bytes(1536))))
    good = header(b"f", size=0)
    bad = bytearray(header(b"g", size=0, mtime=0))
    bad[136:148] = b"12x4\0       "
    bad[148:156] = b"%06o\0 " % (sum(bad[:148]) + 256 + sum(bad[156:]))
    data = archive(good, bytes(bad))
    with pytest.raises(ArchiveError, match=r"^header at offset 512: invalid number '12x4") as exc:
        list(TarReader(io.BytesIO(data)))
    assert "b'" not in str(exc.value)
    # GNU tar: "Archive contains '12x4' where numeric time_t value expected" (bsdtar reads
    # such a field up to the first non-digit, past the first header)
    assert tool_list("tar", data)[1] != 0


def test_errors_quote_names_never_as_surrogates(tmp_path: Path) -> None:
    data = member(b"caf\x83\n", b"x" * 1000)[:900]
    got = chute_ls(data, tmp=tmp_path, name=b"t\x83.tar")
    assert got.returncode == 1
    err = got.stderr.decode()
    assert "\\udc" not in err and "\udc83" not in err
    assert err == "chute: t\\203.tar: caf\\203\\n: archive ends inside the member's data or padding\n"


# ----------------------------------------------------------------------------- names(): the fast listing path


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1, max_size=30).filter(lambda n: b"\0" not in n),
            st.sampled_from([b"0", b"\0", b"5", b"1", b"2", b"7", b"3", b"6", b"D", b"Z"]),
            st.binary(max_size=1100),
            st.sampled_from(["ustar", "gnu", "v7"]),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_names_agree_with_the_general_path(members: list[tuple[bytes, bytes, bytes, str]], through_pax: bool) -> None:
    parts = []
    for name, kind, data, magic in members:
        if through_pax:
            parts.append(pax(record(b"path", name)))
        parts.append(member(name, data, kind, magic=magic))
    data = archive(*parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        # data after a header of a type that has none, or after a name ending in "/", is
        # read as the next header: then both paths stop at the same error
        general = _read_names(m.name.encode("utf-8", "surrogateescape") for m, _ in TarReader(io.BytesIO(data)))
        assert _read_names(TarReader(io.BytesIO(data)).names()) == general


# pieces of names: printable ASCII, controls, the backslash, bytes that are not UTF-8, and
# printable UTF-8 (GNU tar and chute agree on all of these; see chute.quoting)
name_pieces = st.sampled_from(
    [
        *(b"a", b"Z", b" ", b"~", b".", b"-", b"\\", b"\n", b"\t", b"\r", b"\x01", b"\x1b", b"\x7f"),
        *(b"\x80", b"\x83", b"\xbf", b"\xc3", b"\xff", "é".encode(), "日".encode(), "ß".encode()),
    ]
)


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.lists(name_pieces, min_size=1, max_size=8).map(b"".join), min_size=1, max_size=5))
def test_random_names_list_as_gnu_tar_lists_them(names: list[bytes]) -> None:
    data = archive(*(member(b"n%d-" % i + n, b"x") for i, n in enumerate(names)))
    expected, status = tool_list("tar", data)
    assert status == 0
    done = subprocess.run([*CHUTE, "ls", "-"], input=data, capture_output=True, env=UTF8)
    assert done.returncode == 0
    assert done.stdout == expected


def test_the_extraction_fast_path_steps_aside_for_these_shapes() -> None:
    from chute.tar.extract import _usual_header

    # the first header of each: a folder by its slash alone, a dumpdir, an unknown type,
    # an extended header (x, X, L): each must take the general path
    shapes = [*V7_DIRS.values(), *REPEATED.values()]
    shapes += [
        member(b"d/", b"Nf\0\0", b"D", magic="gnu"),
        member(b"f", b"acl", b"A"),
        pax(record(b"path", b"p"), b"X"),
        header(b"d/", b"\0", magic="gnu"),
        header(b"d/", b"7"),
    ]
    for data in shapes:
        assert _usual_header(data[:512]) is None, data[:100]
    assert _usual_header(header(b"d/", b"5")) is not None  # a plain folder still takes it
