"""Indexes of other tools, both ways: indexed_gzip, gztool, rapidgzip and bgzip's .gzi read
by chute, chute's indexes written for indexed_gzip and gztool and used by them
(chute.codecs.gzindex_foreign, chute.parallel.gzindex import_index / export_index)."""

from __future__ import annotations

import hashlib
import io
import random
import re
import subprocess
from pathlib import Path

import pytest
from conftest import examples, text_like, tool_path
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs import gzindex_foreign as foreign
from chute.errors import ChuteError, IndexFileError
from chute.parallel.gzindex import IndexedGzipReader, build_index, export_index, import_index


def gz(data: bytes, tool: str = "gzip", level: str = "-6") -> bytes:
    return subprocess.run([tool_path(tool), level, "-c", "-n"], input=data, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, bytes]:
    """A gzip file of three members (gzip, pigz, gzip -1) and its decoded bytes."""
    parts = [
        text_like(1_500_000, 1),
        random.Random(2).randbytes(300_000) + text_like(700_000, 3),
        text_like(900_000, 4),
    ]
    path = tmp_path_factory.mktemp("foreign") / "three.gz"
    path.write_bytes(gz(parts[0]) + gz(parts[1], "pigz") + gz(parts[2], level="-1"))
    plain = subprocess.run([tool_path("gzip"), "-dc", str(path)], capture_output=True, check=True).stdout
    assert plain == b"".join(parts)
    return path, plain


def assert_reads(path: Path, index, plain: bytes, n: int = 25) -> None:
    rnd = random.Random(len(plain))
    with open(path, "rb") as fp, IndexedGzipReader(fp, index) as f:
        for at in [0, len(plain) - 1, *(rnd.randrange(len(plain)) for _ in range(n))]:
            f.seek(at)
            assert f.read(20_000) == plain[at : at + 20_000], at


def imported(path: Path, data: bytes, fmt: str | None = None):
    kind = fmt or foreign.detect(data)
    assert kind is not None
    with open(path, "rb") as fp:
        return import_index(fp, foreign.parse(data, kind))


def test_indexed_gzip_index_read_by_chute(sample, tmp_path) -> None:
    igz = pytest.importorskip("indexed_gzip", reason="indexed_gzip is not installed")
    path, plain = sample
    with igz.IndexedGzipFile(str(path), spacing=256 << 10) as f:
        f.build_full_index()
        f.export_index(str(tmp_path / "x.gzidx"))
    data = (tmp_path / "x.gzidx").read_bytes()
    assert foreign.detect(data) == "indexed_gzip"
    parsed = foreign.parse(data, "indexed_gzip")
    index = imported(path, data)
    assert index.spacing == 256 << 10 and len(index.checkpoints) >= len(parsed.points) - 3
    assert_reads(path, index, plain)


def test_chute_index_read_by_indexed_gzip(sample, tmp_path) -> None:
    igz = pytest.importorskip("indexed_gzip", reason="indexed_gzip is not installed")
    path, plain = sample
    with open(path, "rb") as fp:
        index = build_index(fp, spacing=256 << 10)
        fp.seek(0)
        (tmp_path / "x.gzidx").write_bytes(export_index(fp, index, "indexed_gzip"))
    rnd = random.Random(5)
    with igz.IndexedGzipFile(str(path), index_file=str(tmp_path / "x.gzidx")) as f:
        assert f.seek(0, io.SEEK_END) == len(plain)  # the index tells the size: nothing decoded to find it
        for at in [cp.out for cp in index.checkpoints] + [rnd.randrange(len(plain)) for _ in range(20)]:
            f.seek(at)
            assert f.read(20_000) == plain[at : at + 20_000], at


def test_gztool_index_read_by_chute(sample, tmp_path) -> None:
    path, plain = sample
    idx = tmp_path / "x.gzi"
    subprocess.run([tool_path("gztool"), "-s", "1", "-I", str(idx), "-i", str(path)], capture_output=True, check=True)
    data = idx.read_bytes()
    assert foreign.detect(data) == "gztool"
    assert_reads(path, imported(path, data), plain)


