"""Any gzip file decoded on several cores, through an optional engine (rapidgzip).

:mod:`chute.parallel.split` cuts only gzip that says where its members end (chute's own
``MZ`` members, BGZF). A file written by ``gzip`` or pigz is one member with no such
marks: its deflate stream can only be cut by guessing where blocks start and decoding
from there speculatively, which rapidgzip (the ``chute[gzip]`` extra) does in C++ on its
own threads. This module drives it under the guarantees of the one-thread path:

* The engine checks the CRC32 and ISIZE of the members it returns output of, and raises
  a mismatch, a damaged block or an early end of the file before it returns the output of
  the chunk (``engine_chunk`` of input) that holds it (measured: the engine never returned
  more than one thread writes before its error; the property tests compare them byte for
  byte). A member that decodes to nothing it does not always check: chute looks for
  those itself (:mod:`chute.parallel.gzempty`) while the engine runs, and writes the
  engine's output only once that search has passed the bytes it was decoded from
  (:class:`_Gate`); where it finds one whose trailer is wrong, one thread decodes the file.
* The engine's clean end is trusted only when it stopped exactly at the end of the file
  (its compressed position, in bits, is the file's size). Anything else (an engine error,
  a truncated file, which the engine ends quietly, zero padding or data after the last
  member, which the engine refuses) hands the file to the one-thread decoder from the
  start, which writes only what comes after the bytes already written and raises the
  real error: the output and the error class are those of one thread, whatever the
  engine made of the damage.

With a sidecar index (:func:`sidecar`: ``FILE.gz.idx``, made for the file as it is), the
engine imports it and its threads start at the index's checkpoints rather than guessing
where blocks start: about the CPU time of one thread, so it is used from two threads. The
output before each checkpoint is compared with the index's window as it goes by
(:class:`_Windows`): where one differs, the output stops there and one thread takes over.

``$CHUTE_GZIP_ENGINE``: ``auto`` (or unset) uses the engine, when it is installed, from
:data:`MIN_THREADS` threads (two with an index); ``rapidgzip`` from two threads; ``none``
never (the one-thread path: same bytes, same errors).
"""

from __future__ import annotations

import _thread
import io
import os
import stat

from ..errors import ChuteError, CorruptStreamError, IndexFileError, IndexFileWarning
from ..streams.decoding import DecodingRaw
from ..streams.pump import Stats

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ..codecs.gzindex import GzipIndex
    from .gzempty import Scan

__all__ = ["ENV", "MIN_THREADS", "MIN_INPUT", "EngineRaw", "EngineStats", "engine", "usable", "sidecar", "decode"]

#: Environment variable choosing when the engine is used: ``auto`` (the default), ``rapidgzip``, ``none``.
ENV = "CHUTE_GZIP_ENGINE"
#: Fewest threads at which the engine is used unless ``$CHUTE_GZIP_ENGINE`` asks for it: it
#: spends 1.8x the CPU time of one thread's inflate (ISA-L) on the same file (speculative
#: decoding, then its own CRC32), so two threads gain nothing and three or more do
#: (docs/gzip-engines.md has the figures).
MIN_THREADS = 3
#: Smallest compressed file handed to the engine: the size from which ``chute -d`` uses
#: every core by default (a file of a few engine chunks keeps few threads busy).
MIN_INPUT = 16 << 20
#: Least ratio of decoded to compressed bytes at which the engine decodes through an index:
#: data gzip barely compresses is stored, which one thread copies at memory speed, and the
#: engine took twice its CPU and wall time there (64 MB of random bytes: 0.21 s against 0.11 s).
MIN_RATIO = 1.1
#: Bytes asked of the engine per read.
READ = 4 << 20
#: Compressed bytes per chunk the engine's threads decode (rapidgzip's default).
ENGINE_CHUNK = 4 << 20
#: Most output held back while the search for members the engine may pass unchecked has
#: not passed the bytes it was decoded from (:class:`_Gate`), before the decode waits for it.
HOLD = 64 << 20

_GZIP_MAGIC = b"\x1f\x8b\x08"
#: Most bytes of output a checkpoint's window holds (deflate's history).
_WINDOW = 32 << 10


