"""chute.codecs.lz4: the frame writer over lz4.block (checked against LZ4F and the lz4 CLI)
and the decoder's own framing (whole blocks to LZ4F, output served in any slice size)."""

from __future__ import annotations

import shutil
import struct
import subprocess

import lz4.frame as lf
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs import FlushMode
from chute.codecs._stream import StreamDecoder
from chute.codecs.lz4 import (
    MAX_BLOCK,
    LinkedLz4Compressor,
    Lz4Compressor,
    Lz4Decompressor,
    compress_frame,
    frame_header,
    new_compressor,
)
from chute.errors import ChecksumError, CorruptStreamError, TruncatedStreamError

BLOCK_SIZES = [lf.BLOCKSIZE_MAX64KB, lf.BLOCKSIZE_MAX256KB, lf.BLOCKSIZE_MAX1MB, lf.BLOCKSIZE_MAX4MB]


def payload(seed: int, size: int) -> bytes:
    """Half text-like, half noise: both compressed and stored (uncompressed) blocks."""
    import random

    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(1, 12)) for _ in range(50)]
    text = b" ".join(rng.choice(words) for _ in range(size // 8))[: size // 2]
    return text + rng.randbytes(size - len(text))


def decode(blob: bytes, cuts: list[int], limits: list[int]) -> tuple[bytes, bytes]:
    dec = Lz4Decompressor()
    out, pos, i = [], 0, 0
    while not dec.eof:
        limit = limits[i % len(limits)]
        i += 1
        if dec.needs_input:
            if pos >= len(blob):
                break
            step = cuts[i % len(cuts)]
            piece, pos = blob[pos : pos + step], pos + step
        else:
            piece = b""
        chunk = dec.decompress(piece, limit)
        assert limit < 0 or len(chunk) <= limit
        out.append(chunk)
    assert dec.eof
    return b"".join(out), dec.unused_data + blob[pos:]


@settings(max_examples=examples(40), deadline=None)
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 600_000),
    block=st.sampled_from(BLOCK_SIZES),
    linked=st.booleans(),
    block_checksum=st.booleans(),
    content_checksum=st.booleans(),
    store_size=st.booleans(),
    cuts=st.lists(st.integers(1, 300_000), min_size=1, max_size=8),
    limits=st.lists(st.sampled_from([-1, 1, 100, 65536, MAX_BLOCK, 10 << 20]), min_size=1, max_size=4),
)
def test_any_frame_any_chunking_any_limit(
    seed: int,
    size: int,
    block: int,
    linked: bool,
    block_checksum: bool,
    content_checksum: bool,
    store_size: bool,
    cuts: list[int],
    limits: list[int],
) -> None:
    data = payload(seed, size)
    blob = lf.compress(
        data,
        block_size=block,
        block_linked=linked,
        block_checksum=block_checksum,
        content_checksum=content_checksum,
        store_size=store_size,
    )
    got, rest = decode(blob + b"NEXT", cuts, limits)
    assert got == data
    assert rest == b"NEXT"


def test_whole_blocks_are_handed_over_without_slicing() -> None:
    data = payload(1, 3 * MAX_BLOCK + 12345)
    blob = lf.compress(data, block_size=lf.BLOCKSIZE_MAX4MB)
    dec = Lz4Decompressor()
    sizes = []
    for pos in range(0, len(blob), 128 << 10):
        sizes.append(len(dec.decompress(blob[pos : pos + (128 << 10)], MAX_BLOCK)))
        while not dec.needs_input and not dec.eof:
            sizes.append(len(dec.decompress(b"", MAX_BLOCK)))
    assert dec.eof
    assert [s for s in sizes if s] == [MAX_BLOCK, MAX_BLOCK, MAX_BLOCK, 12345]


def test_skippable_frame_goes_through_lz4f() -> None:
    data = b"after the skippable frame " * 100
    blob = struct.pack("<II", 0x184D2A5A, 3) + b"abc" + lf.compress(data)
    dec = StreamDecoder("lz4")
    assert dec.decompress(blob) == data
    dec.end()


def test_oversized_block_is_corrupt() -> None:
    blob = bytearray(lf.compress(b"x" * 1000, block_size=lf.BLOCKSIZE_MAX64KB, store_size=False))
    blob[7:11] = struct.pack("<I", (64 << 10) + 1)  # larger than the frame's 64 KiB blocks
    with pytest.raises(CorruptStreamError):
        StreamDecoder("lz4").decompress(bytes(blob))


def test_block_checksum_and_truncation() -> None:
    data = payload(2, 200_000)
    blob = bytearray(lf.compress(data, block_checksum=True, content_checksum=False, store_size=False))
    truncated = bytes(blob[:-5])
    dec = StreamDecoder("lz4")
    dec.decompress(truncated)
    with pytest.raises(TruncatedStreamError):
        dec.end()
    blob[-9] ^= 0x40  # inside the last block's checksum
    dec = StreamDecoder("lz4")
    got = dec.decompress(bytes(blob))  # the blocks before the damaged one come first
    assert data.startswith(got) and len(got) < len(data)
    with pytest.raises((ChecksumError, CorruptStreamError)):
        dec.decompress(b"")


