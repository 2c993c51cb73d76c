"""Sparse members: read right from every map format GNU tar and bsdtar write, written back
with holes (time and disk use follow the data, not the apparent size), and read as a stream
with zeros in the holes."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chute.errors import ArchiveError
from chute.tar import extract_archive
from chute.tar.extract import extract
from chute.tar.reader import TarReader
from chute.tar.safety import Limits

# data written at these offsets of a file of SIZE bytes, the rest holes
SIZE = 10 << 20
RUNS = [(4096, b"hello" * 1000), (5_000_000, b"world"), (SIZE - 3, b"end")]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required in CI")
        pytest.skip(f"{tool} not installed")


def _sparse_file(path: Path, size: int = SIZE, runs: list[tuple[int, bytes]] = RUNS) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)
        for off, data in runs:
            f.seek(off)
            f.write(data)
    return path


def _is_sparse(path: Path) -> bool:
    st = os.stat(path)
    return st.st_blocks * 512 < st.st_size // 4


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("sparse-src")
    _sparse_file(src / "s")
    _sparse_file(src / "all-hole", 1279, [])
    _sparse_file(src / "head", 100_000, [(0, b"x" * 9000)])
    if not _is_sparse(src / "s"):
        pytest.skip("this file system does not keep holes")
    return src


GNU_FORMATS = {
    "gnu": ["--format=gnu"],
    "oldgnu": ["--format=oldgnu"],
    "pax-0.0": ["--format=posix", "--sparse-version=0.0"],
    "pax-0.1": ["--format=posix", "--sparse-version=0.1"],
    "pax-1.0": ["--format=posix", "--sparse-version=1.0"],
}


@pytest.mark.parametrize("fmt", sorted(GNU_FORMATS))
def test_gnu_tar_sparse_formats(source: Path, tmp_path: Path, fmt: str) -> None:
    """Every sparse format GNU tar writes: chute's tree is GNU tar's, and has holes."""
    _need("tar")
    archive = tmp_path / "a.tar"
    subprocess.run(["tar", "-S", *GNU_FORMATS[fmt], "-cf", archive, "-C", source, "s", "all-hole", "head"], check=True)
    _same_as_the_tools(archive, tmp_path, source)


def test_bsdtar_sparse(source: Path, tmp_path: Path) -> None:
    _need("bsdtar")
    archive = tmp_path / "a.tar"
    subprocess.run(["bsdtar", "--format=pax", "-cf", archive, "-C", source, "s", "all-hole", "head"], check=True)
    _same_as_the_tools(archive, tmp_path, source)


def _same_as_the_tools(archive: Path, tmp_path: Path, source: Path) -> None:
    out = tmp_path / "chute"
    stats = extract(io.BytesIO(archive.read_bytes()), out)
    for name in ("s", "all-hole", "head"):
        assert (out / name).read_bytes() == (source / name).read_bytes(), name
    assert _is_sparse(out / "s")
    assert stats.bytes < 1 << 20  # what was written: the data runs, not the 10 MiB
    for tool in ("tar", "bsdtar"):
        if shutil.which(tool):
            ref = tmp_path / tool
            ref.mkdir()
            subprocess.run([tool, "-xf", archive, "-C", ref], check=True)
            for name in ("s", "all-hole", "head"):
                assert (out / name).read_bytes() == (ref / name).read_bytes(), (tool, name)
    # read as a stream: the same bytes, zeros in the holes
    with archive.open("rb") as f:
        got = {m.name: data.read() for m, data in TarReader(f)}
    assert got["s"] == (source / "s").read_bytes() and got["all-hole"] == bytes(1279)


def test_sixty_gigabytes_of_holes_in_a_small_archive(tmp_path: Path) -> None:
    """GNU tar stores a 60 GB file of three small runs in a few KB: chute writes it back at
    the speed of the data, on as little disk, and the holes do not count against
    ``max_total_size`` (a limit on data written)."""
    _need("tar")
    src = tmp_path / "src"
    src.mkdir()
    big = 60 << 30
    _sparse_file(src / "big", big, [(0, b"start"), (big // 2, b"middle"), (big - 3, b"end")])
    if not _is_sparse(src / "big"):
        pytest.skip("this file system does not keep holes")
    _need("zstd")
    archive = tmp_path / "big.tar.zst"
    subprocess.run(["tar", "-S", "--format=posix", "--zstd", "-cf", archive, "-C", src, "big"], check=True)
    assert archive.stat().st_size < 5000
    out = tmp_path / "out"
    start = time.perf_counter()
    stats = extract_archive(archive, out, limits=Limits(max_total_size=1 << 20))
    elapsed = time.perf_counter() - start
    st = os.stat(out / "big")
    assert st.st_size == big and st.st_blocks * 512 < 1 << 20
    # GNU tar stores the runs in whole 4 KiB blocks
    assert elapsed < 1.0 and 14 <= stats.bytes <= 3 * 4096 and stats.refused == 0
    with open(out / "big", "rb") as f:
        assert f.read(5) == b"start" and f.read(100) == bytes(100)
        f.seek(big // 2 - 2)
        assert f.read(8) == b"\0\0middle"
        f.seek(big - 3)
        assert f.read() == b"end"
    # the limit counts the data: less than the runs refuses the member
    warnings: list[str] = []
    lim = Limits(max_total_size=stats.bytes - 1)
    stats = extract_archive(archive, tmp_path / "o2", limits=lim, warn=warnings.append)
    assert stats.refused == 1 and f"big: archive data over the {lim.max_total_size} byte limit" in warnings[0]
    assert not (tmp_path / "o2" / "big").exists()


# ----------------------------------------------------------------------------- hand-built maps


def _record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def _block(ti: tarfile.TarInfo, data: bytes) -> bytes:
    ti.size = len(data)
    return ti.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def _pax_sparse(name: str, records: list[tuple[str, str]], data: bytes) -> bytes:
    """One member: a PAX header of ``records`` (in order, repeats kept), then ``data``."""
    x = tarfile.TarInfo("PaxHeaders/" + name)
    x.type = tarfile.XHDTYPE
    return _block(x, b"".join(_record(k, v) for k, v in records)) + _block(tarfile.TarInfo(name), data)


def _archive(*members: bytes) -> bytes:
    return b"".join(members) + bytes(1024)


def _tools_agree(tmp_path: Path, data: bytes, name: str, want: bytes) -> None:
    """chute, and GNU tar and bsdtar where installed, extract ``want`` for ``name``."""
    archive = tmp_path / "hand.tar"
    archive.write_bytes(data)
    out = tmp_path / "chute"
    extract(io.BytesIO(data), out)
    assert (out / name).read_bytes() == want
    for tool in ("tar", "bsdtar"):
        if shutil.which(tool):
            ref = tmp_path / tool
            ref.mkdir()
            subprocess.run([tool, "-xf", archive, "-C", ref], check=True, capture_output=True)
            assert (ref / name).read_bytes() == want, tool
    for m, stream in TarReader(io.BytesIO(data)):
        assert (m.name, m.size, stream.read()) == (name, len(want), want)


def test_pax_0_0_repeated_pairs_are_the_map(tmp_path: Path) -> None:
    # Runs of whole blocks but the last, as GNU tar writes them: GNU tar starts each run's
    # data on a new block, bsdtar reads the runs back to back; here both agree.
    a, b, c = b"a" * 512, b"b" * 1024, b"hijkl"
    runs = [(0, a), (1024, b), (5000, c), (9000, b"")]
    records = [("GNU.sparse.size", "9000"), ("GNU.sparse.numblocks", "4")]
    want = bytearray(9000)
    for off, run in runs:
        records += [("GNU.sparse.offset", str(off)), ("GNU.sparse.numbytes", str(len(run)))]
        want[off : off + len(run)] = run
    data = _archive(_pax_sparse("f", records, a + b + c))
    _tools_agree(tmp_path, data, "f", bytes(want))


@pytest.mark.parametrize("fmt", ["pax-0.1", "pax-0.0"])
def test_empty_runs_are_holes_not_the_end(tmp_path: Path, fmt: str) -> None:
    """The map (0,0),(1279,0) with a real size of 1279: 1,279 bytes, one hole."""
    if fmt == "pax-0.1":
        records = [("GNU.sparse.size", "1279"), ("GNU.sparse.numblocks", "2"), ("GNU.sparse.map", "0,0,1279,0")]
    else:
        records = [("GNU.sparse.size", "1279"), ("GNU.sparse.numblocks", "2")]
        records += [("GNU.sparse.offset", "0"), ("GNU.sparse.numbytes", "0")]
        records += [("GNU.sparse.offset", "1279"), ("GNU.sparse.numbytes", "0")]
    _tools_agree(tmp_path, _archive(_pax_sparse("z", records, b"")), "z", bytes(1279))


def test_old_gnu_empty_run_then_data(tmp_path: Path) -> None:
    """An old GNU ``S`` header whose map starts with an empty run."""
    ti = tarfile.TarInfo("g")
    ti.type = tarfile.GNUTYPE_SPARSE
    ti.size = 4
    block = bytearray(ti.tobuf(tarfile.GNU_FORMAT))
    for i, (off, n) in enumerate([(0, 0), (600, 4), (1000, 0)]):
        block[386 + 24 * i : 386 + 24 * i + 24] = b"%011o\0%011o\0" % (off, n)
    block[483:495] = b"%011o\0" % 1000
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    data = _archive(bytes(block) + b"data" + bytes(508))
    want = bytearray(1000)
    want[600:604] = b"data"
    _tools_agree(tmp_path, data, "g", bytes(want))


@pytest.mark.parametrize(
    ("map_", "why"),
    [
        ("100,4,0,4,200,0", "out of order"),
        ("0,8,4,4,200,0", "overlapping"),
        ("0,4,198,4", "past the end"),
    ],
)
def test_malformed_maps_are_refused(tmp_path: Path, map_: str, why: str) -> None:
    records = [("GNU.sparse.size", "200"), ("GNU.sparse.map", map_)]
    data = _archive(_pax_sparse("bad", records, b"12345678"))
    with pytest.raises(ArchiveError, match="bad: malformed sparse map"):
        extract(io.BytesIO(data), tmp_path / "t")
    assert not list((tmp_path / "t").iterdir())


def test_map_wanting_more_data_than_stored(tmp_path: Path) -> None:
    records = [("GNU.sparse.size", "200"), ("GNU.sparse.map", "0,4,100,8")]
    data = _archive(_pax_sparse("short", records, b"1234"))
    with pytest.raises(ArchiveError, match="short: sparse map needs more data"):
        extract(io.BytesIO(data), tmp_path / "t")
    assert not list((tmp_path / "t").iterdir())
    with pytest.raises(ArchiveError, match="short: sparse map needs more data"):
        for _, stream in TarReader(io.BytesIO(data)):
            stream.read()


@st.composite
def _maps(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int]:
    """A valid map: runs in order, not overlapping, some empty, within the real size."""
    runs = []
    pos = 0
    for _ in range(draw(st.integers(0, 6))):
        pos += draw(st.integers(0, 3000))
        n = draw(st.sampled_from([0, 1, 511, 512, 513, 2000]))
        runs.append((pos, n))
        pos += n
    return runs, pos + draw(st.integers(0, 3000))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_maps(), st.integers(1, 4000), st.booleans(), st.randoms(use_true_random=False))
def test_any_valid_map_reads_and_writes_the_same_bytes(
    tmp_path: Path, spec: tuple[list[tuple[int, int]], int], chunk: int, shuffle: bool, rnd: random.Random
) -> None:
    """For any map, read in any chunk size, the stream and the file written with holes hold
    the runs at their offsets and zeros elsewhere; a map in another order is refused
    (never written wrong)."""
    runs, real = spec
    data = os.urandom(sum(n for _, n in runs))
    want = bytearray(real)
    at = 0
    for off, n in runs:
        want[off : off + n] = data[at : at + n]
        at += n
    if shuffle and len({off for off, n in runs if n}) > 1:
        runs = rnd.sample(runs, len(runs))
        if runs == sorted(runs):
            runs = runs[::-1]
        records = [("GNU.sparse.size", str(real)), ("GNU.sparse.map", ",".join(f"{o},{n}" for o, n in runs))]
        with pytest.raises(ArchiveError, match="malformed sparse map"):
            extract(io.BytesIO(_archive(_pax_sparse("f", records, data))), tmp_path / "bad", strict=True)
        return
    records = [("GNU.sparse.size", str(real)), ("GNU.sparse.map", ",".join(f"{o},{n}" for o, n in runs))]
    archive = _archive(_pax_sparse("f", records, data))
    for m, stream in TarReader(io.BufferedReader(io.BytesIO(archive), 1000)):
        got = bytearray()
        while piece := stream.read(chunk):
            got += piece
        assert (m.size, bytes(got)) == (real, bytes(want))
    out = tmp_path / f"ok{chunk}"
    extract(io.BytesIO(archive), out)
    assert (out / "f").read_bytes() == bytes(want)
