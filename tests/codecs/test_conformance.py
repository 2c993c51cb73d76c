"""One conformance suite, parametrized over every codec (and the main options of some).

Each codec's compressor and :class:`~chute.codecs._stream.StreamDecoder` must agree on:
exact round trips whatever the write chunking, flush points and ``max_length``; prefixes
that decode after a SYNC flush; empty input; concatenated members; and the right error
(never a silent short result) for truncation, bit flips, trailing data and limits.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import compressible, examples, payloads, pieces, text_like
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chute
from chute import codecs
from chute.api.fileobj import new_compressor
from chute.codecs import FlushMode
from chute.codecs._stream import StreamDecoder
from chute.errors import (
    ChecksumError,
    ChuteError,
    CorruptStreamError,
    LimitExceededError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownFormatError,
)

# variant id -> (format, compressor options). Every format appears; some twice, to cover
# the options that change the framing (gzip members per block, zstd workers, lz4 blocks).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "zstd": ("zstd", {}),
    "zstd-workers": ("zstd", {"threads": 2}),
    "gzip": ("gzip", {}),
    "gzip-small-blocks": ("gzip", {"block_size": 3_000}),
    "gzip-stream": ("gzip", {"strategy": "stream"}),
    "lz4": ("lz4", {}),
    "lz4-linked-64k": ("lz4", {"block_size": 64 << 10, "block_linked": True}),
    "xz": ("xz", {}),
    "bz2": ("bz2", {}),
    "brotli": ("brotli", {}),
    "zlib": ("zlib", {}),
    "deflate": ("deflate", {}),
}
ALL = codecs.names()
DETECTABLE = [n for n in ALL if n not in ("brotli", "deflate")]
CONCATENABLE = [n for n in ALL if codecs.get(n).concatenable]
# Formats whose decoder verifies a checksum of the whole content.
CHECKSUMMED = ["zstd", "gzip", "lz4", "xz", "bz2", "zlib"]
# Formats that tell a checksum mismatch apart from other damage.
CHECKSUM_ERRORS = ["zstd", "gzip", "lz4", "zlib"]
SYNC, FULL = FlushMode.SYNC, FlushMode.FULL

PROPS = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLE = os.urandom(3_000) + b"the quick brown fox jumps over the lazy dog\n" * 400


def fast_compressor(variant: str) -> Any:
    name, options = VARIANTS[variant]
    return codecs.get(name).new_compressor(codecs.get(name).fast, **options)


def compress(name: str, data: bytes, level: int | None = None, **options: Any) -> bytes:
    codec = codecs.get(name)
    comp = codec.new_compressor(codec.fast if level is None else level, **options)
    return comp.compress(data) + comp.finish()


def decode_all(
    dec: StreamDecoder, feed: list[bytes], max_lengths: list[int] | None = None, *, end: bool = True
) -> bytes:
    """Drive ``dec`` like a reader does: input only when it asks, bounded output per call."""
    limits = max_lengths or [-1]
    out: list[bytes] = []
    i = calls = idle = 0
    while not dec.eof:
        n = limits[calls % len(limits)]
        calls += 1
        if dec.needs_input:
            if i == len(feed):
                break
            chunk = dec.decompress(feed[i], n)
            i += 1
            idle = 0
        else:
            chunk = dec.decompress(b"", n)
            idle = 0 if chunk else idle + 1
            assert idle < 100, "decoder holds output back but never returns it"
        assert n < 0 or len(chunk) <= n, f"max_length={n} but {len(chunk)} bytes returned"
        out.append(chunk)
    if end:
        dec.end()
    return b"".join(out)


def skippable(payload: bytes, nibble: int = 0) -> bytes:
    return bytes([0x50 + nibble, 0x2A, 0x4D, 0x18]) + len(payload).to_bytes(4, "little") + payload


def test_variants_cover_every_codec() -> None:
    assert {name for name, _ in VARIANTS.values()} == set(ALL)
    assert set(ALL) == {"gzip", "zlib", "deflate", "zstd", "lz4", "bz2", "xz", "brotli"}


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("variant", VARIANTS)
@PROPS
@given(data=st.data())
def test_round_trip_with_random_writes_flushes_and_reads(variant: str, data: st.DataObject) -> None:
    name = VARIANTS[variant][0]
    payload = data.draw(payloads(), label="payload")
    write_sizes = data.draw(st.lists(st.integers(1, 6_000), min_size=1, max_size=6), label="write sizes")
    flushes = data.draw(st.lists(st.sampled_from([None, None, SYNC, FULL]), min_size=1, max_size=6), label="flushes")
    comp = fast_compressor(variant)
    wire = bytearray()
    sync_points: list[tuple[int, int]] = []  # (compressed bytes, plain bytes) after each flush
    done = 0
    for i, piece in enumerate(pieces(payload, write_sizes)):
        wire += comp.compress(piece)
        done += len(piece)
        mode = flushes[i % len(flushes)]
        if mode is not None:
            wire += comp.flush(mode)
            sync_points.append((len(wire), done))
    wire += comp.finish()
    blob = bytes(wire)

    # After a flush, the prefix decodes to everything written so far, without end().
    # (At most 8 of them: tiny writes may flush thousands of times.)
    for cut, plain in sync_points[:: max(1, len(sync_points) // 8)] + sync_points[-1:]:
        assert decode_all(StreamDecoder(name), [blob[:cut]], end=False) == payload[:plain]

    feed = pieces(blob, data.draw(st.lists(st.integers(1, 5_000), min_size=1, max_size=5), label="read sizes"))
    limits = data.draw(
        st.lists(st.one_of(st.just(-1), st.integers(1, 70_000)), min_size=1, max_size=5), label="max_length"
    )
    dec = StreamDecoder(name)
    assert decode_all(dec, feed, limits) == payload
    assert dec.eof and dec.total_out == len(payload) and dec.total_in == len(blob)
    if name in DETECTABLE:
        auto = StreamDecoder()
        assert decode_all(auto, feed, limits) == payload
        assert auto.format == name


@pytest.mark.parametrize("variant", VARIANTS)
def test_large_stream_across_block_boundaries(variant: str) -> None:
    """5 MiB through blocks of 1 MiB (gzip members), 4 MiB (lz4) and zstd's job sizes."""
    name = VARIANTS[variant][0]
    payload = text_like(5 << 20, seed=7)
    comp = fast_compressor(variant)
    wire = bytearray()
    for i, piece in enumerate(pieces(payload, [333_333, 1 << 20, 70_001])):
        wire += comp.compress(piece)
        if i == 4:
            wire += comp.flush(SYNC)
            cut, plain = len(wire), sum(map(len, pieces(payload, [333_333, 1 << 20, 70_001])[:5]))
    wire += comp.finish()
    blob = bytes(wire)
    assert decode_all(StreamDecoder(name), [blob[:cut]], [1 << 20], end=False) == payload[:plain]
    assert decode_all(StreamDecoder(name), pieces(blob, [65_536]), [131_072]) == payload


