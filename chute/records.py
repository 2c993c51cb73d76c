"""Small records, each decodable on its own, compressed with a shared zstd dictionary.

For message queues, key-value stores and log lines shipped one by one: a record of a few
hundred bytes barely compresses alone, but compresses several times better with a
dictionary trained on records like it (``chute train``).

Wire format: **one record is one standard zstd frame** (RFC 8878) made with the dictionary.
The frame header names the dictionary (its Dictionary_ID, 0 for raw content) and the
record's size; no content checksum by default (4 bytes a record; ``checksum=True`` adds
it). Nothing else: ``zstd -d -D DICT`` decodes a record, and a *record stream* — records
written one after another, as :class:`RecordWriter` does — is a valid multi-frame zstd file
(``zstd -d -D DICT`` gives the records concatenated). :class:`RecordReader` finds where each
frame ends from the frame's own structure (header, block headers, optional checksum), so the
stream needs no length prefix and a record's boundaries survive. Skippable frames
(``0x184D2A5?``) in a stream are skipped, so metadata may travel in them.

::

    codec = RecordCodec("events.dict")
    blob = codec.encode(b'{"id": 1, "user": "ann"}')     # bytes for a queue or a store
    codec.decode(blob)                                   # the record

    with open("events.zst", "wb") as f:
        w = RecordWriter(f, codec)
        for rec in records:
            w.write(rec)
    with open("events.zst", "rb") as f:
        for rec in RecordReader(f, codec):
            ...

A codec is not meant to be shared between threads: give each thread its own (they may
share one dictionary).
"""

from __future__ import annotations

from .codecs.zstd import core
from .codecs.zstd_dict import as_zstd_dict, dictionary_id, frame_dictionary_id
from .errors import CorruptStreamError, DictionaryError, LimitExceededError, TruncatedStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

__all__ = ["RecordCodec", "RecordWriter", "RecordReader", "DEFAULT_MAX_RECORD"]

#: Largest record :meth:`RecordCodec.decode` returns (and so the largest frame a reader
#: accepts, plus zstd's worst-case overhead): an untrusted record cannot claim more memory.
DEFAULT_MAX_RECORD = 16 << 20
_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"


class RecordCodec:
    """Encode and decode records as single zstd frames with ``zstd_dict`` (a ``ZstdDict``,
    bytes or a path; ``None``: no dictionary). ``level``: zstd level. ``max_size``: largest
    record decoded (:class:`~chute.errors.LimitExceededError` beyond)."""

    def __init__(
        self,
        zstd_dict: Any = None,
        *,
        level: int = 3,
        checksum: bool = False,
        max_size: int = DEFAULT_MAX_RECORD,
    ) -> None:
        z = core()
        self._z = z
        self.max_size = max_size
        self.zstd_dict = None if zstd_dict is None else as_zstd_dict(zstd_dict)
        self.dict_id: int | None = None if self.zstd_dict is None else dictionary_id(self.zstd_dict)
        options = {z.ZSTD_c_compressionLevel: level, z.ZSTD_c_checksumFlag: int(checksum)}
        if self.zstd_dict is None:
            self._comp = z.ZstdCompressor(options=options)
            self._ddict: Any = None
        else:
            # digested: the tables are built once, not at every frame
            self._comp = z.ZstdCompressor(options=options, zstd_dict=self.zstd_dict.as_digested_dict)
            self._ddict = self.zstd_dict.as_digested_dict
        self._end = z.ZstdCompressor.FLUSH_FRAME

    def encode(self, record: bytes | bytearray | memoryview) -> bytes:
        """One zstd frame holding ``record`` (its size in the header)."""
        return self._comp.compress(record, self._end)  # type: ignore[no-any-return]

    def decode(self, frame: bytes | bytearray | memoryview) -> bytes:
        """The record in ``frame``, which must be exactly one zstd frame."""
        frame = memoryview(frame)
        needed = frame_dictionary_id(bytes(frame[:18]))
        if needed and needed != self.dict_id:
            given = "no dictionary was given" if self.dict_id is None else f"not 0x{self.dict_id:08x}"
            raise DictionaryError(f"record needs dictionary 0x{needed:08x} ({given})")
        z = self._z
        if self._ddict is None:
            dec = z.ZstdDecompressor()
        else:
            dec = z.ZstdDecompressor(zstd_dict=self._ddict)
        try:
            out: bytes = dec.decompress(frame, self.max_size + 1)
        except z.ZstdError as exc:
            raise CorruptStreamError(f"invalid zstd record ({exc})") from None
        if len(out) > self.max_size:
            raise LimitExceededError(f"record larger than {self.max_size} bytes")
        if not dec.eof:
            raise TruncatedStreamError("record is truncated (its zstd frame does not end)")
        if dec.unused_data:
            raise CorruptStreamError(f"{len(dec.unused_data)} bytes after the record's zstd frame")
        return out


