"""Where the CPU time of ``chute ls`` of many small members goes, in parts measured alone.

    python bench/bench_tar_ls_parts.py A.tar.zst [B.tar.zst ...] [--repeat R]

For each zstd-compressed archive, per round:

- ``zstd -dc``: the native decoder's CPU time for the whole archive (the floor of decoding);
- ``decode``: chute's decoding alone, as ``chute ls`` runs it (``open_compressed_input``: the
  read-ahead thread's zstd, chunks consumed whole, no parsing), CPU time of the process;
- ``headers``: ``TarReader.name_batches()`` over the decoded archive held in memory, fed
  through a ReadAhead in 1 MiB chunks, CPU time of the parsing thread alone, and per member;
- ``ls``: the whole ``chute ls`` in this process (decode and headers on two threads, the
  names quoted and written to /dev/null), CPU time of the process.

Prints one line per part and round, with the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import time


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("archives", nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    from chute.cli import main as chute_main
    from chute.streams.readahead import ReadAhead
    from chute.tar import open_compressed_input
    from chute.tar.reader import TarReader

    for path in a.archives:
        data = subprocess.run(["zstd", "-dcq", path], capture_output=True, check=True).stdout
        for _ in range(a.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["zstd", "-dcq", path], stdout=subprocess.DEVNULL, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            native = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

            c0 = cpu(resource.RUSAGE_SELF)
            fp, closers = open_compressed_input(path)
            while chunk := fp.peek_chunk():
                fp.consume(len(chunk))
            for c in closers:
                c.close()
            decode = cpu(resource.RUSAGE_SELF) - c0

            ahead = ReadAhead(io.BytesIO(data))
            t0 = cpu(resource.RUSAGE_THREAD)
            members = sum(len(batch) for batch in TarReader(ahead).name_batches())
            headers = cpu(resource.RUSAGE_THREAD) - t0
            ahead.close()

            c0, w0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
            saved = sys.stdout
            with open(os.devnull, "w") as null:
                sys.stdout = null
                try:
                    chute_main(["ls", path])
                except SystemExit:
                    pass
                finally:
                    sys.stdout = saved
            whole, wall = cpu(resource.RUSAGE_SELF) - c0, time.perf_counter() - w0
            print(
                f"{os.path.basename(path)}: {members} members | zstd -dc {native:.2f} s | decode {decode:.2f} s | "
                f"headers {headers:.2f} s ({headers / members * 1e6:.1f} us each) | ls {whole:.2f} s CPU, "
                f"{wall:.2f} s wall | load {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
