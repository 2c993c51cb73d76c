"""chute's gzip index format (chute.codecs.gzindex): round trips, damage, limits."""

from __future__ import annotations

import itertools
import struct

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs import gzindex as fmt
from chute.errors import IndexFileError, LimitExceededError


@st.composite
def indexes(draw: st.DrawFn) -> fmt.GzipIndex:
    """Valid indexes: increasing checkpoints, windows no larger than the output before them."""
    n = draw(st.integers(1, 12))
    bit, out = 0, 0
    cps = [fmt.Checkpoint(0, 0)]
    for _ in range(n - 1):
        bit += draw(st.integers(1, 1 << 30))
        out += draw(st.integers(0, 1 << 24))
        if draw(st.booleans()):
            bit += (-bit) % 8
            cps.append(fmt.Checkpoint(bit, out, fmt.MEMBER))
        else:
            window = draw(st.binary(max_size=min(out, 300)))
            cps.append(
                fmt.Checkpoint(bit, out, fmt.INSIDE, len(window), fmt.compress_window(window) if window else b"")
            )
    size = bit // 8 + draw(st.integers(1, 1000))
    spacing = draw(st.integers(fmt.MIN_SPACING, fmt.MAX_SPACING))
    return fmt.GzipIndex(
        spacing, size, out + draw(st.integers(0, 1000)), draw(st.binary(min_size=16, max_size=16)), cps
    )


@given(indexes())
def test_round_trip(index: fmt.GzipIndex) -> None:
    back = fmt.parse(fmt.serialize(index))
    assert back == index
    for i, cp in enumerate(index.checkpoints):
        assert len(back.window(i)) == cp.window_size


@settings(max_examples=examples(200))
@given(indexes(), st.data())
def test_any_flipped_byte_is_refused(index: fmt.GzipIndex, data: st.DataObject) -> None:
    raw = bytearray(fmt.serialize(index))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(IndexFileError):
        fmt.parse(raw)


@given(indexes(), st.data())
def test_a_cut_index_is_refused(index: fmt.GzipIndex, data: st.DataObject) -> None:
    raw = fmt.serialize(index)
    with pytest.raises(IndexFileError):
        fmt.parse(raw[: data.draw(st.integers(0, len(raw) - 1))])


def _resealed(body: bytes) -> bytes:
    import hashlib

    return body + hashlib.blake2b(body, digest_size=16).digest()


def test_checkpoints_out_of_order_are_refused_even_with_a_good_digest() -> None:
    cps = [fmt.Checkpoint(0, 0), fmt.Checkpoint(800, 100, fmt.MEMBER), fmt.Checkpoint(1600, 200, fmt.MEMBER)]
    good = fmt.serialize(fmt.GzipIndex(fmt.MIN_SPACING, 1000, 300, bytes(16), cps))
    # swap the out offsets of checkpoints 1 and 2 in the table, reseal
    table = 56
    entry = struct.Struct("<QQHBBI")
    body = bytearray(good[:-16])
    e1 = entry.unpack_from(body, table + entry.size)
    e2 = entry.unpack_from(body, table + 2 * entry.size)
    entry.pack_into(body, table + entry.size, e1[0], e2[1], *e1[2:])
    entry.pack_into(body, table + 2 * entry.size, e2[0], e1[1], *e2[2:])
    with pytest.raises(IndexFileError, match="not after"):
        fmt.parse(_resealed(bytes(body)))


def test_a_window_that_does_not_decode_is_refused_when_used() -> None:
    cps = [fmt.Checkpoint(0, 0), fmt.Checkpoint(8001, 5000, fmt.INSIDE, 100, b"\xff" * 10)]
    index = fmt.parse(fmt.serialize(fmt.GzipIndex(fmt.MIN_SPACING, 2000, 6000, bytes(16), cps)))
    with pytest.raises(IndexFileError, match="window of checkpoint 1"):
        index.window(1)


def test_limits() -> None:
    head = struct.pack(
        "<8sBBHIQQII16s", fmt.MAGIC, 1, 0, 0, fmt.MIN_SPACING, 10, 10, fmt.MAX_CHECKPOINTS + 1, 0, bytes(16)
    )
    with pytest.raises(LimitExceededError):
        fmt.parse(_resealed(head))
    with pytest.raises(IndexFileError, match="version 2"):
        fmt.parse(_resealed(head[:8] + b"\x02" + head[9:]))
    with pytest.raises(IndexFileError, match="not a chute gzip index"):
        fmt.parse(b"\x1f\x8b" + bytes(100))
    with pytest.raises(IndexFileError, match="spacing"):
        fmt.serialize(fmt.GzipIndex(1024, 10, 10, bytes(16), [fmt.Checkpoint(0, 0)]))


def test_sample_spans_cover_small_files_whole_and_big_ones_at_both_ends() -> None:
    assert fmt.sample_spans(1000) == [(0, 1000)]
    size = 10 << 30
    spans = fmt.sample_spans(size)
    assert spans[0] == (0, fmt.SAMPLE_EDGE) and spans[-1] == (size - fmt.SAMPLE_EDGE, fmt.SAMPLE_EDGE)
    assert all(a + n <= b for (a, n), (b, _) in itertools.pairwise(spans))
    assert fmt.identity(size, [b"a"]) != fmt.identity(size + 1, [b"a"])
