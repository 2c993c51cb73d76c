"""Engines for decoding any gzip: run with `python bench/bench_gzip_engines.py [--rounds N] [--big] [--behaviour-only]`.

Decodes single-member `gzip -6` files: the corpus's mixed.bin (202 MB), its text (text.tar
twice, ~200 MB), the same text as pigz writes it, 64 MB of random bytes, and with --big
mixed.bin six times (1.2 GB). Each goes through `gzip -d`, `pigz -d`, rapidgzip's CLI (at
one and two threads, and at two with an index chute exported), its Python reader at one
and two threads, indexed_gzip's Python reader (not for --big: it is slower than gzip), and
chute at -T1, at -T2 (no index: one thread decodes, one writes), at -T2 with its gzip engine
forced (CHUTE_GZIP_ENGINE=rapidgzip), and at -T2 with a sidecar index (`chute index`: the
engine at its checkpoints). The commands take turns, every command once per round; prints
the median wall and CPU time (user + system) and the largest peak RSS of each, and the
ratios of `gzip -d`, `pigz -d` and the rapidgzip CLI at two threads to each (above 1: faster
than them). Then the behaviour of each reader on damaged copies of a smaller file: bytes
written before it stopped, and the error. A full run writes both tables to
bench/results/gzip-engines.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPUS, Run, chute_cmd, ensure_corpus, measure, table

PY = shlex.quote(sys.executable)
BIN = Path(sys.executable).parent

# one Python reader, decoding FILE to /dev/null in 4 MiB reads; argv: kind threads file
READER = r"""
import sys
kind, threads, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "rapidgzip":
    import rapidgzip
    f = rapidgzip.RapidgzipFile(path, parallelization=threads)
else:
    import indexed_gzip
    f = indexed_gzip.IndexedGzipFile(path)
out = open("/dev/null", "wb")
buf = bytearray(4 << 20)
try:
    while n := f.readinto(buf):
        out.write(memoryview(buf)[:n])
finally:
    f.close()
