"""The lz4 decoder's own framing: whole blocks to LZ4F, output served in any slice size."""

from __future__ import annotations

import struct

import lz4.frame as lf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs._stream import StreamDecoder
from chute.codecs.lz4 import MAX_BLOCK, Lz4Decompressor
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


@settings(max_examples=40, deadline=None)
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
    with pytest.raises((ChecksumError, CorruptStreamError)):
        StreamDecoder("lz4").decompress(bytes(blob))
