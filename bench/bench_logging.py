"""Cost of a log call through chute's compressing handlers vs the stdlib RotatingFileHandler.

    python bench/bench_logging.py [--lines N] [--repeat R]
    python bench/bench_logging.py --storm SECONDS [--backups N]

Each handler logs the same N formatted records (about 120 bytes each) with rotation every
1 MiB. "per call" is the wall time of the logging loop divided by N: what the application
waits for. "drain" is the extra time until the background compressions are done (the
application does not wait for it). Target: compressing / plain <= 1.2x per call.
The plain run's rotated files are then compressed by the native ``zstd -3`` in the same run
(a logrotate-style ``compress`` step) for comparison with chute's background work.

``--storm S``: a rotation storm. One thread logs as fast as it can for S seconds with a
rotation every 16 KiB and ``backupCount`` N (default 10,000), through the standard handler
and through chute's handler with each backup naming. Reported: records/s, rotations, the
most rotated files waiting for compression at once (sampled every 0.1 s), and the drain
time (from the end of logging until the last backup is compressed). With the standard
naming every rotation renames every backup, so its cost grows as backups accumulate.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chute.logging import CompressedFileHandler, CompressingRotatingFileHandler

MAX_BYTES = 1 << 20
#: Enough that nothing is deleted (200,000 records make ~23 rotations), and a usual size: with
#: 10,000 (what this script used before) both handlers spent their time probing 10,000 names
#: per rotation, the standard one inline, chute's in its background thread.
BACKUPS = 50


def run(make: Callable[[Path], logging.Handler], lines: int, folder: Path) -> tuple[float, float, int]:
    h = make(folder / "app.log")
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger(f"bench.{id(h)}")
    log.handlers[:] = [h]
    log.propagate = False
    log.setLevel(logging.INFO)
    t0 = time.perf_counter()
    for i in range(lines):
        log.info("request %d from 10.0.%d.%d took %d ms user=%s", i, i % 256, i % 100, i % 997, "alice" * (i % 3))
    loop = time.perf_counter() - t0
    wait = getattr(h, "wait", None)
    if wait is not None:
        wait()
    drain = time.perf_counter() - t0 - loop
    h.close()
    size = sum(p.stat().st_size for p in folder.iterdir())
    return loop, drain, size


STORM_BYTES = 16 << 10


def storm(make: Callable[[Path], logging.Handler], seconds: float, folder: Path) -> dict[str, Any]:
    h = make(folder / "app.log")
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger(f"storm.{id(h)}")
    log.handlers[:] = [h]
    log.propagate = False
    log.setLevel(logging.INFO)
    most = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            waiting = sum(1 for n in os.listdir(folder) if n.startswith("app.log.rotating-") and n[-1].isdigit())
            most[0] = max(most[0], waiting)

    sampler = threading.Thread(target=sample)
    sampler.start()
    n = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            log.info("request %d from 10.0.%d.%d took %d ms", n, n % 256, n % 100, n % 997)
            n += 1
    loop = time.perf_counter() - t0
    wait = getattr(h, "wait", None)
    if wait is not None:
        wait()
    drain = time.perf_counter() - t0 - loop
    h.close()
    cpu = time.process_time() - cpu0
    done.set()
    sampler.join()
    rotations = sum(1 for name in os.listdir(folder) if name.startswith("app.log.") and name != "app.log.lock")
    return {"rate": n / loop, "rotations": rotations, "most": most[0], "drain": drain, "cpu": cpu}


def main_storm(seconds: float, backups: int) -> None:
    cases: dict[str, Callable[[Path], logging.Handler]] = {
        "stdlib RotatingFileHandler": lambda p: logging.handlers.RotatingFileHandler(
            p, maxBytes=STORM_BYTES, backupCount=backups
        ),
        "chute zstd, naming=shift (default)": lambda p: CompressingRotatingFileHandler(
            p, maxBytes=STORM_BYTES, backupCount=backups
        ),
        "chute zstd, naming=sequence": lambda p: CompressingRotatingFileHandler(
            p, maxBytes=STORM_BYTES, backupCount=backups, naming="sequence"
        ),
    }
    print(f"rotation every {STORM_BYTES} bytes, backupCount={backups}, {seconds:g} s of logging per case\n")
    print("| handler | records/s | rotations | most waiting | drain (s) | CPU user+sys (s) |")
    print("|---|---|---|---|---|---|")
    for name, make in cases.items():
        with tempfile.TemporaryDirectory(dir=".") as d:
            try:
                r = storm(make, seconds, Path(d))
            except TypeError as exc:  # an older chute without this option
                print(f"| {name} | n/a ({exc}) | | | | |")
                continue
        print(f"| {name} | {r['rate']:.0f} | {r['rotations']} | {r['most']} | {r['drain']:.2f} | {r['cpu']:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--storm", type=float, default=0, metavar="SECONDS", help="run the rotation storm instead")
    ap.add_argument("--backups", type=int, default=10_000, help="backupCount of the storm")
    args = ap.parse_args()
    if args.storm:
        main_storm(args.storm, args.backups)
        return
    cases: dict[str, Callable[[Path], logging.Handler]] = {
        "stdlib RotatingFileHandler": lambda p: logging.handlers.RotatingFileHandler(
            p, maxBytes=MAX_BYTES, backupCount=BACKUPS
        ),
        "CompressingRotating zstd": lambda p: CompressingRotatingFileHandler(
            p, maxBytes=MAX_BYTES, backupCount=BACKUPS, format="zstd"
        ),
        "CompressingRotating gzip": lambda p: CompressingRotatingFileHandler(
            p, maxBytes=MAX_BYTES, backupCount=BACKUPS, format="gzip"
        ),
        "CompressedFileHandler zstd 1s": lambda p: CompressedFileHandler(
            p.with_suffix(".log.zst"), format="zstd", flush_interval=1.0
        ),
    }
    best: dict[str, tuple[float, float, int]] = {}
    native = float("inf")
    for _ in range(args.repeat):
        for name, make in cases.items():
            with tempfile.TemporaryDirectory(dir=".") as d:
                r = run(make, args.lines, Path(d))
                if name not in best or r[0] < best[name][0]:
                    best[name] = r
                if name.startswith("stdlib") and shutil.which("zstd"):
                    rotated = [str(p) for p in Path(d).iterdir() if p.name != "app.log"]
                    t0 = time.perf_counter()
                    subprocess.run(["zstd", "-q", "-3", "--rm", *rotated], check=True)
                    native = min(native, time.perf_counter() - t0)
    base = best["stdlib RotatingFileHandler"][0]
    print(f"{args.lines} records, rotation every {MAX_BYTES} bytes, best of {args.repeat}\n")
    print("| handler | per call (us) | vs stdlib | background drain (s) | bytes on disk |")
    print("|---|---|---|---|---|")
    for name, (loop, drain, size) in best.items():
        print(f"| {name} | {loop / args.lines * 1e6:.2f} | {loop / base:.2f}x | {drain:.3f} | {size} |")
    if native != float("inf"):
        print(f"\nnative `zstd -q -3 --rm` on the stdlib run's rotated files: {native:.3f} s")


if __name__ == "__main__":
    main()
