"""``chute batch compress`` on local processes and on Dask, against ``xargs -P2 zstd``.

    python bench/bench_batch.py [--files 3000] [--repeat 3] [--workers 2] [--level 3]

The tree: ``--files`` files cut from the corpus's ``mixed.bin`` (sizes drawn around 16 kB,
a few up to 1 MB, 100 a folder; built once in bench/corpus/ and kept). In rounds where each
command takes its turn, into a fresh output folder each time:

- ``xargs``: ``find . -type f | xargs -P N -n 64 zstd -q -L --output-dir-mirror OUT``;
- ``local``: ``chute batch compress TREE --dest OUT --workers N -L`` (a process pool);
- ``dask``: the same with ``--executor dask://ADDRESS``, a LocalCluster of N worker
  processes of one thread each, started once before the rounds (its start is not timed).

Each row: the median wall time and CPU time (user + system) of the rounds and their ratios
to xargs. The dask row's CPU time adds what its workers spent during the run (their own
``os.times()`` before and after) to the command's; the scheduler's is left out. chute does
more than zstd per file: it hashes the input (XXH3-128) and decodes what it writes to check
it, and it writes each output through a temporary file renamed into place.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import CORPUS, chute_cmd, ensure_corpus, table


def make_tree(files: int) -> Path:
    root = CORPUS / f"batch-{files}"
    complete = CORPUS / f"batch-{files}.complete"
    if complete.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    data = (ensure_corpus() / "mixed.bin").read_bytes()
    rng = random.Random(22)
    for i in range(files):
        size = min(int(rng.lognormvariate(9.7, 1.0)), 1 << 20)
        start = rng.randrange(len(data) - size)
        path = root / f"d{i // 100:03d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[start : start + size])
    complete.touch()
    return root


def timed(cmd: str, cwd: Path) -> tuple[float, float]:
    """Wall and CPU time (user + system of the command and what it waited for)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["/bin/sh", "-c", cmd], cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"command failed: {cmd}")
    return wall, usage.ru_utime + usage.ru_stime


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--level", type=int, default=3)
    a = ap.parse_args()
    tree = make_tree(a.files)
    total = sum(p.stat().st_size for p in tree.rglob("*.bin"))
    chute = chute_cmd()
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    client = Client(cluster)
    address = cluster.scheduler_address.removeprefix("tcp://")
    out = Path(tempfile.mkdtemp(prefix="chute-bench-batch-"))
    q = shlex.quote
    cmds = {
        "xargs -P zstd": f"find . -type f -name '*.bin' | xargs -P {a.workers} -n 64 zstd -q -{a.level} "
        f"--output-dir-mirror {q(str(out))}",
        "chute batch, local": f"{chute} batch compress {q(str(tree))} --dest {q(str(out))} "
        f"--workers {a.workers} --level {a.level} --no-progress",
        "chute batch, dask": f"{chute} batch compress {q(str(tree))} --dest {q(str(out))} "
        f"--executor dask://{address} --level {a.level} --no-progress",
    }
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    try:
        for _ in range(a.repeat):
            for name, cmd in cmds.items():
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                before = sum(client.run(_cpu).values()) if "dask" in name else 0.0
                wall, cpu = timed(cmd, tree)
                if "dask" in name:
                    cpu += sum(client.run(_cpu).values()) - before
                walls[name].append(wall)
                cpus[name].append(cpu)
                made = sum(1 for _ in out.rglob("*.zst"))
                if made != a.files:
                    raise RuntimeError(f"{name}: {made} outputs, not {a.files}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        client.close()
        cluster.close()
    base_w = statistics.median(walls["xargs -P zstd"])
    base_c = statistics.median(cpus["xargs -P zstd"])
    rows = []
    for name in cmds:
        w, c = statistics.median(walls[name]), statistics.median(cpus[name])
        rows.append([name, f"{w:.2f}", f"{w / base_w:.2f}", f"{c:.2f}", f"{c / base_c:.2f}"])
    print(
        f"{a.files} files, {total / 1e6:.1f} MB, level {a.level}, {a.workers} workers, "
        f"median of {a.repeat} rounds in turns"
    )
    print(table(["command", "wall s", "wall ratio", "CPU s", "CPU ratio"], rows))


if __name__ == "__main__":
    sys.exit(main())
