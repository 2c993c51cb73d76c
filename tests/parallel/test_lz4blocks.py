"""Parallel decoding of lz4 frames by blocks (chute.parallel.split.Lz4Blocks, decoded by the job loop)."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import lz4.frame
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute.codecs._stream import StreamDecoder
from chute.errors import ChecksumError, ChuteError, CorruptStreamError, TrailingDataError, TruncatedStreamError
from chute.parallel import split as splitter
from chute.parallel.jobs import parallel_decompress
from chute.streams.pump import decompress_stream

BLOCK_SIZES = [lz4.frame.BLOCKSIZE_MAX64KB, lz4.frame.BLOCKSIZE_MAX256KB, lz4.frame.BLOCKSIZE_MAX1MB]


def sample(n: int, seed: int = 0) -> bytes:
    text = b"".join(b"line %d of a log that repeats itself %d\n" % (i, i % 7) for i in range(n // 30 + 1))
    noise = random.Random(seed).randbytes(n // 5)  # not os.urandom: hypothesis replays examples
    return (text[: n - len(noise)] + noise)[:n]


def frame(data: bytes, **opts: object) -> bytes:
    args: dict[str, object] = {"block_linked": False, "content_checksum": True, "store_size": False, **opts}
    return lz4.frame.compress(data, **args)  # type: ignore[no-any-return]


def parallel(raw: bytes, threads: int = 3, **opts: object) -> bytes:
    out = io.BytesIO()
    parallel_decompress(io.BytesIO(raw), out, threads=threads, format="lz4", chunk_size=1 << 16, **opts)
    return out.getvalue()


def sequential(raw: bytes) -> bytes:
    out = io.BytesIO()
    decompress_stream(io.BytesIO(raw), out, StreamDecoder("lz4"))
    return out.getvalue()


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 300_000), min_size=1, max_size=3),
    block_size=st.sampled_from(BLOCK_SIZES),
    content_checksum=st.booleans(),
    block_checksum=st.booleans(),
    store_size=st.booleans(),
    threads=st.integers(2, 6),
)
def test_frames_round_trip(
    sizes: list[int], block_size: int, content_checksum: bool, block_checksum: bool, store_size: bool, threads: int
) -> None:
    parts = [sample(n, i) for i, n in enumerate(sizes)]
    raw = b"".join(
        frame(
            p,
            block_size=block_size,
            content_checksum=content_checksum,
            block_checksum=block_checksum,
            store_size=store_size,
        )
        for p in parts
    )
    assert parallel(raw, threads) == b"".join(parts)


def test_frames_it_does_not_split_go_to_the_one_thread_decoder() -> None:
    """Linked blocks, skippable frames: decoded from there on, in order."""
    a, b, c = sample(600_000), sample(500_000, 1), sample(70_000, 2)
    skippable = b"\x50\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"12345"
    raw = (
        frame(a, block_size=lz4.frame.BLOCKSIZE_MAX64KB)
        + frame(b, block_linked=True)
        + skippable
        + frame(c, block_size=lz4.frame.BLOCKSIZE_MAX64KB)
    )
    assert parallel(raw) == a + b + c
    assert parallel(frame(b, block_linked=True)) == b


def test_uncompressed_blocks_are_copied() -> None:
    data = os.urandom(300_000)  # incompressible: LZ4F stores the blocks as they are
    raw = frame(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB)
    assert int.from_bytes(raw[7:11], "little") >> 31, "the first block should be stored"
    assert parallel(raw) == data


def test_trailing_data_is_an_error_like_one_thread() -> None:
    raw = frame(sample(200_000)) + b"garbage!"
    with pytest.raises(TrailingDataError):
        parallel(raw)
    with pytest.raises(TrailingDataError):
        sequential(raw)


def test_stats_and_content_checksum() -> None:
    raw = frame(sample(300_000), block_size=lz4.frame.BLOCKSIZE_MAX64KB)
    with open(os.devnull, "wb") as sink:
        stats = parallel_decompress(io.BytesIO(raw), sink, threads=2)
        assert stats.bytes_out == 300_000
        assert stats.bytes_in == len(raw)
        bad = bytearray(raw)
        bad[-1] ^= 1  # content checksum
        with pytest.raises(ChecksumError):
            parallel_decompress(io.BytesIO(bytes(bad)), sink, threads=2)


def test_damage_to_blocks_is_detected() -> None:
    data = sample(400_000)
    raw = bytearray(frame(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB, content_checksum=False))
    # a block size word that claims more than the frame's maximum block
    raw[7:11] = ((1 << 20) | 0).to_bytes(4, "little")
    with pytest.raises(CorruptStreamError, match="over the maximum"):
        parallel(bytes(raw))
    # a block checksum that does not match
    raw = bytearray(frame(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_checksum=True))
    first = int.from_bytes(raw[7:11], "little") & 0x7FFFFFFF
    raw[11 + first] ^= 0xFF
    with pytest.raises(ChecksumError, match="block 0"):
        parallel(bytes(raw))
    # a stored content size that does not match what the blocks hold
    raw = bytearray(frame(data, store_size=True, content_checksum=False))
    good = lz4.frame.compress(data + b"x", store_size=True, block_linked=False, content_checksum=False)
    raw[:15] = good[:15]  # the header of a frame one byte longer, with its own header checksum
    with pytest.raises(CorruptStreamError, match="header says"):
        parallel(bytes(raw))


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_damage_gives_the_one_thread_error(data: st.DataObject) -> None:
    """Cut or flipped anywhere: the same error class as the one-thread decoder, or, if
    that one decodes it, the same output."""
    payload = sample(150_000)
    raw = bytearray(
        frame(
            payload,
            block_size=lz4.frame.BLOCKSIZE_MAX64KB,
            block_checksum=data.draw(st.booleans()),
            store_size=data.draw(st.booleans()),
        )
    )
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    try:
        expected: bytes | type[ChuteError] = sequential(bytes(raw))
    except ChuteError as exc:
        expected = type(exc)
    try:
        got: bytes | type[ChuteError] = parallel(bytes(raw))
    except ChuteError as exc:
        got = type(exc)
    assert got == expected


def test_truncated_at_a_block_boundary() -> None:
    raw = frame(sample(300_000), block_size=lz4.frame.BLOCKSIZE_MAX64KB)
    first = int.from_bytes(raw[7:11], "little") & 0x7FFFFFFF
    with pytest.raises(TruncatedStreamError):
        parallel(raw[: 11 + first])


def test_jobs_in_flight_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most two jobs per worker wait at once, whatever the size of the frame."""
    from chute.parallel import pool as par

    live = [0]
    peak = [0]
    real_submit, real_wait = par.Pool.submit, par.Job.wait

    def submit(self: par.Pool, data: object, size: int = 0) -> par.Job:
        live[0] += 1
        peak[0] = max(peak[0], live[0])
        return real_submit(self, data, size)

    def wait(self: par.Job) -> object:
        live[0] -= 1
        return real_wait(self)

    monkeypatch.setattr(par.Pool, "submit", submit)
    monkeypatch.setattr(par.Job, "wait", wait)
    monkeypatch.setattr(splitter, "LZ4_JOB_OUTPUT", 128 << 10)  # two 64 KiB blocks per job: 16 jobs
    data = sample(2_000_000)
    assert parallel(frame(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB), threads=3) == data
    assert 2 <= peak[0] <= 2 * 2  # threads=3: two workers beside the caller's thread


