"""Cutting one big compressed file into partitions of whole records, at frame boundaries.

A seekable zstd file (a seek table at its end) or a BGZF file records where each
independent frame starts, compressed and decoded. :func:`blocks` groups whole frames into
blocks of about ``blocksize`` decoded bytes; :func:`read_block` returns the records that
start inside one block: it skips the end of a record the block before holds, and reads on
into the next frames for the end of its last record. A record is what ends with the
delimiter (the last one may end at the end of the file), so over all the blocks of a file
every record comes exactly once, in order, whatever the frame size and however the records
straddle frames. A local gzip file with an index beside it (``chute index``) is cut the same
way at the index's checkpoints. A file without either (any other gzip, zstd, xz...) is one
block, decoded from its start.

The delimiter may be any bytes that cannot overlap themselves (``b"\\n"``, ``b"\\r\\n"``,
``b"\\0"``, ``b"\\x1e"``): with ``b"aa"`` it would be ambiguous where records start.
"""

from __future__ import annotations

from . import storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["blocks", "read_block", "split_records"]

_READ = 1 << 20


def _check_delimiter(delimiter: bytes) -> None:
    if not delimiter:
        raise ValueError("the delimiter must not be empty")
    if any(delimiter[:k] == delimiter[-k:] for k in range(1, len(delimiter))):
        raise ValueError(f"the delimiter {delimiter!r} overlaps itself: record starts would be ambiguous")


def _index(fp: Any) -> Any:
    from ..parallel.split import find_index

    return find_index(fp)


def _indexed_gzip(path: str) -> Any:
    """An :class:`~chute.parallel.gzindex.IndexedGzipReader` over ``path`` when it is a
    local gzip file with a valid index beside it (``chute index``), else ``None``."""
    import os

    from ..parallel.gzindex import IndexedGzipReader, index_path_for

    if storage.is_url(path) or not os.path.isfile(index_path_for(path)):
        return None
    from ..api.fileobj import open as chute_open

    reader = chute_open(path, "rb")
    if isinstance(reader, IndexedGzipReader):
        return reader
    reader.close()
    return None


def blocks(path: str, blocksize: int) -> list[tuple[int, int | None]]:
    """``(start, end)`` decoded offsets of the blocks of ``path``, each whole frames (or
    spans between the checkpoints of a gzip index) of about ``blocksize`` bytes (at least
    one); ``[(0, None)]`` for a file without a frame index or a gzip index beside it."""
    if blocksize <= 0:
        raise ValueError("blocksize must be positive")
    with storage.open_file(path, "rb") as fp:
        index = _index(fp)
    if index is not None:
        offsets = index.offsets
    else:
        indexed = _indexed_gzip(path)
        if indexed is None:
            return [(0, None)]
        with indexed:
            gz = indexed.index
            offsets = sorted({0, *(cp.out for cp in gz.checkpoints), gz.out_size})
    out: list[tuple[int, int | None]] = []
    start = 0
    for off in offsets[1:]:
        if off - start >= blocksize:
            out.append((start, off))
            start = off
    if start < offsets[-1] or not out:
        out.append((start, offsets[-1]))
    return out


def read_block(path: str, start: int, end: int | None, delimiter: bytes = b"\n") -> bytes:
    """The records of ``path`` that start at decoded offsets ``[start, end)``
    (``end=None``: to the end of the file), delimiters included."""
    _check_delimiter(delimiter)
    with storage.open_file(path, "rb") as fp:
        index = _index(fp)
        if index is not None:
            from ..parallel.seekable import SeekableReader

            return _records(SeekableReader(fp, index), index.size, start, end, delimiter)
    indexed = _indexed_gzip(path)
    if indexed is not None:
        with indexed:
            return _records(indexed, indexed.index.out_size, start, end, delimiter)
    if start != 0 or end is not None:
        raise ValueError(f"{path}: no frame index: the only block is (0, None)")
    from ..api.fileobj import open as chute_open

    with storage.open_file(path, "rb") as fp, chute_open(fp, "rb") as whole:
        return whole.read()


def _records(reader: Any, size: int, start: int, end: int | None, delimiter: bytes) -> bytes:
    """:func:`read_block` over a seekable decoded ``reader`` of ``size`` bytes."""
    end = size if end is None else min(end, size)
    if start >= end:
        return b""
    first = _record_start(reader, start, delimiter)
    if first >= end:
        return b""
    reader.seek(first)
    data = bytearray(reader.read(end - first))
    # the last record goes on to the first delimiter that ends at or after ``end``
    n = len(delimiter)
    look = max(0, len(data) - n)
    while True:
        found = data.find(delimiter, look)
        if found >= 0 and found + n >= end - first:
            del data[found + n :]
            return bytes(data)
        more = reader.read(_READ)
        if not more:
            return bytes(data)
        look = max(0, len(data) - (n - 1))
        data += more


def _record_start(reader: Any, start: int, delimiter: bytes) -> int:
    """The first offset at or after ``start`` where a record starts (the end of the file
    when none does): just after the first delimiter that ends at or after ``start``."""
    if start == 0:
        return 0
    n = len(delimiter)
    carry_at = max(0, start - n)
    reader.seek(carry_at)
    carry = b""
    while True:
        more: bytes = reader.read(_READ)
        if not more:
            return carry_at + len(carry)
        data = carry + more
        found = data.find(delimiter)
        if found >= 0:
            return carry_at + found + n
        keep = min(len(data), n - 1)
        carry_at += len(data) - keep
        carry = data[len(data) - keep :]


def split_records(data: bytes, delimiter: bytes = b"\n") -> list[bytes]:
    """``data`` cut after each delimiter (delimiters kept; a last record may lack one)."""
    parts = data.split(delimiter)
    out = [p + delimiter for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out
