"""chute.codecs._liblz4: the lz4 writer through the system liblz4, checked against the lz4
CLI and against the python-lz4 engine it falls back to (same bytes, same frames)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chute.codecs import FlushMode
from chute.codecs import _liblz4 as binding
from chute.codecs.lz4 import Lz4Compressor, _PythonFrame, compress_frame, frame_header
from chute.errors import ChuteError

pytestmark = [
    pytest.mark.skipif(binding._open() is None, reason="needs the system liblz4 1.9+"),
    pytest.mark.skipif(shutil.which("lz4") is None, reason="needs the lz4 CLI"),
]


def payload(seed: int, size: int) -> bytes:
    """Half text-like, half noise: both compressed and stored (uncompressed) blocks."""
    import random

    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(1, 12)) for _ in range(50)]
    text = b" ".join(rng.choice(words) for _ in range(size // 8))[: size // 2]
    return text + rng.randbytes(size - len(text))


def compressor(engine: str, level: int = 1, **kw: int | bool) -> Lz4Compressor:
    old = os.environ.get(binding.ENV)
    os.environ[binding.ENV] = engine
    try:
        comp = Lz4Compressor(level, **kw)  # type: ignore[arg-type]
    finally:
        if old is None:
            del os.environ[binding.ENV]
        else:
            os.environ[binding.ENV] = old
    kind = _PythonFrame if engine == "python-lz4" else binding.FrameCompressor
    assert isinstance(comp._engine, kind)
    return comp


def lz4_d(blob: bytes) -> bytes:
    return subprocess.run(["lz4", "-d", "-c"], input=blob, capture_output=True, check=True).stdout


@pytest.mark.parametrize("engine", ["liblz4", "python-lz4"])
@pytest.mark.parametrize("level", [1, 9])
def test_stream_is_byte_identical_to_lz4_cli(engine: str, level: int) -> None:
    # one frame of 4 MiB independent blocks with a content checksum and no flush: the
    # framing `lz4 -1`/`-9` writes, so the bytes must match (both engines run liblz4 1.9.4
    # here; a different library version may pick other matches and still be valid)
    data = payload(1, 9_500_000)  # compressed blocks, stored blocks, a partial last block
    cli = subprocess.run(["lz4", f"-{level}", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    comp = compressor(engine, level)
    out = [comp.compress(data[pos : pos + 1_000_003]) for pos in range(0, len(data), 1_000_003)]
    assert b"".join([*out, comp.finish()]) == cli


def layout(blob: bytes) -> list[list[int]]:
    """Per frame, the decoded size of each block; checks the magic. Whether a block is
    stored raw is left out: it depends on the block compressor's exact output, which for
    small blocks differs between liblz4 copies (see test_small_blocks_as_the_cli_writes_them)."""
    import lz4.block

    frames, pos = [], 0
    while pos < len(blob):
        assert blob[pos : pos + 4] == b"\x04\x22\x4d\x18"
        checksum = bool(blob[pos + 4] & 0x04)
        block_max = 1 << (8 + 2 * ((blob[pos + 5] >> 4) & 7))
        pos += 7
        blocks = []
        while word := int.from_bytes(blob[pos : pos + 4], "little"):
            stored = blob[pos + 4 : pos + 4 + (word & 0x7FFFFFFF)]
            raw = word >> 31
            blocks.append(len(stored) if raw else len(lz4.block.decompress(stored, uncompressed_size=block_max)))
            pos += 4 + len(stored)
        pos += 8 if checksum else 4
        frames.append(blocks)
    assert pos == len(blob)
    return frames


def test_small_blocks_as_the_cli_writes_them() -> None:
    # under 64 KiB, python-lz4's bundled copy of lz4 compresses a block differently from
    # the system liblz4 and the lz4 CLI (another hash table for small inputs): the system
    # library's blocks are the CLI's; the CLI's header names the smallest block size that
    # holds a one-block input, so only the header differs
    for size in (352, 1000, 20_000, 70_000):
        data = payload(0, size)
        cli = subprocess.run(["lz4", "-1", "-q", "-c"], input=data, capture_output=True, check=True).stdout
        comp = compressor("liblz4")
        ours = comp.compress(data) + comp.finish()
        assert ours[7:] == cli[7:] and ours[:5] == cli[:5]
        assert compress_frame([data], comp=compressor("liblz4")) == ours


def run(comp: Lz4Compressor, data: bytes, steps: list[tuple[int, str, str]]) -> bytes:
    """Feed ``data`` in the given pieces (as bytes, bytearray or a read-only view), each
    followed by nothing, a SYNC or a FULL flush."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        size, kind, action = steps[i % len(steps)]
        i += 1
        piece = data[pos : pos + size]
        pos += size
        given_piece = {"bytes": piece, "bytearray": bytearray(piece), "view": memoryview(piece)}[kind]
        out.append(comp.compress(given_piece))
        if action:
            out.append(comp.flush(FlushMode.SYNC if action == "sync" else FlushMode.FULL))
    out.append(comp.finish())
    return b"".join(out)


