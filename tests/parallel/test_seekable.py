"""Seekable output: zstd seekable format and BGZF gzip (chute.parallel.seekable, chute.parallel.jobs)."""

from __future__ import annotations

import io
import os
import struct
import subprocess

import pytest
from conftest import examples, tool_path
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.api.functions import read_range
from chute.parallel.jobs import BGZF_EOF
from chute.parallel.seekable import SeekableReader
from chute.parallel.split import SEEKABLE_MAGIC, find_index

DATA = os.urandom(50_000) + b"".join(b"line %d of the log\n" % i for i in range(40_000))
BLOCKS = {"zstd": 20_000, "gzip": 7_000}


def write(path, fmt: str, data: bytes = DATA, threads: int = 2, **opts: object) -> None:
    with chute.open(path, "wb", format=fmt, threads=threads, seekable=True, **opts) as f:
        f.write(data)


@pytest.fixture(scope="module", params=["zstd", "gzip"])
def seekable_file(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("seek") / f"data.{request.param}"
    write(path, request.param, block_size=BLOCKS[request.param])
    return path


@pytest.mark.interop
@pytest.mark.parametrize("fmt,tool", [("zstd", "zstd"), ("gzip", "gzip")])
@pytest.mark.parametrize("threads", [None, 1, 2, 4])
@pytest.mark.parametrize("size", [0, 1, 65280, 65280 * 16, 200_000])
def test_plain_tools_decode_seekable_files(tmp_path, fmt: str, tool: str, threads: int | None, size: int) -> None:
    path = tmp_path / "f"
    data = DATA[:size]
    write(path, fmt, data, threads)  # type: ignore[arg-type]
    assert subprocess.run([tool, "-dc", str(path)], capture_output=True, check=True).stdout == data
    with chute.open(path) as f:
        assert isinstance(f, SeekableReader)
        assert f.read() == data


def test_zstd_layout_follows_the_spec(tmp_path) -> None:
    path = tmp_path / "f.zst"
    write(path, "zstd", DATA[:100_000], block_size=30_000)
    blob = path.read_bytes()
    count, desc, magic = struct.unpack("<IBI", blob[-9:])
    assert magic == SEEKABLE_MAGIC and desc == 0 and count == 4
    table = 8 + 8 * count + 9
    assert struct.unpack("<II", blob[-table : -table + 8]) == (0x184D2A5E, table - 8)
    sizes = [struct.unpack_from("<II", blob, len(blob) - table + 8 + 8 * i) for i in range(count)]
    assert [d for _, d in sizes] == [30_000, 30_000, 30_000, 10_000]
    assert sum(c for c, _ in sizes) + table == len(blob)


def test_bgzf_layout(tmp_path) -> None:
    path = tmp_path / "f.gz"
    write(path, "gzip", DATA[:200_000])
    blob = path.read_bytes()
    assert blob.endswith(BGZF_EOF)
    assert blob[:4] == b"\x1f\x8b\x08\x04" and blob[12:14] == b"BC"
    bsize = struct.unpack_from("<H", blob, 16)[0] + 1
    assert blob[bsize : bsize + 2] == b"\x1f\x8b"  # the next member starts where BSIZE says
    with open(path, "rb") as f:
        index = find_index(f)
    assert index is not None and index.size == 200_000 and len(index.offsets) == 6  # 4 members, EOF, total


@settings(max_examples=examples(60), deadline=None)
@given(ops=st.lists(st.tuples(st.integers(0, len(DATA) + 100), st.integers(0, 50_000)), min_size=1, max_size=8))
def test_random_seeks_equal_slices(seekable_file, ops) -> None:
    with chute.open(seekable_file) as f:
        assert f.seekable()
        for pos, n in ops:
            assert f.seek(pos) == pos
            assert f.read(n) == DATA[pos : pos + n]
            assert f.tell() == min(pos + n, max(pos, len(DATA))) or pos > len(DATA)


def test_seek_from_end_and_current(seekable_file) -> None:
    with chute.open(seekable_file) as f:
        f.seek(-10, io.SEEK_END)
        assert f.read() == DATA[-10:]
        f.seek(100)
        f.seek(50, io.SEEK_CUR)
        assert f.read(5) == DATA[150:155]


def test_seek_decodes_one_frame(seekable_file, monkeypatch) -> None:
    import chute.parallel.seekable as mod

    calls = []
    real = mod.decode_frame
    monkeypatch.setattr(mod, "decode_frame", lambda *a: calls.append(1) or real(*a))
    with chute.open(seekable_file) as f:
        f.seek(len(DATA) - 1000)
        assert f.read(100) == DATA[-1000:-900]
    assert len(calls) == 1


@pytest.mark.parametrize("start,end", [(0, 0), (0, 10), (12_345, 98_765), (len(DATA) - 5, len(DATA) + 100)])
def test_read_range(seekable_file, tmp_path, start: int, end: int) -> None:
    out = io.BytesIO()
    assert read_range(seekable_file, start, end, out) == len(DATA[start:end])
    assert out.getvalue() == DATA[start:end]
    plain = tmp_path / "plain.xz"
    plain.write_bytes(chute.compress(DATA, "xz"))  # not seekable: decoded from the start
    out = io.BytesIO()
    read_range(plain, start, end, out)
    assert out.getvalue() == DATA[start:end]


def test_text_mode(tmp_path) -> None:
    path = tmp_path / "t.zst"
    write(path, "zstd", b"alpha\nbeta\n")
    with chute.open(path, "rt") as f:
        assert f.read() == "alpha\nbeta\n"


def test_truncated_seekable_file_is_not_trusted(tmp_path) -> None:
    path = tmp_path / "t.zst"
    write(path, "zstd", DATA, block_size=20_000)
    path.write_bytes(path.read_bytes()[:-1])
    with open(path, "rb") as f:
        assert find_index(f) is None  # no seek table: the plain reader reports the damage
    with chute.open(path) as r:
        assert r.read() == DATA  # every frame is whole: the cut is in the seek table
        with pytest.raises(chute.errors.ChuteError):
            r.read()


def test_plain_zstd_written_by_other_tools_is_not_indexed(tmp_path) -> None:
    path = tmp_path / "p.zst"
    path.write_bytes(chute.compress(DATA, "zstd"))
    with chute.open(path) as f:
        assert not isinstance(f, SeekableReader)
        assert f.read() == DATA


def _bgzf_blob(tmp_path) -> bytearray:
    path = tmp_path / "b.gz"
    write(path, "gzip", DATA[:200_000])
    return bytearray(path.read_bytes())


@pytest.mark.parametrize("where", ["crc", "isize_small", "data"])
def test_damaged_bgzf_member_is_an_error(tmp_path, where: str) -> None:
    blob = _bgzf_blob(tmp_path)
    end = struct.unpack_from("<H", blob, 16)[0] + 1  # the first member's length
    if where == "crc":
        blob[end - 8] ^= 1
    elif where == "isize_small":
        struct.pack_into("<I", blob, end - 4, 65_000)  # still BGZF-sized, but a lie
    else:
        blob[end // 2] ^= 0xFF
    path = tmp_path / "bad.gz"
    path.write_bytes(blob)
    with pytest.raises(chute.errors.CorruptStreamError), chute.open(path) as f:
        f.seek(100)
        f.read(10)
    with pytest.raises(chute.errors.CorruptStreamError):
        chute.decompress(bytes(blob))


def test_bgzf_trailer_claiming_more_than_64k_is_not_indexed(tmp_path) -> None:
    # a reader trusting ISIZE would allocate what the file claims (up to 4 GiB per member)
    blob = _bgzf_blob(tmp_path)
    end = struct.unpack_from("<H", blob, 16)[0] + 1
    struct.pack_into("<I", blob, end - 4, 0xFFFF_FFF0)
    path = tmp_path / "liar.gz"
    path.write_bytes(blob)
    with open(path, "rb") as f:
        assert find_index(f) is None
    with chute.open(path) as f:
        f.read()  # what the members before the lie hold (the lie is in the first one)
        with pytest.raises(chute.errors.ChuteError):
            f.read()


@pytest.mark.parametrize("kind", ["zstd", "gzip", "gzip index"])
@pytest.mark.parametrize("owns", [True, False])
def test_indexed_readers_are_read_only_files_that_close_what_they_own(tmp_path, kind: str, owns: bool) -> None:
    """The seek-table reader and the gzip-index reader: named, mode rb, reading from where
    the file stood when opened, closing the file only when they own it."""
    from chute.parallel.gzindex import IndexedGzipReader, build_index

    path = tmp_path / "f"
    prefix = b"not part of it"
    if kind == "gzip index":
        gz = subprocess.run([tool_path("gzip"), "-c"], input=DATA, capture_output=True, check=True).stdout
        path.write_bytes(prefix + gz)
    else:
        with open(path, "wb") as f:
            f.write(prefix)
            write(f, kind, block_size=BLOCKS[kind])
    fp = open(path, "rb")  # noqa: SIM115 - the reader closes it or not: that is the test
    fp.seek(len(prefix))
    if kind == "gzip index":
        index = build_index(fp)
        fp.seek(len(prefix))
        reader: io.BufferedReader = IndexedGzipReader(fp, index, owns_fp=owns, name="f.gz")
    else:
        seek_index = find_index(fp)
        assert seek_index is not None
        reader = SeekableReader(fp, seek_index, owns_fp=owns, name="f.gz")
    assert (reader.name, reader.mode, reader.format) == ("f.gz", "rb", kind.split()[0])  # type: ignore[attr-defined]
    assert reader.seek(-10, io.SEEK_END) == len(DATA) - 10 and reader.read() == DATA[-10:]
    reader.seek(100)
    assert reader.read(50) == DATA[100:150]
    reader.close()
    assert reader.closed and fp.closed == owns
    fp.close()
