"""chute's gzip index format: checkpoints into any gzip file, sans-IO.

A checkpoint is a place where decoding can start: the bit offset in the compressed file,
the offset in the decoded output, and the up to 32 KiB of output before it (the *window*,
which later back-references reach), stored compressed. At the start of a gzip member no
window is needed. The index also records the file's identity (its size and a digest of
sampled bytes), so that an index is refused for another file, and a digest of itself, so
that a damaged index is refused. docs/gzip-index.md describes the layout byte by byte.

:func:`parse` and :func:`serialize` do no I/O; :func:`sample_spans` says which bytes of
the file make its identity and :func:`identity` digests them.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field

from ..errors import IndexFileError, LimitExceededError

__all__ = [
    "Checkpoint",
    "GzipIndex",
    "parse",
    "serialize",
    "compress_window",
    "sample_spans",
    "identity",
    "MAGIC",
    "SUFFIX",
    "DEFAULT_SPACING",
    "MIN_SPACING",
    "MAX_SPACING",
    "MAX_CHECKPOINTS",
    "MAX_INDEX_BYTES",
    "WINDOW",
    "MEMBER",
    "INSIDE",
]

MAGIC = b"CHUTEGZI"
VERSION = 1
#: The sidecar's suffix: ``FILE.gz`` is indexed by ``FILE.gz.idx``.
SUFFIX = ".idx"
#: Decoded bytes between checkpoints by default: a random read decodes 2 MiB on average,
#: and the index of text stays under 1% of the compressed size (docs/gzip-index.md).
DEFAULT_SPACING = 4 << 20
MIN_SPACING = 64 << 10
MAX_SPACING = 1 << 30
#: At the smallest spacing, 2^24 checkpoints index 1 TiB of output (4 MiB: 64 TiB).
MAX_CHECKPOINTS = 1 << 24
WINDOW = 32 << 10
#: The largest index file read (at the 4 MiB default spacing, 1 GiB indexes about 400 GiB
#: of text).
MAX_INDEX_BYTES = 1 << 30

#: Kinds of checkpoint: at the first byte of a gzip member (its header is decoded there,
#: and its CRC32 and size are checked) ...
MEMBER = 0
#: ... or inside a member's deflate data, after the end of a block.
INSIDE = 1

_HEADER = struct.Struct("<8sBBHIQQII16s")  # magic, version, flags, 0, spacing, size, out, count, 0, identity
_ENTRY = struct.Struct("<QQHBBI")  # bit offset, out offset, window size, kind, 0, stored window size
_DIGEST = 16
#: Bytes of the file's identity: the first and last SAMPLE_EDGE bytes and SAMPLE_COUNT
#: spans of SAMPLE_SIZE evenly spaced between them.
SAMPLE_EDGE = 64 << 10
SAMPLE_SIZE = 4 << 10
SAMPLE_COUNT = 6


@dataclass(frozen=True)
class Checkpoint:
    """Where decoding can start: ``bit`` (offset in the compressed file, in bits), ``out``
    (offset in the decoded output), ``kind`` (:data:`MEMBER` or :data:`INSIDE`),
    ``window_size`` (bytes of output before ``out`` the decoder needs) and ``window``
    (those bytes, compressed as raw deflate; empty if ``window_size`` is 0)."""

    bit: int
    out: int
    kind: int = MEMBER
    window_size: int = 0
    window: bytes = b""


@dataclass
class GzipIndex:
    """The checkpoints of one gzip file of ``size`` compressed bytes that decode to
    ``out_size`` bytes; ``ident`` is :func:`identity` of the file's first ``size`` bytes."""

    spacing: int
    size: int
    out_size: int
    ident: bytes
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def window(self, i: int) -> bytes:
        """The decoded window of checkpoint ``i`` (checked against its recorded size)."""
        cp = self.checkpoints[i]
        if not cp.window_size:
            return b""
        dec = zlib.decompressobj(-15)
        try:
            data = dec.decompress(cp.window, cp.window_size + 1)
        except zlib.error:
            data = b""
        if len(data) != cp.window_size or not dec.eof or dec.unused_data:
            raise _damaged(f"window of checkpoint {i} does not decode")
        return data


def _damaged(why: str) -> IndexFileError:
    return IndexFileError(f"damaged gzip index ({why})")


