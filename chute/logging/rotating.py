"""Size-based rotation with compressed backups, safe for several processes."""

from __future__ import annotations

import logging.handlers
import os
import re
import time
from typing import Any

from ._rotation import SharedRotation, _unlink

__all__ = ["CompressingRotatingFileHandler", "NAMINGS"]

_PENDING = ".rotating-"
NAMINGS = ("shift", "sequence")
#: How often (seconds) a handler with ``naming="sequence"`` looks for rotated files that a
#: killed process left uncompressed.
ORPHAN_SCAN_INTERVAL = 10.0


class CompressingRotatingFileHandler(SharedRotation, logging.handlers.RotatingFileHandler):
    """:class:`logging.handlers.RotatingFileHandler` whose backups are compressed, and
    which several processes may share.

    ``naming`` chooses the backup names:

    * ``"shift"`` (default, the standard library's): ``app.log.1.zst`` is the newest,
      ``app.log.N.zst`` (``N = backupCount``) the oldest; every rotation renames every
      backup, so its cost grows with their number;
    * ``"sequence"``: ``app.log.00000001.zst``, ``app.log.00000002.zst``... numbered in the
      order they were made (the newest has the highest number); nothing is ever renamed and
      a rotation costs the same with ten backups or ten thousand. The oldest beyond
      ``backupCount`` is removed.

    At a rollover the live file is renamed to ``app.log.rotating-<sequence>`` and the log
    call goes on; a background thread compresses it and installs the backup. When
    ``max_pending`` rotated files of this handler wait for compression, the log call that
    rotates waits until one is done (back-pressure: a logger faster than the compression
    slows down instead of piling up files).

    Several processes may log to the same file through their own handler (gunicorn
    workers, a multiprocessing pool): writes, size checks and rotations happen under a
    lock on ``app.log.lock`` (created beside the log, never removed), each process reopens
    the new file when another one rotated it, and each rotated file is compressed once, by
    whichever process claims it first. ``compresslevel`` is the compression level
    (``None``: the format's default); ``zstd_dict``: a zstd dictionary (``ZstdDict``,
    bytes or path) the backups are written with; ``backupCount=0`` never rotates, as in the standard
    library. :meth:`wait` blocks until this handler's compressions are done; ``close()``
    waits too.
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
        naming: str = "shift",
        max_pending: int = 8,
        zstd_dict: Any = None,
    ) -> None:
        if naming not in NAMINGS:
            raise ValueError(f"naming must be one of {', '.join(NAMINGS)}, not {naming!r}")
        self.naming = naming
        self._setup_compression(format, compresslevel, max_pending, zstd_dict)
        self._next_scan = 0.0
        super().__init__(filename, mode, maxBytes, backupCount, encoding, delay, errors)
        self._setup_lock()
        base = os.path.basename(self.baseFilename)
        self._pending_re = re.compile(re.escape(base + _PENDING) + r"(\d{1,20})(" + re.escape(self._suffix) + ")?$")
        self._shift_re = re.compile(re.escape(base) + r"\.([1-9][0-9]*)" + re.escape(self._suffix) + "$")
        self._seq_re = re.compile(re.escape(base) + r"\.(\d{8,})" + re.escape(self._suffix) + "$")
        if backupCount > 0:
            self._submit(self._recover)

    # -- names
    def _backup(self, i: int) -> str:
        if self.naming == "sequence":
            return f"{self.baseFilename}.{i:08d}{self._suffix}"
        return f"{self.baseFilename}.{i}{self._suffix}"

    def _pending_name(self, seq: int) -> str:
        return f"{self.baseFilename}{_PENDING}{seq:020d}"

    def _plain_for(self, dst_name: str) -> str | None:
        m = self._pending_re.match(dst_name)
        if m and m.group(2):
            return dst_name[: -len(self._suffix)]
        m = self._seq_re.match(dst_name)
        if m and self.naming == "sequence":
            return os.path.basename(self._pending_name(int(m.group(1))))
        return None

    def _pending(self, names: list[str]) -> tuple[list[int], list[int]]:
        """Sequence numbers of the rotated files still plain, and of those compressed but
        not installed (shift naming), each sorted."""
        plain: list[int] = []
        done: list[int] = []
        for name in names:
            m = self._pending_re.match(name)
            if m:
                (done if m.group(2) else plain).append(int(m.group(1)))
        return sorted(plain), sorted(done)

    # -- rotation (lock held)
    def _due(self, msg: str, size: int, moved: bool) -> bool:
        return self.maxBytes > 0 and self.backupCount > 0 and size > 0 and size + len(msg) >= self.maxBytes

    def _rotate_locked(self) -> None:
        if self.backupCount <= 0:
            return
        self._close_stream()
        seq = self._lock_file.read_counter()
        if seq < 0:  # a new or damaged lock file: continue after what the folder holds
            seq = self._highest_seq()
        seq += 1
        plain = self._pending_name(seq)
        try:
            os.rename(self.baseFilename, plain)
        except FileNotFoundError:
            return
        self._lock_file.write_counter(seq)
        self._submit(self._work_shift if self.naming == "shift" else lambda: self._work_sequence(seq))

    def _highest_seq(self) -> int:
        names = os.listdir(os.path.dirname(self.baseFilename))
        plain, done = self._pending(names)
        seqs = plain + done
        if self.naming == "sequence":
            seqs += [int(m.group(1)) for m in map(self._seq_re.match, names) if m]
        return max(seqs, default=0)

    # -- background work
    def _work_shift(self) -> None:
        """Compress every rotated file nobody has claimed, oldest first, then install
        the compressed ones as backup 1 in order, under the lock."""
        folder = os.path.dirname(self.baseFilename)
        names = os.listdir(folder)
        plain, _ = self._pending(names)
        for seq in plain:
            p = self._pending_name(seq)
            self._compress_pending(p, p + self._suffix, names)
        with self._lock_file:
            self._install_ready()

    def _install_ready(self) -> None:
        """Install the compressed rotated files as backups, oldest first, stopping at the
        first one still plain (its compressor installs it and the later ones when done).
        Lock held."""
        names = os.listdir(os.path.dirname(self.baseFilename))
        plain, done = self._pending(names)
        first_plain = plain[0] if plain else None
        present = sorted((int(m.group(1)) for m in map(self._shift_re.match, names) if m), reverse=True)
        present = [i for i in present if i <= self.backupCount]
        for seq in done:
            if first_plain is not None and seq > first_plain:
                break
            for i in present:
                if i >= self.backupCount:
                    os.unlink(self._backup(i))
                else:
                    os.replace(self._backup(i), self._backup(i + 1))
            present = [i + 1 for i in present if i < self.backupCount]
            os.replace(self._pending_name(seq) + self._suffix, self._backup(1))
            present.append(1)

    def _work_sequence(self, seq: int) -> None:
        p = self._pending_name(seq)
        self._compress_pending(p, self._backup(seq))
        if seq > self.backupCount:
            _unlink(self._backup(seq - self.backupCount))
        if time.monotonic() >= self._next_scan:
            self._scan_sequence()

    def _scan_sequence(self) -> None:
        """Compress what killed processes left, and remove the backups beyond the count."""
        self._next_scan = time.monotonic() + ORPHAN_SCAN_INTERVAL
        names = os.listdir(os.path.dirname(self.baseFilename))
        plain, done = self._pending(names)
        for seq in plain:
            self._compress_pending(self._pending_name(seq), self._backup(seq), names)
        for seq in done:  # left by a handler with shift naming: number them too
            os.replace(self._pending_name(seq) + self._suffix, self._backup(seq))
        names = os.listdir(os.path.dirname(self.baseFilename))  # with the backups just made
        backups = sorted(int(m.group(1)) for m in map(self._seq_re.match, names) if m)
        for n in backups[: max(0, len(backups) - self.backupCount)]:
            _unlink(self._backup(n))

    def _recover(self) -> None:
        """At start-up: finish what a previous process left (plain rotated files, torn
        temporary files, compressed files not installed)."""
        self._remove_orphan_temps(os.listdir(os.path.dirname(self.baseFilename)))
        if self.naming == "shift":
            self._work_shift()
        else:
            self._scan_sequence()
