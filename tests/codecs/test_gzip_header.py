"""chute.codecs.gzip: a name and a time in the first member's header (NamedHeader), read
back by parse_header, by Python's gzip module, and by chute's splitter (find_frames) in a
file of many MZ-sized members."""

from __future__ import annotations

import gzip
import io
import struct
import zlib

import pytest
from conftest import examples, payloads
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.codecs.gzip import MAX_HEADER_STRING, NamedHeader, new_compressor, parse_header
from chute.errors import CorruptStreamError
from chute.parallel.split import find_frames

names = st.binary(min_size=0, max_size=300).map(lambda b: b.replace(b"\0", b"_"))


def _named(data: bytes, cuts: list[int], name: bytes | None, mtime: int, **kw: object) -> bytes:
    comp = NamedHeader(new_compressor(6, **kw), name, mtime)  # type: ignore[arg-type]
    out, pos = [], 0
    for cut in sorted(cuts):
        out.append(comp.compress(data[pos:cut]))
        pos = cut
    out.append(comp.compress(data[pos:]))
    out.append(comp.finish())
    return b"".join(out)


@settings(max_examples=examples(60), deadline=None)
@given(
    payloads(),
    st.lists(st.integers(0, 20_000), max_size=5),
    st.one_of(st.none(), names),
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(["blocks", "stream"]),
    st.sampled_from([1 << 20, 4096]),
)
def test_named_header_reads_back(
    data: bytes, cuts: list[int], name: bytes | None, mtime: int, strategy: str, block: int
) -> None:
    kw: dict[str, object] = {"strategy": strategy}
    if strategy == "blocks":
        kw["block_size"] = block
    out = _named(data, cuts, name, mtime, **kw)
    assert gzip.decompress(out) == data
    head = parse_header(out)
    assert head is not None
    assert (head.name, head.mtime) == (name, mtime)
    # Python's reader agrees on the time and where the deflate data starts
    assert gzip.GzipFile(fileobj=io.BytesIO(out)).read() == data
    assert zlib.decompressobj(-15).decompress(out[head.length :]).startswith(data[:100])


def test_only_the_first_member_is_named_and_the_splitter_still_cuts() -> None:
    data = bytes(range(256)) * 20_000  # 5 MiB: 5 members of 1 MiB
    out = _named(data, [], b"log.txt", 1_600_000_000)
    frames = find_frames(io.BytesIO(out), "gzip")
    assert frames is not None and len(frames) == 5
    first = parse_header(out)
    assert first is not None and first.name == b"log.txt"
    for start, _ in frames[1:]:
        later = parse_header(out[start:])
        assert later is not None and (later.name, later.mtime) == (None, 0)
    assert b"".join(gzip.decompress(out[a:b]) for a, b in frames) == data


@pytest.mark.parametrize("flags", [0x02, 0x10, 0x12])
def test_splitter_steps_over_comment_and_header_crc(flags: int) -> None:
    """A hand-built first header (RFC 1952: FEXTRA, FNAME, FCOMMENT, FHCRC in this order)."""
    data = b"hello world\n" * 100_000
    plain = new_compressor(6, block_size=1 << 19)
    out = plain.compress(data) + plain.finish()
    xlen = out[10] | out[11] << 8
    end = 12 + xlen
    head = bytearray(out[:end])
    head[3] |= 0x08 | flags
    head += b"name\0"
    if flags & 0x10:
        head += b"a comment\0"
    if flags & 0x02:
        head += struct.pack("<H", zlib.crc32(bytes(head)) & 0xFFFF)
    built = bytes(head) + out[end:]
    assert gzip.decompress(built) == data
    frames = find_frames(io.BytesIO(built), "gzip")
    assert frames is not None and len(frames) == 3


def test_name_longer_than_the_limit_is_refused() -> None:
    long = b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + b"n" * (MAX_HEADER_STRING + 1) + b"\0"
    with pytest.raises(CorruptStreamError, match="file name longer than"):
        parse_header(long)
    assert parse_header(long[:100]) is None  # could still end: not decided yet
    assert parse_header(b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + b"n" * MAX_HEADER_STRING + b"\0") is not None


def test_not_gzip_and_bad_arguments() -> None:
    with pytest.raises(CorruptStreamError):
        parse_header(b"\x28\xb5\x2f\xfd" + b"\0" * 20)
    with pytest.raises(ValueError, match="NUL"):
        NamedHeader(new_compressor(6), b"a\0b", 0)
    with pytest.raises(ValueError, match="32-bit"):
        NamedHeader(new_compressor(6), b"a", 1 << 32)


@settings(max_examples=examples(60), deadline=None)
@given(
    data=payloads(),
    name=st.none() | names,
    comment=st.none() | names,
    extra=st.none() | st.binary(max_size=40),
    hcrc=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_member_decoder_reads_every_header_field_fed_in_pieces(
    data: bytes, name: bytes | None, comment: bytes | None, extra: bytes | None, hcrc: bool, cuts: list[int]
) -> None:
    """The gzip member decoder parses FEXTRA, FNAME, FCOMMENT and FHCRC however the input
    is cut, checks the header CRC, and decodes what zlib decodes."""
    from chute.codecs.gzip import FCOMMENT, FEXTRA, FHCRC, FNAME
    from chute.codecs.gzip import new_decompressor as member

    flg = (FEXTRA if extra is not None else 0) | (FNAME if name is not None else 0)
    flg |= (FCOMMENT if comment is not None else 0) | (FHCRC if hcrc else 0)
    head = b"\x1f\x8b\x08" + bytes([flg]) + b"\0\0\0\0\0\xff"
    if extra is not None:
        head += struct.pack("<H", len(extra)) + extra
    for field in (name, comment):
        if field is not None:
            head += field + b"\0"
    if hcrc:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    blob = head + body.compress(data) + body.flush() + struct.pack("<II", zlib.crc32(data), len(data)) + b"rest"
    assert gzip.decompress(blob[:-4]) == data

    def decode(blob: bytes) -> bytes:
        dec, out, pos = member(), [], 0
        for cut in [*sorted(cuts), len(blob)]:
            if dec.eof:
                break
            out.append(dec.decompress(blob[pos:cut]))
            pos = max(pos, cut)
            while not dec.eof and not dec.needs_input:
                out.append(dec.decompress(b""))
        assert dec.eof and dec.unused_data + blob[pos:] == b"rest"
        return b"".join(out)

    assert decode(blob) == data
    if hcrc:
        bad = bytearray(blob)
        bad[len(head) - 1] ^= 1
        with pytest.raises(CorruptStreamError, match="header CRC"):
            decode(bytes(bad))
