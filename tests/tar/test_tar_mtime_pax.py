"""A pax header that gives only the mtime (chute writes one before every member) is read
on the short paths of ``TarReader.names()`` and ``Extractor.extract_all``: the member
after it is listed and extracted as the general path does, errors included, and the
general path is left to anything else (other records, damage, a cut archive).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tar_extract_all import _general, _outcome

from chute.errors import ChuteError
from chute.streams.readahead import ReadAhead
from chute.tar import header as h
from chute.tar.extract import Extractor, extract
from chute.tar.header import Member
from chute.tar.reader import TarReader
from chute.tar.writer import TarWriter

T0 = 1_600_000_000


def _block(name: str, kind: bytes, size: int = 0, mode: int = 0o644) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.mtime = kind, size, mode, T0
    return ti.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def _pax(records: bytes, kind: bytes = b"x") -> bytes:
    return _block("PaxHeaders/f", kind, len(records)) + _padded(records)


def _record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    n = len(body) + 1
    n = len(body) + len(str(n))
    return str(n).encode() + body


def _file(name: str, data: bytes = b"") -> bytes:
    return _block(name, tarfile.REGTYPE, len(data)) + _padded(data)


END = bytes(1024)


def _with_checksum(data: bytes, form: bytes, signed: bool = False) -> bytes:
    """``data`` with the checksum of its first block rewritten in ``form`` (summing the
    bytes as signed chars if ``signed``, as some old tars did)."""
    block = data[:148] + b" " * 8 + data[156:512]
    total = sum(b - 256 if signed and b > 127 else b for b in block)
    return data[:148] + form % total + data[156:]


MTIME = _record("mtime", "1600000000.123456789")


def _chute_archive() -> bytes:
    """What chute's own writer makes: a pax mtime header before each member."""
    buf = io.BytesIO()
    w = TarWriter(buf)
    w.add(Member(name="d", type=h.DIRECTORY, mode=0o750, mtime_ns=T0 * 10**9 + 5))
    for i, size in enumerate((0, 1, 511, 512, 513, 5000)):
        w.add_bytes(f"d/f{i}", bytes([65 + i]) * size, mtime=T0 + i + 0.25)
    w.add_bytes("top", b"t", mtime=T0 + 0.5)
    w.close()
    return buf.getvalue()


def _listed_two_ways(data: bytes, through: str = "buffered") -> tuple[list[bytes], str | None]:
    """Names by ``names()`` and by the general path, checked equal, with the error if any."""

    def run(fast: bool) -> tuple[list[bytes], str | None]:
        fp: Any = io.BytesIO(data) if through == "buffered" else ReadAhead(io.BytesIO(data), chunk_size=700, depth=2)
        got: list[bytes] = []
        reader = TarReader(fp)
        it = reader.names() if fast else (m.name.encode("utf-8", "surrogateescape") for m, _ in reader)
        try:
            for name in it:
                got.append(name)
        except ChuteError as exc:
            return got, f"{type(exc).__name__}: {exc}"
        finally:
            if isinstance(fp, ReadAhead):
                fp.close()
        return got, None

    fast = run(True)
    assert fast == run(False)
    return fast


def _extracted_two_ways(data: bytes, through: str = "buffered") -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        fast = _outcome(extract, data, Path(tmp, "fast"), through)
        general = _outcome(_general, data, Path(tmp, "general"), through)
    assert fast == general
    return fast