def test_chute_index_used_by_gztool(sample, tmp_path) -> None:
    path, plain = sample
    idx = tmp_path / "x.gzi"
    with open(path, "rb") as fp:
        index = build_index(fp, spacing=256 << 10)
        fp.seek(0)
        idx.write_bytes(export_index(fp, index, "gztool"))
    before = hashlib.sha256(idx.read_bytes()).digest()
    listed = subprocess.run([tool_path("gztool"), "-l", "-I", str(idx)], capture_output=True, text=True)
    assert re.search(rf"Number of index points *: {len(index.checkpoints)}\n", listed.stdout), listed.stdout
    assert f"({len(plain)} Bytes)" in listed.stdout
    rnd = random.Random(6)
    for at in [0, index.checkpoints[-1].out + 5, *(rnd.randrange(len(plain)) for _ in range(6))]:
        got = subprocess.run(
            [tool_path("gztool"), "-I", str(idx), "-b", str(at), str(path)], capture_output=True, check=True
        ).stdout
        assert got == plain[at:], at
    assert hashlib.sha256(idx.read_bytes()).digest() == before  # used as it was, not rebuilt


def test_rapidgzip_indexes_read_by_chute(sample, tmp_path) -> None:
    rapidgzip = pytest.importorskip("rapidgzip", reason="rapidgzip is not installed")
    path, plain = sample
    for fmt, kind in [(rapidgzip.IndexFormat.INDEXED_GZIP, "indexed_gzip"), (rapidgzip.IndexFormat.GZTOOL, "gztool")]:
        out = tmp_path / f"rg.{kind}"
        with rapidgzip.RapidgzipFile(str(path), parallelization=1, chunk_size=256 << 10) as f:
            f.read()
            f.export_index(str(out), fmt)
        data = out.read_bytes()
        assert foreign.detect(data) == kind
        assert_reads(path, imported(path, data), plain, 10)


def test_bgzip_gzi_read_by_chute(tmp_path) -> None:
    plain = text_like(2_000_000, 7)
    src = tmp_path / "data"
    src.write_bytes(plain)
    subprocess.run([tool_path("bgzip"), "-i", "-k", str(src)], check=True)
    path, gzi = tmp_path / "data.gz", tmp_path / "data.gz.gzi"
    data = gzi.read_bytes()
    assert foreign.detect(data) == "gzi"
    index = imported(path, data)
    assert len(index.checkpoints) == 1 + int.from_bytes(data[:8], "little")
    assert_reads(path, index, plain)


@settings(max_examples=examples(40), deadline=None)
@given(st.data())
def test_a_damaged_foreign_index_is_refused_or_harmless(sample, data: st.DataObject) -> None:
    """Flipped bytes in another tool's index: refused, or (a window byte: chute takes its
    windows from the decode) an index that still reads right. Never wrong bytes."""
    path, plain = sample
    with open(path, "rb") as fp:
        index = build_index(fp, spacing=512 << 10)
        fp.seek(0)
        kind = data.draw(st.sampled_from(["indexed_gzip", "gztool"]))
        raw = bytearray(export_index(fp, index, kind))
    for at in data.draw(st.sets(st.integers(0, len(raw) - 1), min_size=1, max_size=2)):
        raw[at] ^= data.draw(st.integers(1, 255))
    try:
        back = imported(path, bytes(raw), kind)
    except ChuteError:
        return
    assert_reads(path, back, plain, 3)


def test_points_that_are_not_starting_places_are_refused(sample) -> None:
    path, _ = sample
    with open(path, "rb") as fp:
        index = build_index(fp, spacing=512 << 10)
    points = [foreign.Point(cp.bit, cp.out) for cp in index.checkpoints]
    cp = index.checkpoints[2]
    for wrong in (foreign.Point(cp.bit + 1, cp.out), foreign.Point(cp.bit, cp.out + 1)):
        bad = foreign.Foreign("gztool", [*points[:2], wrong, *points[3:]])
        with open(path, "rb") as fp, pytest.raises(IndexFileError, match="does not match"):
            import_index(fp, bad)


def test_foreign_round_trips() -> None:
    points = [foreign.Point(80, 0), foreign.Point(8 * 1000 + 3, 70_000, bytes(range(256)) * 128)]
    for kind in ("indexed_gzip", "gztool"):
        back = foreign.parse(foreign.write(foreign.Foreign(kind, points, 5000, 99_999, 65536)), kind)
        assert [(p.bit, p.out) for p in back.points] == [(p.bit, p.out) for p in points]
        assert back.points[1].window == points[1].window and back.out_size == 99_999
    with pytest.raises(IndexFileError):
        foreign.parse(b"GZIDX\x01\x00" + bytes(10), "indexed_gzip")
    assert foreign.gzip_header_size(b"\x1f\x8b\x08\x08" + bytes(6) + b"name\0rest") == 15
    assert foreign.gzip_header_size(b"\x1f\x8b\x08\x1e" + bytes(6) + b"\x02\x00ab" + b"n\0c\0" + b"xx") == 20
