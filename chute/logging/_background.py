"""The thread that compresses rotated files, and the compression of one claimed file."""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Worker", "compress_fd", "SUFFIXES"]

SUFFIXES = {"zstd": "zst", "gzip": "gz", "bz2": "bz2", "xz": "xz", "lz4": "lz4", "brotli": "br"}

_WORKERS: weakref.WeakSet[Worker] = weakref.WeakSet()


def compress_fd(fd: int, dst: str, format: str, compresslevel: int | None, zstd_dict: Any = None) -> None:
    """Compress the file open on ``fd`` (read from its start) into ``dst`` atomically: a
    complete ``dst`` or none (:class:`chute.streams.atomic.AtomicFile`). ``fd`` stays open."""
    from ..api.fileobj import new_compressor, resolve_format
    from ..streams.atomic import AtomicFile

    options = {} if zstd_dict is None else {"zstd_dict": zstd_dict}
    comp = new_compressor(resolve_format(format), compresslevel, **options)
    offset = 0
    with AtomicFile(dst, overwrite=True) as fout:
        while True:
            data = os.pread(fd, 1 << 20, offset)
            if not data:
                break
            offset += len(data)
            fout.write(comp.compress(data))
        fout.write(comp.finish())


class Worker:
    """One thread running jobs in order, started at the first job, ended by :meth:`stop`.

    A job counts as pending until it has run, so :meth:`pending` is what a log call may
    wait on (:meth:`wait_below`). Exceptions are kept in ``errors`` for the handler.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: deque[Callable[[], None]] = deque()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.errors: list[BaseException] = []
        _WORKERS.add(self)

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.append(job)
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="chute-log-compress", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                job = self._jobs[0]
            try:
                job()
            except BaseException as exc:  # the plain file stays and is picked up again later
                self.errors.append(exc)
            finally:
                del job  # the job holds the handler: release it before the next wait
                with self._cond:
                    self._jobs.popleft()
                    self._cond.notify_all()

    def pending(self) -> int:
        return len(self._jobs)

    def wait_below(self, n: int) -> None:
        """Block until fewer than ``n`` jobs are pending."""
        with self._cond:
            while len(self._jobs) >= n and self._thread is not None:
                self._cond.wait()

    def stop(self) -> None:
        """Run the pending jobs, then end the thread."""
        with self._cond:
            thread = self._thread
            self._stopping = True
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._cond:
            self._thread = None

    def _reset_after_fork(self) -> None:
        # The thread did not survive the fork; the jobs were the parent's, which does them.
        self._cond = threading.Condition()
        self._jobs.clear()
        self._thread = None


def _after_fork_in_child() -> None:
    for worker in list(_WORKERS):
        worker._reset_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
