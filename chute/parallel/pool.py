"""The pool of worker threads every parallel job runs on, and how many workers to use.

Workers are daemon threads and every wait has a timeout, so Ctrl-C in the caller's thread
stops a run within a fraction of a second; a worker's error is raised in the caller's
thread by :meth:`Job.wait`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import queue
    from collections.abc import Callable
    from typing import Any

__all__ = ["Job", "Pool", "resolve_threads", "usable_cores"]

_POLL = 0.1


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """``None`` -> 1, ``0`` -> every usable core, N -> N."""
    if threads is None:
        return 1
    if threads < 0:
        raise ValueError("threads must be >= 0")
    if threads == 0:
        return usable_cores()
    return threads


class Job:
    """One piece of work for a :class:`Pool`: its data, then its result or error."""

    __slots__ = ("data", "done", "error", "result", "size")

    def __init__(self, data: Any, size: int) -> None:
        import threading

        self.data: Any = data
        self.size = size
        self.done = threading.Event()
        self.result: Any = b""
        self.error: BaseException | None = None

    def wait(self) -> Any:
        while not self.done.wait(_POLL):
            pass
        if self.error is not None:
            raise self.error
        return self.result


class Pool:
    """``n`` daemon threads running ``fn`` over jobs from an unbounded queue (the caller bounds it)."""

    def __init__(self, fn: Callable[[Any], Any], n: int) -> None:
        if n > 1:
            from ..streams import _malloc

            _malloc.tune()  # workers' arenas would otherwise fault their pages in per block
        import queue
        import threading

        self._fn = fn
        self._q: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"chute-worker-{i}", daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            try:
                assert job.data is not None
                job.result = self._fn(job.data)
            except BaseException as exc:  # handed to the caller's thread
                job.error = exc
            job.data = None
            job.done.set()

    def submit(self, data: Any, size: int = 0) -> Job:
        job = Job(data, size)
        self._q.put(job)
        return job

    def close(self) -> None:
        for _ in self._threads:
            self._q.put(None)