def test_parallel_decompress_splits_one_big_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = sample(3_000_000)
    path = tmp_path / "one.lz4"
    path.write_bytes(frame(data, block_size=lz4.frame.BLOCKSIZE_MAX256KB))
    used: list[int] = []
    real = splitter.Lz4Blocks.jobs

    def spy(self: splitter.Lz4Blocks) -> object:
        used.append(1)
        return real(self)

    monkeypatch.setattr(splitter.Lz4Blocks, "jobs", spy)
    out = io.BytesIO()
    with open(path, "rb") as src:
        stats = parallel_decompress(src, out, threads=2)
    assert used and out.getvalue() == data
    assert stats.bytes_in == path.stat().st_size and stats.bytes_out == len(data)
    used.clear()
    with open(path, "rb") as src:  # one thread: the usual path
        parallel_decompress(src, io.BytesIO(), threads=1)
    assert not used


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("lz4") is None, reason="lz4 not installed")
@pytest.mark.parametrize("flags", [[], ["-B4"], ["-B5", "-BX"], ["--content-size"], ["--no-frame-crc"], ["-BD"]])
def test_cli_decodes_reference_tool_output_on_threads(tmp_path: Path, flags: list[str]) -> None:
    data = sample(3_000_000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    subprocess.run(["lz4", "-q", "-f", *flags, str(src), str(tmp_path / "in.bin.lz4")], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "chute", "-d", "-T2", "-c", str(tmp_path / "in.bin.lz4")],
        capture_output=True,
        check=True,
    )
    assert done.stdout == data
    assert chute.decompress((tmp_path / "in.bin.lz4").read_bytes()) == data


def _written_then_error(
    decode: Callable[[io.BytesIO, io.BytesIO], None], raw: bytes
) -> tuple[bytes, type[ChuteError] | None]:
    out = io.BytesIO()
    try:
        decode(io.BytesIO(raw), out)
    except ChuteError as exc:
        return out.getvalue(), type(exc)
    return out.getvalue(), None


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_damage_delivers_what_one_thread_delivers(data: st.DataObject) -> None:
    """Cut or flipped anywhere in a run of frames: the blocks' output written before the
    error is the one-thread decoder's, byte for byte, and so is the error class."""
    payloads = [sample(150_000, 1), sample(90_000, 2)]
    raw = bytearray(
        b"".join(
            frame(p, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_checksum=data.draw(st.booleans())) for p in payloads
        )
    )
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(1, len(raw) - 1))]
    else:
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] ^= 1 << data.draw(st.integers(0, 7))

    def one(src: io.BytesIO, dst: io.BytesIO) -> None:
        decompress_stream(src, dst, StreamDecoder("lz4"))

    def many(src: io.BytesIO, dst: io.BytesIO) -> None:
        parallel_decompress(src, dst, threads=3, format="lz4")

    assert _written_then_error(many, bytes(raw)) == _written_then_error(one, bytes(raw))


@pytest.mark.skipif(shutil.which("lz4") is None, reason="lz4 not installed")
@pytest.mark.parametrize("flags", [["-B4"], ["-B4", "-BX", "--content-size"], ["-B7"]])
def test_split_walks_the_blocks_of_reference_frames(tmp_path: Path, flags: list[str]) -> None:
    """Two frames written by the lz4 CLI: jobs of whole blocks, back to back, at most
    LZ4_JOB_OUTPUT of output each, the last of each frame marked, and the walk ends at
    the end of the file; the file position is where it was."""
    parts = [sample(700_000, 3), sample(300_000, 4)]
    raw = b""
    for i, part in enumerate(parts):
        (tmp_path / f"{i}.bin").write_bytes(part)
        done = subprocess.run(["lz4", "-q", "-c", *flags, str(tmp_path / f"{i}.bin")], capture_output=True, check=True)
        raw += done.stdout
    src = io.BytesIO(b"junk" + raw)
    src.seek(4)
    plan = splitter.split(src, "lz4", max_input=1 << 10, max_output=1 << 30)
    assert isinstance(plan, splitter.Lz4Blocks)
    assert src.tell() == 4
    jobs = list(plan.jobs())
    assert plan.frames == 2 and plan.end == len(raw)
    assert [last for *_, last in jobs].count(True) == 2
    frames = []
    for start, end, blocks, frame_, _last in jobs:
        frames.append(frame_)
        assert len(blocks) * frame_.block_max <= max(splitter.LZ4_JOB_OUTPUT, frame_.block_max)
        assert [b for _, b, _ in blocks[:-1]] == [a for a, _, _ in blocks[1:]]  # back to back
        if blocks:
            assert blocks[0][0] == 0 and blocks[-1][1] == end - start
    decoded = io.BytesIO()
    parallel_decompress(io.BytesIO(raw), decoded, threads=2)
    assert decoded.getvalue() == b"".join(parts)


def test_split_leaves_other_lz4_to_one_stream() -> None:
    """Linked blocks, a skippable frame first, or not lz4 at all: no blocks to walk."""
    data = sample(200_000)
    skippable = b"\x50\x2a\x4d\x18" + (1).to_bytes(4, "little") + b"x"
    for raw in (frame(data, block_linked=True), skippable + frame(data), b"not lz4 at all"):
        assert splitter.split(io.BytesIO(raw), "lz4", max_input=1 << 10, max_output=1 << 30) is None
