"""What both rotating handlers share: writing under the lock, following a rotation done by
another process, background compression with back-pressure, claims and clean-up."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from typing import Any

from ..streams.atomic import temp_prefix
from ._background import SUFFIXES, Worker, compress_fd
from ._shared import LockFile, claim

_TEMP = ".chute-tmp"


class SharedRotation:
    """Mixin for :class:`logging.handlers.BaseRotatingHandler` subclasses.

    Every record is written under :class:`LockFile` after checking that the open file is
    still the one at the log's path (another process may have rotated it): the size test,
    the rotation and the write are one step for all processes. Subclasses define
    :meth:`_due`, :meth:`_rotate_locked`, :meth:`_plain_for` and :meth:`_recover`.
    """

    # set by logging.FileHandler
    baseFilename: str
    stream: Any
    mode: str
    terminator: str
    encoding: str | None

    compress_format: str
    compresslevel: int | None
    zstd_dict: Any
    max_pending: int
    _suffix: str
    _worker: Worker
    _lock_file: LockFile

    def _setup_compression(
        self, format: str, compresslevel: int | None, max_pending: int, zstd_dict: Any = None
    ) -> None:
        from ..api.fileobj import resolve_format

        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.compress_format = resolve_format(format).name
        self.compresslevel = compresslevel
        self.zstd_dict = zstd_dict
        self.max_pending = max_pending
        self._suffix = "." + SUFFIXES.get(self.compress_format, self.compress_format)
        self._worker = Worker()

    def _setup_lock(self) -> None:
        self._lock_file = LockFile(self.baseFilename + ".lock")
        self.mode = "a"  # reopening after another process rotated must never truncate

    # -- writing
    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = self.format(record) + self.terminator  # type: ignore[attr-defined]
            with self._lock_file:
                size, moved = self._follow()
                if self._due(msg, size, moved):
                    self._rotate_locked()
                    self._follow()
                self.stream.write(msg)
                self.stream.flush()  # before the lock goes: the next writer may rotate
            if self._worker.pending() >= self.max_pending:
                self._worker.wait_below(self.max_pending)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)  # type: ignore[attr-defined]

    def _follow(self) -> tuple[int, bool]:
        """Open the file at the log's path if ours is not it any more (another process
        rotated it, or it is not open yet). Returns (its size, -1 if it is not a regular
        file; whether another process replaced it). Lock held."""
        try:
            st: os.stat_result | None = os.stat(self.baseFilename)
        except FileNotFoundError:
            st = None
        moved = False
        if self.stream is not None:
            fst = os.fstat(self.stream.fileno())
            if st is None or (st.st_dev, st.st_ino) != (fst.st_dev, fst.st_ino):
                self.stream.close()
                self.stream = None
                moved = True
        if self.stream is None:
            self.stream = self._open()  # type: ignore[attr-defined]
            st = os.fstat(self.stream.fileno())
        assert st is not None
        return (st.st_size if stat.S_ISREG(st.st_mode) else -1), moved

    def _due(self, msg: str, size: int, moved: bool) -> bool:
        raise NotImplementedError

    def _rotate_locked(self) -> None:
        raise NotImplementedError

    def doRollover(self) -> None:
        """Rotate now (under the lock, like a rotation a record triggers). A log that is
        not a regular file (a device such as ``/dev/null``, a FIFO) is never rotated."""
        with self._lock_file:
            if self._follow()[0] < 0:
                return
            self._rotate_locked()
            if not self.delay:  # type: ignore[attr-defined]
                self._follow()  # the new file exists at once, as with the standard handlers

    def _close_stream(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    # -- compression
    def _submit(self, job: Callable[[], None]) -> None:
        self._worker.submit(job)

    def _compress_pending(self, plain: str, dst: str, names: list[str] | None = None) -> bool:
        """Compress ``plain`` into ``dst`` and remove it, if no one else has claimed it.
        ``names``: a listing of the folder, to remove temporary files a killed
        compression left for ``dst``. True if this call did it."""
        fd = claim(plain)
        if fd is None:
            return False
        try:
            if names is not None:
                self._remove_temps_of(os.path.basename(dst), names)
            if not os.path.exists(dst):  # else a crash came between the rename and the unlink
                compress_fd(fd, dst, self.compress_format, self.compresslevel, self.zstd_dict)
            os.unlink(plain)  # before the claim goes, so no one compresses it twice
        finally:
            os.close(fd)
        return True

    def _remove_temps_of(self, dst_name: str, names: list[str]) -> None:
        folder = os.path.dirname(self.baseFilename)
        head = temp_prefix(os.path.join(folder, dst_name))
        for name in names:
            if name.startswith(head) and name.endswith(_TEMP) and len(name) - len(head) == 12 + len(_TEMP):
                _unlink(os.path.join(folder, name))

    def _remove_orphan_temps(self, names: list[str]) -> None:
        """Temporary files whose source is gone: nobody writes them (a compression removes
        its source only after renaming its temporary file into place). A temporary name
        shortened for a long target name (:func:`~chute.streams.atomic.temp_prefix`) does
        not spell its target: it is recognised when that target is in ``names``."""
        folder = os.path.dirname(self.baseFilename)
        shortened: dict[str, str] = {}  # temporary name prefix -> its target's plain file
        for name in names:
            plain = self._plain_for(name)
            if plain is not None:
                head = temp_prefix(os.path.join(folder, name))
                if head != "." + name + ".":
                    shortened[head] = plain
        for name in names:
            if not (name.startswith(".") and name.endswith(_TEMP)):
                continue
            head = name[: -len(_TEMP) - 12]
            plain = shortened.get(head) or self._plain_for(head[1:-1])
            if plain is not None and not os.path.exists(os.path.join(folder, plain)):
                _unlink(os.path.join(folder, name))

    def _plain_for(self, dst_name: str) -> str | None:
        """The name of the uncompressed file that compresses to ``dst_name``; None if
        ``dst_name`` is not one of this handler's."""
        raise NotImplementedError

    def wait(self) -> None:
        """Block until this handler's pending compressions are done; re-raise the first
        failure."""
        self._worker.wait_below(1)
        if self._worker.errors:
            raise self._worker.errors.pop(0)

    def close(self) -> None:
        """Close the file, finish this handler's pending compressions, release the lock
        file. Everything is released here, not when the object is collected."""
        try:
            super().close()  # type: ignore[misc]
        finally:
            self._worker.stop()
            self._lock_file.close()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
