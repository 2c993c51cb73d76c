"""Cost of a gzip index: building it against plain decodes, its size, random reads.

    python bench/bench_gzindex.py [--rounds 3] [FILE.gz ...]

Without files, ``gzip -6`` copies of the corpus's ``text.tar`` and ``mixed.bin`` are made
(kept in bench/corpus/). Each round runs, in turns and in this process: ``build_index``,
Python's ``zlib`` decode of the same file (the same library the index uses), and
``gzip -d`` in a child; CPU seconds (user + system) are printed per round, then the index's
size and the CPU time of a random ``seek`` + ``read(1000)`` with and without the index.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ensure_corpus

import chute
from chute.codecs import gzindex as fmt
from chute.parallel.gzindex import IndexedGzipReader, build_index


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def zlib_decode(path: Path) -> None:
    dec = zlib.decompressobj(31)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            dec.decompress(chunk)
            while dec.eof and dec.unused_data:  # the next member
                rest = dec.unused_data
                dec = zlib.decompressobj(31)
                dec.decompress(rest)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = args.files
    if not files:
        corpus = ensure_corpus()
        files = []
        for name in ("text.tar", "mixed.bin"):
            gz = corpus / (name + ".gz")
            if not gz.exists():
                with open(gz, "wb") as out:
                    subprocess.run(["gzip", "-6", "-c", str(corpus / name)], stdout=out, check=True)
            files.append(gz)
    print("machine load: measure on a quiet machine; CPU seconds (user + system)")
    for path in files:
        print(f"\n{path.name} ({path.stat().st_size:,} bytes)")
        for r in range(args.rounds):
            c = cpu_self()
            with open(path, "rb") as f:
                index = build_index(f)
            build = cpu_self() - c
            c = cpu_self()
            zlib_decode(path)
            plain = cpu_self() - c
            c = cpu_children()
            subprocess.run(["gzip", "-d", "-c", str(path)], stdout=subprocess.DEVNULL, check=True)
            gzip_d = cpu_children() - c
            print(
                f"  round {r + 1}: index {build:.3f} s, zlib decode {plain:.3f} s ({build / plain - 1:+.1%}), "
                f"gzip -d {gzip_d:.3f} s"
            )
        raw = fmt.serialize(index)
        size = os.path.getsize(path)
        print(f"  index: {len(raw):,} bytes, {len(index.checkpoints)} checkpoints, {len(raw) / size:.2%} of the file")
        rnd = random.Random(1)
        n = 20
        with open(path, "rb") as fp, IndexedGzipReader(fp, index) as f:
            c = cpu_self()
            for _ in range(n):
                f.seek(rnd.randrange(index.out_size))
                f.read(1000)
            with_index = (cpu_self() - c) / n
        with chute.open(path, index=False) as g:
            assert not isinstance(g, IndexedGzipReader)
            c = cpu_self()
            for _ in range(3):
                g.seek(rnd.randrange(index.out_size))
                g.read(1000)
                g.seek(0, io.SEEK_SET)
            without = (cpu_self() - c) / 3
        print(f"  random seek + read(1000): {with_index * 1000:.1f} ms with the index, {without * 1000:.1f} ms without")


if __name__ == "__main__":
    main()
