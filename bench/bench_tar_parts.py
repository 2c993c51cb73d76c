"""Where the CPU time of ``chute unpack`` of many small files goes, in parts measured
alone: reading and checking the headers (the short path's ``_usual_header`` over an
uncompressed tar in memory: no system call), making the files (``open``, ``write``,
``futimens``, ``close`` of N files of 1.5 kB in one folder, no parsing: the least a
Python loop can spend on them), and the whole extraction of the same archive from memory
(``Extractor.extract_all``), with its writer thread and without. What the whole costs
beyond the two parts is the rest of the per-member work in Python: the loop, the safety
bookkeeping and the hand-over to the writer thread.

    python bench/bench_tar_parts.py ARCHIVE.tar [--files N] [--dir /dev/shm] [--repeat R]

ARCHIVE.tar: an uncompressed archive of many small files, e.g. ``tar -cf A -C DIR .`` of
bench_tar's tree. Prints user and system CPU seconds of each part, per round.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import tempfile
import time

from chute.tar.extract import Extractor, _usual_header

BLOCK = 512
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def parse(data: bytes) -> int:
    pos = members = 0
    while (usual := _usual_header(data[pos : pos + BLOCK])) is not None:
        pos += BLOCK + usual[4] + (-usual[4] % BLOCK)
        members += 1
    return members


def make_files(folder: str, files: int) -> None:
    d = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    data = b"x" * 1500
    try:
        for i in range(files):
            fd = os.open(f"f{i}", FLAGS, 0o644, dir_fd=d)
            os.write(fd, data)
            os.utime(fd, ns=(10**18, 10**18))
            os.close(fd)
    finally:
        os.close(d)


def extract(data: bytes, folder: str, threaded: bool) -> int:
    with Extractor(folder) as ex:
        ex.threaded = threaded
        ex.extract_all(io.BytesIO(data))
    return ex.stats.members


def cpu() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("archive")
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with open(a.archive, "rb") as f:
        data = f.read()
    for _ in range(a.repeat):
        u0, s0 = cpu()
        members = parse(data)
        u1, s1 = cpu()
        folder = tempfile.mkdtemp(dir=a.dir, prefix="bench-tar-parts-")
        t = time.perf_counter()
        make_files(folder, a.files)
        wall = time.perf_counter() - t
        u2, s2 = cpu()
        shutil.rmtree(folder)
        whole = []
        for threaded in (True, False):
            folder = tempfile.mkdtemp(dir=a.dir, prefix="bench-tar-parts-")
            u3, s3 = cpu()
            extract(data, folder, threaded)
            u4, s4 = cpu()
            shutil.rmtree(folder)
            whole.append(f"{u4 - u3:.2f} s user {s4 - s3:.2f} s sys")
        print(
            f"headers: {members} in {u1 - u0:.2f} s user {s1 - s0:.2f} s sys | "
            f"files: {a.files} in {u2 - u1:.2f} s user {s2 - s1:.2f} s sys ({wall:.2f} s wall) | "
            f"extract_all: {whole[0]}, without the thread {whole[1]} | load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
