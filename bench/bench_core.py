#!/usr/bin/env python3
"""Core benchmark: chute against the native tools on the standard corpus.

    python bench/bench_core.py [--repeat N] [--quick] [--only PREFIX]

Everything is measured in one run, on ``mixed.bin`` from ``shared/bench/make-corpus``
(built into bench/corpus on first use), as a user runs the commands: each a fresh process
of the installed ``chute`` command, output to ``/dev/null``, each figure the median of N
rounds (of 9 where the native tool takes under a second) that take the native tool and
chute in turns, wall time and CPU time (user + system). Reported as ratios against the
native tool measured in the same run: absolute times drift on shared machines. Writes the
tables to stdout and bench/results/core.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _util import Run, chute_cmd, ensure_corpus, measure, output_size, paired, table

#: Rounds for a task the native tool does in under a second (each round: native, then chute).
SHORT_REPEAT = 9
#: Decompression by the native tools, for the 2 GB (start-up free) timings.
NATIVE_DECODE = {"zstd": "zstd -d -q -c", "lz4": "lz4 -d -q -c", "gzip": "gzip -d -c"}

SEED_PATTERN = """
import sys, zlib
c = zlib.compressobj(9)
r, w = sys.stdin.buffer, sys.stdout.buffer
while chunk := r.read(16384):
    w.write(c.compress(chunk))
w.write(c.flush())
"""


def verdict(check: Callable[[Run, Run], bool] | None, native: Run, ours: Run) -> str:
    """PASS / MISS against the target; "-" for reference rows."""
    if check is None:
        return "-"
    return "PASS" if check(native, ours) else "**MISS**"


def within(factor: float) -> Callable[[Run, Run], bool]:
    """chute takes at most ``factor`` times the native tool's time."""
    return lambda n, c: c.seconds <= factor * n.seconds


def within_cpu(factor: float) -> Callable[[Run, Run], bool]:
    """chute spends at most ``factor`` times the native tool's CPU time (user + system)."""
    return lambda n, c: c.cpu <= factor * n.cpu


