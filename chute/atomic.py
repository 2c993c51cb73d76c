"""Output files that appear whole or not at all.

:class:`AtomicFile` writes to a hidden temporary file in the target's folder and renames
it over the target only on success, so readers never see a torn file and a failed or
interrupted run leaves nothing behind. Without ``overwrite`` an existing target is never
touched (checked before writing and again at the rename, which uses a hard link so a
file that appeared meanwhile is not clobbered).
"""

from __future__ import annotations

import os
import signal
import stat
import threading
from types import TracebackType
from typing import BinaryIO

__all__ = ["AtomicFile", "copy_metadata", "cleanup_on_signals"]

_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


class AtomicFile:
    """Context manager: ``with AtomicFile(path) as f: f.write(...)``.

    On a clean exit the data is flushed, optionally fsynced, and renamed to ``path``;
    on an exception the temporary file is removed and ``path`` is left as it was.
    ``FileExistsError`` is raised if ``path`` exists and ``overwrite`` is false.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        fsync: bool = False,
        mode: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.overwrite = overwrite
        self.fsync = fsync
        self.mode = mode
        self.tmp: str | None = None
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if not self.overwrite and os.path.lexists(self.path):
            raise FileExistsError(self.path)
        import tempfile

        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", suffix=".chute-tmp", dir=folder)
        self.tmp = tmp
        with _LIVE_LOCK:
            _LIVE.add(tmp)
        if self.mode is not None:
            os.fchmod(fd, self.mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        self.file = os.fdopen(fd, "wb")
        return self.file

    def commit(self) -> None:
        assert self.file is not None and self.tmp is not None
        self.file.flush()
        if self.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        if self.overwrite:
            os.replace(self.tmp, self.path)
        else:
            # link() fails if the target appeared since __enter__: never clobber it.
            try:
                os.link(self.tmp, self.path)
            except OSError as exc:
                if isinstance(exc, FileExistsError):
                    raise
                os.rename(self.tmp, self.path)  # filesystems without hard links
            else:
                os.unlink(self.tmp)
        self._forget()

    def abort(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self._forget()

    def _forget(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self.tmp)
        self.tmp = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


def copy_metadata(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Give ``dst`` the permission bits and access/modification times of ``src``."""
    st = os.stat(src)
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def remove_live_temp_files() -> None:
    """Remove every temporary file of an AtomicFile still open (used on signals)."""
    with _LIVE_LOCK:
        paths = list(_LIVE)
        _LIVE.clear()
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass


def cleanup_on_signals() -> None:
    """On SIGTERM/SIGHUP remove live temporary files, then die by the same signal.

    SIGINT already raises KeyboardInterrupt, which AtomicFile's ``__exit__`` handles.
    """

    def handler(signum: int, frame: object) -> None:
        remove_live_temp_files()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread
                pass
