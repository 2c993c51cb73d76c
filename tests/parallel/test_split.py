"""Frame boundaries found without decompressing, and the parallel decode built on them."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import struct
import subprocess

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.errors import ChuteError
from chute.parallel import jobs as parallel
from chute.parallel import split as frames
from chute.parallel.split import find_frames

SPLITTABLE = ["zstd", "lz4", "gzip", "xz", "bz2"]


def piece_data(seed: int, size: int) -> bytes:
    import random

    rng = random.Random(seed)
    return bytes(rng.choice(b"abcdefgh \n") for _ in range(size // 2)) + rng.randbytes(size - size // 2)


def skippable(n: int) -> bytes:
    return struct.pack("<II", 0x184D2A50 + n % 16, n) + bytes(n)


def build(fmt: str, pieces: list[bytes], skips: bool = False) -> tuple[bytes, list[tuple[int, int]]]:
    """Concatenated independent members and where each one lies."""
    out = b""
    spans = []
    for i, data in enumerate(pieces):
        if skips and fmt in ("zstd", "lz4") and i % 2:
            out += skippable(i)
        member = chute.compress(data, fmt)
        spans.append((len(out), len(out) + len(member)))
        out += member
        if fmt == "xz" and i % 2:
            out += bytes(4 * (i % 3))  # stream padding
    return out, spans


@settings(max_examples=examples(25), deadline=None)
@given(
    fmt=st.sampled_from(SPLITTABLE),
    sizes=st.lists(st.integers(0, 300_000), min_size=1, max_size=5),
    seed=st.integers(0, 1 << 20),
    skips=st.booleans(),
)
def test_boundaries_are_exact(fmt: str, sizes: list[int], seed: int, skips: bool) -> None:
    pieces = [piece_data(seed + i, n) for i, n in enumerate(sizes)]
    blob, spans = build(fmt, pieces, skips)
    found = find_frames(io.BytesIO(blob), fmt)
    assert found == spans


@pytest.mark.parametrize("fmt", SPLITTABLE)
def test_not_splittable(fmt: str) -> None:
    blob, _ = build(fmt, [b"one" * 1000, b"two" * 1000])
    assert find_frames(io.BytesIO(blob + b"garbage!"), fmt) is None or fmt == "bz2"
    assert find_frames(io.BytesIO(blob[:-3]), fmt) is None or fmt == "bz2"
    assert find_frames(io.BytesIO(b"x" * 100), fmt) is None


def test_position_is_relative_and_restored() -> None:
    blob, spans = build("zstd", [b"a" * 5000, b"b" * 7000])
    fp = io.BytesIO(b"PREFIX" + blob)
    fp.seek(6)
    assert find_frames(fp, "zstd") == spans
    assert fp.tell() == 6


def test_pipes_are_not_split() -> None:
    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    assert find_frames(Pipe(build("lz4", [b"a", b"b"])[0]), "lz4") is None


TOOLS = {
    "zstd": (["zstd", "-q", "-c"], "zstd"),
    "lz4": (["lz4", "-q", "-c"], "lz4"),
    "xz": (["xz", "-c"], "xz"),
    "bz2": (["bzip2", "-c"], "bzip2"),
}


@pytest.mark.parametrize("fmt", [f for f in SPLITTABLE if f != "gzip"])  # gzip: no sizes
def test_reference_tool_members(fmt: str, tmp_path) -> None:
    cmd, tool = TOOLS[fmt]
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")
    pieces = [piece_data(i, 50_000 + i * 1000) for i in range(3)]
    members = [subprocess.run(cmd, input=p, capture_output=True, check=True).stdout for p in pieces]
    found = find_frames(io.BytesIO(b"".join(members)), fmt)
    ends = [sum(map(len, members[: i + 1])) for i in range(len(members))]
    assert found is not None and [b for _, b in found] == ends


# --------------------------------------------------------------------------- decoding


def split_of(blob: bytes) -> frames.Split | None:
    """The pieces parallel_decompress would decode (with its limits)."""
    return frames.split(io.BytesIO(blob), max_input=parallel.MAX_FRAME_INPUT, max_output=parallel.MAX_JOB_OUTPUT)


def decode(blob: bytes, threads: int = 2) -> bytes:
    out = io.BytesIO()
    parallel.parallel_decompress(io.BytesIO(blob), out, threads=threads)
    return out.getvalue()


@pytest.mark.parametrize("fmt", SPLITTABLE)
def test_parallel_decode_uses_the_split(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [piece_data(i, 200_000) for i in range(6)]
    blob, _ = build(fmt, pieces, skips=True)
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)  # one frame per job
    plan = split_of(blob)
    assert plan is not None and plan.format == fmt and len(parallel._jobs(plan.pieces)) == 6
    assert decode(blob) == b"".join(pieces)


@pytest.mark.parametrize("fmt", SPLITTABLE)
@pytest.mark.parametrize("threads", [2, 4])
def test_chute_parallel_output_decodes_in_parallel(fmt: str, threads: int) -> None:
    data = piece_data(7, 3_000_000)
    level = 1 if fmt in ("xz", "bz2") else None  # slow encoders: the layout is what is tested
    blob = chute.compress(data, fmt, level, threads=threads, block_size=256 << 10)
    plan = split_of(blob)
    assert plan is not None and len(plan.pieces) >= 3_000_000 // (256 << 10)
    assert decode(blob, threads) == data


def test_bad_split_falls_back_to_one_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [piece_data(i, 200_000) for i in range(4)]
    blob, spans = build("bz2", pieces)
    # a false stream start in the middle of the second stream (what a chance match would do)
    wrong = [spans[0], (spans[1][0], spans[1][0] + 100), (spans[1][0] + 100, spans[1][1]), *spans[2:]]
    monkeypatch.setattr(frames, "find_frames", lambda fp, fmt, limit: wrong)
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)
    assert decode(blob) == b"".join(pieces)


def test_huge_expansion_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [bytes(3 << 20), piece_data(1, 1000), bytes(2 << 20)]
    blob, _ = build("zstd", pieces)
    monkeypatch.setattr(parallel, "MAX_JOB_OUTPUT", 1 << 20)
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)
    assert decode(blob) == b"".join(pieces)


@pytest.mark.parametrize("fmt", SPLITTABLE)
def test_corrupt_frame_raises_like_one_thread(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)  # one frame per job: the first two are written
    pieces = [piece_data(i, 100_000) for i in range(4)]
    blob, spans = build(fmt, pieces)
    bad = bytearray(blob)
    a, b = spans[2]
    bad[(a + b) // 2] ^= 0xFF
    with pytest.raises(ChuteError) as serial:
        decode(bytes(bad), threads=1)
    out = io.BytesIO()
    with pytest.raises(ChuteError) as par:
        parallel.parallel_decompress(io.BytesIO(bytes(bad)), out, threads=2)
    assert type(par.value) is type(serial.value)
    assert out.getvalue()[: 2 * 100_000] == b"".join(pieces[:2])


def test_standard_modules_read_our_split_members() -> None:
    """The split is along real members: each piece alone is a complete file."""
    pieces = [piece_data(i, 20_000) for i in range(3)]
    for fmt, decompress in (("xz", lzma.decompress), ("bz2", bz2.decompress), ("gzip", gzip.decompress)):
        blob, _ = build(fmt, pieces)
        found = find_frames(io.BytesIO(blob), fmt)
        assert found is not None
        assert [decompress(blob[a:b]) for a, b in found] == pieces


def test_cli_decompress_in_parallel(tmp_path) -> None:
    data = os.urandom(1 << 20) + bytes(3 << 20)
    src = tmp_path / "f.lz4"
    src.write_bytes(chute.compress(data, "lz4", threads=2, block_size=256 << 10))
    from chute.cli import main

    assert main(["-d", "-T2", "-k", str(src)]) == 0
    assert (tmp_path / "f").read_bytes() == data


@pytest.mark.parametrize("fmt", ["zstd", "lz4", "gzip"])
def test_max_frame_stops_the_walk(fmt: str) -> None:
    big = os.urandom(300_000)
    blob, spans = build(fmt, [big, b"small"])
    assert find_frames(io.BytesIO(blob), fmt, max_frame=400_000) == spans
    assert find_frames(io.BytesIO(blob), fmt, max_frame=200_000) is None
    # a zstd frame declaring 8x the limit of output is refused from its header alone
    declared = chute.compress(bytes(2_000_000), "zstd")
    assert find_frames(io.BytesIO(declared + declared), "zstd", max_frame=200_000) is None


# --------------------------------------------------------------------------- gzip sizes


def migz_member(data: bytes) -> bytes:
    """A gzip member as LinkedIn's MiGz writes it (XFL 2, OS 0, the ``MZ`` size subfield),
    built here from zlib's raw deflate rather than through chute."""
    import zlib

    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    head = b"\x1f\x8b\x08\x04\0\0\0\0\x02\x00\x08\x00MZ\x04\x00" + struct.pack("<I", len(body))
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def test_migz_files_are_split_and_decoded_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [piece_data(i, 150_000) for i in range(5)]
    members = [migz_member(p) for p in pieces]
    blob = b"".join(members)
    assert gzip.decompress(blob) == b"".join(pieces)  # a valid gzip file
    ends = [sum(map(len, members[: i + 1])) for i in range(len(members))]
    assert [b for _, b in find_frames(io.BytesIO(blob), "gzip") or []] == ends
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)
    plan = split_of(blob)
    assert plan is not None and len(parallel._jobs(plan.pieces)) == 5
    assert decode(blob) == b"".join(pieces)


def test_chute_gzip_members_record_their_size() -> None:
    from chute.codecs.gzip import sized_member

    data = piece_data(3, 2_500_000)
    blob = chute.compress(data, "gzip")
    found = find_frames(io.BytesIO(blob), "gzip")
    assert found is not None and len(found) == 3  # 1 MiB blocks
    for a, b in found:
        assert blob[a + 3] == 4 and blob[a + 12 : a + 16] == b"MZ\x04\x00"
        assert struct.unpack("<I", blob[a + 16 : a + 20])[0] == b - a - 28
    assert gzip.decompress(blob) == data
    # a member with flags of its own, or none to rewrite, is left as it is
    flagged = b"\x1f\x8b\x08\x08" + bytes(6) + b"name\0" + b"\x03\x00" + bytes(8)
    assert sized_member(flagged) == flagged


@pytest.mark.parametrize(
    "damage",
    ["size too small", "size too large", "isize too small", "isize too large", "no subfield"],
)
def test_wrong_gzip_sizes_never_change_the_result(damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A size that lies either stops the split or fails its piece; either way the output
    (or the error) is what one thread gives."""
    monkeypatch.setattr(parallel, "JOB_INPUT", 1)
    pieces = [piece_data(i, 120_000) for i in range(4)]
    members = [bytearray(migz_member(p)) for p in pieces]
    m = members[1]
    if damage == "size too small":
        m[16:20] = struct.pack("<I", struct.unpack("<I", m[16:20])[0] - 7)
    elif damage == "size too large":
        m[16:20] = struct.pack("<I", struct.unpack("<I", m[16:20])[0] + 7)
    elif damage == "isize too small":
        m[-4:] = struct.pack("<I", len(pieces[1]) - 1)
    elif damage == "isize too large":
        m[-4:] = struct.pack("<I", 1 << 31)
    else:
        m[12:14] = b"XY"
    blob = b"".join(members)
    try:
        expected: bytes | type = decode(blob, threads=1)
    except ChuteError as exc:
        expected = type(exc)
    try:
        got: bytes | type = decode(blob, threads=2)
    except ChuteError as exc:
        got = type(exc)
    assert got == expected


def _seekable(fmt: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with chute.open(out, "wb", format=fmt, threads=2, seekable=True, block_size=16_000) as f:
        f.write(data)
    return out.getvalue()


def _outcome(blob: bytes, threads: int) -> bytes | type:
    try:
        return decode(blob, threads)
    except ChuteError as exc:
        return type(exc)


@settings(max_examples=examples(80), deadline=None)
@given(
    layout=st.sampled_from([*SPLITTABLE, "zstd seekable", "gzip seekable"]),
    damage=st.sampled_from(["flip", "cut", "insert", "repeat", "append"]),
    data=st.data(),
)
def test_any_damage_decodes_as_one_thread_would(layout: str, damage: str, data: st.DataObject) -> None:
    """Whatever is damaged (a frame, a size field, a seek table, the end), splitting the
    file gives the one-thread decoder's output, or its error class: a split taken on a
    wrong boundary must fall back, never change the result."""
    fmt, _, seekable = layout.partition(" ")
    sizes = data.draw(st.lists(st.integers(0, 40_000), min_size=2, max_size=4))
    pieces = [piece_data(data.draw(st.integers(0, 1 << 20)), n) for n in sizes]
    blob = bytearray(_seekable(fmt, b"".join(pieces)) if seekable else build(fmt, pieces, skips=True)[0])
    pos = data.draw(st.integers(0, len(blob) - 1))
    if damage == "flip":
        blob[pos] ^= 1 << data.draw(st.integers(0, 7))
    elif damage == "cut":
        del blob[pos:]
    elif damage == "insert":
        blob[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
    elif damage == "repeat":
        blob[pos:pos] = blob[pos : pos + data.draw(st.integers(1, 5000))]
    else:
        blob += data.draw(st.binary(min_size=1, max_size=64))
    job_input = parallel.JOB_INPUT
    try:
        parallel.JOB_INPUT = 1  # one frame per job: every boundary is a split
        got = _outcome(bytes(blob), threads=2)
    finally:
        parallel.JOB_INPUT = job_input
    assert got == _outcome(bytes(blob), threads=1)


def _pread_bytes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the size of each ``os.pread`` from now on."""
    sizes: list[int] = []
    real = os.pread

    def pread(fd: int, n: int, pos: int) -> bytes:
        sizes.append(n)
        return real(fd, n, pos)

    monkeypatch.setattr(os, "pread", pread)
    return sizes


def test_zstd_walk_reads_block_headers_not_windows(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame of 128 KiB blocks (as ``zstd`` writes incompressible data) is walked with a
    few bytes per block header, not a read-ahead window each (``chute -l`` of a 1 GB .zst:
    9,000 headers); a frame of tiny blocks still shares a window among many headers."""
    from conftest import need_tool

    need_tool("zstd")
    src = tmp_path / "r.bin"
    src.write_bytes(os.urandom(40 << 17))  # 40 blocks of 128 KiB
    subprocess.run(["zstd", "-q", "-1", "-f", str(src)], check=True)
    sizes = _pread_bytes(monkeypatch)
    with open(f"{src}.zst", "rb") as f:
        found = find_frames(f, "zstd")
    assert found is not None and len(found) == 1 and found[0][1] == os.path.getsize(f"{src}.zst")
    assert len(sizes) >= 40 and sum(sizes) < 4096 + 40 * 64  # the first window, then headers
    # tiny blocks: one window serves many headers
    from backports import zstd

    comp = zstd.ZstdCompressor()
    tiny = b"".join(comp.compress(b"%d," % i, zstd.ZstdCompressor.FLUSH_BLOCK) for i in range(2000))
    tiny += comp.flush()
    path = tmp_path / "tiny.zst"
    path.write_bytes(tiny)
    sizes.clear()
    with open(path, "rb") as f:
        found = find_frames(f, "zstd")
    assert found == [(0, len(tiny))]
    assert len(sizes) < 2000 / 20
    assert chute.decompress(tiny) == b"".join(b"%d," % i for i in range(2000))