def _choice() -> str:
    choice = os.environ.get(ENV, "").strip().lower() or "auto"
    if choice not in ("auto", "rapidgzip", "none"):
        raise ChuteError(f"${ENV} must be 'auto', 'rapidgzip' or 'none', not {choice!r}")
    return choice


def engine() -> Any:
    """The engine's module (``rapidgzip``), or ``None`` when it is not installed or
    ``$CHUTE_GZIP_ENGINE`` is ``none``."""
    if _choice() == "none":
        return None
    try:
        import rapidgzip
    except ImportError:
        return None
    return rapidgzip


def _regular_gzip(src: BinaryIO, min_input: int) -> bool:
    """``src`` a regular file of at least ``min_input`` bytes, read from its start, that
    starts with a gzip header, and the engine installed. Leaves the file position as it was."""
    try:
        fd = src.fileno()
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size < min_input or src.tell() != 0:
            return False
        head = os.pread(fd, len(_GZIP_MAGIC), 0)
    except (AttributeError, OSError, ValueError):
        return False
    return head == _GZIP_MAGIC and engine() is not None


def usable(src: BinaryIO, threads: int, *, min_input: int = MIN_INPUT) -> bool:
    """Whether ``src`` goes to the engine: the engine installed; ``threads`` at least
    :data:`MIN_THREADS` (at least 2 when ``$CHUTE_GZIP_ENGINE`` is ``rapidgzip``); and
    ``src`` a regular file of at least ``min_input`` bytes, read from its start, that starts
    with a gzip header. Leaves the file position where it was."""
    if threads < (2 if _choice() == "rapidgzip" else MIN_THREADS):
        return False
    return _regular_gzip(src, min_input)


def sidecar(src: BinaryIO, threads: int, *, min_input: int = MIN_INPUT) -> GzipIndex | None:
    """The index beside ``src`` (its name + ``.idx``, written by ``chute index``) when the
    engine decodes ``src`` through it: ``threads`` at least 2, ``src`` as :func:`usable`
    asks, the index made for the file exactly as it is now (its size and sampled bytes; a
    file that grew since is decoded without it), and data that compresses
    (:data:`MIN_RATIO`). ``None`` otherwise; an index of
    chute's that is refused (damaged, or made for another file) also gives a
    :class:`~chute.errors.IndexFileWarning`, as :func:`chute.open` gives. Leaves the file
    position where it was."""
    name = getattr(src, "name", None)
    if threads < 2 or not isinstance(name, str) or _choice() == "none":
        return None
    path = name + ".idx"
    try:  # first: most files have none, and the engine's import costs start-up
        with open(path, "rb") as f:
            from ..codecs.gzindex import MAGIC, MAX_INDEX_BYTES

            data = f.read(MAX_INDEX_BYTES + 1)
    except OSError:
        return None
    if not data.startswith(MAGIC) or not _regular_gzip(src, min_input):
        return None  # another tool's file that happens to be named so: not ours to judge
    from .gzindex import load_index

    try:
        if len(data) > MAX_INDEX_BYTES:
            raise IndexFileError(f"larger than {MAX_INDEX_BYTES >> 20} MiB")
        index = load_index(data, src)
        if index.size != os.fstat(src.fileno()).st_size:
            return None  # grown since: the engine's own cuts for all of it
        if index.out_size < MIN_RATIO * index.size:
            return None  # stored data: one thread copies it at memory speed
    except (ChuteError, OSError) as exc:
        import warnings

        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        warnings.warn(f"{path}: {reason}; decoding the file without it", IndexFileWarning, stacklevel=2)
        return None
    finally:
        src.seek(0)
    return index


#: Lines the engine writes to the process's stderr on its own (its note about a file that
#: ends early, its decoders' complaints): the error one thread reports replaces them.
_ENGINE_LINE = rb"^(Unexpected end of file when getting block at |\[[A-Za-z]*(Inflate|Gzip|Chunk)[A-Za-z]*\])"
# re and threading stay off the import: `chute -d` of a one-member gzip imports this module
# and usually decodes on one thread (start-up)
_QUIET = _thread.allocate_lock()

#: Set by the chute command (a process of its own): only there may a decode hold the process's
#: file descriptor 2. A library caller's other threads (logging, progress) keep their stderr.
hold_stderr = False


