"""--rsyncable: how much of the output changes after a one-byte insertion near the start.

Builds a log-like text file (default 50 MB), and a copy with one byte inserted at 1% of
it; compresses both with each command, and reports for each: the output size, its cost
against the same command without --rsyncable, the changed span (the bytes of the new
output between the first and the last that differ from the old output, the closing
checksum left out: an upper bound of what rsync sends as literal data) as a share of the
output, and the CPU time (user + system) of compressing the new file, median of
``--repeat`` rounds, the commands taken in turns.

    python bench/bench_rsyncable.py [--size MB] [--repeat N] [--at FRACTION]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUTE = [sys.executable, "-m", "chute"]
#: (label, command, bytes of closing check the span leaves out)
COMMANDS: list[tuple[str, list[str], int]] = [
    ("gzip -6", ["gzip", "-6", "-n", "-c"], 8),
    ("gzip -6 --rsyncable", ["gzip", "-6", "-n", "--rsyncable", "-c"], 8),
    ("chute -F gzip -6", [*CHUTE, "-F", "gzip", "-6", "-T1", "-c"], 8),
    ("chute -F gzip -6 --rsyncable", [*CHUTE, "-F", "gzip", "-6", "-T1", "--rsyncable", "-c"], 8),
    ("zstd -3", ["zstd", "-3", "-T1", "-q", "-c"], 4),
    ("zstd -3 --rsyncable", ["zstd", "-3", "-T1", "-q", "--rsyncable", "-c"], 4),
    ("chute -3", [*CHUTE, "-3", "-T1", "-c"], 4),
    ("chute -3 --rsyncable", [*CHUTE, "-3", "-T1", "--rsyncable", "-c"], 4),
]


def text(size: int, seed: int = 11) -> bytes:
    """Log-like lines: a timestamp, a level, a few words from a vocabulary of 3000."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))) for _ in range(3000)]
    levels = [b"INFO", b"INFO", b"INFO", b"WARN", b"DEBUG", b"ERROR"]
    out = bytearray()
    t = 1_700_000_000
    while len(out) < size:
        t += rng.randint(0, 3)
        line = b" ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        out += b"%d %s [%d] %s\n" % (t, rng.choice(levels), rng.randint(1, 99999), line)
    return bytes(out[:size])


def changed_span(old: bytes, new: bytes, trailer: int) -> int:
    a, b = old[: len(old) - trailer], new[: len(new) - trailer]
    n = min(len(a), len(b))
    p = 0
    step = 1 << 16
    while p + step <= n and a[p : p + step] == b[p : p + step]:
        p += step
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s + step <= n - p and a[len(a) - s - step : len(a) - s] == b[len(b) - s - step : len(b) - s]:
        s += step
    while s < n - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return len(b) - p - s


def run(cmd: list[str], path: Path) -> tuple[bytes, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with path.open("rb") as f:
        out = subprocess.run(cmd, stdin=f, capture_output=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=50, help="MB of text (default 50)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds for the CPU times (default 3)")
    ap.add_argument("--at", type=float, default=0.01, help="where the byte goes, as a share of the file")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = Path(tmp) / "old.log", Path(tmp) / "new.log"
        data = text(opts.size * 1_000_000)
        at = int(len(data) * opts.at)
        old_path.write_bytes(data)
        new_path.write_bytes(data[:at] + b"X" + data[at:])
        del data
        rows: dict[str, tuple[int, int]] = {}
        cpu: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
        for label, cmd, trailer in COMMANDS:
            old, _ = run(cmd, old_path)
            new, _ = run(cmd, new_path)
            rows[label] = (len(new), changed_span(old, new, trailer))
        for _ in range(opts.repeat):
            for label, cmd, _ in COMMANDS:
                cpu[label].append(run(cmd, new_path)[1])
    print(f"{opts.size} MB of log-like text, one byte inserted at {opts.at:.0%}; {time.strftime('%H:%M')}")
    print(f"(CPU: user+sys, median of {opts.repeat}; {os.cpu_count()} cores, other work may load the machine)\n")
    print("| Command | Output | Size cost | Changed span | CPU s |")
    print("|---|---|---|---|---|")
    for label, _, _ in COMMANDS:
        size, span = rows[label]
        base = rows.get(label.replace(" --rsyncable", ""), (size, 0))[0]
        cost = f"{100 * (size / base - 1):+.2f}%" if "--rsyncable" in label else ""
        print(
            f"| `{label}` | {size / 1e6:.2f} MB | {cost} | {100 * span / size:.2f}% | "
            f"{statistics.median(cpu[label]):.2f} |"
        )


if __name__ == "__main__":
    main()
