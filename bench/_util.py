"""Shared helpers for the benchmark scripts: run a command, time it, read its peak RSS.

Every measurement is a fresh process run through ``/usr/bin/time -f`` (GNU time) when it
is installed, else through ``os.wait4`` (same numbers: wall time and ``ru_maxrss``), with
its CPU time (user + system, of the process and everything it waited for).
:func:`paired` takes two commands in turns and keeps the median of each: what a user
typically waits. :func:`best` and :func:`best_pair` keep the minimum instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MAKE_CORPUS = HERE.parent.parent / "shared" / "bench" / "make-corpus"


@dataclass
class Run:
    seconds: float
    rss_kib: int
    out_bytes: int
    cpu: float = 0.0


def ensure_corpus() -> Path:
    """Build the standard corpus (kept between runs) and return its folder."""
    script = MAKE_CORPUS if MAKE_CORPUS.exists() else Path("/work/shared/bench/make-corpus")
    if not (CORPUS / "mixed.bin").exists():
        subprocess.run([sys.executable, str(script), str(CORPUS)], check=True, stdout=subprocess.DEVNULL)
    return CORPUS


GNU_TIME = Path("/usr/bin/time")


def measure(cmd: str, *, stdin: Path | None = None, stdout: Path | None = None) -> Run:
    """Run ``cmd`` through the shell once; wall time, peak RSS, size of ``stdout``.

    Peak RSS comes from GNU time, which forks from a small process: measured from this
    Python process instead (the fallback, ``os.wait4``), the child's ``ru_maxrss`` may
    start at our own RSS (~20 MiB), so only GNU time's figures are exact for small tools.
    """
    import tempfile

    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    with tempfile.NamedTemporaryFile("r") as report:
        argv = ["/bin/sh", "-c", "exec " + cmd]
        if GNU_TIME.exists():
            argv = [str(GNU_TIME), "-f", "%e %M", "-o", report.name, *argv]
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=fin, stdout=fout)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin:
                fin.close()  # type: ignore[union-attr]
            if stdout:
                fout.close()  # type: ignore[union-attr]
        if proc.returncode != 0:
            raise RuntimeError(f"command failed ({proc.returncode}): {cmd}")
        # Without GNU time: the child's own ru_maxrss, which may start at this process's RSS.
        rss = usage.ru_maxrss
        fields = report.read().split()
        if len(fields) >= 2:
            rss = int(fields[-1])
    size = stdout.stat().st_size if stdout else 0
    return Run(seconds, rss, size, usage.ru_utime + usage.ru_stime)


def best(cmd: str, repeat: int, **kw: Path | None) -> Run:
    """The fastest of ``repeat`` runs of :func:`measure` (its RSS and size come with it)."""
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    return min(runs, key=lambda r: r.seconds)


def best_pair(
    native: str,
    ours: str,
    repeat: int,
    *,
    stdin: Path | None = None,
    stdouts: tuple[Path | None, Path | None] = (None, None),
) -> tuple[Run, Run]:
    """The fastest of ``repeat`` runs of each command, taken in turns (native, ours, native,
    ...): a slow spell of this shared machine, or the writeback of the last run's output,
    then falls on both instead of on whichever ran second."""
    n_runs, c_runs = [], []
    for _ in range(repeat):
        n_runs.append(measure(native, stdin=stdin, stdout=stdouts[0]))
        c_runs.append(measure(ours, stdin=stdin, stdout=stdouts[1]))
    return min(n_runs, key=lambda r: r.seconds), min(c_runs, key=lambda r: r.seconds)


def paired(
    native: str,
    ours: str,
    rounds: int,
    *,
    stdin: Path | None = None,
) -> tuple[Run, Run]:
    """The median wall time and median CPU time of ``rounds`` runs of each command, taken in
    turns (native, ours, native, ...), output to ``/dev/null`` as a user's ``> /dev/null``
    (a file would add the same write time to both, and narrow the ratio); the largest peak
    RSS of the runs. ``out_bytes`` is 0: see :func:`output_size`."""
    import statistics

    runs: tuple[list[Run], list[Run]] = ([], [])
    for _ in range(rounds):
        for cmd, into in ((native, runs[0]), (ours, runs[1])):
            into.append(measure(cmd, stdin=stdin))
    return tuple(  # type: ignore[return-value]
        Run(
            statistics.median(r.seconds for r in got),
            max(r.rss_kib for r in got),
            0,
            statistics.median(r.cpu for r in got),
        )
        for got in runs
    )


def output_size(cmd: str, *, stdin: Path | None = None) -> int:
    """Bytes ``cmd`` writes to standard output (one untimed run, through a pipe)."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", "exec " + cmd], stdin=fin, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        size = 0
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
        if proc.wait() != 0:
            raise RuntimeError(f"command failed ({proc.returncode}): {cmd}")
    finally:
        if stdin:
            fin.close()  # type: ignore[union-attr]
    return size


def chute_cmd() -> str:
    """How to run chute: the venv's entry point if there is one, else ``python -m chute``.

    Also compiles chute's bytecode first. ``pip install .`` does that at install time, but an
    editable install run with ``PYTHONDONTWRITEBYTECODE=1`` (set on this project's machines)
    never writes it, and every run would compile chute from source: ~15 ms more start-up
    than a user sees.
    """
    import compileall

    compileall.compile_dir(HERE.parent / "chute", quiet=1)
    exe = Path(sys.executable).with_name("chute")
    return shlex.quote(str(exe)) if exe.exists() else f"{shlex.quote(sys.executable)} -m chute"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
