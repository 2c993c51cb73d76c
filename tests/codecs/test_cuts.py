"""chute.codecs.cuts: content-defined cut points (gzip --rsyncable's members)."""

from __future__ import annotations

import random

from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs.cuts import MAX_CHUNK, MIN_CHUNK, ContentCuts


def chunks(data: bytes, sizes: list[int] | None = None) -> list[bytes]:
    cuts = ContentCuts()
    out: list[bytes] = []
    pos, k = 0, 0
    while pos < len(data):
        step = sizes[k % len(sizes)] if sizes else len(data)
        out += cuts.feed(data[pos : pos + step])
        pos += step
        k += 1
    return [*out, cuts.rest()]


def varied(size: int, seed: int, alphabet: bytes = b"abcdefghijklmnop \n") -> bytes:
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    return random.Random(seed).randbytes(size).translate(table)


@settings(max_examples=examples(6), deadline=None)
@given(st.integers(0, 1 << 30), st.lists(st.integers(1000, 300_000), min_size=1, max_size=6))
def test_cuts_do_not_depend_on_how_the_data_is_fed(seed: int, sizes: list[int]) -> None:
    data = varied(4_000_000, seed)
    whole = chunks(data)
    assert chunks(data, sizes) == whole
    assert b"".join(whole) == data
    assert all(MIN_CHUNK <= len(c) <= MAX_CHUNK for c in whole[:-1])
    assert len(whole) > 3  # data with variety is cut before MAX_CHUNK (about 15 times here)


@settings(max_examples=examples(10), deadline=None)
@given(st.integers(0, 1 << 30), st.integers(0, 600_000), st.binary(min_size=1, max_size=50), st.booleans())
def test_cuts_resynchronise_after_an_edit(seed: int, at: int, piece: bytes, delete: bool) -> None:
    """After an insertion or deletion, every chunk from the second cut after the edit on
    is the same bytes as before."""
    data = varied(2_000_000, seed)
    edited = data[:at] + data[at + len(piece) :] if delete else data[:at] + piece + data[at:]
    old, new = chunks(data), chunks(edited)
    ends, pos = [], 0
    for c in new:
        pos += len(c)
        ends.append(pos)
    after = next(k for k, end in enumerate(ends) if end > at + len(piece))
    assert new[after + 2 :] == old[len(old) - len(new) + after + 2 :]
    assert len(new[after + 2 :]) > 0


def test_little_variety_is_cut_at_the_largest_size() -> None:
    for data in (bytes(3 * MAX_CHUNK), b"ab" * (3 * MAX_CHUNK // 2)):
        sizes = [len(c) for c in chunks(data)]
        assert sizes == [MAX_CHUNK] * 3 + [0]


def test_four_letters_are_enough() -> None:
    """DNA: a XOR of table values would reach too few of the 256 hash values."""
    out = chunks(varied(3_000_000, 1, b"ACGT"))
    assert len(out) > 5
