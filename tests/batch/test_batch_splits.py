"""Splittable reads: a seekable zstd or BGZF file cut into blocks of whole records.

Every record must come exactly once, in order, and each block must begin where a record
begins, whatever the frame size, the block size, the delimiter and how records straddle
frames. The BGZF files are also read by ``gzip -d``, the seekable zstd ones by ``zstd -d``
(both decode the frames; the seek table is a skippable frame to them).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import examples, tool_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute.batch import splits


def _write(path: str, data: bytes, format: str, frame: int) -> str:
    with open(path, "wb") as f:
        f.write(chute.compress(data, format, seekable=True, block_size=frame))
    return path


def _starts(data: bytes, delimiter: bytes) -> set[int]:
    """Offsets where records start, from a plain left-to-right reading of ``data``."""
    out = {0}
    pos = data.find(delimiter)
    while pos >= 0:
        out.add(pos + len(delimiter))
        pos = data.find(delimiter, pos + len(delimiter))
    return out


def _check_blocks(path: str, data: bytes, blocksize: int, delimiter: bytes) -> int:
    bl = splits.blocks(path, blocksize)
    pieces = [splits.read_block(path, s, e, delimiter) for s, e in bl]
    assert b"".join(pieces) == data
    starts = _starts(data, delimiter)
    pos = 0
    for piece in pieces:
        if piece:
            assert pos in starts, f"a block begins inside a record, at {pos}"
        pos += len(piece)
    return len(bl)


records = st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=200)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recs=records,
    tail=st.booleans(),
    format=st.sampled_from(["zstd", "gzip"]),
    frame=st.integers(1, 5000),
    blocksize=st.integers(1, 20000),
    delimiter=st.sampled_from([b"\n", b"\r\n", b"\x00", b"ab"]),
)
def test_every_record_once_in_order(
    tmp_path_factory: pytest.TempPathFactory,
    recs: list[bytes],
    tail: bool,
    format: str,
    frame: int,
    blocksize: int,
    delimiter: bytes,
) -> None:
    data = b"".join(r + delimiter for r in recs) + (b"no end" if tail else b"")
    path = _write(str(tmp_path_factory.mktemp("s") / "f"), data, format, frame)
    _check_blocks(path, data, blocksize, delimiter)


def test_a_big_file_makes_many_blocks(tmp_path: object) -> None:
    data = b"".join(b"record %d %s\n" % (i, b"x" * (i % 97)) for i in range(40000))
    for format in ("zstd", "gzip"):
        path = _write(os.path.join(str(tmp_path), "big." + format), data, format, 20000)
        assert _check_blocks(path, data, 100_000, b"\n") > 10


def test_reference_tools_read_the_files(tmp_path: object) -> None:
    data = b"".join(b"%d\n" % i for i in range(100000))
    z = _write(os.path.join(str(tmp_path), "a.zst"), data, "zstd", 30000)
    g = _write(os.path.join(str(tmp_path), "a.gz"), data, "gzip", 30000)
    assert subprocess.run([tool_path("zstd"), "-dc", z], capture_output=True, check=True).stdout == data
    assert subprocess.run([tool_path("gzip"), "-dc", g], capture_output=True, check=True).stdout == data


def test_a_file_without_an_index_is_one_block(tmp_path: object) -> None:
    data = b"".join(b"%d\n" % i for i in range(10000))
    path = os.path.join(str(tmp_path), "plain.gz")
    with open(path, "wb") as out:
        subprocess.run([tool_path("gzip"), "-c"], input=data, stdout=out, check=True)
    assert splits.blocks(path, 100) == [(0, None)]
    assert splits.read_block(path, 0, None) == data


def test_a_record_longer_than_many_frames(tmp_path: object) -> None:
    data = b"short\n" + b"L" * 200_000 + b"\nafter\n"
    path = _write(os.path.join(str(tmp_path), "long.zst"), data, "zstd", 1000)
    assert _check_blocks(path, data, 1000, b"\n") > 100


def test_a_delimiter_that_overlaps_itself_is_refused(tmp_path: object) -> None:
    path = _write(os.path.join(str(tmp_path), "x.zst"), b"aaa", "zstd", 10)
    with pytest.raises(ValueError, match="overlaps itself"):
        splits.read_block(path, 0, 3, b"aa")


def test_a_gzip_file_with_an_index_beside_it_is_cut_at_its_checkpoints(tmp_path: object) -> None:
    """One member from the real ``gzip -6`` (no frames to cut at): with no index it is one
    block; once ``chute index`` has written ``FILE.gz.idx``, blocks follow the checkpoints and
    still give every record once, each block beginning where a record begins."""
    import random
    import sys

    rng = random.Random(5)
    data = b"".join(
        b"%d %s\n" % (i, bytes(rng.choice(b"abcdef") for _ in range(rng.randint(0, 400)))) for i in range(20000)
    )
    path = os.path.join(str(tmp_path), "one.gz")
    with open(path, "wb") as f:
        subprocess.run([tool_path("gzip"), "-6", "-c"], input=data, stdout=f, check=True)
    assert splits.blocks(path, 200_000) == [(0, None)]
    subprocess.run([sys.executable, "-m", "chute", "index", "-q", "--spacing", "64K", path], check=True)
    assert os.path.isfile(path + ".idx")
    assert _check_blocks(path, data, 200_000, b"\n") > 5