# ----------------------------------------------------------------------------- writing


def write(comp: Lz4Compressor | LinkedLz4Compressor, data: bytes, steps: list[tuple[int, str]]) -> bytes:
    """``data`` through ``comp`` in pieces of the given sizes, each followed by the action
    named ("", "sync", "full"), then finish."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        size, action = steps[i % len(steps)]
        i += 1
        out.append(comp.compress(memoryview(data)[pos : pos + size]))
        pos += size
        if action:
            out.append(comp.flush(FlushMode.SYNC if action == "sync" else FlushMode.FULL))
    out.append(comp.finish())
    return b"".join(out)


@settings(max_examples=examples(60), deadline=None)
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 700_000),
    block=st.sampled_from([64 << 10, 256 << 10, 1 << 20]),
    checksum=st.booleans(),
    level=st.sampled_from([1, 2, 3, 9]),
    steps=st.lists(
        st.tuples(st.integers(1, 300_000), st.sampled_from(["", "", "sync", "full"])), min_size=1, max_size=6
    ),
)
def test_writer_round_trips_through_lz4f(
    seed: int, size: int, block: int, checksum: bool, level: int, steps: list[tuple[int, str]]
) -> None:
    data = payload(seed, size)
    blob = write(Lz4Compressor(level, block_size=block, checksum=checksum), data, steps)
    # LZ4F (the reference library's frame decoder) reads every frame the writer produced,
    # checking the header byte, the stored-block bit and the content checksum
    got, pos = [], 0
    while pos < len(blob):
        dec = lf.LZ4FrameDecompressor()
        got.append(dec.decompress(blob[pos:]))
        assert dec.eof
        pos = len(blob) - len(dec.unused_data or b"")
    assert b"".join(got) == data
    assert decode(blob, [len(blob) or 1], [-1])[0] == got[0]  # chute's decoder: the first frame


def test_writer_frame_layout() -> None:
    data = payload(7, 300_000)  # half text (compressed blocks), half noise (stored blocks)
    blob = write(Lz4Compressor(1, block_size=64 << 10), data, [(len(data), "")])
    # the header is byte for byte LZ4F's for the same settings (header check byte included)
    assert blob[:7] == lf.compress(b"", block_size=lf.BLOCKSIZE_MAX64KB, content_checksum=True)[:7]
    assert blob[:7] == frame_header(64 << 10, True)
    pos, sizes, stored = 7, [], 0
    while (word := int.from_bytes(blob[pos : pos + 4], "little")) != 0:
        body = word & 0x7FFFFFFF
        stored += word >> 31
        sizes.append(body)
        pos += 4 + body
    assert stored >= 2 and len(sizes) - stored >= 2  # both kinds of block occur
    assert blob[pos + 4 :] == struct.pack("<I", __import__("xxhash").xxh32_intdigest(data))
    assert len(blob) == pos + 8
    assert lf.decompress(blob) == data


def block_sizes(blob: bytes) -> list[int]:
    """The uncompressed size of each block of a one-frame ``blob`` (read back by LZ4F)."""
    pos, sizes = 7, []
    while (word := int.from_bytes(blob[pos : pos + 4], "little")) != 0:
        end = pos + 4 + (word & 0x7FFFFFFF)
        sizes.append(len(lf.decompress(frame_header(4 << 20, False) + blob[pos:end] + b"\0\0\0\0")))
        pos = end
    return sizes


@settings(max_examples=examples(30), deadline=None)
@given(
    pieces=st.lists(st.integers(0, 300_000), max_size=6),
    as_list=st.booleans(),
    level=st.sampled_from([1, 9]),
    checksum=st.booleans(),
)
def test_compress_frame_of_a_buffer_or_of_pieces(pieces: list[int], as_list: bool, level: int, checksum: bool) -> None:
    datas = [payload(i, n) for i, n in enumerate(pieces)]
    whole = b"".join(datas)
    blob = compress_frame(datas if as_list else whole, level, checksum)
    assert blob[:7] == frame_header(4 << 20, checksum)
    assert lf.decompress(blob) == whole
    # pieces are blocks of their own (empty ones skipped: an empty block is the end mark)
    assert block_sizes(blob) == ([n for n in pieces if n] if as_list else [len(whole)] * bool(whole))


def test_compress_frame_cuts_a_buffer_and_refuses_an_oversized_piece() -> None:
    data = payload(9, 9 << 20)
    blob = compress_frame(data)
    assert block_sizes(blob) == [4 << 20, 4 << 20, 1 << 20]
    assert lf.decompress(blob) == data
    with pytest.raises(ValueError):
        compress_frame([data])


def test_writer_empty_and_flush_before_data() -> None:
    comp = Lz4Compressor()
    assert comp.flush() == b""  # nothing started: nothing to say
    assert lf.decompress(comp.finish()) == b""
    comp = Lz4Compressor(checksum=False)
    blob = comp.compress(b"") + comp.flush(FlushMode.FULL) + comp.compress(b"ab") + comp.finish()
    assert blob[4] & 0x04 == 0  # no content checksum flag
    assert len(blob) == 11 + 17  # empty frame: header + end mark; then "ab" as a stored block
    assert blob[11 + 7 : 11 + 11] == struct.pack("<I", 2 | 1 << 31)
    assert lf.decompress(blob[:11]) == b"" and lf.decompress(blob[11:]) == b"ab"
    assert Lz4Compressor().compress(b"x" * 10).startswith(frame_header(4 << 20, True))


def test_writer_levels_use_fast_and_hc_modes() -> None:
    data = payload(3, 200_000)
    fast = lf.compress(data, compression_level=1, block_size=lf.BLOCKSIZE_MAX1MB)
    hc = lf.compress(data, compression_level=9, block_size=lf.BLOCKSIZE_MAX1MB)
    # the same block bodies as LZ4F (fast mode below 3, HC at the level from 3 up): same size
    assert abs(len(write(Lz4Compressor(1, block_size=1 << 20), data, [(len(data), "")])) - len(fast)) <= 8
    assert abs(len(write(Lz4Compressor(9, block_size=1 << 20), data, [(len(data), "")])) - len(hc)) <= 8


def test_block_linked_goes_to_lz4f() -> None:
    comp = new_compressor(1, block_linked=True, block_size=64 << 10)
    assert isinstance(comp, LinkedLz4Compressor)
    data = payload(5, 300_000)
    blob = write(comp, data, [(70_000, "sync")])
    assert blob[4] & 0x20 == 0  # linked blocks
    assert lf.decompress(blob) == data
    assert isinstance(new_compressor(1), Lz4Compressor)
    with pytest.raises(ValueError):
        Lz4Compressor(block_size=12345)


@pytest.mark.skipif(shutil.which("lz4") is None, reason="needs the lz4 CLI")
@pytest.mark.parametrize("checksum", [True, False])
def test_writer_output_read_by_lz4_cli(checksum: bool) -> None:
    data = payload(11, 5_000_000)
    blob = write(Lz4Compressor(1, checksum=checksum), data, [(1_500_000, ""), (100, "sync"), (3_000_000, "full")])
    out = subprocess.run(["lz4", "-d", "-c"], input=blob, capture_output=True, check=True).stdout
    assert out == data
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x10
    if checksum:  # a flipped bit is caught by the CLI, through the checksum if not sooner
        assert subprocess.run(["lz4", "-d", "-c"], input=bytes(bad), capture_output=True).returncode != 0


# ------------------------------------------------------ frames of independent blocks


def outcome(blob: bytes, lz4f_only: bool) -> bytes | type[Exception]:
    """What chute's decoder makes of ``blob``: its output or its error class; with
    ``lz4f_only`` every frame goes to LZ4F (the decoder before ``_OwnFrame``)."""
    from unittest import mock

    import chute
    from chute.codecs import lz4 as mod
    from chute.errors import ChuteError

    with mock.patch.object(mod._OwnFrame, "start", return_value=None) if lz4f_only else mock.MagicMock():
        try:
            return chute.decompress(blob, format="lz4")
        except ChuteError as exc:
            return type(exc)


def test_independent_blocks_bypass_lz4f() -> None:
    from unittest import mock

    from chute.codecs import lz4 as mod

    data = payload(1, 400_000)
    blob = lf.compress(data, block_size=lf.BLOCKSIZE_MAX64KB, block_linked=False)
    with mock.patch.object(mod._Lz4F, "decompress", side_effect=AssertionError("LZ4F used")):
        assert decode(blob, [100_000], [-1]) == (data, b"")
    linked = lf.compress(data, block_size=lf.BLOCKSIZE_MAX64KB, block_linked=True)
    assert outcome(linked, False) == data  # linked blocks: LZ4F


@settings(max_examples=examples(120), deadline=None)
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 200_000),
    block_checksum=st.booleans(),
    content_checksum=st.booleans(),
    store_size=st.booleans(),
    damage=st.one_of(
        st.tuples(st.just("cut"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    ),
)
def test_damage_gives_lz4f_errors(
    seed: int,
    size: int,
    block_checksum: bool,
    content_checksum: bool,
    store_size: bool,
    damage: tuple[str, float] | tuple[str, float, int],
) -> None:
    """Cut or flipped anywhere: the frames decoded without LZ4F give LZ4F's error class,
    or, when it decodes them, its output."""
    blob = bytearray(
        lf.compress(
            payload(seed, size),
            block_size=lf.BLOCKSIZE_MAX64KB,
            block_linked=False,
            block_checksum=block_checksum,
            content_checksum=content_checksum,
            store_size=store_size,
        )
    )
    pos = min(int(damage[1] * len(blob)), len(blob) - 1)
    if damage[0] == "cut":
        del blob[pos:]
    else:
        blob[pos] ^= 1 << damage[2]  # type: ignore[misc]
    assert outcome(bytes(blob), False) == outcome(bytes(blob), True)
