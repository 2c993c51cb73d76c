"""Cost of the search for gzip members the engine may pass unchecked (chute.parallel.gzempty).

    python bench/bench_gzempty.py [--rounds 5] FILE.gz [...]

Each round runs, in turns and in this process, :func:`~chute.parallel.gzempty.first_suspect`
over the whole file with libc's ``memmem`` (what chute uses where there is one) and with
:meth:`bytes.find` (elsewhere), and the bare reads of the file (``os.preadv``, 4 MiB at a
time); prints the CPU seconds of each per round, their range, the places that read
``1f 8b 08`` and the suspect found (``None``: none).

With ``--decode THREADS``, each round also decodes the file as ``chute -dc -T THREADS``
does (``chute.copy`` into the null device; the engine, through a sidecar index if there
is one) and prints its engine, its CPU seconds, those of the search's thread, and how
long the output waited for the search in all. The engine's wall time against chute
without the search is measured with ``bench_turns.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chute.parallel import gzempty


def reads(fd: int, size: int) -> None:
    view = memoryview(bytearray(gzempty.STEP))
    at = 0
    while at < size:
        at += os.preadv(fd, [view], at) or size


def decode(name: str, threads: int) -> str:
    """One decode as ``chute -dc`` makes it: the engine, the process's CPU seconds, the
    search thread's, and the seconds the output waited for the search."""
    import chute
    from chute.parallel import gzengine

    scan_cpu: list[float] = []
    waits: list[float] = []
    search, gate = gzempty.first_suspect, gzengine._Gate.open

    def timed_search(*args: object) -> int | None:
        start = time.thread_time()
        try:
            return search(*args)  # type: ignore[arg-type]
        finally:
            scan_cpu.append(time.thread_time() - start)

    def timed_gate(self: object, end: int | None) -> bool:
        start = time.perf_counter()
        try:
            return gate(self, end)  # type: ignore[arg-type]
        finally:
            waits.append(time.perf_counter() - start)

    start = time.process_time()
    with (
        mock.patch.object(gzempty, "first_suspect", timed_search),
        mock.patch.object(gzengine._Gate, "open", timed_gate),
        open(os.devnull, "wb") as null,
    ):
        stats = chute.copy(name, null, decompress=True, threads=threads)
    cpu = time.process_time() - start
    engine = getattr(stats, "engine", None)
    return f"{engine}: CPU s {cpu:.2f}, search {sum(scan_cpu):.3f}, output waited {sum(waits):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--decode", type=int, metavar="THREADS", help="also decode as chute -dc -T THREADS")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    for name in args.files:
        fd = os.open(name, os.O_RDONLY)
        size = os.fstat(fd).st_size
        places, tail = 0, b""
        with open(name, "rb") as f:
            while chunk := f.read(64 << 20):
                places += (tail + chunk).count(gzempty.MAGIC)
                tail = chunk[-2:]
        cpu: dict[str, list[float]] = {"memmem": [], "bytes.find": [], "reads only": []}
        suspect = None
        for _ in range(args.rounds):
            for how in cpu:
                start = time.process_time()
                if how == "reads only":
                    reads(fd, size)
                elif how == "memmem":
                    suspect = gzempty.first_suspect(fd, size)
                else:
                    with mock.patch.object(gzempty, "_memmem", lambda: None):
                        gzempty.first_suspect(fd, size)
                cpu[how].append(time.process_time() - start)
        os.close(fd)
        print(f"{name}: {size / 1e6:.0f} MB, {places} places read 1f 8b 08, suspect: {suspect}")
        for how, times in cpu.items():
            print(f"  {how:11s} CPU s {' '.join(f'{t:.3f}' for t in times)}  ({min(times):.3f}-{max(times):.3f})")
        for _ in range(args.rounds if args.decode else 0):
            print(f"  decode -T{args.decode}: {decode(name, args.decode)}", flush=True)


if __name__ == "__main__":
    main()