class _QuietStderr:
    """Holds what the process writes to its standard error (file descriptor 2) in a
    temporary file while the engine runs, then writes it back without the engine's own
    lines (:data:`_ENGINE_LINE`): a damaged file gets one line, chute's. Other writers'
    output is delayed, not lost. Only in the chute command (:data:`hold_stderr`) and only when
    stderr is not a terminal (where a progress line is drawn); one decode at a time does this,
    others leave stderr as it is."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._held: Any = None

    def start(self) -> None:
        try:
            if not hold_stderr or os.isatty(2):
                return
        except OSError:
            return
        if not _QUIET.acquire(blocking=False):
            return
        try:
            import sys
            import tempfile

            sys.stderr.flush()
            self._held = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
            self._saved = os.dup(2)
            os.dup2(self._held.fileno(), 2)
        except Exception:  # no stderr to hold (closed, replaced): leave it as it is
            self._close()

    def stop(self) -> None:
        if self._saved is None:
            return
        try:
            import sys

            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(self._saved, 2)
            import re

            engine_line = re.compile(_ENGINE_LINE)
            self._held.seek(0)
            kept = b"".join(line for line in self._held if not engine_line.match(line))
            if kept:
                os.write(2, kept)
        finally:
            self._close()

    def _close(self) -> None:
        if self._saved is not None:
            os.close(self._saved)
            self._saved = None
        if self._held is not None:
            self._held.close()
            self._held = None
        _QUIET.release()


class EngineStats(Stats):
    """:class:`~chute.streams.pump.Stats` of :func:`decode`; ``engine`` is the name of the
    engine whose output stood, ``None`` when one thread decoded the file."""

    __slots__ = ("engine",)

    def __init__(self) -> None:
        super().__init__("gzip")
        self.engine: str | None = None


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


class _Windows:
    """Checks, as the engine's output goes by, that the bytes before each checkpoint of
    ``index`` are the window the index holds for it. The engine starts its chunks at the
    checkpoints with the index's windows; where every window matches the output, each
    chunk started as one thread is there, so it decodes to the bytes one thread decodes."""

    def __init__(self, index: GzipIndex) -> None:
        self._index = index
        self._todo = [i for i, cp in enumerate(index.checkpoints) if cp.window_size]
        self._next = 0
        self._tail = b""  # the last WINDOW bytes of the output before this read

    def good(self, done: int, data: memoryview) -> int:
        """How many bytes of ``data`` (output from offset ``done``) may be written: all,
        or up to the checkpoint whose window does not match."""
        cps = self._index.checkpoints
        end = done + len(data)
        while self._next < len(self._todo):
            i = self._todo[self._next]
            cp = cps[i]
            if cp.out > end:
                break
            local = cp.out - done
            size = cp.window_size
            seen = (
                bytes(data[local - size : local])
                if local >= size
                else self._tail[len(self._tail) - (size - local) :] + bytes(data[:local])
            )
            if seen != self._index.window(i):
                return local
            self._next += 1
        self._tail = (self._tail + bytes(data[-_WINDOW:]))[-_WINDOW:]
        return len(data)


class _Gate:
    """Holds the engine's output back until the search for members it may pass unchecked
    (:class:`~chute.parallel.gzempty.Scan`) has looked at every place in the compressed
    bytes that output was decoded from. The engine's block map pairs compressed offsets (in
    bits) with the output offset where decoding from there starts: the output before such an
    output offset was decoded from the bytes before its compressed offset. So output up to
    ``end`` may go once the search has passed the first compressed offset paired with ``end``
    or more (the whole file while the map knows none yet), and the end of the output once it
    has passed the whole file. The search reads the file many times faster than the engine
    decodes it, so the output seldom waits."""

    def __init__(self, scan: Scan, reader: Any, size: int) -> None:
        self._scan = scan
        self._reader = reader
        self._size = size
        self._points: list[tuple[int, int]] = []  # (compressed bit offset, output offset)

    def _need(self, end: int) -> int | None:
        """The compressed byte offset before which the output up to ``end`` was decoded, or
        ``None`` while the engine's map knows none."""
        for refresh in (False, True):
            if refresh:
                try:
                    self._points = list(self._reader.available_block_offsets().items())
                except Exception:  # no map to read: wait for the whole file
                    return None
            bits = [bit for bit, out in self._points if out >= end]
            if bits:
                return (min(bits) + 7) // 8
        return None

    def ready(self, end: int) -> bool:
        """Whether the output up to ``end`` may be written now, without waiting."""
        need = self._need(end)
        return self._scan.passed(self._size if need is None else need, timeout=0)

    def open(self, end: int | None) -> bool:
        """Whether the output up to ``end`` (``None``: all of it, the engine having ended)
        may be written, waiting for the search as long as needed; false when the search
        found a suspect or failed: one thread decides."""
        while True:
            need = self._size if end is None else self._need(end)
            if need is not None:
                return self._scan.passed(need)
            if self._scan.passed(self._size, timeout=0.01):
                return True
            if self._scan.done:
                return False


