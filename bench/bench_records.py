"""Small records with and without a zstd dictionary: ratio and records/s.

    python bench/bench_records.py [--records N] [--size BYTES] [--level L] [--repeat R]

For two generated inputs (JSON events, log lines), a dictionary is trained on N records
(``chute.dictionaries.train``) and measured on N *other* records generated the same way:

* ``per record, no dict``: each record alone as one zstd frame (``chute.records.RecordCodec()``);
* ``per record, dict``: the same with the dictionary (``RecordCodec(dictionary)``);
* ``binding, dict``: the same through the binding alone (``zstd.compress(rec, zstd_dict=...)``,
  a fresh compressor per call, as a caller without chute would write it), for chute's overhead;
* ``one stream``: all records, newline-separated, as one zstd stream (``chute.compress``), and
  ``zstd -L`` on the same bytes (the CLI, one process, in the same round).

Ratio: original bytes / compressed bytes. Rates are CPU time (``time.process_time``), best of R
rounds, encode and decode; the CLI row is wall time of the process.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chute
from chute.codecs.zstd import backend
from chute.records import RecordCodec


def json_events(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    kinds = ["page_view", "click", "add_to_cart", "purchase", "login", "logout", "search"]
    out = []
    for i in range(n):
        event = {
            "event": rng.choice(kinds),
            "user_id": rng.randrange(100_000),
            "session": f"{rng.getrandbits(48):012x}",
            "ts": 1_764_700_000_000 + i * rng.randrange(1, 500),
            "page": f"/products/{rng.randrange(5000)}",
            "referrer": rng.choice(["", "https://www.google.com/", "https://news.example.org/", "direct"]),
            "device": {
                "type": rng.choice(["mobile", "desktop", "tablet"]),
                "os": rng.choice(["ios", "android", "linux", "windows", "macos"]),
            },
        }
        out.append(json.dumps(event, separators=(",", ":")).encode())
    return out


def log_lines(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    levels = ["INFO"] * 6 + ["WARNING", "ERROR", "DEBUG"]
    paths = ["/api/v1/orders", "/api/v1/users", "/healthz", "/api/v1/cart", "/static/app.js"]
    out = []
    for i in range(n):
        out.append(
            (
                f"2026-12-03T10:{i // 3600 % 60:02d}:{i // 60 % 60:02d}.{rng.randrange(1000):03d}Z "
                f"{rng.choice(levels):7} [worker-{rng.randrange(16)}] "
                f"{rng.choice(['GET', 'POST'])} {rng.choice(paths)}/{rng.randrange(10**5)} "
                f"status={rng.choice([200, 200, 200, 201, 404, 500])} duration_ms={rng.randrange(1, 2000)} "
                f"request_id={rng.getrandbits(64):016x}"
            ).encode()
        )
    return out


def best(rounds: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--size", type=int, default=16 << 10, help="dictionary size (default 16 KiB)")
    ap.add_argument("--level", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(
        f"{args.records} records to train on, {args.records} others measured; zstd level {args.level}, "
        f"dictionary {args.size} bytes; CPU time, best of {args.repeat}\n"
    )
    print("| input | how | ratio | encode rec/s | decode rec/s |")
    print("|---|---|---:|---:|---:|")
    for name, make in (("JSON events", json_events), ("log lines", log_lines)):
        measure(name, make(args.records, seed=1), make(args.records, seed=2), args)


def measure(name: str, train: list[bytes], test: list[bytes], args: argparse.Namespace) -> None:
    z = backend()
    level, repeat = args.level, args.repeat
    original = sum(map(len, test))
    n = len(test)
    t0 = time.perf_counter()
    result = chute.dictionaries.train(train, args.size, level=level)
    trained_in = time.perf_counter() - t0
    d = result.dictionary

    def row(how: str, blobs: list[bytes] | bytes, enc: float, dec: float | None) -> None:
        size = len(blobs) if isinstance(blobs, bytes) else sum(map(len, blobs))
        rate = f"{n / dec:,.0f}" if dec else ""
        print(f"| {name} | {how} | {original / size:.2f} | {n / enc:,.0f} | {rate} |")

    for how, codec in (
        ("per record, no dict", RecordCodec(level=level)),
        ("per record, dict", RecordCodec(d, level=level)),
    ):
        blobs = [codec.encode(r) for r in test]
        assert [codec.decode(x) for x in blobs] == test
        enc = best(repeat, lambda: [codec.encode(r) for r in test])  # noqa: B023 - called at once
        dec = best(repeat, lambda: [codec.decode(x) for x in blobs])  # noqa: B023 - called at once
        row(how, blobs, enc, dec)
    blobs = [z.compress(r, level=level, zstd_dict=d) for r in test]
    enc = best(repeat, lambda: [z.compress(r, level=level, zstd_dict=d) for r in test])
    dec = best(repeat, lambda: [z.decompress(x, zstd_dict=d) for x in blobs])
    row("binding, dict", blobs, enc, dec)
    stream = b"\n".join(test) + b"\n"
    packed = chute.compress(stream, level=level)
    enc = best(repeat, lambda: chute.compress(stream, level=level))
    dec = best(repeat, lambda: chute.decompress(packed))
    row("one stream (chute)", packed, enc, dec)
    if shutil.which("zstd"):
        walls = []
        for _ in range(repeat):
            t = time.perf_counter()
            out = subprocess.run(["zstd", f"-{level}", "-c"], input=stream, capture_output=True, check=True).stdout
            walls.append(time.perf_counter() - t)
        row("one stream (zstd CLI, wall)", out, min(walls), None)
    print(
        f"| {name} | (training: {len(train)} records, {trained_in:.2f} s; held-out ratio "
        f"{result.ratio_without:.2f} -> {result.ratio_with:.2f}; mean record {original / n:.0f} B) | | | |"
    )


if __name__ == "__main__":
    main()