@pytest.mark.parametrize("name", ALL)
def test_round_trip_at_every_level_bound(name: str) -> None:
    codec = codecs.get(name)
    levels = {codec.levels[0], codec.fast, codec.default_level, codec.best}
    if name != "zstd":  # zstd 20-22 ("ultra") allocate hundreds of MiB: checked by range only
        levels.add(codec.levels[1])
    for level in sorted(levels):
        assert chute.decompress(compress(name, SAMPLE, level), name) == SAMPLE, level


@pytest.mark.parametrize("variant", VARIANTS)
def test_empty_input(variant: str) -> None:
    name = VARIANTS[variant][0]
    for flush in (None, SYNC, FULL):
        comp = fast_compressor(variant)
        blob = comp.compress(b"") + (comp.flush(flush) if flush else b"") + comp.finish()
        assert blob, "an empty stream still has a header"
        assert decode_all(StreamDecoder(name), [blob]) == b""
        if name in DETECTABLE:
            assert decode_all(StreamDecoder(), [blob]) == b""
    with pytest.raises(TruncatedStreamError):
        StreamDecoder(name).end()  # no bytes at all is not a stream


@pytest.mark.parametrize("name", ALL)
def test_max_length_zero_returns_nothing_and_keeps_the_input(name: str) -> None:
    blob = compress(name, SAMPLE)
    dec = StreamDecoder(name)
    assert dec.decompress(blob, 0) == b""
    assert decode_all(dec, [], [7_777]) == SAMPLE