def compress_window(window: bytes | memoryview) -> bytes:
    """A window as the index stores it (raw deflate, level 6: level 9 costs 5x the time for 0.3% less)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15, 9)
    return comp.compress(window) + comp.flush()


def sample_spans(size: int) -> list[tuple[int, int]]:
    """The (offset, length) spans of a file of ``size`` bytes that make its identity."""
    if size <= 2 * SAMPLE_EDGE + SAMPLE_COUNT * SAMPLE_SIZE:
        return [(0, size)]
    spans = [(0, SAMPLE_EDGE)]
    step = (size - 2 * SAMPLE_EDGE) // (SAMPLE_COUNT + 1)
    spans += [(SAMPLE_EDGE + step * (i + 1), SAMPLE_SIZE) for i in range(SAMPLE_COUNT)]
    spans.append((size - SAMPLE_EDGE, SAMPLE_EDGE))
    return spans


def identity(size: int, samples: list[bytes]) -> bytes:
    """Digest of a file's size and the bytes of its :func:`sample_spans`, in order."""
    h = hashlib.blake2b(size.to_bytes(8, "little"), digest_size=_DIGEST, person=b"chute-gzi-ident")
    for s in samples:
        h.update(s)
    return h.digest()


def _check(index: GzipIndex) -> None:
    """Refuse an index whose checkpoints cannot be those of a gzip file."""
    if not MIN_SPACING <= index.spacing <= MAX_SPACING:
        raise _damaged(f"spacing {index.spacing} out of range")
    cps = index.checkpoints
    if not cps or len(cps) > MAX_CHECKPOINTS:
        raise _damaged(f"{len(cps)} checkpoints")
    if cps[0].bit != 0 or cps[0].out != 0 or cps[0].kind != MEMBER:
        raise _damaged("first checkpoint is not the start of the file")
    prev = None
    for i, cp in enumerate(cps):
        if cp.kind not in (MEMBER, INSIDE):
            raise _damaged(f"checkpoint {i} of unknown kind {cp.kind}")
        if cp.kind == MEMBER and (cp.bit % 8 or cp.window_size):
            raise _damaged(f"member checkpoint {i} is not at a byte with no window")
        if cp.window_size > min(WINDOW, cp.out) or bool(cp.window_size) != bool(cp.window):
            raise _damaged(f"window of checkpoint {i} has a wrong size")
        if cp.bit >= index.size * 8 or cp.out > index.out_size:
            raise _damaged(f"checkpoint {i} lies beyond the end of the file")
        if prev is not None and (cp.bit <= prev.bit or cp.out < prev.out):
            raise _damaged(f"checkpoint {i} is not after checkpoint {i - 1}")
        prev = cp


def serialize(index: GzipIndex) -> bytes:
    """The bytes of ``index`` (see docs/gzip-index.md)."""
    _check(index)
    cps = index.checkpoints
    head = _HEADER.pack(MAGIC, VERSION, 0, 0, index.spacing, index.size, index.out_size, len(cps), 0, index.ident)
    table = b"".join(_ENTRY.pack(c.bit, c.out, c.window_size, c.kind, 0, len(c.window)) for c in cps)
    body = b"".join((head, table, *(c.window for c in cps)))
    return body + hashlib.blake2b(body, digest_size=_DIGEST).digest()


def parse(data: bytes | bytearray | memoryview) -> GzipIndex:
    """The index in ``data``; :class:`~chute.errors.IndexFileError` if it is not a chute
    gzip index, is damaged (its digest does not match) or breaks a limit."""
    view = memoryview(data).cast("B")
    if len(view) < _HEADER.size + _DIGEST or bytes(view[:8]) != MAGIC:
        raise IndexFileError("not a chute gzip index")
    _, version, _, _, spacing, size, out_size, count, _, ident = _HEADER.unpack_from(view)
    if version != VERSION:
        raise IndexFileError(f"chute gzip index of version {version} (this chute reads version {VERSION})")
    body, digest = view[:-_DIGEST], view[-_DIGEST:]
    if hashlib.blake2b(body, digest_size=_DIGEST).digest() != digest:
        raise _damaged("its digest does not match")
    if count > MAX_CHECKPOINTS:
        raise LimitExceededError(f"gzip index of {count} checkpoints (at most {MAX_CHECKPOINTS})")
    pos = _HEADER.size
    end_table = pos + count * _ENTRY.size
    if end_table > len(body):
        raise _damaged("table runs past the end")
    entries = [_ENTRY.unpack_from(body, pos + i * _ENTRY.size) for i in range(count)]
    wpos = end_table
    cps: list[Checkpoint] = []
    for bit, out, wsize, kind, _, stored in entries:
        if wpos + stored > len(body):
            raise _damaged("windows run past the end")
        cps.append(Checkpoint(bit, out, kind, wsize, bytes(body[wpos : wpos + stored])))
        wpos += stored
    if wpos != len(body):
        raise _damaged("bytes after the windows")
    index = GzipIndex(spacing, size, out_size, ident, cps)
    _check(index)
    return index
