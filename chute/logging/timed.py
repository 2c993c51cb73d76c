"""Time-based rotation with compressed backups, safe for several processes."""

from __future__ import annotations

import logging.handlers
import os
import time
from typing import Any

from ._rotation import SharedRotation, _unlink

__all__ = ["CompressingTimedRotatingFileHandler"]


class CompressingTimedRotatingFileHandler(SharedRotation, logging.handlers.TimedRotatingFileHandler):
    """:class:`logging.handlers.TimedRotatingFileHandler` whose backups are compressed,
    and which several processes may share.

    Backups are named like the standard library's plus the format's suffix
    (``app.log.2026-11-24_10.zst``). At a rollover the live file is renamed to the plain
    backup name and the log call goes on; a background thread compresses it to a
    temporary file, renames that to the compressed name and removes the plain file.
    ``backupCount`` counts the compressed backups; the oldest beyond it are removed after
    each compression.

    With several processes, the first one past its rollover time rotates, under the lock
    on ``app.log.lock``; the others find the file replaced, reopen it and start their next
    interval from there. A rotation whose backup name exists already (another process
    rotated for that interval) is skipped, never overwritten: the records stay in the live
    file. ``compresslevel``, ``max_pending`` and ``zstd_dict`` as for
    :class:`~chute.logging.CompressingRotatingFileHandler`.
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
        max_pending: int = 8,
        zstd_dict: Any = None,
    ) -> None:
        self._setup_compression(format, compresslevel, max_pending, zstd_dict)
        super().__init__(filename, when, interval, backupCount, encoding, delay, utc, atTime, errors)
        self._setup_lock()
        self._submit(self._recover)

    def rotation_filename(self, default_name: str) -> str:
        return default_name + self._suffix

    def _plain_for(self, dst_name: str) -> str | None:
        base = os.path.basename(self.baseFilename) + "."
        suffix = self._suffix
        if (
            dst_name.startswith(base)
            and dst_name.endswith(suffix)
            and self._is_stamp(dst_name[len(base) : -len(suffix)])
        ):
            return dst_name[: -len(suffix)]
        return None

    def _is_stamp(self, text: str) -> bool:
        # No suffix of the standard library's has a dot; older versions' extMatch accepts
        # one more ".word" at the end, which must not make "<stamp>.zst" a plain backup.
        return "." not in text and self.extMatch.fullmatch(text) is not None

    # -- rotation (lock held)
    def _due(self, msg: str, size: int, moved: bool) -> bool:
        now = int(time.time())
        if moved:  # another process rotated: our interval starts from its rotation
            self.rolloverAt = self._next_rollover(now)
        if now < self.rolloverAt:
            return False
        if size < 0:  # never rotate what is not a regular file
            self.rolloverAt = self._next_rollover(now)
            return False
        return True

    def _rotate_locked(self) -> None:
        now = int(time.time())
        plain = self.baseFilename + "." + time.strftime(self.suffix, self._interval_start())
        if not os.path.exists(plain) and not os.path.exists(plain + self._suffix):
            self._close_stream()
            try:
                os.rename(self.baseFilename, plain)
            except FileNotFoundError:
                pass
            else:
                self._submit(lambda: self._work(plain))
        self.rolloverAt = self._next_rollover(now)

    def _interval_start(self) -> time.struct_time:
        """The time tuple naming the interval that ends now (as the standard library)."""
        t = self.rolloverAt - self.interval
        if self.utc:
            return time.gmtime(t)
        tt = time.localtime(t)
        dst_now = time.localtime()[-1]
        if dst_now != tt[-1]:
            tt = time.localtime(t + (3600 if dst_now else -3600))
        return tt

    def _next_rollover(self, now: int) -> int:
        new: int = self.computeRollover(now)
        while new <= now:
            new += self.interval
        if (self.when == "MIDNIGHT" or self.when.startswith("W")) and not self.utc:
            dst_now = time.localtime(now)[-1]
            if dst_now != time.localtime(new)[-1]:
                new += 3600 if dst_now else -3600
        return new

    # -- background work
    def _work(self, plain: str) -> None:
        self._compress_pending(plain, plain + self._suffix)
        if self.backupCount > 0:
            for old in self.getFilesToDelete():
                _unlink(old)

    def getFilesToDelete(self) -> list[str]:
        """The compressed backups beyond ``backupCount``, oldest first (plain files still
        being compressed are not counted)."""
        folder, base = os.path.split(self.baseFilename)
        found = sorted(
            os.path.join(folder, name)
            for name in os.listdir(folder)
            if self._plain_for(name) is not None and name.startswith(base + ".")
        )
        return found[: max(0, len(found) - self.backupCount)]

    def _recover(self) -> None:
        folder, base = os.path.split(self.baseFilename)
        names = os.listdir(folder)
        self._remove_orphan_temps(names)
        for name in sorted(names):
            if name.startswith(base + ".") and self._is_stamp(name[len(base) + 1 :]):
                plain = os.path.join(folder, name)
                self._compress_pending(plain, plain + self._suffix, names)
        if self.backupCount > 0:
            for old in self.getFilesToDelete():
                _unlink(old)
