"""Log handlers that compress: rotated files in the background, or the live file itself.

This module is ``chute.logging``; the package uses absolute imports, so ``import logging``
anywhere (inside chute too) still means the standard library.

The compression level parameter is named ``compresslevel`` (like :func:`gzip.open`), not
``level``: :class:`logging.Handler` already has ``level`` (the log level, ``setLevel``), and a
drop-in replacement must not change what an existing keyword means.

Crash safety of the rotating handlers: a rotated file is first renamed (a plain file, never
lost), then compressed by one background thread into a temporary file that is renamed into
place (:class:`chute.streams.atomic.AtomicFile`), and only then is the plain file removed. A crash at any
moment leaves either the plain rotated file or a complete compressed one; when a handler starts,
it finishes the compressions that a previous process left pending and removes stale temporary
files.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import re
import threading
import time
from typing import Any

__all__ = ["CompressedFileHandler", "CompressingRotatingFileHandler", "CompressingTimedRotatingFileHandler"]

_PENDING = ".rotating-"


def _compress_file(src: str, dst: str, format: str, compresslevel: int | None, zstd_dict: Any = None) -> None:
    """Compress ``src`` into ``dst`` atomically (a complete ``dst`` or none), then remove ``src``."""
    from .api.fileobj import new_compressor, resolve_format
    from .streams.atomic import AtomicFile

    codec = resolve_format(format)
    with open(src, "rb") as fin, AtomicFile(dst, overwrite=True) as fout:
        comp = new_compressor(codec, compresslevel, **({} if zstd_dict is None else {"zstd_dict": zstd_dict}))
        while True:
            data = fin.read(1 << 20)
            if not data:
                break
            fout.write(comp.compress(data))
        fout.write(comp.finish())
    os.unlink(src)


class _Compressor:
    """One background thread per handler running jobs in order; ``join()`` waits for all."""

    def __init__(self) -> None:
        self._q: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def submit(self, job: Any) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="chute-log-compress", daemon=True)
            self._thread.start()
        self._q.put(job)

    def _run(self) -> None:
        while True:
            job = self._q.get()
            try:
                if job is None:
                    return
                job()
            except BaseException as exc:  # kept for the handler to report; the plain file stays
                self.errors.append(exc)
            finally:
                self._q.task_done()

    def join(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._q.join()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._q.put(None)
            self._thread.join()


def _remove_stale_temps(folder: str, prefix: str) -> None:
    for name in os.listdir(folder):
        if name.startswith("." + prefix) and name.endswith(".chute-tmp"):
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                pass


class _BackgroundCompression:
    """What both rotating handlers share: the format, the level, the suffix, and the
    background thread that compresses rotated files (``wait``, ``close``)."""

    compress_format: str
    compresslevel: int | None
    zstd_dict: Any
    _suffix: str
    _worker: _Compressor

    def _setup_compression(self, format: str, compresslevel: int | None, zstd_dict: Any = None) -> None:
        from .api.fileobj import resolve_format

        self.zstd_dict = zstd_dict
        self.compress_format = resolve_format(format).name
        self.compresslevel = compresslevel
        self._suffix = "." + _suffix_of(self.compress_format)
        self._worker = _Compressor()

    def wait(self) -> None:
        """Block until every pending compression is done; re-raise the first failure."""
        self._worker.join()
        if self._worker.errors:
            raise self._worker.errors.pop(0)

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        self._worker.stop()


class CompressingRotatingFileHandler(_BackgroundCompression, logging.handlers.RotatingFileHandler):
    """:class:`logging.handlers.RotatingFileHandler` whose backups are compressed.

    Backups are named ``app.log.1.zst`` (newest) to ``app.log.N.zst`` with ``N = backupCount``
    (the suffix follows ``format``). At a rollover the live file is renamed to
    ``app.log.rotating-<sequence>`` and the log call returns at once; a background thread
    compresses it, shifts the older backups and renames the result to ``app.log.1.<suffix>``.
    ``compresslevel`` is the compression level (``None``: the format's default). With
    ``backupCount=0`` the file is never rotated, as in the standard library. Call
    :meth:`wait` to block until pending compressions are done (``close()`` does).
    ``zstd_dict``: a zstd dictionary (``ZstdDict``, bytes or path) the backups are written with.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        mode: str = "a",
        maxBytes: int = 0,
        backupCount: int = 0,
        encoding: str | None = None,
        delay: bool = False,
        errors: str | None = None,
        *,
        format: str = "zstd",
        compresslevel: int | None = None,
        zstd_dict: Any = None,
    ) -> None:
        self._setup_compression(format, compresslevel, zstd_dict)
        self._seq = 0
        super().__init__(filename, mode, maxBytes, backupCount, encoding, delay, errors)
        self._recover()

    # -- names
    def _backup(self, i: int) -> str:
        return f"{self.baseFilename}.{i}{self._suffix}"

    def _pending(self) -> list[str]:
        folder, base = os.path.split(self.baseFilename)
        pat = re.compile(re.escape(base + _PENDING) + r"(\d{20})(" + re.escape(self._suffix) + ")?$")
        return sorted(os.path.join(folder, n) for n in os.listdir(folder) if pat.match(n))

    def _recover(self) -> None:
        """Finish what a previous process left: compress plain pending files, install results."""
        folder, base = os.path.split(self.baseFilename)
        _remove_stale_temps(folder, base + _PENDING)
        plains = sorted({p[: -len(self._suffix)] if p.endswith(self._suffix) else p for p in self._pending()})
        for plain in plains:
            if os.path.exists(plain) and os.path.exists(plain + self._suffix):
                os.unlink(plain)  # the compressed copy is complete (atomic rename): the plain one is redundant
            self._worker.submit(lambda p=plain: self._finish(p))

    def _finish(self, plain: str) -> None:
        """Compress one pending file (unless already done) and install it as backup 1."""
        done = plain + self._suffix
        if os.path.exists(plain):
            _compress_file(plain, done, self.compress_format, self.compresslevel, self.zstd_dict)
        if not os.path.exists(done):
            return
        for i in self._existing_backups():
            src = self._backup(i)
            if i == self.backupCount:
                os.unlink(src)
            else:
                os.replace(src, self._backup(i + 1))
        os.replace(done, self._backup(1))

    def _existing_backups(self) -> list[int]:
        """Numbers of the backups present, highest first, from one listing of the folder.

        Not one ``exists`` per possible number as the standard handler does: with a large
        ``backupCount`` that loop runs in this background thread holding the GIL, and each
        log call waiting on a write then waits on the GIL too.
        """
        folder, base = os.path.split(self.baseFilename)
        pat = re.compile(re.escape(base) + r"\.([1-9][0-9]*)" + re.escape(self._suffix) + "$")
        found = (int(m.group(1)) for m in map(pat.match, os.listdir(folder)) if m)
        return sorted((i for i in found if i <= self.backupCount), reverse=True)

    def doRollover(self) -> None:
        if self.backupCount <= 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
            self.stream = None
        # A sortable, unique name: wall-clock nanoseconds, never going backwards in this process.
        self._seq = max(self._seq + 1, time.time_ns())
        plain = f"{self.baseFilename}{_PENDING}{self._seq:020d}"
        if os.path.exists(self.baseFilename):
            os.rename(self.baseFilename, plain)
            self._worker.submit(lambda: self._finish(plain))
        if not self.delay:
            self.stream = self._open()


