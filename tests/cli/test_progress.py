"""The progress line: on stderr when it is a terminal (a real pty here), never otherwise,
with elapsed time, rate, ETA where the size is known and the place among several files."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from chute.cli.progress import ProgressLine, clock

CHUTE = [sys.executable, "-m", "chute"]


def on_pty(args: list[str], cwd: Path, stdout: int | None = subprocess.DEVNULL) -> tuple[int, bytes]:
    """Run chute with stderr on a pseudo-terminal; (exit status, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CHUTE, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    return proc.wait(), got


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(os.urandom(3 << 20) * 2)
    return tmp_path


def test_compress_several_files_shows_place_and_total(files: Path) -> None:
    status, tty = on_pty(["-k", "-1", "a", "b"], files)
    assert status == 0
    assert b"[file 1/2" in tty and b"[file 2/2" in tty and b"of 12.0 MiB]" in tty
    assert b"MiB/s" in tty and b"ETA" in tty
    assert tty.endswith(b"\r\x1b[K")  # erased at the end


def test_no_progress_when_stderr_is_not_a_terminal(files: Path) -> None:
    r = subprocess.run([*CHUTE, "-k", "-1", "a", "b", "-f"], cwd=files, capture_output=True)
    assert r.returncode == 0 and r.stderr == b""
    status, tty = on_pty(["-k", "-1", "-f", "--no-progress", "a"], files)
    assert status == 0 and tty == b""


def test_unpack_and_pack_show_progress(files: Path) -> None:
    status, tty = on_pty(["pack", "a", "b", "-o", "x.tar.gz", "-1"], files)
    assert status == 0 and b"x.tar.gz:" in tty and b"/s" in tty and tty.endswith(b"\r\x1b[K")
    status, tty = on_pty(["unpack", "x.tar.gz", "-C", "out"], files)
    assert status == 0 and b"x.tar.gz:" in tty and b"ETA" in tty and b"%" in tty
    assert (files / "out" / "b").read_bytes() == (files / "b").read_bytes()
    r = subprocess.run([*CHUTE, "unpack", "x.tar.gz", "-C", "out2"], cwd=files, capture_output=True)
    assert r.returncode == 0 and r.stderr == b""


def test_cat_and_test_show_progress(files: Path) -> None:
    assert subprocess.run([*CHUTE, "-k", "-1", "a"], cwd=files).returncode == 0
    status, tty = on_pty(["cat", "a.zst"], files)
    assert status == 0 and b"a.zst:" in tty and b"ETA" in tty
    status, tty = on_pty(["-t", "a.zst"], files)
    assert status == 0 and b"a.zst:" in tty


def test_line_text() -> None:
    line = ProgressLine("f", 1000, files=(2, 3, 1000, 3000))
    text = line.text(500, 100, 2.0)
    assert text.startswith("f:  50.0% 500 B/1000 B -> 100 B")
    assert "250 B/s" in text and "0:02" in text and "ETA 0:02" in text and "[file 2/3, 50.0% of 2.9 KiB]" in text
    assert "ETA" not in ProgressLine("f").text(500, 500, 2.0)
    assert clock(3725) == "1:02:05" and clock(65) == "1:05"


def test_verbose_summary_reads_in_order_both_ways(tmp_path: Path) -> None:
    """-v: what was read => what was written, and the compressed share of the
    uncompressed size, the same figure compressing and decompressing."""
    (tmp_path / "f").write_bytes(b"abcdefgh" * 200_000)
    c = subprocess.run([*CHUTE, "-v", "-k", "f"], cwd=tmp_path, capture_output=True)
    d = subprocess.run([*CHUTE, "-v", "-d", "-c", "f.zst"], cwd=tmp_path, capture_output=True)
    assert c.returncode == 0 and d.returncode == 0
    assert c.stderr.startswith(b"chute: f: 1.5 MiB => ") and d.stderr.startswith(b"chute: f.zst: ")
    assert b" => 1.5 MiB (" in d.stderr
    share = [line.split(b"(")[1].split(b"%")[0] for line in (c.stderr, d.stderr)]
    assert share[0] == share[1] and float(share[0]) < 5
    # the rate is of uncompressed bytes both ways: 1.5 MiB in the time taken
    for line in (c.stderr, d.stderr):
        seconds = float(line.split(b" in ")[1].split(b"s,")[0])
        rate = line.split(b"s, ")[1].split(b"/s")[0]
        if seconds >= 0.01:  # printed to 1/100 s: within a factor of 3 (compressed-byte rates are 400x off)
            value, unit = rate.split()
            mib = float(value) * {b"B": 1 / (1 << 20), b"KiB": 1 / 1024, b"MiB": 1, b"GiB": 1024}[unit]
            assert 0.3 < mib * seconds / 1.53 < 3, line
