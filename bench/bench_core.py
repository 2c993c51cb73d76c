#!/usr/bin/env python3
"""Core benchmark (issue 2): chute against the native tools on the standard corpus.

    python bench/bench_core.py [--repeat N] [--quick]

Everything is measured in one run, on ``mixed.bin`` from ``shared/bench/make-corpus``
(built into bench/corpus on first use), each figure the best of N runs of a fresh
process. Reported as ratios against the native tool measured in the same run: absolute
times drift on shared machines. Writes the tables to stdout and bench/results/core.md.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import Run, best, chute_cmd, ensure_corpus, measure, table

SEED_PATTERN = """
import sys, zlib
c = zlib.compressobj(9)
r, w = sys.stdin.buffer, sys.stdout.buffer
while chunk := r.read(16384):
    w.write(c.compress(chunk))
w.write(c.flush())
"""


def mib_s(size: int, run: Run) -> str:
    return f"{size / run.seconds / (1 << 20):.0f} MiB/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the 2 GB memory runs and the slow formats")
    args = ap.parse_args()
    corpus = ensure_corpus()
    mixed = corpus / "mixed.bin"
    size = mixed.stat().st_size
    chute = chute_cmd()
    # Byte-compile once: with PYTHONDONTWRITEBYTECODE set, every start would recompile.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parent.parent / "chute")], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="chute-bench-"))
    q = shlex.quote
    rows: list[list[str]] = []
    notes: list[str] = []

    def pair(task: str, native: str, ours: str, target: str, *, stdin: Path | None = None, out: bool = True,
             in_size: int = size) -> tuple[Run, Run]:
        n_out = tmp / "native.out" if out else None
        c_out = tmp / "chute.out" if out else None
        n = best(native, args.repeat, stdin=stdin, stdout=n_out)
        c = best(ours, args.repeat, stdin=stdin, stdout=c_out)
        sizes = f"{n.out_bytes / in_size:.3f} / {c.out_bytes / in_size:.3f}" if out else "-"
        rows.append([task, f"`{native.replace(str(tmp) + '/', '').replace(str(corpus) + '/', '')}`",
                     f"{n.seconds:.2f} s", f"{c.seconds:.2f} s", f"**{c.seconds / n.seconds:.2f}x**",
                     sizes, f"{n.rss_kib // 1024} / {c.rss_kib // 1024}", target])
        return n, c

    # zstd
    pair("zstd -3 compress, 1 thread", f"zstd -3 -T1 -q -c {q(str(mixed))}", f"{chute} -3 -T1 -c {q(str(mixed))}",
         "<= 1.05x")
    subprocess.run(f"zstd -3 -T1 -q -c {q(str(mixed))} > {tmp}/m.zst", shell=True, check=True)
    pair("zstd decompress", f"zstd -d -q -c {tmp}/m.zst", f"{chute} -d -c {tmp}/m.zst", "<= 1.10x", out=False)
    # lz4
    pair("lz4 -1 compress", f"lz4 -1 -q -c {q(str(mixed))}", f"{chute} -F lz4 -1 -c {q(str(mixed))}", "<= 1.05x")
    subprocess.run(f"lz4 -1 -q -c {q(str(mixed))} > {tmp}/m.lz4", shell=True, check=True)
    pair("lz4 decompress", f"lz4 -d -q -c {tmp}/m.lz4", f"{chute} -d -c {tmp}/m.lz4", "<= 1.10x", out=False)
    # gzip
    n, c = pair("gzip -6 compress, 1 thread", f"gzip -6 -c {q(str(mixed))}",
                f"{chute} -F gzip -6 -c {q(str(mixed))}", ">= 3x faster, ratio <=")
    notes.append(f"gzip -6: chute is {n.seconds / c.seconds:.1f}x faster; compressed size "
                 f"{c.out_bytes / n.out_bytes:.3f} of gzip's")
    pair("pigz -6 (all cores), for reference", f"pigz -6 -c {q(str(mixed))}",
         f"{chute} -F gzip -6 -c {q(str(mixed))}", "-")
    subprocess.run(f"gzip -6 -c {q(str(mixed))} > {tmp}/m.gz", shell=True, check=True)
    n, c = pair("gzip decompress", f"gzip -d -c {tmp}/m.gz", f"{chute} -d -c {tmp}/m.gz", ">= 3x faster", out=False)
    notes.append(f"gzip -d: chute is {n.seconds / c.seconds:.1f}x faster")
    # the seed pattern
    seed = tmp / "seed.py"
    seed.write_text(SEED_PATTERN)
    n, c = pair("seed pattern (zlib 9, 16 KiB chunks) vs chute default", f"{q(sys.executable)} {seed}",
                f"{chute} -c", ">= 30x faster, ratio <=", stdin=mixed)
    notes.append(f"seed pattern: chute's default (zstd -3) is {n.seconds / c.seconds:.0f}x faster, "
                 f"size {c.out_bytes / n.out_bytes:.3f} of the seed's")

    # the other formats, on a 20 MB slice (bzip2 and xz take minutes on the whole corpus)
    if not args.quick:
        part = tmp / "slice.bin"
        with open(mixed, "rb") as f:
            part.write_bytes(f.read(20_000_000))
        psize = part.stat().st_size
        for tool, fmt in (("bzip2 -9", "bz2 -9"), ("xz -6", "xz -6"), ("brotli -q 11", "brotli --level 11")):
            exe = tool.split()[0]
            pair(f"{exe} compress (20 MB slice)", f"{tool} -c {part}", f"{chute} -F {fmt} -c {part}", "-",
                 in_size=psize)

    # startup
    def median_start(cmd: list[str]) -> float:
        times = []
        for _ in range(21):
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    base = median_start([sys.executable, "-c", "pass"])
    ours = median_start([*shlex.split(chute), "--version"])
    startup = [["`chute --version` vs `python3 -c pass` (median of 21)", f"{base * 1000:.1f} ms",
                f"{ours * 1000:.1f} ms", f"**{ours / base:.2f}x**", "<= 2.5x"]]

    # memory: flat from 200 MB to 2 GB
    mem_rows: list[list[str]] = []
    if not args.quick:
        for label, copies in (("200 MB", 1), ("2 GB", 10)):
            gen = " ".join([q(str(mixed))] * copies)
            for fmt in ("zstd", "gzip", "lz4"):
                comp = measure(f"sh -c 'cat {gen}' | {chute} -F {fmt} -T1 -c > {tmp}/big.{fmt}"
                               if fmt == "zstd" else f"sh -c 'cat {gen}' | {chute} -F {fmt} -c > {tmp}/big.{fmt}")
                dec = measure(f"{chute} -d -c {tmp}/big.{fmt}")
                mem_rows.append([label, fmt, f"{comp.rss_kib / 1024:.1f} MiB", f"{dec.rss_kib / 1024:.1f} MiB"])
            (tmp / "big.zstd").unlink(missing_ok=True)

    text = ["## Speed against the native tools (mixed.bin, "
            f"{size / 1e6:.0f} MB, best of {args.repeat})", "",
            table(["task", "native", "native time", "chute time", "chute / native", "size ratio native / chute",
                   "peak RSS MiB native / chute", "target"], rows), "",
            *[f"- {n}" for n in notes], "", "## Start-up", "",
            table(["what", "python3 -c pass", "chute --version", "ratio", "target"], startup)]
    if mem_rows:
        text += ["", "## Peak RSS, one thread, flat in input size (target < 64 MiB)", "",
                 table(["input", "format", "compress", "decompress"], mem_rows)]
    report = "\n".join(text) + "\n"
    print(report)
    out = Path(__file__).parent / "results" / "core.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"<!-- written by bench/bench_core.py on {time.strftime('%Y-%m-%d')} -->\n" + report)
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