def decode(
    src: BinaryIO,
    dst: BinaryIO | None,
    *,
    threads: int,
    format: str | None = None,
    chunk_size: int = 1 << 20,
    engine_chunk: int = ENGINE_CHUNK,
    index: GzipIndex | None = None,
) -> Any:
    """Decode the gzip file ``src`` (see :func:`usable`) into ``dst`` (``None`` only checks
    it) with the engine on ``threads`` threads, each decoding ``engine_chunk`` compressed
    bytes at a time, or through ``index`` (:func:`sidecar`): the engine's threads then start
    at its checkpoints, with no guessing; returns :class:`EngineStats`. ``format``: what the
    caller passed for the one-thread path (``None`` detects, ``"gzip"`` insists), used if
    one thread takes over.

    Raises what the one-thread path raises on the same file (the file is handed to it
    when the engine does not end cleanly), after writing what it writes; write errors of
    ``dst`` are raised as they come.
    """
    import time

    from ..codecs._stream import StreamDecoder
    from ..streams._writeall import write_all
    from ..streams.pump import decompress_stream
    from .gzempty import Scan

    rapidgzip = engine()
    assert rapidgzip is not None, "decode() called without an engine"
    size = os.fstat(src.fileno()).st_size
    stats = EngineStats()
    written = 0
    clean = False
    reader = None
    windows = None
    quiet = _QuietStderr()
    scan = None
    try:
        quiet.start()
        # started first: it reads the file while the engine starts up
        scan = Scan(src.fileno(), size)
        try:
            reader = rapidgzip.RapidgzipFile(src, parallelization=threads, chunk_size=engine_chunk)
            if index is not None:
                from .gzindex import export_index

                points = export_index(src, index, "indexed_gzip")
                src.seek(0)
                reader.import_index(io.BytesIO(points))
                windows = _Windows(index)
        except Exception:
            if reader is not None:
                reader.close()
            reader = None
        buf = bytearray(READ)
        view = memoryview(buf)
        gate = _Gate(scan, reader, size) if reader is not None else None
        # output read whose gate was not open yet (copies), oldest first: the engine reads on
        # meanwhile, and its map learns where that output came from
        held: list[bytes] = []
        held_size = 0
        while reader is not None and gate is not None:
            try:
                got = reader.readinto(buf)
                done = not got and reader.tell_compressed() == 8 * size
            except Exception:  # any engine error: one thread decides what it is
                break
            if not got:
                clean = done and gate.open(None)
                if clean:
                    for part in held:
                        if dst is not None:
                            write_all(dst, part)
                        written += len(part)
                break
            data = view[:got] if got < READ else view
            good = windows.good(written + held_size, data) if windows is not None else got
            piece = data[:good] if good < got else data
            if not held and gate.ready(written + good):
                if dst is not None and good:
                    write_all(dst, piece)
                written += good
            elif good:
                held.append(bytes(piece))
                held_size += good
                if held_size > HOLD and not gate.open(written + held_size):
                    break  # a member the engine may pass unchecked: one thread decides what it is
                while held and gate.ready(written + len(held[0])):
                    part = held.pop(0)
                    if dst is not None:
                        write_all(dst, part)
                    written += len(part)
                    held_size -= len(part)
            if good < got:
                break  # the output does not match the index: one thread decides what it is
    finally:
        if scan is not None:
            scan.stop()
        if reader is not None:
            # a reader left open aborts the interpreter at exit (its threads outlive it)
            reader.close()
        quiet.stop()
    if clean:
        stats.bytes_in = size
        stats.bytes_out = written
        stats.engine = "rapidgzip" if index is None else "rapidgzip+index"
        stats.ended = time.monotonic()
        return stats
    src.seek(0)
    after = _After(dst, written) if dst is not None else None
    rest = decompress_stream(src, after, StreamDecoder(format), chunk_size=chunk_size, stats=stats)
    if after is not None and after.skip:
        raise CorruptStreamError(
            f"gzip stream decodes to {rest.bytes_out} bytes, fewer than the {written} the parallel engine wrote"
        )
    return rest