@pytest.fixture
def general_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``"member"`` for each header the reader's general path decoded, ``"extract"`` for
    each member that went through ``extract_member``."""
    seen: list[str] = []
    member, extract_member = TarReader._member, Extractor.extract_member

    def spy_member(self: TarReader, *args: Any) -> Any:
        seen.append("member")
        return member(self, *args)

    def spy_extract(self: Extractor, m: Member, data: Any) -> None:
        seen.append("extract")
        extract_member(self, m, data)

    monkeypatch.setattr(TarReader, "_member", spy_member)
    monkeypatch.setattr(Extractor, "extract_member", spy_extract)
    return seen


def test_chute_archives_take_the_short_paths(tmp_path: Path, general_calls: list[str]) -> None:
    data = _chute_archive()
    names, error = _listed_two_ways(data)
    assert error is None and names == [b"d"] + [b"d/f%d" % i for i in range(6)] + [b"top"]
    general_calls.clear()
    assert list(TarReader(io.BytesIO(data)).names()) == names
    assert general_calls == ["member"]  # the end of the archive alone
    general_calls.clear()
    stats = extract(io.BytesIO(data), tmp_path / "t")
    assert general_calls == ["member"] and stats.members == 8
    assert (tmp_path / "t" / "d" / "f5").read_bytes() == b"F" * 5000
    # the pax time, not the header's whole seconds (the writer rounds the float to ns)
    assert abs((tmp_path / "t" / "d" / "f2").stat().st_mtime_ns - (T0 + 2.25) * 10**9) < 1000
    assert (tmp_path / "t" / "d").stat().st_mtime_ns == T0 * 10**9 + 5
    assert _extracted_two_ways(data)[0].members == 8


@pytest.mark.skipif(subprocess.run(["which", "tar"], capture_output=True).returncode, reason="GNU tar not installed")
def test_gnu_tar_reads_the_same_tree(tmp_path: Path) -> None:
    """The mtimes the short path sets are those GNU tar sets from the same pax records."""
    data = _chute_archive()
    (tmp_path / "by-tar").mkdir()
    subprocess.run(["tar", "-xf", "-", "-C", str(tmp_path / "by-tar")], input=data, check=True)
    extract(io.BytesIO(data), tmp_path / "by-chute")
    for rel in ("d", "d/f0", "d/f3", "d/f5", "top"):
        tar_st, chute_st = (tmp_path / "by-tar" / rel).stat(), (tmp_path / "by-chute" / rel).stat()
        assert (chute_st.st_mtime_ns, chute_st.st_size) == (tar_st.st_mtime_ns, tar_st.st_size), rel


VARIANTS = {
    "mtime": _pax(MTIME) + _file("a", b"x" * 700),
    "mtime-folder": _pax(MTIME) + _block("a", tarfile.DIRTYPE),
    "mtime-negative": _pax(_record("mtime", "-5.5")) + _file("a", b"x"),
    "mtime-no-fraction": _pax(_record("mtime", "1600000000")) + _file("a", b"x"),
    "mtime-empty-fraction": _pax(_record("mtime", "1600000000.")) + _file("a", b"x"),
    "mtime-long-fraction": _pax(_record("mtime", "1.1234567891234")) + _file("a", b"x"),
    "mtime-invalid": _pax(_record("mtime", "1e5")) + _file("a", b"x"),
    "mtime-empty": _pax(_record("mtime", "")) + _file("a", b"x"),
    "mtime-plus": _pax(_record("mtime", "+5")) + _file("a", b"x"),
    "length-wrong": _pax(b"31 mtime=1600000000.123456789\n") + _file("a", b"x"),
    "length-zero-led": _pax(b"030 mtime=1600000000.12345678\n") + _file("a", b"x"),
    "padding-in-size": _pax(MTIME + b"\0\0") + _file("a", b"x"),
    "other-key": _pax(_record("atime", "5")) + _file("a", b"x"),
    "path": _pax(_record("path", "renamed")) + _file("a", b"x"),
    "mtime-and-path": _pax(MTIME + _record("path", "renamed")) + _file("a", b"x"),
    "size": _pax(MTIME + _record("size", "3")) + _file("a", b"xyz"),
    "long-records": _pax(MTIME + _record("comment", "c" * 600)) + _file("a", b"x"),
    "global": _pax(MTIME, b"g") + _pax(MTIME) + _file("a", b"x"),
    "two-pax": _pax(_record("path", "renamed")) + _pax(MTIME) + _file("a", b"x"),
    "pax-then-pax": _pax(MTIME) + _pax(_record("path", "renamed")) + _file("a", b"x"),
    "then-symlink": _pax(MTIME) + _block("l", tarfile.SYMTYPE),
    "then-dotdot": _pax(MTIME) + _file("../a", b"x"),
    "then-dot-slash": _pax(MTIME) + _file("./a", b"x"),
    "then-bad-checksum": _pax(MTIME) + _file("a", b"x")[:148] + b"0000000\0" + _file("a", b"x")[156:],
    "then-end": _pax(MTIME),
    "bad-pax-checksum": _pax(MTIME)[:148] + b"0000000\0" + _pax(MTIME)[156:] + _file("a", b"x"),
    "bad-pax-checksum-usual-form": _pax(MTIME)[:148] + b"000001\0 " + _pax(MTIME)[156:] + _file("a", b"x"),
    "pax-checksum-other-form": _with_checksum(_pax(MTIME), b"%07o\0") + _file("a", b"x"),
    "pax-checksum-signed": _with_checksum(_pax(MTIME)[:5] + b"\xe9" + _pax(MTIME)[6:], b"%06o\0 ", signed=True)
    + _file("a", b"x"),
}


@pytest.mark.filterwarnings("ignore::chute.errors.ArchiveWarning")
@pytest.mark.parametrize("through", ["buffered", "readahead"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_same_as_the_general_path(variant: str, through: str) -> None:
    data = _file("first", b"1") + VARIANTS[variant] + _file("last", b"2") + END
    _listed_two_ways(data, through)
    _extracted_two_ways(data, through)


@pytest.mark.parametrize("plain", [False, True], ids=["chute", "plain-ustar"])
@pytest.mark.parametrize("through", ["buffered", "readahead"])
def test_cut_anywhere_same_as_the_general_path(through: str, plain: bool) -> None:
    """An archive cut at every block boundary and inside blocks: the same names, files
    and error as the general path (no member is taken whole when its data is cut; a
    member whose data is cut is still listed, then the error)."""
    data = _file("a", b"x" * 700) + _file("b", b"y") + END if plain else _chute_archive()
    cuts = sorted({*range(0, len(data), 512), *range(100, len(data), 512), *range(530, len(data), 1024)})
    for cut in cuts:
        _listed_two_ways(data[:cut], through)
        _extracted_two_ways(data[:cut], through)


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(0, 8 * 512 - 1), st.integers(1, 255), st.sampled_from(["buffered", "readahead"]))
def test_damage_same_as_the_general_path(where: int, xor: int, through: str) -> None:
    data = bytearray(_chute_archive())
    data[where] ^= xor
    _listed_two_ways(bytes(data), through)
    _extracted_two_ways(bytes(data), through)


_PIECES = {
    "file": _file("a", b"x" * 700),
    "empty": _file("e"),
    "folder": _block("d/", tarfile.DIRTYPE),
    "mtime": _pax(MTIME) + _file("m", b"y" * 300),
    "mtime-invalid": _pax(_record("mtime", "1e5")) + _file("a", b"x"),
    "other-record": _pax(_record("path", "p")) + _file("q", b"z"),
    "global": _pax(_record("comment", "c"), b"g"),
    "long-name": tarfile.TarInfo("n" * 150).tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"),
    "symlink": _block("s", tarfile.SYMTYPE),
}


@settings(max_examples=examples(80), deadline=None)
@given(
    st.lists(st.sampled_from(sorted(_PIECES)), max_size=12),
    st.integers(512, 5000),
    st.integers(0, 3000),
    st.booleans(),
)
def test_names_read_in_chunks_same_as_the_general_path(pieces: list[str], chunk: int, cut: int, end: bool) -> None:
    """From a ReadAhead, names() reads the headers inside each decoded chunk in place: for
    any chunk size, member mix (pax, GNU, global headers...) and cut, the same names and
    the same error as the general path, and extraction still agrees."""
    data = b"".join(_PIECES[p] for p in pieces) + (END if end else b"")
    data = data[: len(data) - cut] if cut < len(data) else data

    def run(fast: bool) -> tuple[list[bytes], str | None]:
        got: list[bytes] = []
        with ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2) as fp:
            reader = TarReader(fp)
            it = reader.names() if fast else (m.name.encode("utf-8", "surrogateescape") for m, _ in reader)
            try:
                got.extend(it)
            except ChuteError as exc:
                return got, f"{type(exc).__name__}: {exc}"
        return got, None

    assert run(True) == run(False)


@pytest.mark.parametrize("chunk", [512, 1024, 1536, 4096, 65536])
def test_chute_archive_names_in_chunks(chunk: int) -> None:
    """chute's own archive (a pax mtime header before each member) read in chunks of
    every shape: the names, in order, with the offsets of later errors right."""
    data = _padded(_chute_archive().rstrip(b"\0"))  # without its end blocks
    with ReadAhead(io.BytesIO(data + END), chunk_size=chunk, depth=2) as fp:
        names = list(TarReader(fp).names())
    assert names == [b"d", *(b"d/f%d" % i for i in range(6)), b"top"]
    broken = data + b"\xff" * 512  # a header that is not one: its offset named
    where = f"offset {len(data)}"
    with ReadAhead(io.BytesIO(broken), chunk_size=chunk, depth=2) as fp, pytest.raises(ChuteError, match=where):
        list(TarReader(fp).names())


@given(
    st.one_of(
        st.binary(max_size=40),
        st.builds(
            lambda length, value: length + b" mtime=" + value + b"\n",
            st.sampled_from([b"", b"0", b"07", b"12", b"20", b"21", b"22", b"x"]),
            st.text(alphabet="-+.0123456789e \x00", max_size=14).map(str.encode),
        ),
    )
)
def test_lone_mtime_only_where_the_general_parser_agrees(record: bytes) -> None:
    """What the short paths take as a lone mtime record is exactly what ``pax_records`` and
    the general path's time parser read from it."""
    from chute.tar.reader import _lone_mtime, _parse_time

    got = _lone_mtime(record)
    if got is None:
        return
    records = h.pax_records(record, "test")
    assert [k for k, _ in records] == ["mtime"]
    assert _parse_time(records[0][1]) == got