@pytest.mark.parametrize("name", ALL)
def test_flush_with_nothing_written_and_repeated_flushes(name: str) -> None:
    comp = codecs.get(name).new_compressor(codecs.get(name).fast)
    wire = comp.flush(SYNC) + comp.flush(FULL)
    for i in range(3):
        wire += comp.compress(b"record %d\n" % i)
        wire += comp.flush(SYNC) + comp.flush(SYNC)
        assert decode_all(StreamDecoder(name), [wire], end=False) == b"".join(b"record %d\n" % j for j in range(i + 1))
    wire += comp.finish()
    assert chute.decompress(wire, name) == b"record 0\nrecord 1\nrecord 2\n"


# --------------------------------------------------------------------- concatenated members


@pytest.mark.parametrize("variant", VARIANTS)
@PROPS
@given(parts=st.lists(payloads(5_000), min_size=2, max_size=4), split=st.integers(1, 4_000))
def test_concatenated_members(variant: str, parts: list[bytes], split: int) -> None:
    name = VARIANTS[variant][0]
    blobs = []
    for part in parts:
        comp = fast_compressor(variant)
        blobs.append(comp.compress(part) + comp.finish())
    wire = b"".join(blobs)
    if name in CONCATENABLE:
        dec = StreamDecoder(name)
        assert decode_all(dec, pieces(wire, [split]), [split]) == b"".join(parts)
        assert dec.members >= len(parts)
        if "small-blocks" not in variant:  # one member per compressor
            first = StreamDecoder(name, members="first")
            assert decode_all(first, [wire]) == parts[0]
            assert first.unused_data == b"".join(blobs[1:])
    else:
        # No framing tells where a member ends and the next begins: the rest is trailing data.
        # (brotli's binding rejects a chunk holding bytes past the end without saying
        # where it ended, so there the error is only "corrupt".)
        expected = CorruptStreamError if name == "brotli" else TrailingDataError
        with pytest.raises(expected):
            decode_all(StreamDecoder(name), [wire])
        ignore = StreamDecoder(name, trailing="ignore")
        assert decode_all(ignore, [blobs[0], wire[len(blobs[0]) :]]) == parts[0]
        assert ignore.unused_data == wire[len(blobs[0]) :]


@pytest.mark.parametrize("name", CONCATENABLE)
def test_members_policy_first_on_a_detected_stream(name: str) -> None:
    wire = compress(name, b"one") + compress(name, b"two")
    dec = StreamDecoder(None, members="first")
    assert dec.decompress(wire) == b"one"
    assert dec.eof and not dec.needs_input and dec.unused_data == compress(name, b"two")
    dec.end()
    assert dec.decompress(b"more") == b"" and dec.unused_data.endswith(b"more")


# --------------------------------------------------------------------------- truncation


def _offsets(size: int) -> list[int]:
    if size <= 1_500:
        return list(range(size))
    step = size // 400
    return sorted({*range(80), *range(size - 80, size), *range(0, size, step)})


@pytest.mark.parametrize("name", ALL)
def test_truncation_at_many_offsets(name: str) -> None:
    blob = compress(name, SAMPLE, codecs.get(name).default_level)
    for cut in _offsets(len(blob)):
        for fmt in {name, None} if name in DETECTABLE else {name}:
            for feed in ([blob[:cut]], pieces(blob[:cut], [97])):
                dec = StreamDecoder(fmt)
                try:
                    out = decode_all(dec, feed)
                except TruncatedStreamError:
                    continue
                except UnknownFormatError:
                    # one byte 0x78 could still become a zlib header: the format is unknown
                    assert fmt is None and name == "zlib" and cut == 1
                    continue
                pytest.fail(f"{name} cut at {cut}/{len(blob)} decoded {len(out)} bytes without an error")