class CompressingTimedRotatingFileHandler(_BackgroundCompression, logging.handlers.TimedRotatingFileHandler):
    """:class:`logging.handlers.TimedRotatingFileHandler` whose backups are compressed.

    Backups are named like the standard library's plus the format's suffix
    (``app.log.2026-11-24_10.zst``). At a rollover the live file is renamed to the plain
    backup name and the log call returns; a background thread compresses it to a temporary
    file, renames that to the compressed name and removes the plain file. ``backupCount``
    counts the compressed backups (a plain file still being compressed may be counted too and
    removed first when the count is exceeded). ``compresslevel`` as for
    :class:`CompressingRotatingFileHandler`.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        when: str = "h",
        interval: int = 1,
        backupCount: int = 0,
        encoding: str | None = None,
        delay: bool = False,
        utc: bool = False,
        atTime: Any = None,
        errors: str | None = None,
        *,
        format: str = "zstd",
        compresslevel: int | None = None,
        zstd_dict: Any = None,
    ) -> None:
        self._setup_compression(format, compresslevel, zstd_dict)
        super().__init__(filename, when, interval, backupCount, encoding, delay, utc, atTime, errors)
        self.namer = self._compressed_name
        self.rotator = self._rotate
        self._recover()

    def _compressed_name(self, default_name: str) -> str:
        return default_name + self._suffix

    def _rotate(self, source: str, dest: str) -> None:
        plain = dest[: -len(self._suffix)]
        if os.path.exists(source):
            os.replace(source, plain)
            self._worker.submit(lambda: self._finish(plain, dest))

    def _finish(self, plain: str, dest: str) -> None:
        if os.path.exists(plain):
            _compress_file(plain, dest, self.compress_format, self.compresslevel, self.zstd_dict)

    def _recover(self) -> None:
        folder, base = os.path.split(self.baseFilename)
        _remove_stale_temps(folder, base + ".")
        for name in sorted(os.listdir(folder)):
            if not name.startswith(base + ".") or name.endswith(self._suffix) or name.endswith(".chute-tmp"):
                continue
            if not self.extMatch.match(name[len(base) + 1 :]):
                continue
            plain = os.path.join(folder, name)
            dest = plain + self._suffix
            if os.path.exists(dest):
                os.unlink(plain)
            else:
                self._worker.submit(lambda p=plain, d=dest: self._finish(p, d))


class CompressedFileHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log straight into a compressed file, readable while it is written.

    Records are compressed as they come; ``flush_interval`` (seconds, default 1.0) and
    ``flush_every`` (bytes) set how often a sync point makes them decodable by ``zstdcat``,
    ``zcat`` or ``chute cat --follow`` on the growing file; :meth:`flush` forces one.
    ``mode="a"`` appends a new member to an existing file (every format but brotli);
    ``mode="w"`` truncates. ``close()`` writes the end of the stream. The stream is opened
    at once, or at the first record with ``delay=True``. ``zstd_dict``: a zstd dictionary
    (``ZstdDict``, bytes or path) to write with; readers need it too (``chute -dc -D DICT``).
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        mode: str = "a",
        encoding: str | None = "utf-8",
        delay: bool = False,
        errors: str | None = None,
        *,
        format: str | None = None,
        compresslevel: int | None = None,
        flush_interval: float | None = 1.0,
        flush_every: int | None = None,
        zstd_dict: Any = None,
    ) -> None:
        self.baseFilename = os.path.abspath(os.fspath(filename))
        self.zstd_dict = zstd_dict
        self.mode = mode
        self.encoding = encoding or "utf-8"
        self.errors = errors or "strict"
        self.compress_format = format
        self.compresslevel = compresslevel
        self.flush_interval = flush_interval
        self.flush_every = flush_every
        logging.Handler.__init__(self)
        self.stream: Any = None
        if not delay:
            self.stream = self._open()

    def _open(self) -> Any:
        from .api.fileobj import open as chute_open

        return chute_open(
            self.baseFilename,
            self.mode + "b",
            format=self.compress_format,
            level=self.compresslevel,
            flush_interval=self.flush_interval,
            flush_every=self.flush_every,
            zstd_dict=self.zstd_dict,
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = self.format(record) + self.terminator
            data = msg.encode(self.encoding, self.errors)
            with self.lock:  # type: ignore[union-attr]
                if self.stream is None:
                    self.stream = self._open()
                self.stream.write(data)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """A sync point: everything logged so far becomes decodable."""
        with self.lock:  # type: ignore[union-attr]
            if self.stream is not None:
                self.stream.flush()

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            try:
                if self.stream is not None:
                    stream, self.stream = self.stream, None
                    stream.close()
            finally:
                logging.StreamHandler.close(self)


def _suffix_of(name: str) -> str:
    return {"zstd": "zst", "gzip": "gz", "bz2": "bz2", "xz": "xz", "lz4": "lz4", "brotli": "br"}.get(name, name)