"""


def inputs(big: bool) -> dict[str, Path]:
    """The test files, built once into the corpus folder, each with a sidecar index
    (FILE.idx, `chute index`), an indexed_gzip export of it (FILE.igz) for rapidgzip's CLI,
    and a hard link without an index (FILE.noindex.gz)."""
    ensure_corpus()
    text2 = CORPUS / "text2.tar"
    if not text2.exists():
        with open(text2, "wb") as out:
            for _ in range(2):
                out.write((CORPUS / "text.tar").read_bytes())
    mixed6 = CORPUS / "mixed6.bin"
    if big and not mixed6.exists() and not (CORPUS / "mixed6.bin.gz").exists():
        with open(mixed6, "wb") as out:
            for _ in range(6):
                out.write((CORPUS / "mixed.bin").read_bytes())
    files = {
        "mixed gzip -6": (CORPUS / "mixed.bin.gz", f"gzip -6 -c {CORPUS / 'mixed.bin'}"),
        "text gzip -6": (CORPUS / "text2.tar.gz", f"gzip -6 -c {text2}"),
        "text pigz -6": (CORPUS / "text2.tar.pigz.gz", f"pigz -6 -c {text2}"),
        "random gzip -6": (CORPUS / "random.bin.gz", f"gzip -6 -c {CORPUS / 'random.bin'}"),
    }
    if big:
        files = {"mixed x6 gzip -6 (1.2 GB)": (CORPUS / "mixed6.bin.gz", f"gzip -6 -c {mixed6}")}
    chute = shlex.split(chute_cmd())
    for path, cmd in files.values():
        if not path.exists():
            with open(path, "wb") as out:
                subprocess.run(shlex.split(cmd), stdout=out, check=True)
        if not Path(f"{path}.idx").exists():
            subprocess.run([*chute, "index", "-q", str(path)], check=True)
        igz = path.with_suffix(".igz")
        if not igz.exists():
            export = ["--export", str(igz), "--format", "indexed_gzip"]
            subprocess.run([*chute, "index", "-q", *export, str(path)], check=True)
        bare = path.with_suffix(".noindex.gz")
        if not bare.exists():
            os.link(path, bare)
    return {name: path for name, (path, _) in files.items()}


def commands(chute: str, big: bool) -> dict[str, str]:
    """Label -> shell command with FILE in place of the input (it has a sidecar index),
    BARE (the same file without one) and IGZ (the index in indexed_gzip's format)."""
    cmds = {"gzip -d": "gzip -dc BARE", "pigz -d": "pigz -dc BARE"}
    rapid = BIN / "rapidgzip"
    if rapid.exists():
        cmds["rapidgzip -P1 (CLI)"] = f"{rapid} -P1 -dc BARE"
        cmds["rapidgzip -P2 (CLI)"] = f"{rapid} -P2 -dc BARE"
        cmds["rapidgzip -P2 --import-index (CLI)"] = f"{rapid} -P2 -dc --import-index IGZ BARE"
    try:
        import rapidgzip  # noqa: F401

        cmds["RapidgzipFile P1 (Python)"] = f"{PY} -c {shlex.quote(READER)} rapidgzip 1 BARE"
        cmds["RapidgzipFile P2 (Python)"] = f"{PY} -c {shlex.quote(READER)} rapidgzip 2 BARE"
    except ImportError:
        pass
    try:
        import indexed_gzip  # noqa: F401

        if not big:
            cmds["IndexedGzipFile (Python)"] = f"{PY} -c {shlex.quote(READER)} indexed_gzip 1 BARE"
    except ImportError:
        pass
    cmds["chute -d -T1"] = f"{chute} -dc -T1 BARE"
    cmds["chute -d -T2 (one thread + writer)"] = f"{chute} -dc -T2 BARE"
    cmds["chute -d -T2, engine forced"] = f"env CHUTE_GZIP_ENGINE=rapidgzip {chute} -dc -T2 BARE"
    cmds["chute -d -T2, sidecar index"] = f"{chute} -dc -T2 FILE"
    return cmds


def speed(rounds: int, big: bool) -> str:
    chute = chute_cmd()
    cmds = commands(chute, big)
    parts = []
    for name, path in inputs(big).items():
        runs: dict[str, list[Run]] = {label: [] for label in cmds}
        places = {
            "FILE": shlex.quote(str(path)),
            "BARE": shlex.quote(str(path.with_suffix(".noindex.gz"))),
            "IGZ": shlex.quote(str(path.with_suffix(".igz"))),
        }
        for _ in range(rounds):
            for label, cmd in cmds.items():  # in turns: a slow spell falls on all of them
                for key, value in places.items():
                    cmd = cmd.replace(key, value)
                runs[label].append(measure(cmd))
        walls = {label: statistics.median(r.seconds for r in got) for label, got in runs.items()}
        base_cpu = statistics.median(r.cpu for r in runs["gzip -d"])
        refs = [walls["gzip -d"], walls["pigz -d"], walls.get("rapidgzip -P2 (CLI)")]
        rows = []
        for label, got in runs.items():
            wall = walls[label]
            cpu = statistics.median(r.cpu for r in got)
            rss = max(r.rss_kib for r in got) / 1024
            ratios = [f"{ref / wall:.2f}x" if ref else "-" for ref in refs]
            rows.append([label, f"{wall:.2f}", f"{cpu:.2f}", *ratios, f"{base_cpu / cpu:.2f}x", f"{rss:.0f}"])
        size = path.stat().st_size / 1e6
        parts.append(f"### {name} ({size:.0f} MB compressed), median of {rounds} rounds\n")
        head = ["decoder", "wall s", "CPU s", "vs gzip -d (wall)", "vs pigz -d (wall)", "vs rapidgzip -P2 (wall)"]
        parts.append(table([*head, "vs gzip -d (CPU)", "peak RSS MiB"], rows))
        parts.append("")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- behaviour


def damaged(good: bytes) -> dict[str, bytes]:
    mid = len(good) // 2
    flip = bytearray(good)
    flip[mid] ^= 0xFF
    crc = bytearray(good)
    crc[-6] ^= 1
    size = bytearray(good)
    size[-2] ^= 1
    return {
        "intact": good,
        "two members": good + good,
        "cut in half": good[:mid],
        "cut in the trailer": good[:-4],
        "byte flipped mid-stream": bytes(flip),
        "CRC32 wrong": bytes(crc),
        "ISIZE wrong": bytes(size),
        "CRC32 wrong in the first of two members": bytes(crc) + good,
        "trailing garbage": good + b"garbage!",
        "zero padding": good + bytes(1024),
        "padding, then a member": good + bytes(10) + good,
    }


def _python_reader(kind: str, path: Path) -> tuple[int, str]:
    code = (
        "import sys\n"
        "kind, path = sys.argv[1], sys.argv[2]\n"
        "n = 0\n"
        "try:\n"
        "    if kind == 'rapidgzip':\n"
        "        import rapidgzip; f = rapidgzip.RapidgzipFile(path, parallelization=2)\n"
        "    else:\n"
        "        import indexed_gzip; f = indexed_gzip.IndexedGzipFile(path)\n"
        "    try:\n"
        "        while b := f.read(1 << 20): n += len(b)\n"
        "    finally:\n"
        "        f.close()\n"
        "    print(n, 'ok')\n"
        "except Exception as e:\n"
        "    print(n, type(e).__name__ + ': ' + str(e).splitlines()[0][:60])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, kind, str(path)], capture_output=True, text=True)
    count, _, what = proc.stdout.strip().partition(" ")
    note = " (+ stderr)" if proc.stderr.strip() else ""
    return int(count or 0), (what or f"exit {proc.returncode}") + note


def _tool(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(cmd, capture_output=True, env=env)
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    return len(proc.stdout), f"exit {proc.returncode}" + (f": {err[-1][:70]}" if err else "")


def behaviour() -> str:
    import tempfile

    text = (CORPUS / "text.tar").read_bytes()[: 48 << 20]
    good = subprocess.run(["gzip", "-6", "-c"], input=text, capture_output=True, check=True).stdout
    chute = shlex.split(chute_cmd())
    engine_env = dict(os.environ, CHUTE_GZIP_ENGINE="rapidgzip")
    none_env = dict(os.environ, CHUTE_GZIP_ENGINE="none")
    readers = {
        "gzip -d": lambda p: _tool(["gzip", "-dc", str(p)]),
        "chute -T2, no engine": lambda p: _tool([*chute, "-dc", "-T2", str(p)], none_env),
        "chute -T2, engine forced": lambda p: _tool([*chute, "-dc", "-T2", str(p)], engine_env),
    }
    if (BIN / "rapidgzip").exists():
        readers["rapidgzip -P2 (CLI)"] = lambda p: _tool([str(BIN / "rapidgzip"), "-P2", "-dc", str(p)])
        readers["RapidgzipFile"] = lambda p: _python_reader("rapidgzip", p)
    if shutil.which("pigz"):
        readers["pigz -d"] = lambda p: _tool(["pigz", "-dc", str(p)])
    try:
        import indexed_gzip  # noqa: F401

        readers["IndexedGzipFile"] = lambda p: _python_reader("indexed_gzip", p)
    except ImportError:
        pass
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, blob in damaged(good).items():
            path = Path(tmp) / "case.gz"
            path.write_bytes(blob)
            for name, run in readers.items():
                count, what = run(path)
                rows.append([case, name, f"{count:,}", what.replace("|", "/")])
    head = (
        f"### Damaged files: {len(good) / 1e6:.0f} MB compressed, {len(text):,} bytes decoded "
        f"(CRC32 of the text {zlib.crc32(text):08x})\n"
    )
    return head + "\n" + table(["file", "reader", "bytes out", "result"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--behaviour-only", action="store_true")
    parser.add_argument("--big", action="store_true", help="the 1.2 GB file only (results not written)")
    args = parser.parse_args()
    out = []
    load = os.getloadavg()[0]
    if not args.behaviour_only:
        out.append(speed(args.rounds, args.big))
    if not args.big:
        out.append(behaviour())
    text = "\n".join(out) + "\n"
    print(text)
    after = os.getloadavg()[0]
    machine = f"Machine: {os.cpu_count()} cores, load average {load:.1f} before the run, {after:.1f} after."
    if args.behaviour_only or args.big:
        return  # the results file keeps the last full run
    results = Path(__file__).resolve().parent / "results" / "gzip-engines.md"
    results.write_text(f"# Decoding any gzip: engines side by side\n\n{machine}\n\n" + text)


if __name__ == "__main__":
    main()
