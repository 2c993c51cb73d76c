"""Dask readers that cut big seekable zstd and BGZF files into many partitions.

Dask's own ``read_text``/``read_bytes`` refuse to cut a compressed file ("Cannot do chunked
reads on compressed files"): one 50 GB ``.zst`` is one partition. These cut a seekable
zstd file (``chute -F zstd --seekable``, ``zstd --seekable`` tools) or a BGZF file
(``bgzip``, ``chute -F gzip --seekable``) at frame boundaries aligned to records (see
:mod:`chute.batch.splits`): every record comes exactly once, in its file's order. Other
compressed files are read whole, one partition each. Paths are local paths, globs or
fsspec URLs; each partition is read by the worker that computes it.

Importing this module imports dask (``pip install 'chute[dask]'``).
"""

from __future__ import annotations

import dask.bag
from dask.delayed import delayed

from .splits import blocks, read_block, split_records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_bytes", "read_text", "DEFAULT_BLOCKSIZE"]

#: Decoded bytes per partition, by default.
DEFAULT_BLOCKSIZE = 64 << 20


def _paths(urlpath: str | list[str]) -> list[str]:
    from .plan import expand

    return [s.path for s in expand([urlpath] if isinstance(urlpath, str) else urlpath)]


def read_bytes(
    urlpath: str | list[str], blocksize: int = DEFAULT_BLOCKSIZE, delimiter: bytes = b"\n"
) -> list[list[Any]]:
    """For each file of ``urlpath`` (in the order found), its blocks as ``dask.delayed``
    values, each the bytes of the records that start in the block (delimiters kept), like
    the second part of ``dask.bytes.read_bytes``'s result."""
    out = []
    for path in _paths(urlpath):
        out.append(
            [delayed(read_block, pure=True)(path, start, end, delimiter) for start, end in blocks(path, blocksize)]
        )
    return out


def _lines(path: str, start: int, end: int | None, delimiter: str, encoding: str, errors: str) -> list[str]:
    data = read_block(path, start, end, delimiter.encode(encoding))
    return [r.decode(encoding, errors) for r in split_records(data, delimiter.encode(encoding))]


def read_text(
    urlpath: str | list[str],
    blocksize: int = DEFAULT_BLOCKSIZE,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    linedelimiter: str = "\n",
) -> dask.bag.Bag:
    """A ``dask.bag`` of the lines of ``urlpath``'s files (line ends kept, as
    ``dask.bag.read_text`` keeps them), one partition per block of about ``blocksize``
    decoded bytes."""
    parts = [
        delayed(_lines, pure=True)(path, start, end, linedelimiter, encoding, errors)
        for path in _paths(urlpath)
        for start, end in blocks(path, blocksize)
    ]
    if not parts:
        raise ValueError(f"no file matches {urlpath!r}")
    from_delayed: Any = dask.bag.from_delayed
    bag: dask.bag.Bag = from_delayed(parts)
    return bag