class EngineRaw(io.RawIOBase):
    """The decoded bytes of the gzip file ``fp`` (see :func:`usable`), from the engine on
    ``threads`` threads, as a raw stream for :class:`chute.api.fileobj.ChuteReader`.

    The same guarantees as :func:`decode`: where the engine fails or does not end exactly
    at the end of the file, one thread decodes the file from its start, skips what was
    already returned, and returns the rest and its errors (bytes before an error first).
    :meth:`rewind` starts again from the start (a backward seek); :meth:`close` stops the
    engine's threads (also done when the object is collected, and at exit).
    """

    def __init__(self, fp: BinaryIO, threads: int, *, format: str | None = None, chunk_size: int = 128 << 10) -> None:
        super().__init__()
        self._fp = fp
        self._threads = threads
        self._format = format
        self._chunk = chunk_size
        self._size = os.fstat(fp.fileno()).st_size
        self.pos = 0
        self._engine: Any = None
        self._finalizer: Any = None
        self._one: DecodingRaw | None = None  # one thread, once it has taken over
        self._done = False
        from .gzempty import Scan

        # what the engine returns waits for the search for members it may pass unchecked (_Gate)
        self._scan: Scan | None = Scan(fp.fileno(), self._size)
        self._gate: _Gate | None = None
        self._start_engine()

    def readable(self) -> bool:
        return True

    @property
    def decoder(self) -> Any:
        """What :class:`~chute.api.fileobj.ChuteReader` asks the format of."""
        return self._one.decoder if self._one is not None else self

    @property
    def format(self) -> str:
        return "gzip"

    def _start_engine(self) -> None:
        import weakref

        rapidgzip = engine()
        quiet = _QuietStderr()
        quiet.start()
        try:
            reader = rapidgzip.RapidgzipFile(self._fp, parallelization=self._threads, chunk_size=ENGINE_CHUNK)
        except Exception:
            self._take_over()
            return
        finally:
            quiet.stop()
        self._engine = reader
        self._gate = _Gate(self._scan, reader, self._size) if self._scan is not None else None
        # a reader left open aborts the interpreter at exit (its threads outlive it)
        self._finalizer = weakref.finalize(self, reader.close)

    def _stop_engine(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = self._engine = None

    def _stop_scan(self) -> None:
        if self._scan is not None:
            self._scan.stop()
            self._scan = None

    def _take_over(self) -> None:
        from ..codecs._stream import StreamDecoder

        self._stop_engine()
        self._fp.seek(0)
        fmt = self._format
        # decodes again what the engine returned, and returns only what comes after
        self._one = DecodingRaw(self._fp, lambda: StreamDecoder(fmt), self._chunk, skip=self.pos)

    def readinto(self, b: Any) -> int:
        if self._one is not None:
            return self._one.readinto(b)
        view = memoryview(b).cast("B")
        if not len(view) or self._done:
            return 0
        if self._engine is not None:
            quiet = _QuietStderr()
            quiet.start()
            try:
                got = self._engine.readinto(view)
                clean = got or self._engine.tell_compressed() == 8 * self._size
            except Exception:  # any engine error: one thread decides what it is
                got, clean = 0, False
            finally:
                quiet.stop()
            if self._gate is not None and (got or clean) and not self._gate.open(self.pos + got if got else None):
                got, clean = 0, False  # a member the engine may pass unchecked: one thread decides
            if got:
                self.pos += got
                return int(got)
            if clean:
                self._stop_engine()
                self._done = True
                return 0
            self._take_over()
        assert self._one is not None
        return self._one.readinto(view)

    def tell(self) -> int:
        return self._one.pos if self._one is not None else self.pos

    def rewind(self) -> None:
        self._stop_engine()
        self._fp.seek(0)
        self.pos = 0
        self._one = None
        self._done = False
        self._start_engine()

    def close(self) -> None:
        self._stop_scan()
        self._stop_engine()
        super().close()