@pytest.mark.parametrize("chunk", [1, 5, 7, 100])
def test_readahead_skip_passes_over_without_reading_out(chunk: int) -> None:
    data = bytes(range(256)) * 3
    with ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2) as ra:
        assert ra.read(3) == data[:3]
        assert ra.skip(500) == 500
        assert ra.read(10) == data[503:513]
        assert ra.skip(1000) == len(data) - 513  # fewer only at the end
        assert ra.read(1) == b""


@pytest.mark.parametrize("value", ["9" * 40, "-" + "9" * 40, str(1 << 63)])
def test_mtime_out_of_range_is_one_line(tmp_path: Path, value: str) -> None:
    """An mtime os.utime cannot take (seconds beyond a 64-bit time_t) is a malformed
    header: one line naming the archive, not a traceback, on the short path and the general one."""
    import subprocess
    import sys

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("f")
        ti.size = 1
        ti.pax_headers = {"mtime": value}
        tf.addfile(ti, io.BytesIO(b"x"))
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    for cmd in (["unpack", "a.tar", "-C", "out"], ["ls", "-l", "a.tar"]):
        r = subprocess.run([sys.executable, "-m", "chute", *cmd], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("chute: a.tar: ") and "invalid mtime" in r.stderr and r.stderr.count("\n") == 1
