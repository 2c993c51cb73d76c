"""chute pack / ls / unpack against GNU tar + zstd on trees of many small files.

    python bench/bench_tar.py [--trees small,stdlib] [--files N] [--threads N] [--repeat R]
                              [--unpack-dir DIR] [--baseline SRC]

Two trees: ``small``, a generated tree of ``--files`` small text files (100,000 by default,
100 a folder, sizes drawn around 1.5 kB; built once in bench/corpus/ and kept), and
``stdlib``, the interpreter's standard library folder without site-packages and __pycache__.
For each tree, in rounds where every command takes its turn (native, chute, [baseline]):

- pack: ``tar -cf - DIR | zstd -3 -T N`` against ``chute pack -F zstd -3 -T N DIR -o -``;
- ls: ``zstd -dc A | tar -tf -`` against ``chute ls A``;
- unpack: ``zstd -dc A | tar -xf - -C OUT`` against ``chute unpack A -C OUT``;

ls and unpack read the same archive with both tools: once the one GNU tar made, once the one
chute made (chute adds a PAX header with the exact mtime to each member, so its archives have
up to twice as many header blocks). Each row gives the median wall time of the rounds and the
ratio of the medians, the median CPU time (user + system, all processes of the pipeline) and
its ratio, and chute's peak RSS. CPU time is the steadier figure on a shared machine: wall
time counts the time a run waited for a core another job held.

Unpacking goes to a fresh folder per run under ``--unpack-dir`` (default: a tmpfs, /dev/shm,
where no disk write-back hides the CPU cost). On a tmpfs each tree is deleted right after its
run; elsewhere they are all kept until the end, because ext4 skips inodes freed in the last
minutes when it allocates new ones and a run right after a large delete pays for it. One
untimed round of each unpack goes first.

``--baseline SRC`` (a folder holding another version's ``chute`` package, e.g. from
``git archive REV chute | tar -x -C SRC``) adds that version's commands to every round: a
before/after comparison that the machine's swings do not skew.
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
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _util import CORPUS, GNU_TIME, chute_cmd, table


@dataclass
class Sample:
    seconds: float
    cpu: float  # user + system of every process of the command
    rss_kib: int


def run(cmd: str, *, stdout: Path | None = None) -> Sample:
    """Run ``cmd`` through the shell: wall time, CPU time of all its processes, peak RSS."""
    with tempfile.NamedTemporaryFile("r") as report:
        argv = ["/bin/sh", "-c", cmd]
        if GNU_TIME.exists():
            argv = [str(GNU_TIME), "-f", "%M", "-o", report.name, *argv]
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out)
            # wait4's usage covers the child and every descendant it waited for
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        finally:
            if stdout:
                out.close()  # type: ignore[union-attr]
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"command failed: {cmd}")
        fields = report.read().split()
    rss = int(fields[-1]) if fields else usage.ru_maxrss
    return Sample(seconds, usage.ru_utime + usage.ru_stime, rss)


@dataclass
class Row:
    tree: str
    step: str
    runs: dict[str, list[Sample]]


def in_turns(tree: str, step: str, cmds: dict[str, str], repeat: int, *, warmup: bool = False, **kw: Path) -> Row:
    """Each command once per round, in the order given; ``warmup`` adds an untimed round."""
    runs: dict[str, list[Sample]] = {k: [] for k in cmds}
    for i in range(repeat + warmup):
        for label, cmd in cmds.items():
            sample = run(cmd, stdout=kw.get(f"{label}_out"))
            if not (warmup and i == 0):
                runs[label].append(sample)
    return Row(tree, step, runs)


def make_small_tree(root: Path, files: int) -> Path:
    """``files`` small text files, 100 a folder, 10 folders a parent; kept once built."""
    done = root.with_name(root.name + ".complete")
    if done.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(1)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(2000)]
    for i in range(files):
        folder = root / f"d{i // 1000:03d}" / f"s{i // 100 % 10}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        size = min(int(rng.expovariate(1 / 1500)), 60_000)
        (folder / f"f{i:06d}.txt").write_bytes(b" ".join(rng.choices(words, k=size // 6 + 1))[:size])
    done.touch()
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", default="small,stdlib", help="comma-separated: small, stdlib")
    ap.add_argument("--files", type=int, default=100_000, help="files in the generated tree")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unpack-dir", default="/dev/shm", help="where trees are unpacked (default: a tmpfs)")
    ap.add_argument("--baseline", metavar="SRC", help="also run the chute package found in SRC")
    a = ap.parse_args()
    ch, t = chute_cmd(), a.threads
    tools = {"native": "", "chute": ch}
    if a.baseline:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(a.baseline, "chute"))], check=True)
        tools["baseline"] = f"env PYTHONPATH={shlex.quote(str(Path(a.baseline).resolve()))} {ch}"
    trees = []
    for name in a.trees.split(","):
        if name == "small":
            src = make_small_tree(CORPUS / f"tree{a.files}", a.files)
            trees.append((f"{a.files:,} small files", src, ""))
        elif name == "stdlib":
            src = Path(sysconfig.get_paths()["stdlib"])
            trees.append(("stdlib", src, "--exclude site-packages --exclude __pycache__"))
        else:
            raise SystemExit(f"unknown tree {name!r}")
    unpack_root = Path(a.unpack_dir)
    on_tmpfs = _is_tmpfs(unpack_root)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, src, excl in trees:
            parent, name = shlex.quote(str(src.parent)), shlex.quote(src.name)
            archives = {k: Path(tmp, f"{k}.tar.zst") for k in tools}
            pack = {"native": f"tar -cf - -C {parent} {excl} {name} | zstd -3 -q -T{t}"}
            for k, cmd in tools.items():
                if k != "native":
                    pack[k] = f"{cmd} pack -F zstd -3 -T{t} -C {parent} {excl} {name} -o -"
            rows.append(in_turns(label, "pack", pack, a.repeat, **{f"{k}_out": archives[k] for k in tools}))
            for made_by in ("native", "chute"):
                arc = shlex.quote(str(archives[made_by]))
                what = "tar's" if made_by == "native" else "chute's"
                ls = {"native": f"zstd -dcq {arc} | tar -tf - >/dev/null"}
                ls.update({k: f"{cmd} ls {arc} >/dev/null" for k, cmd in tools.items() if k != "native"})
                rows.append(in_turns(label, f"ls ({what} archive)", ls, a.repeat))
                rows.append(_unpack(label, what, arc, tools, a.repeat, unpack_root, on_tmpfs))
    _print(rows, a, on_tmpfs)


def _unpack(label: str, what: str, arc: str, tools: dict[str, str], repeat: int, root: Path, tmpfs: bool) -> Row:
    with tempfile.TemporaryDirectory(dir=root, prefix="bench-tar-") as parent:
        outs: list[Path] = []
        runs: dict[str, list[Sample]] = {k: [] for k in tools}
        for i in range(repeat + 1):  # the first round is untimed
            for k, cmd in tools.items():
                out = Path(parent, f"out{len(outs)}")
                out.mkdir()
                outs.append(out)
                os.sync()  # no dirty pages of the previous run
                q = shlex.quote(str(out))
                line = f"zstd -dcq {arc} | tar -xf - -C {q}" if k == "native" else f"{cmd} unpack {arc} -C {q}"
                sample = run(line)
                if i:
                    runs[k].append(sample)
                if tmpfs:
                    shutil.rmtree(out)
        for out in outs:
            shutil.rmtree(out, ignore_errors=True)
    return Row(label, f"unpack ({what} archive)", runs)


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    best = ("", "")
    for line in mounts:
        fields = line.split()
        if len(fields) > 2 and str(path.resolve()).startswith(fields[1]) and len(fields[1]) > len(best[0]):
            best = (fields[1], fields[2])
    return best[1] == "tmpfs"


def _print(rows: list[Row], a: argparse.Namespace, tmpfs: bool) -> None:
    med = statistics.median
    headers = ["tree", "step", "tar+zstd s", "chute s", "ratio", "tar+zstd CPU s", "chute CPU s", "CPU ratio"]
    if a.baseline:
        headers += ["baseline s", "ratio", "baseline CPU s"]
    headers.append("chute RSS MiB")
    lines = []
    for r in rows:
        n, c = r.runs["native"], r.runs["chute"]
        nw, cw, nc, cc = (
            med(x.seconds for x in n),
            med(x.seconds for x in c),
            med(x.cpu for x in n),
            med(x.cpu for x in c),
        )
        cells = [
            r.tree,
            r.step,
            f"{nw:.2f}",
            f"{cw:.2f}",
            f"{cw / nw:.2f}x",
            f"{nc:.2f}",
            f"{cc:.2f}",
            f"{cc / nc:.2f}x",
        ]
        if a.baseline:
            b = r.runs["baseline"]
            bw, bc = med(x.seconds for x in b), med(x.cpu for x in b)
            cells += [f"{bw:.2f}", f"{bw / nw:.2f}x", f"{bc:.2f}"]
        cells.append(f"{max(x.rss_kib for x in c) // 1024}")
        lines.append(cells)
    where = f"{a.unpack_dir} ({'tmpfs' if tmpfs else 'not a tmpfs'})"
    load = os.getloadavg()[0]
    print(f"zstd -3, {a.threads} threads, median of {a.repeat} rounds in turns; unpack into {where}; load {load:.1f}")
    print(table(headers, lines))


if __name__ == "__main__":
    main()
