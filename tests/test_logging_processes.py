"""Several processes logging to one file: every record exactly once, nothing left over.

Real processes (fresh interpreters, as gunicorn workers or a spawn pool are), tiny
``maxBytes`` so that rotations collide, every backup decoded by the real ``zstd``.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chute

ROOT = str(Path(chute.__file__).resolve().parent.parent)
ZSTD = shutil.which("zstd")
needs_zstd = pytest.mark.skipif(ZSTD is None and os.environ.get("CI") != "true", reason="zstd not installed")

WRITER = r"""
import faulthandler, logging, sys, time
faulthandler.dump_traceback_later(60, exit=True)  # a hung writer shows its stacks in the failure
sys.path.insert(0, sys.argv[1])
from chute.logging import CompressingRotatingFileHandler, CompressingTimedRotatingFileHandler
kind, path, ident, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
go = path + ".go"
while not __import__("os").path.exists(go):  # start together: rotations collide
    time.sleep(0.001)
if kind == "timed":
    h = CompressingTimedRotatingFileHandler(path, when="S", backupCount=0)
elif kind == "sequence":
    h = CompressingRotatingFileHandler(path, maxBytes=3000, backupCount=100000, naming="sequence")
else:
    h = CompressingRotatingFileHandler(path, maxBytes=3000, backupCount=100000)
h.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("w")
log.addHandler(h)
log.setLevel(logging.INFO)
for i in range(count):
    log.info("p%d r%06d %s", ident, i, "x" * (i % 23))
    if kind == "timed" and i % 50 == 0:
        time.sleep(0.05)
h.close()
"""


def _run_writers(kind: str, path: Path, procs: int, count: int) -> None:
    env = dict(os.environ, PYTHONPATH=ROOT)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, ROOT, kind, str(path), str(i), str(count)],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(procs)
    ]
    time.sleep(0.3)
    Path(str(path) + ".go").touch()
    errors = [c.communicate(timeout=300)[1] for c in children]
    assert [c.returncode for c in children] == [0] * procs
    assert errors == [""] * procs  # no "--- Logging error ---" from any process
    os.unlink(str(path) + ".go")


def _check_every_record_once(files: list[Path], live: Path, procs: int, count: int) -> int:
    """Decode ``files`` (oldest first) with the real zstd, then the live file; every record
    of every process exactly once, in each process's order. Returns the number of files."""
    assert ZSTD is not None
    text = subprocess.run([ZSTD, "-dcq", *map(str, files)], capture_output=True, check=True).stdout
    lines = (text + live.read_bytes()).decode().splitlines()
    seen = collections.Counter(line.split()[0] + " " + line.split()[1] for line in lines)
    assert len(lines) == procs * count
    assert set(seen.values()) == {1}
    for p in range(procs):
        mine = [int(line.split()[1][1:]) for line in lines if line.startswith(f"p{p} ")]
        assert mine == list(range(count))
    return len(files)


def _no_leftovers(folder: Path, base: str) -> None:
    assert not list(folder.glob("*rotating*"))
    assert not list(folder.glob(".*"))  # no temporary file


@needs_zstd
@pytest.mark.parametrize("naming", ["shift", "sequence"])
def test_processes_share_a_size_rotated_log(tmp_path: Path, naming: str) -> None:
    procs, count = 4, 4000
    path = tmp_path / "app.log"
    _run_writers(naming, path, procs, count)
    _no_leftovers(tmp_path, "app.log")
    if naming == "shift":
        backups = sorted(tmp_path.glob("app.log.*.zst"), key=lambda p: -int(p.name.split(".")[2]))
        assert [int(p.name.split(".")[2]) for p in backups] == list(range(len(backups), 0, -1))
    else:
        backups = sorted(tmp_path.glob("app.log.*.zst"))
        assert [int(p.name.split(".")[2]) for p in backups] == list(range(1, len(backups) + 1))
    assert _check_every_record_once(backups, path, procs, count) > 50  # many rotations
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".zst")) == ["app.log", "app.log.lock"]


@needs_zstd
def test_processes_share_a_timed_log(tmp_path: Path) -> None:
    procs, count = 3, 3000
    path = tmp_path / "t.log"
    _run_writers("timed", path, procs, count)
    _no_leftovers(tmp_path, "t.log")
    backups = sorted(tmp_path.glob("t.log.*.zst"))  # the names sort by time
    assert _check_every_record_once(backups, path, procs, count) >= 2


HOLDER = r"""
import logging, sys, time
sys.path.insert(0, sys.argv[1])
from chute.logging import CompressedFileHandler
h = CompressedFileHandler(sys.argv[2])
h.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("holder"); log.addHandler(h); log.setLevel(logging.INFO)
log.info("from the first process")
print("open", flush=True)
sys.stdin.readline()
h.close()
"""


@pytest.mark.parametrize("suffix", [".zst", ".gz"])
def test_second_process_on_a_compressed_log_is_refused(tmp_path: Path, suffix: str) -> None:
    from chute.errors import ChuteError
    from chute.logging import CompressedFileHandler

    path = tmp_path / ("live.log" + suffix)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, ROOT, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline() == "open\n"
        size = path.stat().st_size
        with pytest.raises(ChuteError, match="another handler is writing this file") as info:
            CompressedFileHandler(path, mode="w")  # must not truncate the other's file either
        assert str(path) in str(info.value) and "QueueListener" in str(info.value)
        assert path.stat().st_size == size
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(30)
        holder.stdout.close()
    assert holder.returncode == 0
    assert chute.open(path).read() == b"from the first process\n"
    # the file is free again
    h = CompressedFileHandler(path)
    h.close()


FORKER = r"""
import logging, os, sys
sys.path.insert(0, sys.argv[1])
from chute.logging import CompressedFileHandler
h = CompressedFileHandler(sys.argv[2], flush_interval=None)
h.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("forker"); log.addHandler(h); log.setLevel(logging.INFO)
log.info("parent before fork")
pid = os.fork()
if pid == 0:
    log.info("child: refused")  # the inherited handler must not write into the parent's stream
    h.close()  # nor may closing its copy (it would write the parent's buffered data and an end)
    os._exit(0)
os.waitpid(pid, 0)
log.info("parent after fork")
h.close()
"""


@pytest.mark.parametrize("suffix", [".zst", ".gz"])
def test_forked_child_cannot_write_the_parents_compressed_log(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / ("live.log" + suffix)
    res = subprocess.run([sys.executable, "-c", FORKER, ROOT, str(path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert "another handler is writing this file" in res.stderr  # the child's record, refused
    assert chute.open(path).read() == b"parent before fork\nparent after fork\n"
    tool = ["zstd", "-t"] if suffix == ".zst" else ["gzip", "-t"]
    if shutil.which(tool[0]):
        subprocess.run([*tool, str(path)], check=True, capture_output=True)
