"""chute pack / unpack against ``tar | zstd`` on the interpreter's standard library folder.

    python bench/bench_tar.py [--threads N] [--repeat R] [--dir DIR] [--tmpfs DIR | --no-tmpfs] [--baseline SRC]

Packs with ``chute pack -F zstd -3 -T N`` vs ``tar -cf - DIR | zstd -3 -T N``, unpacks with
``chute unpack`` vs ``zstd -d | tar -x``; prints times, peak RSS and the ratios (target 1.3x).
Unpacking is measured twice: into the temporary folder (on disk) and into a folder on a
tmpfs (``--tmpfs``, /dev/shm by default), where no disk write-back hides the CPU cost.
Each unpack goes to a new folder, after one untimed round; the trees are deleted at the end.
``--baseline SRC`` (a folder holding another version's ``chute`` package, e.g. from
``git archive REV | tar -x -C SRC``) adds that version's ``chute unpack``, run in the same
interleaved rounds: a before/after comparison that machine noise does not skew.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from _util import Run, best, chute_cmd, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--tmpfs", default="/dev/shm", help="a tmpfs folder for a second unpack target")
    ap.add_argument("--no-tmpfs", action="store_true", help="unpack on disk only")
    ap.add_argument("--baseline", metavar="SRC", help="also unpack with the chute package found in SRC")
    a = ap.parse_args()
    # as bench_core.py: no run pays for compiling a changed module (PYTHONDONTWRITEBYTECODE)
    for pkg in [Path(__file__).parent.parent / "chute"] + ([Path(a.baseline, "chute")] if a.baseline else []):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(pkg)], check=True)
    # the entry point, not `python -m chute`, which would find ./chute first
    base_cmd = f"env PYTHONPATH={shlex.quote(str(Path(a.baseline).resolve()))} {chute_cmd()}" if a.baseline else ""
    src = Path(a.dir)
    parent, name = shlex.quote(str(src.parent)), shlex.quote(src.name)
    ch, t = chute_cmd(), a.threads
    excl = "--exclude site-packages"
    with tempfile.TemporaryDirectory() as tmp:
        ta, ca = Path(tmp, "t.tar.zst"), Path(tmp, "c.tar.zst")
        tar_pack = best(f"sh -c 'tar -cf - -C {parent} {excl} {name} | zstd -3 -q -T{t}'", a.repeat, stdout=ta)
        chute_pack = best(f"{ch} pack -F zstd -3 -T{t} -C {parent} {excl} {name} -o -", a.repeat, stdout=ca)

        def unpack(parent: Path) -> tuple[Run, Run, Run | None]:
            # Every run gets a folder of its own and no tree is deleted before the rounds
            # are over: ext4 skips inodes freed in the last minutes when it allocates new
            # ones (recently_deleted() in find_inode_bit), and a run made right after an
            # rmtree of 8,000 files spent 8 s of system time there, whichever tool it was.
            # The untimed first round pays for deletions made before this script ran.
            outs: list[Path] = []

            def fresh() -> str:
                out = parent / f"out{len(outs)}"
                out.mkdir()
                outs.append(out)
                os.sync()  # start each run with no dirty pages from the previous one (writeback throttling)
                return shlex.quote(str(out))

            tar_runs, chute_runs, base_runs = [], [], []
            for i in range(a.repeat + 1):  # interleaved, so that all see the same machine state
                tar_runs.append(best(f"sh -c 'zstd -d -q -c | tar -xf - -C {fresh()}'", 1, stdin=ta))
                chute_runs.append(best(f"{ch} unpack - -C {fresh()}", 1, stdin=ca))
                if base_cmd:
                    base_runs.append(best(f"{base_cmd} unpack - -C {fresh()}", 1, stdin=ca))
                if i == 0:  # the warm-up round
                    del tar_runs[:], chute_runs[:], base_runs[:]
            for out in outs:
                shutil.rmtree(out, ignore_errors=True)
            fastest = min(base_runs, key=lambda r: r.seconds) if base_runs else None
            return min(tar_runs, key=lambda r: r.seconds), min(chute_runs, key=lambda r: r.seconds), fastest

        unpacks = [("unpack", unpack(Path(tmp)))]
        if not a.no_tmpfs and os.path.isdir(a.tmpfs):
            with tempfile.TemporaryDirectory(dir=a.tmpfs) as shm:
                unpacks.append((f"unpack to tmpfs ({a.tmpfs})", unpack(Path(shm))))
    rows = [
        [
            "pack",
            f"{tar_pack.seconds:.3f}",
            f"{chute_pack.seconds:.3f}",
            f"{chute_pack.seconds / tar_pack.seconds:.2f}x",
            f"{tar_pack.out_bytes / 1e6:.1f} / {chute_pack.out_bytes / 1e6:.1f} MB",
            f"{chute_pack.rss_kib // 1024} MiB",
        ],
    ]
    for label, (tar_un, chute_un, base_un) in unpacks:
        for what, run in [("", chute_un)] + ([(" (baseline)", base_un)] if base_un else []):
            rows.append(
                [
                    label + what,
                    f"{tar_un.seconds:.3f}",
                    f"{run.seconds:.3f}",
                    f"{run.seconds / tar_un.seconds:.2f}x",
                    "",
                    f"{run.rss_kib // 1024} MiB",
                ]
            )
    print(f"{src} (without site-packages), zstd -3, {t} threads, best of {a.repeat}")
    print(table(["step", "tar+zstd s", "chute s", "ratio (target <= 1.3x)", "size tar / chute", "chute RSS"], rows))


if __name__ == "__main__":
    main()
