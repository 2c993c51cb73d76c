"""A handler that logs straight into one compressed file, one writer at a time."""

from __future__ import annotations

import fcntl
import io
import logging
import os
from typing import Any

from ..errors import ChuteError
from .endmark import END, START

__all__ = ["CompressedFileHandler"]


class _OwnedFile(io.FileIO):
    """The log file, written only by the process that opened it. A child made by ``fork``
    inherits the handler and its buffered compressed data; when that copy is closed or
    collected in the child, its bytes are dropped here instead of landing in the middle
    of the parent's stream."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd, "a", closefd=True)
        self._owner = os.getpid()

    def write(self, b: Any) -> int:
        if os.getpid() != self._owner:
            return len(memoryview(b))
        return super().write(b)


class CompressedFileHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log straight into a compressed file, readable while it is written.

    Records are compressed as they come; ``flush_interval`` (seconds, default 1.0) and
    ``flush_every`` (bytes) set how often a sync point makes them decodable by ``zstdcat``,
    ``zcat`` or ``chute cat --follow`` on the growing file; :meth:`flush` forces one.
    ``mode="a"`` appends a new member to an existing file (every format but brotli);
    ``mode="w"`` truncates. ``close()`` writes the end of the stream. The stream is opened
    at once, or at the first record with ``delay=True``. ``zstd_dict``: a zstd dictionary
    (``ZstdDict``, bytes or path) the file is written with (reading it needs the same one).

    One writer per file: the handler holds an ``flock`` on the file while it is open, and
    a second handler on the same file (in this process or another, a forked child
    included) fails with :class:`~chute.errors.ChuteError` instead of interleaving two
    compressed streams. Several processes log to one compressed file through one writer:
    a :class:`logging.handlers.QueueHandler` in each and a
    :class:`logging.handlers.QueueListener` holding this handler.

    A gzip log begins each session with a start marker and ends it, at ``close()``, with
    an end marker (empty gzip members, see :mod:`chute.logging.endmark`), so ``chute -t``
    reports a log cut by a crash between two members.
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
        from ..api.fileobj import resolve_format

        if mode not in ("a", "w"):
            raise ValueError(f"mode must be 'a' or 'w', not {mode!r}")
        self.baseFilename = os.path.abspath(os.fspath(filename))
        self.mode = mode
        self.encoding = encoding or "utf-8"
        self.errors = errors or "strict"
        self.compress_format = resolve_format(format, self.baseFilename).name
        self.compresslevel = compresslevel
        self.zstd_dict = zstd_dict
        self.flush_interval = flush_interval
        self.flush_every = flush_every
        logging.Handler.__init__(self)
        self.stream: Any = None
        self._file: io.BufferedWriter | None = None
        if not delay:
            self._open_stream()

    def _open_stream(self) -> None:
        from ..api.fileobj import open as chute_open

        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ChuteError(
                f"{self.baseFilename}: another handler is writing this file (in this process or another); "
                "two writers would interleave their compressed streams: log through one writer "
                "(a QueueHandler in each process, one QueueListener holding this handler)"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            if self.mode == "w":
                os.ftruncate(fd, 0)
            empty = os.fstat(fd).st_size == 0
            raw = _OwnedFile(fd)
        except BaseException:
            os.close(fd)
            raise
        self._file = io.BufferedWriter(raw)
        try:
            if self.compress_format == "gzip":
                self._file.write(START)
                self._file.flush()  # a reader knows it is a log from the start
            self.stream = chute_open(
                self._file,
                "wb" if empty else "ab",
                format=self.compress_format,
                level=self.compresslevel,
                flush_interval=self.flush_interval,
                flush_every=self.flush_every,
                **({} if self.zstd_dict is None else {"zstd_dict": self.zstd_dict}),
            )
        except BaseException:
            self._file.close()
            self._file = None
            raise

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = self.format(record) + self.terminator
            data = msg.encode(self.encoding, self.errors)
            with self.lock:  # type: ignore[union-attr]
                if self._file is not None and os.getpid() != self._file.raw._owner:  # type: ignore[attr-defined]
                    # inherited across fork: the parent's stream, not ours to write or close
                    self.stream = self._file = None
                if self.stream is None:
                    self._open_stream()
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
        """Write the end of the stream (and the end marker of a gzip log), release the
        file and its lock, the compressor and the flush thread, at once."""
        with self.lock:  # type: ignore[union-attr]
            stream, self.stream = self.stream, None
            file, self._file = self._file, None
            try:
                try:
                    if stream is not None:
                        stream.close()
                        if file is not None and self.compress_format == "gzip":
                            file.write(END)
                finally:
                    if file is not None:
                        file.close()
            finally:
                logging.StreamHandler.close(self)
