"""Content-defined cut points: where ``--rsyncable`` output starts a new member.

A cut falls after a byte whose preceding bytes satisfy a condition on their content
alone, so after an insertion or a deletion the cuts that follow it fall at the same
content as before, and every member after the next cut is the same bytes as before:
rsync then sends little more than the member that changed.

The condition, for the byte at ``i`` (after at least :data:`MIN_CHUNK` bytes of the
chunk):

1. an 8-bit hash of the 9 bytes ending at ``i`` (a sum of table values) is 0 (one
   position in 256 on data with variety), and
2. the low :data:`MASK_BITS` bits of the CRC-32 of the 32 bytes ending at ``i`` are 0.

Step 1 is computed for a whole buffer at once with ``bytes.translate`` and sums of big
integers (C loops, about 20 ms of CPU per MB), step 2 only where step 1 holds, so cuts come
every :data:`MIN_CHUNK` + 256 KiB or so on data with any variety. A chunk never grows past
:data:`MAX_CHUNK` (cut there, as on data with no variety: long runs of one byte, or
patterns where step 1 never holds); after :data:`MAX_REJECTED` candidates that failed
step 2 in one chunk (data whose step-1 hash is 0 almost everywhere), the chunk is cut at
:data:`MAX_CHUNK` as well. The cuts therefore depend on the bytes alone, never on how they
were fed.
"""

from __future__ import annotations

import zlib

from ._base import Buffer

__all__ = ["ContentCuts", "MIN_CHUNK", "MAX_CHUNK"]

#: No cut closer than this to the previous one.
MIN_CHUNK = 16 << 10
#: A chunk is cut here at the latest (the input block of chute's gzip members).
MAX_CHUNK = 1 << 20
#: Bits of the CRC that must be 0 (step 2): with step 1, one position in 2**18 (fewer
#: bits: finer cuts, but each member starts without history: +3% of size at 9 bits on
#: log-like text, +1.6% at 10).
MASK_BITS = 10
#: Candidates of one chunk that may fail step 2 before it is cut at MAX_CHUNK (64 times
#: the 2**MASK_BITS expected: never reached on data with variety).
MAX_REJECTED = 1 << 16
#: Bytes of context the condition reads: 32 for the CRC (the hash reads 9).
_CONTEXT = 32


def _tables() -> tuple[bytes, bytes, bytes]:
    """Three fixed tables of pseudo-random byte values (a linear congruential generator,
    so the cuts are the same on every machine and Python)."""
    state = 0x5EED
    out = []
    for _ in range(3):
        table = bytearray()
        while len(table) < 256:
            state = (state * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
            value = state >> 56
            table.append(value)
        out.append(bytes(table))
    return out[0], out[1], out[2]


_T1, _T2, _T3 = _tables()


def _lanes(data: bytes, table: bytes) -> int:
    """``data`` translated by ``table``, one byte per 16-bit lane of an integer (the
    high byte 0: the sums below never carry into the next lane)."""
    buf = bytearray(2 * len(data))
    buf[0::2] = data.translate(table)
    return int.from_bytes(buf, "little")


def _hashes(data: bytes) -> bytes:
    """Byte ``i`` of the result: the step-1 hash of ``data[i-8 : i+1]`` (bytes before the
    start count as absent), ``T1[x[i]] + T2[x[i-1]] + T1[x[i-2]] + ... + T2[x[i-7]] +
    T3[x[i-8]]`` modulo 256. A sum, not a XOR: with few distinct bytes (DNA's four
    letters) a XOR of table values reaches only a small subspace of the 256 values,
    which may miss 0 altogether; carries make the sums reach it."""
    n = len(data)
    u = _lanes(data, _T1) + (_lanes(data, _T2) << 16)
    u += u << 32
    u += u << 64
    u += _lanes(data, _T3) << 128
    return (u & ((1 << (16 * n)) - 1)).to_bytes(2 * n, "little")[0::2]


class ContentCuts:
    """Cuts a stream of bytes into chunks at content-defined points.

    :meth:`feed` returns the chunks completed by the data given (each a ``bytes`` of
    :data:`MIN_CHUNK` to :data:`MAX_CHUNK` bytes); :meth:`rest` returns what is left
    and starts over, as at the start of a stream.
    """

    def __init__(self) -> None:
        self._pending = bytearray()  # bytes since the last cut
        self._examined = 0  # positions of _pending already tested (no cut before there)
        self._rejected = 0

    def feed(self, data: Buffer) -> list[bytes]:
        pending = self._pending
        pending += data
        chunks: list[bytes] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                return chunks
            chunks.append(bytes(pending[:cut]))
            del pending[:cut]
            self._examined = 0
            self._rejected = 0

    def rest(self) -> bytes:
        out = bytes(self._pending)
        self._pending = bytearray()
        self._examined = self._rejected = 0
        return out

    def _find_cut(self) -> int | None:
        """The length of the next chunk in ``_pending``; None while it needs more bytes."""
        pending = self._pending
        first = max(self._examined, MIN_CHUNK - 1)  # the last byte of a chunk of MIN_CHUNK
        last = min(len(pending), MAX_CHUNK)  # positions first .. last-1 are tested
        if first < last and self._rejected < MAX_REJECTED:
            base = first - (_CONTEXT - 1)
            window = bytes(pending[base:last])
            hashes = _hashes(window)
            mask = (1 << MASK_BITS) - 1
            crc32 = zlib.crc32
            pos = hashes.find(0, _CONTEXT - 1)
            while pos >= 0:
                if crc32(window[pos - (_CONTEXT - 1) : pos + 1]) & mask == 0:
                    return base + pos + 1
                self._rejected += 1
                if self._rejected >= MAX_REJECTED:
                    break
                pos = hashes.find(0, pos + 1)
            self._examined = last
        if len(pending) >= MAX_CHUNK:
            return MAX_CHUNK
        return None