def faster(factor: float, *, ratio: bool = True) -> Callable[[Run, Run], bool]:
    """chute is at least ``factor`` times faster (and, with ``ratio``, its output is no larger)."""
    return lambda n, c: n.seconds >= factor * c.seconds and (not ratio or c.out_bytes <= n.out_bytes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="rounds per task (default 5; 9 for sub-second tasks)")
    ap.add_argument("--quick", action="store_true", help="skip the 2 GB memory runs and the slow formats")
    ap.add_argument(
        "--only",
        metavar="PREFIX",
        help="time only the rows whose task starts with PREFIX (e.g. lz4), as --quick; leaves results/core.md",
    )
    args = ap.parse_args()
    args.quick = args.quick or bool(args.only)
    corpus = ensure_corpus()
    mixed = corpus / "mixed.bin"
    size = mixed.stat().st_size
    chute = chute_cmd()  # also byte-compiles chute, as an installed copy would be
    tmp = Path(tempfile.mkdtemp(prefix="chute-bench-"))
    q = shlex.quote
    rows: list[list[str]] = []
    notes: list[str] = []

    def pair(
        task: str,
        native: str,
        ours: str,
        target: str,
        *,
        stdin: Path | None = None,
        out: bool = True,
        in_size: int = size,
        check: Callable[[Run, Run], bool] | None = None,
    ) -> tuple[Run, Run]:
        if args.only and not task.startswith(args.only):
            return Run(1.0, 0, 1, 1.0), Run(1.0, 0, 1, 1.0)  # not timed
        rounds = args.repeat
        if measure(native, stdin=stdin).seconds < 1:
            # a sub-second task: the machine's swings and chute's start-up weigh most here
            rounds = max(rounds, SHORT_REPEAT)
        n, c = paired(native, ours, rounds, stdin=stdin)
        if out:
            n.out_bytes, c.out_bytes = output_size(native, stdin=stdin), output_size(ours, stdin=stdin)
        sizes = f"{n.out_bytes / in_size:.3f} / {c.out_bytes / in_size:.3f}" if out else "-"
        rows.append(
            [
                task,
                f"`{native.replace(str(tmp) + '/', '').replace(str(corpus) + '/', '')}`",
                f"{n.seconds:.2f} s",
                f"{c.seconds:.2f} s",
                f"**{c.seconds / n.seconds:.2f}x**",
                f"{n.cpu:.2f} / {c.cpu:.2f} s ({c.cpu / n.cpu:.2f}x)",
                sizes,
                f"{n.rss_kib // 1024} / {c.rss_kib // 1024}",
                target,
                verdict(check, n, c),
            ]
        )
        return n, c

    # zstd
    pair(
        "zstd -3 compress, 1 thread",
        f"zstd -3 -T1 -q -c {q(str(mixed))}",
        f"{chute} -3 -T1 -c {q(str(mixed))}",
        "<= 1.05x",
        check=within(1.05),
    )
    subprocess.run(f"zstd -3 -T1 -q -c {q(str(mixed))} > {tmp}/m.zst", shell=True, check=True)
    pair(
        "zstd decompress",
        f"zstd -d -q -c {tmp}/m.zst",
        f"{chute} -d -c {tmp}/m.zst",
        "<= 1.10x",
        out=False,
        check=within(1.10),
    )
    # lz4: judged on CPU time, which the machine's load moves less than wall time
    _, one = pair(
        "lz4 -1 compress",
        f"lz4 -1 -q -c {q(str(mixed))}",
        f"{chute} -F lz4 -1 -T1 -c {q(str(mixed))}",
        "<= 1.05x CPU",
        check=within_cpu(1.05),
    )
    pair(
        "lz4 -1 compress, standard input",
        "lz4 -1 -q -c",
        f"{chute} -F lz4 -1 -T1 -c",
        "<= 1.05x CPU",
        stdin=mixed,
        check=within_cpu(1.05),
    )
    # the lz4 CLI (1.9.4) has no threads: chute -T2 against it and against chute -T1
    _, two = pair(
        "lz4 -1 compress, chute 2 threads",
        f"lz4 -1 -q -c {q(str(mixed))}",
        f"{chute} -F lz4 -1 -T2 -c {q(str(mixed))}",
        "-",
    )
    notes.append(
        f"lz4 -1: chute -T2 takes {two.seconds / one.seconds:.2f}x the wall time of chute -T1 "
        f"and {two.cpu / one.cpu:.2f}x its CPU time"
    )
    subprocess.run(f"lz4 -1 -q -c {q(str(mixed))} > {tmp}/m.lz4", shell=True, check=True)
    pair(
        "lz4 decompress",
        f"lz4 -d -q -c {tmp}/m.lz4",
        f"{chute} -d -c {tmp}/m.lz4",
        "<= 1.10x",
        out=False,
        check=within(1.10),
    )
    # gzip
    n, c = pair(
        "gzip -6 compress, 1 thread",
        f"gzip -6 -c {q(str(mixed))}",
        f"{chute} -F gzip -6 -c {q(str(mixed))}",
        ">= 3x faster, ratio <=",
        check=faster(3),
    )
    notes.append(
        f"gzip -6: chute is {n.seconds / c.seconds:.1f}x faster; compressed size "
        f"{c.out_bytes / n.out_bytes:.3f} of gzip's"
    )
    pair(
        "pigz -6 (all cores), for reference",
        f"pigz -6 -c {q(str(mixed))}",
        f"{chute} -F gzip -6 -c {q(str(mixed))}",
        "-",
    )
    subprocess.run(f"gzip -6 -c {q(str(mixed))} > {tmp}/m.gz", shell=True, check=True)
    n, c = pair(
        "gzip decompress",
        f"gzip -d -c {tmp}/m.gz",
        f"{chute} -d -c {tmp}/m.gz",
        ">= 3x faster",
        out=False,
        check=faster(3, ratio=False),
    )
    notes.append(f"gzip -d: chute is {n.seconds / c.seconds:.1f}x faster")
    # the seed pattern
    seed = tmp / "seed.py"
    seed.write_text(SEED_PATTERN)
    n, c = pair(
        "seed pattern (zlib 9, 16 KiB chunks) vs chute default",
        f"{q(sys.executable)} {seed}",
        f"{chute} -c",
        ">= 30x faster, ratio <=",
        stdin=mixed,
        check=faster(30),
    )
    notes.append(
        f"seed pattern: chute's default (zstd -3) is {n.seconds / c.seconds:.0f}x faster, "
        f"size {c.out_bytes / n.out_bytes:.3f} of the seed's"
    )

    # the other formats, on a 20 MB slice (bzip2 and xz take minutes on the whole corpus)
    if not args.quick:
        part = tmp / "slice.bin"
        with open(mixed, "rb") as f:
            part.write_bytes(f.read(20_000_000))
        psize = part.stat().st_size
        for tool, fmt in (("bzip2 -9", "bz2 -9"), ("xz -6", "xz -6"), ("brotli -q 11", "brotli --level 11")):
            exe = tool.split()[0]
            pair(
                f"{exe} compress (20 MB slice)",
                f"{tool} -c {part}",
                f"{chute} -F {fmt} -T1 -c {part}",
                "-",
                in_size=psize,
            )

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
    startup = [
        [
            "`chute --version` vs `python3 -c pass` (median of 21)",
            f"{base * 1000:.1f} ms",
            f"{ours * 1000:.1f} ms",
            f"**{ours / base:.2f}x**",
            "<= 2.5x",
            "PASS" if ours <= 2.5 * base else "**MISS**",
        ]
    ]

    # memory: flat from 200 MB to 2 GB, one thread; the 2 GB files also time decompression
    # where start-up (~30 ms of interpreter and imports) no longer weighs on the ratio
    mem_rows: list[list[str]] = []
    amortized: list[list[str]] = []
    if not args.quick:
        rss: dict[tuple[str, str], tuple[Run, Run]] = {}
        for label, copies in (("200 MB", 1), ("2 GB", 10)):
            gen = " ".join([q(str(mixed))] * copies)
            for fmt in ("zstd", "gzip", "lz4"):
                big = tmp / f"big.{fmt}"
                comp = measure(f"sh -c 'cat {gen}' | {chute} -F {fmt} -T1 -c > {big}")
                dec = measure(f"{chute} -d -T1 -c {big}")
                rss[label, fmt] = comp, dec
                if copies > 1 and fmt in NATIVE_DECODE:
                    n, c = paired(f"{NATIVE_DECODE[fmt]} {big}", f"{chute} -d -c {big}", args.repeat)
                    target = 1.10 if fmt != "gzip" else 1 / 3
                    ok = c.seconds <= target * n.seconds
                    amortized.append(
                        [
                            f"{fmt} decompress, {label}",
                            f"`{NATIVE_DECODE[fmt]}`",
                            f"{n.seconds:.2f} s",
                            f"{c.seconds:.2f} s",
                            f"**{c.seconds / n.seconds:.2f}x**",
                            f"<= {target:.2f}x",
                            "PASS" if ok else "**MISS**",
                        ]
                    )
                big.unlink(missing_ok=True)
        for fmt in ("zstd", "gzip", "lz4"):
            (c1, d1), (c2, d2) = rss["200 MB", fmt], rss["2 GB", fmt]
            flat = all(b.rss_kib <= a.rss_kib + 4096 and b.rss_kib < 64 << 10 for a, b in ((c1, c2), (d1, d2)))
            mem_rows.append(
                [fmt, *(f"{r.rss_kib / 1024:.1f} MiB" for r in (c1, c2, d1, d2)), "PASS" if flat else "**MISS**"]
            )

    text = [
        f"## Speed against the native tools (mixed.bin, {size / 1e6:.0f} MB, median of {args.repeat} "
        f"rounds ({SHORT_REPEAT} for sub-second tasks) in turns, output to /dev/null, load "
        f"{os.getloadavg()[0]:.1f} at the end)",
        "",
        table(
            [
                "task",
                "native",
                "native time",
                "chute time",
                "chute / native",
                "CPU native / chute",
                "size ratio native / chute",
                "peak RSS MiB native / chute",
                "target",
                "verdict",
            ],
            rows,
        ),
        "",
        *[f"- {n}" for n in notes if not args.only or n.startswith(args.only)],
        "",
        "## Start-up",
        "",
        table(["what", "python3 -c pass", "chute --version", "ratio", "target", "verdict"], startup),
    ]
    if mem_rows:
        text += [
            "",
            "## Peak RSS, one thread, flat in input size (target < 64 MiB, 2 GB within 4 MiB of 200 MB)",
            "",
            "Input is mixed.bin repeated through a pipe (`cat mixed.bin ... | chute -F FMT -T1 -c`); "
            "decompression reads that file (`chute -d -T1 -c FILE`).",
            "",
            table(
                ["format", "compress 200 MB", "compress 2 GB", "decompress 200 MB", "decompress 2 GB", "verdict"],
                mem_rows,
            ),
            "",
            "## Decompression on 2 GB (start-up amortized; same chute-made file for both tools)",
            "",
            "`chute -d -c FILE` with its defaults: every core where the file allows it (lz4: by blocks).",
            "",
            table(["task", "native", "native time", "chute time", "chute / native", "target", "verdict"], amortized),
        ]
    report = "\n".join(text) + "\n"
    print(report)
    subprocess.run(["rm", "-rf", str(tmp)], check=False)
    if args.only:
        return
    out = Path(__file__).parent / "results" / "core.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"<!-- written by bench/bench_core.py on {time.strftime('%Y-%m-%d')} -->\n" + report)


if __name__ == "__main__":
    main()
