"""What processes writing one log share: a lock file beside it, and claims on rotated files.

The lock serialises every write, size check and rotation of the live file among all the
threads and processes that log to it; it also holds the rotation counter. A claim is an
``flock`` on a rotated file itself, taken without waiting: whoever holds it compresses the
file, everybody else leaves it alone, so each rotated file is compressed once.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from types import TracebackType

__all__ = ["LockFile", "claim"]

_LOCKS: weakref.WeakSet[LockFile] = weakref.WeakSet()


class LockFile:
    """``with lock:`` excludes the other threads of this process (a thread lock) and the
    other processes (``flock`` on ``path``, created if missing and never removed: removing a
    lock file lets two processes hold "the" lock on two different files).

    After ``fork`` the child opens its own descriptor: flock belongs to the open file
    description, which a child shares with its parent, so the inherited one would not
    keep them apart.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd = -1
        self._pid = -1
        _LOCKS.add(self)

    def __enter__(self) -> LockFile:
        self._thread_lock.acquire()
        try:
            if self._pid != os.getpid():
                self._reopen()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _reopen(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # the parent's lock stays: the parent still has its descriptor
            self._fd = -1
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        self._pid = os.getpid()

    def read_counter(self) -> int:
        """The number stored in the lock file; -1 if none. Call with the lock held."""
        raw = os.pread(self._fd, 32, 0).split(b"\n", 1)[0]
        return int(raw) if raw.isdigit() else -1

    def write_counter(self, value: int) -> None:
        """Store ``value`` (always the same width, so no stale digits remain). Lock held."""
        os.pwrite(self._fd, b"%020d\n" % value, 0)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                self._pid = -1


def _after_fork_in_child() -> None:
    # A thread of the parent may have held a thread lock at the fork: it never releases
    # it in the child.
    for lock in list(_LOCKS):
        lock._thread_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def claim(path: str) -> int | None:
    """A read descriptor of ``path`` holding an exclusive flock, or ``None`` if the file is
    gone or another thread or process holds the claim.

    The file is checked again after locking: a claimant that finished removed it before
    releasing its lock, so a descriptor opened just before the removal is turned away
    instead of compressing the file a second time.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.stat(path)
        fst = os.fstat(fd)
        if (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino):
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None
