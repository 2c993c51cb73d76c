"""How the ``chute`` process ends (``chute.cli.run``): the last output is flushed and checked,
then the process exits without the interpreter's teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import chute

CHUTE = [sys.executable, "-m", "chute"]


def buffered_env() -> dict[str, str]:
    """The environment with Python's output buffered, as most users run it: the last lines
    of ``-l`` or ``--help`` then reach standard output only at the final flush."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    return env


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "data.zst"
    path.write_bytes(chute.compress(b"some data\n" * 1000, "zstd"))
    return path


@pytest.mark.parametrize("args", [["-l", "{f}"], ["--version"], ["--help"], ["ls", "--help"]])
def test_output_written_at_the_end_is_complete(args: list[str], archive: Path) -> None:
    argv = [a.format(f=archive) for a in args]
    r = subprocess.run([*CHUTE, *argv], capture_output=True, env=buffered_env(), timeout=60)
    assert r.returncode == 0 and r.stderr == b""
    expected = {"-l": b"data.zst\n", "--version": b"chute ", "--help": b"usage: chute", "ls": b"usage: chute ls"}
    assert expected[args[0]] in r.stdout
    if args[0] != "--version":
        assert r.stdout.endswith(b"\n") and len(r.stdout.splitlines()) >= 2


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["-l", "{f}"], ["--version"], ["--help"], ["-d", "-c", "{f}"], ["cat", "{f}"]])
def test_a_full_disk_behind_stdout_is_one_error_line(args: list[str], archive: Path) -> None:
    argv = [a.format(f=archive) for a in args]
    with open("/dev/full", "wb") as full:
        r = subprocess.run([*CHUTE, *argv], stdout=full, stderr=subprocess.PIPE, env=buffered_env(), timeout=60)
    assert r.returncode == 1
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chute: ") and lines[0].endswith("no space left on device")


@pytest.mark.parametrize("args", [["-l", "{f}"], ["--version"], ["-d", "-c", "{f}"]])
def test_a_closed_pipe_ends_quietly(args: list[str], archive: Path) -> None:
    argv = [a.format(f=archive) for a in args]
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write or the final flush meets EPIPE
    try:
        r = subprocess.run([*CHUTE, *argv], stdout=write, stderr=subprocess.PIPE, env=buffered_env(), timeout=60)
    finally:
        os.close(write)
    assert r.returncode == 141 and r.stderr == b""


def test_a_usage_error_keeps_its_status_and_message() -> None:
    r = subprocess.run([*CHUTE, "--bogus"], capture_output=True, env=buffered_env(), timeout=60)
    assert r.returncode == 1
    assert r.stderr == b"chute: unrecognized arguments: --bogus (see chute --help)\n"