# 42-byte blocks of this payload compress to about their size: liblz4 1.9.4 stores some raw
# where python-lz4's copy stores them compressed, and the other way round
@example(seed=8796, size=50802, block=65536, checksum=False, level=1, steps=[(42, "bytes", "sync")])
@settings(max_examples=examples(25), deadline=None)
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 600_000),
    block=st.sampled_from([64 << 10, 256 << 10, 4 << 20]),
    checksum=st.booleans(),
    level=st.sampled_from([1, 2, 3, 12]),
    steps=st.lists(
        st.tuples(
            st.integers(1, 300_000),
            st.sampled_from(["bytes", "bytearray", "view"]),
            st.sampled_from(["", "", "sync", "full"]),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_any_chunking_and_flushes_same_bytes_as_fallback_and_read_by_lz4(
    seed: int, size: int, block: int, checksum: bool, level: int, steps: list[tuple[int, str, str]]
) -> None:
    data = payload(seed, size)
    ours = run(compressor("liblz4", level, block_size=block, checksum=checksum), data, steps)
    theirs = run(compressor("python-lz4", level, block_size=block, checksum=checksum), data, steps)
    # the same frames and blocks (flushes cut the same blocks, FULL ends a frame); the
    # bytes of a block under 64 KiB may differ (see test_small_blocks_as_the_cli_writes_them)
    assert layout(ours) == layout(theirs)
    assert lz4_d(ours) == data  # the CLI reads every frame (it reads concatenated frames)
    assert lz4_d(theirs) == data


@settings(max_examples=examples(20), deadline=None)
@given(
    pieces=st.lists(st.integers(0, 300_000), max_size=5),
    kind=st.sampled_from(["bytes", "bytearray", "view"]),
    level=st.sampled_from([1, 9]),
    checksum=st.booleans(),
)
def test_frame_of_pieces_same_bytes_as_fallback(pieces: list[int], kind: str, level: int, checksum: bool) -> None:
    datas = [payload(i, n) for i, n in enumerate(pieces)]
    given_pieces = [{"bytes": d, "bytearray": bytearray(d), "view": memoryview(d)[0:]}[kind] for d in datas]
    ours = compress_frame(given_pieces, comp=compressor("liblz4", level, checksum=checksum))
    theirs = compress_frame(datas, comp=compressor("python-lz4", level, checksum=checksum))
    assert layout(ours) == layout(theirs)
    assert len(layout(ours)[0]) == len([d for d in datas if d])  # a block per piece, empty ones skipped
    if all(len(d) >= 64 << 10 for d in datas):
        assert ours == theirs
    assert lz4_d(ours) == lz4_d(theirs) == b"".join(datas)


def test_one_compressor_writes_frame_after_frame() -> None:
    comp = compressor("liblz4", 1)
    fresh = [compress_frame(payload(i, 5_000_000)) for i in range(3)]
    assert [compress_frame(payload(i, 5_000_000), comp=comp) for i in range(3)] == fresh
    comp.compress(b"x" * 100)
    with pytest.raises(ValueError, match="frame is open"):
        compress_frame([b"y"], comp=comp)


def test_fallback_when_the_library_cannot_be_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    data = payload(3, 5_000_000)
    expect = compressor("liblz4").compress(data) + b""
    monkeypatch.setattr(binding, "_lib", None)
    monkeypatch.setattr(binding, "_tried", False)
    monkeypatch.setattr(binding, "_open", lambda: None)  # no liblz4, or one older than MIN_VERSION
    monkeypatch.delenv(binding.ENV, raising=False)
    comp = Lz4Compressor()
    assert isinstance(comp._engine, _PythonFrame)
    assert comp.compress(data) == expect
    monkeypatch.setenv(binding.ENV, "liblz4")  # asked for explicitly: an error, not a quiet fallback
    with pytest.raises(ChuteError, match="liblz4"):
        Lz4Compressor()
    monkeypatch.setenv(binding.ENV, "fast")
    with pytest.raises(ChuteError, match="CHUTE_LZ4_ENGINE"):
        Lz4Compressor()


@pytest.mark.parametrize("threads", ["1", "2"])
def test_cli_same_bytes_with_either_engine(tmp_path: object, threads: str) -> None:
    data = payload(4, 9_000_000)
    argv = [sys.executable, "-m", "chute", "-F", "lz4", "-1", "-T", threads, "-c"]
    outs = []
    for engine in ("liblz4", "python-lz4"):
        env = {**os.environ, binding.ENV: engine}
        outs.append(subprocess.run(argv, input=data, capture_output=True, check=True, env=env).stdout)
    assert outs[0] == outs[1]
    assert lz4_d(outs[0]) == data
    env = {**os.environ, binding.ENV: "fast"}
    bad = subprocess.run(argv, input=b"abc", capture_output=True, env=env)
    assert bad.returncode != 0 and b"Traceback" not in bad.stderr
    assert bad.stderr.decode().count("\n") == 1 and "CHUTE_LZ4_ENGINE" in bad.stderr.decode()


def test_errors_map_into_chutes_tree() -> None:
    comp = binding.FrameCompressor(1, 4 << 20, True, frame_header(4 << 20, True))
    generic = (1 << 64) - 1  # LZ4F's error codes are (size_t)-code: -1 is ERROR_GENERIC
    with pytest.raises(ChuteError, match="lz4 compression failed"):
        comp._check(generic)
    comp.close()
    comp.close()  # twice is harmless


def test_buffers_stay_bounded() -> None:
    block = 64 << 10
    comp = compressor("liblz4", 1, block_size=block)
    engine = comp._engine
    assert isinstance(engine, binding.FrameCompressor)
    start = engine._cap
    assert start < 2 * block + 4096  # LZ4F_compressBound: one block plus one held back
    data = payload(5, 3_000_000)
    out = comp.compress(data)  # taken a block at a time through the same buffer
    assert engine._cap == start and len(out) < len(data) + len(data) // block * 8 + 64
    comp.finish()
    frame_comp = compressor("liblz4", 1)
    big = frame_comp._engine
    before = big._cap
    compress_frame([data[:1_000_000]] * 4, comp=frame_comp)
    assert big._cap == before  # four pieces of 4 MiB in all fit the buffer it has
