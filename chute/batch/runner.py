"""Running a batch's jobs on an executor, with retries, a manifest and bounded memory.

The runner keeps at most ``in_flight`` jobs submitted at once (twice the workers by
default), so a job list of millions holds millions of small job descriptions but never
millions of futures or results. Each finished job's entries go to the manifest at once.
Small jobs go to the workers in packets (up to 64 jobs or 256 KiB of sources), so that
a file of 1 KB does not cost a round trip of its own. A job that raises is submitted
again, alone, until it has run ``retries + 1`` times; a worker
process that dies takes its jobs with it, and those count as attempts too (a process
pool the runner made itself is replaced; Dask reschedules on its own and reports a job
only once it gave up on it). A source that does not decode fails without retries.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent import futures

from . import storage
from .work import Job, ShardJob, execute, execute_packet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from .manifest import Manifest

__all__ = ["Summary", "run"]


class Summary:
    """What a run did: ``files`` done, ``failed``, ``skipped`` (done before), ``bytes_in``
    (source bytes of the files done), ``bytes_out`` (output bytes written), ``seconds``,
    and the ``errors`` (one line each)."""

    def __init__(self) -> None:
        self.files = 0
        self.failed = 0
        self.skipped = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.seconds = 0.0
        self.errors: list[str] = []
        self._shards_counted: set[str] = set()

    @property
    def ratio(self) -> float:
        return self.bytes_out / self.bytes_in if self.bytes_in else 0.0

    def line(self, op: str = "compress") -> str:
        """The one-line summary the command prints (``verify`` writes nothing: no output
        size, no ratio)."""
        from ..cli.progress import human

        if op == "verify":
            text = f"{self.files} files verified, {human(self.bytes_in)}, {self.seconds:.1f} s"
        else:
            text = (
                f"{self.files} files, {human(self.bytes_in)} -> {human(self.bytes_out)}"
                f" ({100 * self.ratio:.1f}%), {self.seconds:.1f} s"
            )
        if self.skipped:
            text += f", {self.skipped} already done"
        return text + f", {self.failed} failed"

    def add(self, entry: dict[str, Any]) -> None:
        if entry["status"] == "done":
            self.files += 1
            self.bytes_in += int(entry.get("size", 0))
            out = str(entry.get("output"))
            if entry.get("member") is not None:  # a shard: its size once
                if out not in self._shards_counted:
                    self._shards_counted.add(out)
                    self.bytes_out += int(entry.get("output_size", 0))
            else:
                self.bytes_out += int(entry.get("output_size", 0))
        else:
            self.failed += 1
            self.errors.append(str(entry.get("error")))


def _watch_parent(parent: int) -> None:
    """In a pool's worker: end when the process that made the pool is gone (a killed
    ``chute batch`` must not leave workers behind). Under any start method: a forked
    worker's parent is that process; a forkserver's worker is reparented when the
    forkserver ends with it."""
    first = os.getppid()

    def gone() -> bool:
        if os.getppid() != first:
            return True
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False

    def watch() -> None:
        while not gone():
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="chute-batch-parent").start()


def process_pool(workers: int) -> futures.ProcessPoolExecutor:
    """A process pool whose workers end when this process does."""
    return futures.ProcessPoolExecutor(workers, initializer=_watch_parent, initargs=(os.getpid(),))


def run(
    jobs: Iterable[Job | ShardJob],
    *,
    executor: futures.Executor | None = None,
    workers: int | None = None,
    manifest: Manifest | None = None,
    retries: int = 2,
    in_flight: int | None = None,
    on_entry: Callable[[dict[str, Any], Summary], None] | None = None,
) -> Summary:
    """Run ``jobs`` (see :func:`chute.batch.plan`) and return the :class:`Summary`.

    ``executor``: any ``concurrent.futures.Executor`` (a Dask client's
    ``client.get_executor(pure=False)`` included); ``None`` makes a process pool of
    ``workers`` processes (default: every usable core) and shuts it down at the end;
    ``workers=1`` without an executor runs in this thread. ``manifest``: jobs it records
    as done are skipped, and each entry is appended as it comes. ``on_entry(entry,
    summary)`` is called for each entry (progress).
    """
    from ..parallel.pool import usable_cores

    summary = Summary()
    start = time.monotonic()
    workers = workers or usable_cores()
    own = executor is None and workers > 1
    if own:
        executor = process_pool(workers)
    if in_flight is None:
        in_flight = 2 * (_executor_workers(executor) or workers)
    tries: dict[int, int] = {}
    pending: dict[futures.Future[list[list[dict[str, Any]] | BaseException]], list[Job | ShardJob]] = {}
    queue = iter(jobs)

    def record(entries: list[dict[str, Any]], job: Job | ShardJob) -> None:
        for entry in entries:
            before = manifest.attempts(entry["source"]) if manifest is not None else 0
            entry["attempts"] = before + tries.get(id(job), 1)
            if manifest is not None:
                manifest.append(entry)
            summary.add(entry)
            if on_entry is not None:
                on_entry(entry, summary)
        tries.pop(id(job), None)  # ids are reused once a job is gone

    def failed(job: Job | ShardJob, exc: BaseException) -> None:
        message = _describe(exc, job)
        members = job.members if isinstance(job, ShardJob) else None
        if members is None:
            assert isinstance(job, Job)
            entries = [_failed_entry(job.op, job.source, job.size, job.mtime, job.output, message)]
        else:
            entries = [_failed_entry("compress", m.source, m.size, m.mtime, job.output, message) for m in members]
        record(entries, job)

    def skip_done(job: Job | ShardJob) -> bool:
        if manifest is None or not isinstance(job, Job) or job.problem is not None:
            return False
        if manifest.is_done(job.op, job.source, job.size, job.mtime, job.output):
            summary.skipped += 1
            return True
        return False

    try:
        if executor is None:  # in this thread, one job at a time
            for job in queue:
                if skip_done(job):
                    continue
                while True:
                    try:
                        entries = execute(job)
                    except Exception as error:
                        if tries.get(id(job), 1) <= retries:
                            tries[id(job)] = tries.get(id(job), 1) + 1
                            continue
                        failed(job, error)
                    else:
                        record(entries, job)
                    break
            return summary
        exhausted = False
        packets = _packets(job for job in queue if not skip_done(job))
        while True:
            while not exhausted and len(pending) < in_flight:
                packet = next(packets, None)
                if packet is None:
                    exhausted = True
                    break
                pending[executor.submit(execute_packet, packet)] = packet
            if not pending:
                break
            done, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
            again: list[tuple[Job | ShardJob, BaseException]] = []
            broken = False
            for fut in done:
                packet = pending.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    broken = broken or isinstance(exc, futures.process.BrokenProcessPool)
                    again.extend((job, exc) for job in packet)
                    continue
                for job, outcome in zip(packet, fut.result(), strict=True):
                    if isinstance(outcome, BaseException):
                        again.append((job, outcome))
                    else:
                        record(outcome, job)
            if broken and own:
                # the jobs still pending died with the pool: they go to a new one
                lost = futures.process.BrokenProcessPool("a worker process died")
                again.extend((job, lost) for packet in pending.values() for job in packet)
                pending.clear()
                assert executor is not None
                executor.shutdown(wait=False, cancel_futures=True)
                executor = process_pool(workers)
            for job, exc in again:
                if tries.get(id(job), 1) <= retries:
                    tries[id(job)] = tries.get(id(job), 1) + 1
                    pending[executor.submit(execute_packet, [job])] = [job]
                else:
                    failed(job, exc)
        return summary
    finally:
        if own and executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if manifest is not None:
            manifest.sync()
        summary.seconds = time.monotonic() - start


#: Small jobs travel to the workers in packets of up to this many jobs ...
PACKET_JOBS = 64
#: ... and about this many source bytes: one round trip per packet, not per file.
PACKET_BYTES = 256 << 10


def _packets(jobs: Iterable[Job | ShardJob]) -> Iterator[list[Job | ShardJob]]:
    packet: list[Job | ShardJob] = []
    size = 0
    for job in jobs:
        packet.append(job)
        size += job.size
        if len(packet) >= PACKET_JOBS or size >= PACKET_BYTES:
            yield packet
            packet, size = [], 0
    if packet:
        yield packet


def _executor_workers(executor: futures.Executor | None) -> int | None:
    """How many jobs ``executor`` runs at once, where it says."""
    if executor is None:
        return None
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int):
        return n
    client = getattr(executor, "_client", None)  # a Dask ClientExecutor
    if client is not None:
        try:
            return sum(client.nthreads().values()) or None
        except Exception:
            return None
    return None


def _failed_entry(op: str, source: str, size: int, mtime: int | str, output: str | None, error: str) -> dict[str, Any]:
    entry = {"op": op, "source": source, "size": size, "mtime": mtime, "output": output}
    return {**entry, "status": "failed", "error": error}


def _describe(exc: BaseException, job: Job | ShardJob) -> str:
    name = job.source if isinstance(job, Job) else job.output
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if isinstance(exc.filename, str) else name
        return f"{where}: {exc.strerror[0].lower()}{exc.strerror[1:]}"
    if isinstance(exc, futures.process.BrokenProcessPool):
        return f"{name}: the worker process running it died"
    text = str(exc) or type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def remove_stale_temp_files(outputs: Iterable[str]) -> int:
    """Remove the temporary files that writers killed while writing ``outputs`` left
    behind (local outputs only); return how many. Run it when no job of the batch is
    running any more: a temporary file of a running job would go too."""
    from ..streams.atomic import temp_prefix

    removed = 0
    by_folder: dict[str, set[str]] = {}
    for out in outputs:
        if storage.is_url(out):
            continue
        by_folder.setdefault(os.path.dirname(os.path.abspath(out)), set()).add(temp_prefix(out))
    for folder, prefixes in by_folder.items():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith(".chute-tmp"):
                continue
            head = name[: -len(".chute-tmp") - 12]
            if head in prefixes:
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed
