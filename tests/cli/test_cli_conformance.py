"""The command line as a new user meets it: signals, terminals, file names in messages,
and data in formats chute does not decode."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import chute

CHUTE = [sys.executable, "-m", "chute"]


def _default_sigint() -> None:
    # the test may run with SIGINT ignored (nohup, a background job): the child must not be
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _read_until(fd: int, want: int, timeout: float = 20.0) -> bytes:
    got = b""
    end = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got += chunk
    return got


def test_cat_follow_ends_with_status_130_on_sigint(tmp_path: Path) -> None:
    path = tmp_path / "app.log.zst"
    data = b"".join(b"line %d\n" % i for i in range(2000))
    with chute.open(path, "wb") as w:
        w.write(data)
        w.flush()
        with subprocess.Popen(
            [*CHUTE, "cat", "--follow", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_default_sigint,
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            try:
                assert _read_until(proc.stdout.fileno(), len(data)) == data
                proc.send_signal(signal.SIGINT)
                assert proc.wait(20) == 130
            finally:
                proc.kill()
            assert proc.stderr.read() == b""  # Ctrl-C is the normal end of a follow


def _run_on_a_terminal(args: list[str], typed: bytes = b"") -> tuple[int, bytes, bytes]:
    """Run chute with standard input on a pseudo-terminal; (status, stdout, stderr)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([*CHUTE, *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        if typed:
            os.write(master, typed + b"\x04")  # the line, then end of file (^D)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        return proc.returncode, out, err
    finally:
        os.close(master)


def test_decompress_refuses_standard_input_on_a_terminal() -> None:
    for args in (["-d"], ["-dc"], ["-t"], ["cat"]):
        status, out, err = _run_on_a_terminal(args)
        assert (status, out) == (1, b""), args
        assert err == b"chute: stdin: refusing to read compressed data from a terminal (use -f to force)\n"


def test_decompress_reads_a_terminal_with_force() -> None:
    status, out, err = _run_on_a_terminal(["-dcf"], typed=b"typed text\n")
    assert (status, err) == (0, b"")
    assert out == b"typed text\n"


def test_messages_print_file_system_bytes_escaped(tmp_path: Path) -> None:
    base = os.fsencode(tmp_path)
    name = base + b"/caf\xe9\ttab.gz"  # a Latin-1 byte (not UTF-8) and a tab
    with open(name, "wb") as f:
        f.write(b"not compressed at all")
    r = subprocess.run([*CHUTE, "-dc", name], capture_output=True)
    assert r.returncode == 1
    # GNU tar's escape style, the one chute ls uses: \ooo for the byte, \t for the tab
    assert r.stderr == b"chute: " + base + b"/caf\\351\\ttab.gz: not in a known compressed format\n"
    r = subprocess.run([*CHUTE, "-d", name], capture_output=True)
    assert r.stderr.startswith(b"chute: " + base + b"/caf\\351\\ttab.gz: ")


def test_cat_range_and_follow_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zst"
    bad.write_bytes(b"\x28\xb5\x2f\xfd garbage that is not a frame")
    r = subprocess.run([*CHUTE, "cat", "--range", "0:10", str(bad)], capture_output=True)
    assert r.returncode == 1 and r.stderr.startswith(f"chute: {bad}: ".encode()), r.stderr
    assert r.stderr.count(b"\n") == 1