@pytest.mark.parametrize("name", CONCATENABLE)
def test_truncation_between_and_inside_members(name: str) -> None:
    first, second = compress(name, b"first member " * 50), compress(name, SAMPLE)
    wire = first + second
    # At the boundary the stream is a complete one-member stream: exactly its data.
    assert chute.decompress(wire[: len(first)], name) == b"first member " * 50
    for cut in range(len(first) + 1, len(wire), max(1, len(second) // 200)):
        with pytest.raises(TruncatedStreamError):
            decode_all(StreamDecoder(name), pieces(wire[:cut], [1_000]))


@pytest.mark.parametrize("name", ALL)
@PROPS
@given(data=payloads(8_000), where=st.floats(0, 1, exclude_max=True))
def test_truncation_of_random_data(name: str, data: bytes, where: float) -> None:
    blob = compress(name, data)
    cut = int(len(blob) * where)
    with pytest.raises(TruncatedStreamError):
        decode_all(StreamDecoder(name), [blob[:cut]])


# --------------------------------------------------------------------------- corruption


@pytest.mark.parametrize("name", ALL)
@PROPS
@given(data=payloads(8_000), where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_bit_flip_is_detected(name: str, data: bytes, where: float, bit: int) -> None:
    blob = bytearray(compress(name, data))
    blob[int(len(blob) * where)] ^= 1 << bit
    try:
        out = decode_all(StreamDecoder(name), pieces(bytes(blob), [1_000]), [4_096])
    except (CorruptStreamError, TruncatedStreamError, LimitExceededError):
        return
    # Some bits change nothing (a gzip mtime, padding bits); with a checksum, any change
    # of the content is caught. deflate and brotli have no checksum: a flip may decode to
    # other bytes, but must still never raise anything but a ChuteError.
    if name in CHECKSUMMED:
        assert out == data, "a bit flip changed the output without an error"


@pytest.mark.parametrize("name", ["deflate", "brotli"])
@PROPS
@given(junk=st.binary(max_size=300))
def test_random_bytes_raise_only_chute_errors(name: str, junk: bytes) -> None:
    try:
        decode_all(StreamDecoder(name), [junk], [1_000])
    except ChuteError:
        pass


@pytest.mark.parametrize("name", CHECKSUM_ERRORS)
def test_damaged_checksum_is_a_checksum_error(name: str) -> None:
    blob = compress(name, SAMPLE)
    # the content checksum is the last 4 bytes (gzip: CRC32 then ISIZE, so 8 back)
    at = len(blob) - (8 if name == "gzip" else 4)
    for delta in (0, 1, 3):
        bad = bytearray(blob)
        bad[at + delta] ^= 0x40
        with pytest.raises(ChecksumError):
            chute.decompress(bytes(bad), name)
    if name == "gzip":  # ISIZE
        bad = bytearray(blob)
        bad[-1] ^= 0x01
        with pytest.raises(ChecksumError):
            chute.decompress(bytes(bad), name)


@pytest.mark.parametrize("name", DETECTABLE)
def test_unknown_format(name: str) -> None:
    with pytest.raises(UnknownFormatError):
        chute.decompress(b"plain text, not compressed at all")
    with pytest.raises(CorruptStreamError):  # asked for one format, given another
        chute.decompress(compress("zstd" if name != "zstd" else "gzip", b"data"), name)


# ------------------------------------------------------------------------- trailing data


def _starts_a_member(name: str, junk: bytes) -> bool:
    return any(m.startswith(junk[: len(m)]) for m in codecs.get(name).magic)


@pytest.mark.parametrize("name", ALL)
@PROPS
@given(data=payloads(4_000), junk=st.binary(min_size=1, max_size=200))
def test_trailing_garbage(name: str, data: bytes, junk: bytes) -> None:
    codec = codecs.get(name)
    assume(not _starts_a_member(name, junk))
    assume(not (codec.zero_padding_ok and not junk.strip(b"\0")))
    blob = compress(name, data)
    # in separate chunks
    with pytest.raises(TrailingDataError):
        decode_all(StreamDecoder(name), [blob, junk])
    # in the same chunk
    expected = CorruptStreamError if name == "brotli" else TrailingDataError
    with pytest.raises(expected):
        decode_all(StreamDecoder(name), [blob + junk])
    # trailing="ignore" stops there and hands the rest back
    dec = StreamDecoder(name, trailing="ignore")
    assert decode_all(dec, [blob, junk]) == data
    assert dec.unused_data == junk


@pytest.mark.parametrize("name", CONCATENABLE)
def test_partial_magic_after_a_member_is_truncation(name: str) -> None:
    blob = compress(name, b"data")
    magic = codecs.get(name).magic[0]
    for n in range(1, len(magic)):
        with pytest.raises(TruncatedStreamError):
            decode_all(StreamDecoder(name), [blob + magic[:n]])


@pytest.mark.parametrize("name", ["gzip", "xz"])
@pytest.mark.parametrize("zeros", [4, 8, 512, 10_240])
def test_zero_padding_is_accepted(name: str, zeros: int) -> None:
    blob = compress(name, SAMPLE)
    assert decode_all(StreamDecoder(name), [blob + bytes(zeros)]) == SAMPLE
    assert decode_all(StreamDecoder(), pieces(blob + bytes(zeros), [100])) == SAMPLE
    padded_then_member = [blob + bytes(zeros) + blob[:10], blob[10:]]
    if name == "xz":  # xz stream padding may separate streams, as xz -d accepts
        assert decode_all(StreamDecoder(name), padded_then_member) == SAMPLE * 2
    else:  # gzip: padding ends the stream, like the zeros after a tar archive
        with pytest.raises(TrailingDataError):
            decode_all(StreamDecoder(name), padded_then_member)


@pytest.mark.parametrize("name", ["gzip", "xz"])
def test_trailing_ignore_keeps_padding_and_what_follows(name: str) -> None:
    blob = compress(name, SAMPLE)
    # 3 zeros: valid gzip padding, but not whole xz padding units, so trailing data there
    cases = {bytes(8) + b"junk": None, bytes(8) + b"\x1f": None, bytes(3): b"" if name == "gzip" else None}
    for rest, unused in cases.items():
        dec = StreamDecoder(name, trailing="ignore")
        assert decode_all(dec, pieces(blob + rest, [len(blob), 2])) == SAMPLE
        assert dec.unused_data == (rest if unused is None else unused)


@pytest.mark.parametrize("zeros", [1, 3, 5, 4_095])
def test_xz_padding_must_be_whole_4_byte_units(zeros: int) -> None:
    blob = compress("xz", SAMPLE)
    with pytest.raises(CorruptStreamError):
        decode_all(StreamDecoder("xz"), [blob + bytes(zeros)])
    with pytest.raises(CorruptStreamError):
        decode_all(StreamDecoder("xz"), pieces(blob + bytes(zeros) + blob, [zeros]))
    assert decode_all(StreamDecoder("gzip"), [compress("gzip", SAMPLE) + bytes(zeros)]) == SAMPLE


@pytest.mark.parametrize("name", [n for n in ALL if not codecs.get(n).zero_padding_ok])
def test_zero_padding_is_trailing_data_elsewhere(name: str) -> None:
    with pytest.raises(CorruptStreamError):
        decode_all(StreamDecoder(name), [compress(name, SAMPLE), bytes(512)])


# ----------------------------------------------------------------------- skippable frames


@pytest.mark.parametrize("name", ["zstd", "lz4"])
@pytest.mark.parametrize("fmt", ["given", "detected"])
def test_skippable_frames_are_skipped(name: str, fmt: str) -> None:
    member = compress(name, SAMPLE)
    big = skippable(os.urandom(300_000), 15)
    cases = {
        "lead": (skippable(b"meta") + member, SAMPLE),
        "lead-big": (big + skippable(b"") + member, SAMPLE),
        "middle": (member + skippable(b"x" * 100, 7) + member, SAMPLE * 2),
        "end": (member + skippable(b"tail", 3), SAMPLE),
        "only": (skippable(b"nothing else"), b""),
    }
    for label, (wire, expected) in cases.items():
        for split in (len(wire), 5, 4_096):
            dec = StreamDecoder(name if fmt == "given" else None)
            assert decode_all(dec, pieces(wire, [split]), [65_536]) == expected, (label, split)
            if expected:
                assert dec.format == name
    # a cut inside a skippable frame is truncation
    for cut in (1, 4, 7, 8, 50, len(big) - 1):
        with pytest.raises(TruncatedStreamError):
            decode_all(StreamDecoder(name if fmt == "given" else None), [big[:cut]])


# --------------------------------------------------------------------------------- limits


def test_zstd_window_over_the_memory_limit() -> None:
    big_window = compress("zstd", b"a" * 1_000 + os.urandom(1_000), 3, window_log=24)  # 16 MiB window
    assert chute.decompress(big_window) == chute.decompress(big_window, memory_limit=16 << 20)
    for options in ({"memory_limit": 1 << 20}, {"memory_limit": (16 << 20) - 1}):
        dec = StreamDecoder(**options)
        with pytest.raises(LimitExceededError, match="memory"):
            decode_all(dec, [big_window])
    # default limit: 128 MiB, like the zstd CLI
    huge_window = compress("zstd", b"tiny", 3, window_log=28)
    with pytest.raises(LimitExceededError):
        chute.decompress(huge_window)
    assert chute.decompress(huge_window, memory_limit=256 << 20) == b"tiny"


def test_xz_memory_limit() -> None:
    blob = compress("xz", b"payload " * 100, 9)  # 64 MiB dictionary
    with pytest.raises(LimitExceededError):
        chute.decompress(blob, memory_limit=1 << 20)
    assert chute.decompress(blob, memory_limit=128 << 20) == b"payload " * 100


@pytest.mark.parametrize("name", ALL)
def test_max_output(name: str) -> None:
    blob = compress(name, SAMPLE)
    assert decode_all(StreamDecoder(name, max_output=len(SAMPLE)), [blob]) == SAMPLE
    for limits in ([-1], [1_000], [len(SAMPLE)]):
        with pytest.raises(LimitExceededError):
            decode_all(StreamDecoder(name, max_output=len(SAMPLE) - 1), pieces(blob, [500]), limits)
    with pytest.raises(LimitExceededError):
        chute.decompress(blob, name, max_output=10)


@pytest.mark.parametrize("name", ALL)
def test_levels_out_of_range(name: str) -> None:
    codec = codecs.get(name)
    lo, hi = codec.levels
    assert lo <= codec.fast <= codec.default_level <= hi and lo <= codec.best <= hi
    for bad in (lo - 1, hi + 1, 1_000):
        with pytest.raises(ValueError, match="level"):
            new_compressor(codec, bad)
        with pytest.raises(ValueError, match="level"):
            chute.compress(b"x", name, bad)
    with pytest.raises(TypeError):
        new_compressor(codec, True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        codec.check_level("3")  # type: ignore[arg-type]
    assert codec.check_level(None) == codec.default_level


@pytest.mark.parametrize("name", ALL)
def test_compressible_data_shrinks(name: str) -> None:
    data = b"".join(b"line %d of a log file\n" % (i % 50) for i in range(5_000))
    assert len(compress(name, data)) < len(data) // 5


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=examples(10), deadline=None)
@given(data=compressible(30_000))
def test_memoryview_and_bytearray_input(name: str, data: bytes) -> None:
    comp = codecs.get(name).new_compressor(codecs.get(name).fast)
    half = len(data) // 2
    wire = comp.compress(memoryview(data)[:half]) + comp.compress(bytearray(data[half:])) + comp.finish()
    dec = StreamDecoder(name)
    assert dec.decompress(memoryview(wire)) == data
    dec.end()
