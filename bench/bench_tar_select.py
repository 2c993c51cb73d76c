"""Extracting some members of a big archive: chute unpack NAME / --exclude against GNU tar.

    python bench/bench_tar_select.py [--files N] [--repeat R] [--unpack-dir DIR] [--baseline SRC]

The archive is bench_tar.py's generated tree (``--files`` small files, 100,000 by default,
1,000 a top folder), packed by GNU tar and zstd. In rounds where every command takes its
turn, three extractions:

- one folder of 1,000 files: ``zstd -dc A | tar -xf - -C OUT tree/d042`` against
  ``chute unpack A -C OUT tree/d042``;
- everything but one folder: ``--exclude=d042`` with both;
- everything, for scale.

Each row gives the median wall and CPU time (user + system, every process of the pipeline)
and the CPU ratio to GNU tar. ``--baseline SRC`` (a folder holding another version's
``chute`` package) adds that version to every round, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _util import CORPUS, chute_cmd, table
from bench_tar import Sample, _is_tmpfs, make_small_tree, run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000, help="files in the generated tree")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unpack-dir", default="/dev/shm", help="where trees are unpacked (default: a tmpfs)")
    ap.add_argument("--baseline", metavar="SRC", help="also run the chute package found in SRC")
    a = ap.parse_args()
    ch = chute_cmd()
    tools = {"native": "", "chute": ch}
    if a.baseline:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(a.baseline, "chute"))], check=True)
        tools["baseline"] = f"env PYTHONPATH={shlex.quote(str(Path(a.baseline).resolve()))} {ch}"
    src = make_small_tree(CORPUS / f"tree{a.files}", a.files)
    cases = {
        "one folder (1,000 files)": f"{shlex.quote(src.name)}/d042",
        "all but one folder (--exclude)": "--exclude=d042",
        "everything": "",
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(dir=a.unpack_dir) as outs:
        arc = Path(tmp, "a.tar.zst")
        run(f"tar -cf - -C {shlex.quote(str(src.parent))} {shlex.quote(src.name)} | zstd -3 -q", stdout=arc)
        q = shlex.quote(str(arc))
        for label, args in cases.items():
            runs: dict[str, list[Sample]] = {k: [] for k in tools}
            for i in range(a.repeat + 1):  # the first round is untimed
                for k, cmd in tools.items():
                    out = Path(outs, f"{k}{i}")
                    out.mkdir()
                    o = shlex.quote(str(out))
                    if k == "native":
                        line = f"zstd -dcq {q} | tar -xf - -C {o} {args}"
                    else:
                        line = f"{cmd} unpack {q} -C {o} {args}"
                    sample = run(line)
                    if i:
                        runs[k].append(sample)
                    shutil.rmtree(out)
            rows.append((label, runs))
    med = statistics.median
    headers = ["extract", "tar+zstd s", "tar+zstd CPU s", "chute s", "chute CPU s", "CPU ratio"]
    if a.baseline:
        headers += ["baseline s", "baseline CPU s"]
    lines = []
    for label, runs in rows:
        n, c = runs["native"], runs["chute"]
        nc, cc = med(x.cpu for x in n), med(x.cpu for x in c)
        cells = [
            label,
            f"{med(x.seconds for x in n):.2f}",
            f"{nc:.2f}",
            f"{med(x.seconds for x in c):.2f}",
            f"{cc:.2f}",
            f"{cc / nc:.2f}x",
        ]
        if a.baseline:
            b = runs["baseline"]
            cells += [f"{med(x.seconds for x in b):.2f}", f"{med(x.cpu for x in b):.2f}"]
        lines.append(cells)
    where = f"{a.unpack_dir} ({'tmpfs' if _is_tmpfs(Path(a.unpack_dir)) else 'not a tmpfs'})"
    load = os.getloadavg()[0]
    print(f"{a.files:,} files; median of {a.repeat} rounds in turns; unpack into {where}; load {load:.1f}")
    print(table(headers, lines))


if __name__ == "__main__":
    main()
