"""SIGTERM and SIGINT (Ctrl-C) at random points of ``chute unpack``, from a file and from
pipes: never a ``.chute-*.part`` file left behind (each temporary name is registered for
removal before the file exists, and stays registered until its rename), nor a partial file
under a member's name (in an empty target files are created under their own names,
registered the same way).

Each signal is sent once a randomly chosen member has appeared in the target, not after a
random delay: a delay scaled from one timed run lands after the end when the machine's load
changes between runs, and an unpack that finishes first proves nothing."""

from __future__ import annotations

import io
import random
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

import chute

RUNS = 5  # per source and signal: 30 in all
FILES = 8000  # members f0..f7999, in that order, f{i} in folder d{i % 40}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thousands of tiny files (creating files is most of the time), a few symlinks."""
    path = tmp_path_factory.mktemp("sig") / "many.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for i in range(FILES):
            ti = tarfile.TarInfo(f"d{i % 40}/f{i}")
            ti.size = 100
            tf.addfile(ti, io.BytesIO(b"x" * 100))
            if i % 500 == 0:
                link = tarfile.TarInfo(f"d{i % 40}/l{i}")
                link.type, link.linkname = tarfile.SYMTYPE, f"f{i}"
                tf.addfile(link)
    return path


def _default_signals() -> None:
    """In the child: the default dispositions, whatever the test runner inherited."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _left(out: Path) -> list[str]:
    return [str(p) for p in out.rglob(".chute-*")] if out.exists() else []


#: The quick run's cases: both signals, a file and the pipe decoded on a second thread.
QUICK = {("file", "TERM"), ("zstd-pipe", "INT")}
CASES = [
    pytest.param(source, sig, id=f"{source}-{name}", marks=() if (source, name) in QUICK else pytest.mark.slow)
    for source in ("file", "pipe", "zstd-pipe")
    for name, sig in (("TERM", signal.SIGTERM), ("INT", signal.SIGINT))
]


@pytest.mark.parametrize(("source", "sig"), CASES)
def test_signal_at_random_points_leaves_no_temp_file(tmp_path: Path, archive: Path, source: str, sig: int) -> None:
    """``zstd-pipe``: a .tar.zst on standard input, decoded on the read-ahead thread while
    the main thread writes the files straight from its chunks."""
    rng = random.Random(1234)
    data = archive.read_bytes()
    if source == "zstd-pipe":
        data = chute.compress(data, format="zstd")
        archive = tmp_path / "many.tar.zst"
        archive.write_bytes(data)
    interrupted = 0
    for run in range(RUNS):
        out = tmp_path / f"out{run}"
        args = [sys.executable, "-m", "chute", "unpack", "-" if source != "file" else str(archive), "-C", str(out)]
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if source != "file" else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_default_signals,
        )
        feeder = None
        if source != "file":
            assert proc.stdin is not None
            stdin = proc.stdin

            def feed(stdin: io.BufferedWriter = stdin) -> None:
                try:
                    for i in range(0, len(data), 1 << 16):
                        stdin.write(data[i : i + (1 << 16)])
                except BrokenPipeError:
                    pass
                try:
                    stdin.close()
                except BrokenPipeError:  # its buffer could not be flushed: closed anyway
                    pass

            feeder = threading.Thread(target=feed)
            feeder.start()
        # at a random point of the run: as soon as it has extracted member k (k = 0: as soon
        # as the target exists), whatever the load; it is then between two of its members'
        # steps (temporary file, data, rename), which step depends on the polling's timing
        k = rng.randrange(FILES * 3 // 4)
        mark = out / f"d{k % 40}" / f"f{k}" if k else out
        deadline = time.perf_counter() + 60
        while not mark.exists() and proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.002)
        proc.send_signal(sig)
        if feeder is not None:
            feeder.join()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.stderr.close()
        proc.wait(timeout=60)
        stopped = -signal.SIGTERM if sig == signal.SIGTERM else 130  # Ctrl-C: "interrupted", 130
        assert proc.returncode in (0, stopped), err
        assert b"Traceback" not in err
        interrupted += proc.returncode == stopped
        assert _left(out) == [], f"run {run}: signal {sig} left {_left(out)}"
        # the target was empty: files were created under their own names, and the one cut
        # by the signal was removed
        partial = [str(p) for p in out.rglob("f*") if p.is_file() and p.stat().st_size != 100] if out.exists() else []
        assert partial == [], f"run {run}: signal {sig} left partial files {partial}"
    assert interrupted >= 2  # runs were cut in the middle
