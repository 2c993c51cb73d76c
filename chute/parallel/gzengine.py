"""Any gzip file decoded on several cores, through an optional engine (rapidgzip).

:mod:`chute.parallel.split` cuts only gzip that says where its members end (chute's own
``MZ`` members, BGZF). A file written by ``gzip`` or pigz is one member with no such
marks: its deflate stream can only be cut by guessing where blocks start and decoding
from there speculatively, which rapidgzip (the ``chute[gzip]`` extra) does in C++ on its
own threads. This module drives it under the guarantees of the one-thread path:

* Bytes are written only once the engine has produced :data:`HOLD` more after them. The
  engine checks the CRC32 and ISIZE of every member itself (measured: a mismatch is raised
  before the output of the chunk that holds the trailer is returned), and the held bytes
  cover the output one thread loses on the call that meets an error (at most one pump
  step, see :func:`chute.streams.pump.decompress_stream`).
* The engine's clean end is trusted only when it stopped exactly at the end of the file
  (its compressed position, in bits, is the file's size). Anything else (an engine error,
  a truncated file, which the engine ends quietly, zero padding or data after the last
  member, which the engine refuses) hands the file to the one-thread decoder from the
  start, which writes only what comes after the bytes already written and raises the
  real error: the output and the error class are those of one thread, whatever the
  engine made of the damage.

``CHUTE_GZIP_ENGINE=none`` turns the engine off (the one-thread path, same bytes, same
errors); ``rapidgzip`` or unset uses it when installed.
"""

from __future__ import annotations

import os
import stat

from ..errors import CorruptStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = ["ENV", "MIN_INPUT", "HOLD", "engine", "usable", "decode"]

#: Environment variable choosing the engine: ``none`` (off) or ``rapidgzip`` (the default).
ENV = "CHUTE_GZIP_ENGINE"
#: Smallest compressed file handed to the engine: below this its thread start-up and
#: first-chunk latency cost more than a second core saves.
MIN_INPUT = 16 << 20
#: Decoded bytes held back from the output until the engine has produced this many more
#: (or ended cleanly): at least one pump step of the one-thread path, whose failing call
#: returns nothing.
HOLD = 4 << 20
#: Bytes asked of the engine per read.
READ = 4 << 20

_GZIP_MAGIC = b"\x1f\x8b\x08"


def engine() -> Any:
    """The engine's module (``rapidgzip``), or ``None`` when it is not installed or
    ``$CHUTE_GZIP_ENGINE`` is ``none``."""
    choice = os.environ.get(ENV, "").strip().lower()
    if choice == "none":
        return None
    if choice not in ("", "rapidgzip"):
        raise ValueError(f"${ENV} must be 'rapidgzip' or 'none', not {choice!r}")
    try:
        import rapidgzip
    except ImportError:
        return None
    return rapidgzip


def usable(src: BinaryIO, threads: int, *, min_input: int = MIN_INPUT) -> bool:
    """Whether ``src`` goes to the engine: more than one thread, the engine installed, and
    ``src`` a regular file of at least ``min_input`` bytes, read from its start, that starts
    with a gzip header. Leaves the file position where it was."""
    if threads < 2:
        return False
    try:
        fd = src.fileno()
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size < min_input or src.tell() != 0:
            return False
        head = os.pread(fd, len(_GZIP_MAGIC), 0)
    except (AttributeError, OSError, ValueError):
        return False
    return head == _GZIP_MAGIC and engine() is not None


class _After:
    """A writer that drops the first ``skip`` bytes written to it (already written by the
    engine) and passes the rest to ``dst``."""

    def __init__(self, dst: Any, skip: int) -> None:
        self._dst = dst
        self.skip = skip

    def write(self, data: Any) -> int:
        from ..streams._writeall import write_all

        size = len(data)
        if self.skip >= size:
            self.skip -= size
            return size
        view = memoryview(data)[self.skip :]
        self.skip = 0
        write_all(self._dst, view)
        return size

    def flush(self) -> None:
        flush = getattr(self._dst, "flush", None)
        if flush is not None:
            flush()


def decode(src: BinaryIO, dst: BinaryIO, *, threads: int, chunk_size: int = 1 << 20) -> Any:
    """Decode the gzip file ``src`` (see :func:`usable`) into ``dst`` with the engine on
    ``threads`` threads; returns :class:`~chute.streams.pump.Stats`.

    Raises what the one-thread path raises on the same file (the file is handed to it
    when the engine does not end cleanly), after writing what it writes; write errors of
    ``dst`` are raised as they come.
    """
    import time

    from ..codecs._stream import StreamDecoder
    from ..streams._writeall import write_all
    from ..streams.pump import Stats, decompress_stream

    rapidgzip = engine()
    assert rapidgzip is not None, "decode() called without an engine"
    size = os.fstat(src.fileno()).st_size
    stats = Stats(format="gzip")
    held: list[bytes] = []
    holding = 0
    written = 0
    clean = False
    # at least one pump step of the fallback (its failing call returns nothing)
    hold = max(HOLD, chunk_size * 8)
    reader = None
    try:
        try:
            reader = rapidgzip.RapidgzipFile(src, parallelization=threads)
        except Exception:
            reader = None
        while reader is not None:
            try:
                piece = reader.read(READ)
                if not piece:
                    clean = reader.tell_compressed() == 8 * size
                    break
            except Exception:  # any engine error: one thread decides what it is
                break
            held.append(piece)
            holding += len(piece)
            while holding - len(held[0]) >= hold:
                out = held.pop(0)
                holding -= len(out)
                write_all(dst, out)
                written += len(out)
    finally:
        if reader is not None:
            # a reader left open aborts the interpreter at exit (its threads outlive it)
            reader.close()
    if clean:
        for out in held:
            write_all(dst, out)
        stats.bytes_in = size
        stats.bytes_out = written + holding
        stats.ended = time.monotonic()
        return stats
    del held
    src.seek(0)
    after = _After(dst, written)
    rest = decompress_stream(src, after, StreamDecoder("gzip"), chunk_size=chunk_size, stats=stats)
    if after.skip:
        raise CorruptStreamError(
            f"gzip stream decodes to {rest.bytes_out} bytes, fewer than the {written} the parallel engine wrote"
        )
    return rest
