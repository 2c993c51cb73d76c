"""Soak the log handlers for a while and watch memory, files, threads and the backlog.

    python bench/soak_logging.py [--seconds 30] [--every 5] [--procs 3] [--dir DIR]

What runs at once, until the time is up:

* ``--procs`` child processes log as fast as they can to one
  ``CompressingRotatingFileHandler`` (rotation every 64 KiB, ``naming="sequence"``,
  ``backupCount`` 200), each record numbered;
* this process logs to a ``CompressedFileHandler`` (zstd, a sync point every 0.1 s) and a
  ``CompressingTimedRotatingFileHandler`` (``when="S"``), and every 0.2 s makes, uses and
  closes a fresh handler of each kind (what leaks at close shows up here).

Every ``--every`` seconds it prints: this process's RSS, open files and threads, the
children's summed RSS, the rotated files waiting for compression and the backups. At the
end the children stop, and the shared log is decoded: every record of every child must be
there exactly once (backups beyond ``backupCount`` are gone, so records are counted from
the oldest kept one). Exit status 1 if a record is missing or doubled.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from chute.logging import CompressedFileHandler, CompressingRotatingFileHandler, CompressingTimedRotatingFileHandler

SHARED_MAX_BYTES = 64 << 10
SHARED_BACKUPS = 200


def child(path: str, ident: int, stop: str) -> None:
    h = CompressingRotatingFileHandler(
        path, maxBytes=SHARED_MAX_BYTES, backupCount=SHARED_BACKUPS, naming="sequence", compresslevel=3
    )
    h.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("soak")
    log.addHandler(h)
    log.setLevel(logging.INFO)
    i = 0
    while not os.path.exists(stop):
        for _ in range(200):
            log.info("p%d r%09d %s", ident, i, "x" * (i % 61))
            i += 1
    h.close()
    print(i, flush=True)


def _rss_kib(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def _local_load(folder: Path, stop: threading.Event) -> None:
    """This process's own logging: long-lived handlers plus handlers made and closed."""
    fmt = logging.Formatter("%(asctime)s %(message)s")
    live = CompressedFileHandler(folder / "live.log.zst", flush_interval=0.1)
    timed = CompressingTimedRotatingFileHandler(folder / "timed.log", when="S", backupCount=20)
    for h in (live, timed):
        h.setFormatter(fmt)
    n = 0
    next_churn = 0.0
    while not stop.is_set():
        rec = logging.LogRecord("soak", logging.INFO, __file__, 0, "local %d %s", (n, "y" * (n % 47)), None)
        live.handle(rec)
        timed.handle(rec)
        n += 1
        if n % 100 == 0:
            time.sleep(0.001)
        if time.monotonic() >= next_churn:
            next_churn = time.monotonic() + 0.2
            churn = folder / "churn"
            churn.mkdir(exist_ok=True)
            for h in (
                CompressedFileHandler(churn / "c.log.gz", mode="w"),
                CompressingRotatingFileHandler(churn / "r.log", maxBytes=200, backupCount=2),
                CompressingTimedRotatingFileHandler(churn / "t.log", when="S", backupCount=1),
            ):
                h.setFormatter(fmt)
                for _ in range(10):
                    h.handle(rec)
                h.close()
    live.close()
    timed.close()


def _count_shared(folder: Path, procs: int, totals: list[int]) -> tuple[int, int, int]:
    """(records read, missing, doubled) of the shared log, from its oldest kept backup."""
    import chute

    backups = sorted(folder.glob("shared.log.*.zst"))
    firsts: dict[int, int] = {}
    seen: dict[tuple[int, int], int] = {}
    for path in [*backups, folder / "shared.log"]:
        data = chute.open(path).read() if path.suffix == ".zst" else path.read_bytes()
        for line in data.decode().splitlines():
            p, r = line.split()[:2]
            key = (int(p[1:]), int(r[1:]))
            firsts.setdefault(key[0], key[1])
            seen[key] = seen.get(key, 0) + 1
    doubled = sum(1 for v in seen.values() if v > 1)
    missing = sum(1 for p in range(procs) for r in range(firsts.get(p, 0), totals[p]) if (p, r) not in seen)
    return len(seen), missing, doubled


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=5.0)
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--dir", help="work folder (default: a temporary one, removed after)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return 0
    with tempfile.TemporaryDirectory(dir=args.dir or ".") as d:
        folder = Path(d)
        shared, stop_file = folder / "shared.log", folder / "stop"
        kids = [
            subprocess.Popen(
                [sys.executable, __file__, "--child", str(shared), str(i), str(stop_file)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(args.procs)
        ]
        stop = threading.Event()
        local = threading.Thread(target=_local_load, args=(folder, stop))
        local.start()
        print("| t (s) | RSS (MiB) | open files | threads | children RSS (MiB) | waiting | backups |")
        print("|---|---|---|---|---|---|---|")
        t0 = time.monotonic()
        while True:
            time.sleep(min(args.every, max(0.0, t0 + args.seconds - time.monotonic())))
            names = os.listdir(folder)
            waiting = sum(1 for n in names if ".rotating-" in n and n[-1].isdigit())
            backups = sum(1 for n in names if n.startswith("shared.log.") and n.endswith(".zst"))
            print(
                f"| {time.monotonic() - t0:.0f} | {_rss_kib() / 1024:.1f} | {len(os.listdir('/proc/self/fd'))} "
                f"| {threading.active_count()} | {sum(_rss_kib(k.pid) for k in kids) / 1024:.1f} "
                f"| {waiting} | {backups} |",
                flush=True,
            )
            if time.monotonic() - t0 >= args.seconds:
                break
        stop.set()
        local.join()
        stop_file.touch()
        totals = [int(k.communicate()[0]) for k in kids]
        read, missing, doubled = _count_shared(folder, args.procs, totals)
        print(
            f"\n{sum(totals)} records from {args.procs} processes; {read} in the kept backups and the live file; "
            f"missing {missing}, doubled {doubled}"
        )
        return 1 if missing or doubled else 0


if __name__ == "__main__":
    sys.exit(main())
