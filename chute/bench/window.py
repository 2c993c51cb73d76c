"""The window (history) a decoder must keep for a stream, read from the stream's first bytes.

These are the figures a decoder allocates for, as written in each header: a zstd frame's
window descriptor (or content size for a single-segment frame), an xz block's LZMA2
dictionary size, brotli's WBITS, bzip2's block size, lz4's block size (plus 64 KiB of history
for linked blocks), zlib's CINFO; gzip and raw deflate always use 32 KiB.
"""

from __future__ import annotations

__all__ = ["decoder_window"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def decoder_window(fmt: str, head: bytes) -> int | None:
    """Bytes of window the decoder of ``fmt`` needs for the stream starting with ``head``
    (give 64 bytes or more); ``None`` when the header does not say (an empty stream)."""
    try:
        return _PARSERS[fmt](head)
    except (IndexError, KeyError):
        return None


def _zstd(head: bytes) -> int | None:
    pos = 0
    while head[pos : pos + 4] != _ZSTD_MAGIC:  # skippable frames first
        if head[pos + 1 : pos + 4] != b"\x2a\x4d\x18" or head[pos] & 0xF0 != 0x50:
            return None
        pos += 8 + int.from_bytes(head[pos + 4 : pos + 8], "little")
    fhd = head[pos + 4]
    pos += 5
    fcs_flag, single = fhd >> 6, (fhd >> 5) & 1
    if not single:
        w = head[pos]
        base = 1 << (10 + (w >> 3))
        return base + (base >> 3) * (w & 7)
    pos += (0, 1, 2, 4)[fhd & 3]
    size = (1, 2, 4, 8)[fcs_flag]
    fcs = int.from_bytes(head[pos : pos + size], "little")
    return fcs + 256 if size == 2 else fcs


def _xz(head: bytes) -> int | None:
    pos = 12  # stream header
    if head[pos] == 0:  # the index: no block
        return None
    flags = head[pos + 1]
    pos += 2
    for bit in (0x40, 0x80):  # compressed size, uncompressed size: varints
        if flags & bit:
            while head[pos] & 0x80:
                pos += 1
            pos += 1
    for _ in range((flags & 3) + 1):
        fid, pos = _varint(head, pos)
        nprops, pos = _varint(head, pos)
        if fid == 0x21:  # LZMA2: one byte of dictionary size
            d = head[pos]
            return 0xFFFFFFFF if d >= 40 else (2 | (d & 1)) << (d // 2 + 11)
        pos += nprops
    return None


def _varint(head: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = head[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _brotli(head: bytes) -> int | None:
    bits = head[0] | head[1] << 8
    if not bits & 1:
        lgwin = 16
    elif (bits >> 1) & 7:
        lgwin = 17 + ((bits >> 1) & 7)
    elif (bits >> 4) & 7:
        lgwin = 8 + ((bits >> 4) & 7)
    else:
        lgwin = 17
    return (1 << lgwin) - 16


def _bz2(head: bytes) -> int | None:
    return (head[3] - 0x30) * 100_000 if head[:3] == b"BZh" else None


def _lz4(head: bytes) -> int | None:
    flg, bd = head[4], head[5]
    block = 1 << (8 + 2 * ((bd >> 4) & 7))
    return block if flg & 0x20 else block + (64 << 10)


def _zlib(head: bytes) -> int | None:
    return 1 << ((head[0] >> 4) + 8)


def _deflate(head: bytes) -> int | None:
    return 32 << 10


_PARSERS = {
    "zstd": _zstd,
    "xz": _xz,
    "brotli": _brotli,
    "bz2": _bz2,
    "lz4": _lz4,
    "zlib": _zlib,
    "gzip": _deflate,
    "deflate": _deflate,
}