class RecordWriter:
    """Write records to ``fp`` (a binary file object), one zstd frame each."""

    def __init__(self, fp: BinaryIO, codec: RecordCodec) -> None:
        self.fp = fp
        self.codec = codec
        self.records = 0

    def write(self, record: bytes | bytearray | memoryview) -> int:
        """Write one record; return the bytes written."""
        frame = self.codec.encode(record)
        self.fp.write(frame)
        self.records += 1
        return len(frame)

    def flush(self) -> None:
        self.fp.flush()


class RecordReader:
    """Iterate over the records of a record stream read from ``fp``.

    Each frame is read whole (at most ``codec.max_size`` plus zstd's overhead) and decoded on
    its own; the input may end only at a frame boundary
    (:class:`~chute.errors.TruncatedStreamError` otherwise).
    """

    def __init__(self, fp: BinaryIO, codec: RecordCodec) -> None:
        self.fp = fp
        self.codec = codec
        # a frame never exceeds its content by more than a block header per 128 KiB and
        # its header and checksum; a bigger one would be refused by decode anyway
        self._max_frame = codec.max_size + (codec.max_size >> 17) * 3 + 64

    def __iter__(self) -> Iterator[bytes]:
        while True:
            frame = read_frame(self.fp, self._max_frame)
            if frame is None:
                return
            if frame:
                yield self.codec.decode(frame)


def _read_exact(fp: BinaryIO, n: int) -> bytes:
    data = fp.read(n)
    while len(data) < n:
        more = fp.read(n - len(data))
        if not more:
            raise TruncatedStreamError("record stream is truncated (input ended inside a frame)")
        data += more
    return data


def read_frame(fp: BinaryIO, max_frame: int) -> bytes | None:
    """The next zstd frame of ``fp``, whole (``b""`` for a skippable frame, which is read
    past); ``None`` at the end of the input. Frames longer than ``max_frame`` bytes raise
    :class:`~chute.errors.LimitExceededError`."""
    magic = fp.read(4)
    if not magic:
        return None
    if len(magic) < 4:
        magic += _read_exact(fp, 4 - len(magic))
    if magic[0] & 0xF0 == 0x50 and magic[1:] == b"\x2a\x4d\x18":  # skippable frame
        size = int.from_bytes(_read_exact(fp, 4), "little")
        while size:
            size -= len(_read_exact(fp, min(size, 1 << 16)))
        return b""
    if magic != _FRAME_MAGIC:
        raise CorruptStreamError("not a zstd frame where a record should start")
    descriptor = _read_exact(fp, 1)
    fhd = descriptor[0]
    single = fhd & 0x20
    fcs = (1 if single else 0, 2, 4, 8)[fhd >> 6]
    header = _read_exact(fp, (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + fcs)
    parts = [magic, descriptor, header]
    size = 5 + len(header)
    while True:
        block_header = _read_exact(fp, 3)
        value = int.from_bytes(block_header, "little")
        kind = (value >> 1) & 3
        if kind == 3:
            raise CorruptStreamError("zstd block of the reserved type in a record")
        body = 1 if kind == 1 else value >> 3  # an RLE block holds one byte
        size += 3 + body
        if size > max_frame:
            raise LimitExceededError(f"record frame larger than {max_frame} bytes")
        parts += (block_header, _read_exact(fp, body))
        if value & 1:
            break
    if fhd & 0x04:
        parts.append(_read_exact(fp, 4))
    return b"".join(parts)
