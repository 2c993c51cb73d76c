"""Follow a growing compressed file, like ``tail -f`` for ``.zst``/``.gz``/``.lz4``/... files.

:func:`follow` decodes a compressed file from its start, writes the decoded bytes to ``out``
as soon as they are decodable, and then waits for the file to grow instead of calling it
truncated. A writer that flushes (``chute.open(..., flush_interval=...)``,
:class:`chute.logging.CompressedFileHandler`, ``zstd --flush``...) makes each record show up
within one poll interval.

Rotation and truncation (only when following a path): at each idle poll the path is checked.
If it now names a different file (rotated: renamed away and recreated), the old file is read to
its end, then the new one is followed from its start with a fresh decoder. If the file shrank
below what was already read (truncated in place, ``copytruncate``), it is followed again from its
start. If the path is missing (between a rename and the creation of the new file) the old file
is kept and the path checked again at the next poll.
"""

from __future__ import annotations

import os
import threading
from typing import Any, BinaryIO

from ..codecs._stream import StreamDecoder
from ._writeall import flush_all, write_all

__all__ = ["follow"]

_CHUNK = 64 * 1024


def _drain(fp: BinaryIO, dec: StreamDecoder, out: Any) -> int:
    """Decode everything readable now; return the number of compressed bytes read."""
    total = 0
    while True:
        data = fp.read(_CHUNK)
        if not data:
            return total
        total += len(data)
        chunk = dec.decompress(data, _CHUNK)
        while True:
            if chunk:
                write_all(out, chunk)
            if dec.needs_input or dec.eof:
                break
            chunk = dec.decompress(b"", _CHUNK)
        flush_all(out)


def follow(
    path_or_fileobj: str | os.PathLike[str] | BinaryIO,
    out: Any,
    *,
    poll_interval: float = 0.2,
    format: str | None = None,
    stop: threading.Event | None = None,
    max_output: int | None = None,
) -> None:
    """Write the decoded content of a growing compressed file to ``out`` until ``stop`` is set.

    ``format=None`` detects the format from the first bytes (brotli, which has no magic, must be
    named). Corrupt data raises :class:`~chute.errors.CorruptStreamError`; a stream that merely
    stops in the middle of a member is waited on, never reported as truncated. Concatenated
    members (a writer that appends a new frame) are followed too. With ``stop=None`` it runs
    until interrupted. ``max_output`` bounds the total decoded size
    (:class:`~chute.errors.LimitExceededError`). A file object is followed without any rotation
    check. ``out`` needs ``write`` and ``flush``; it is flushed after each decoded read.
    """
    if poll_interval <= 0:
        raise ValueError("poll_interval must be positive")
    stop = stop or threading.Event()
    path: str | None = None
    owns = False
    if isinstance(path_or_fileobj, (str, os.PathLike)):
        path = os.fspath(path_or_fileobj)
        fp: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in finally, reopened on rotation
        owns = True
    else:
        fp = path_or_fileobj

    def new_decoder() -> StreamDecoder:
        return StreamDecoder(format, max_output=max_output)

    dec = new_decoder()
    pos = 0
    try:
        while True:
            pos += _drain(fp, dec, out)
            if stop.is_set():
                return
            if path is not None:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    st = None
                if st is not None:
                    mine = os.fstat(fp.fileno())
                    if (st.st_ino, st.st_dev) != (mine.st_ino, mine.st_dev):
                        pos += _drain(fp, dec, out)  # the last bytes written before the rename
                        fp.close()
                        fp = open(path, "rb")  # noqa: SIM115
                        dec, pos = new_decoder(), 0
                        continue
                    if st.st_size < pos:
                        fp.seek(0)
                        dec, pos = new_decoder(), 0
                        continue
            if stop.wait(poll_interval):
                pos += _drain(fp, dec, out)
                return
    finally:
        if owns:
            fp.close()
