"""`chute -d -T N` and `chute cat -T N` of a big single-member gzip through the engine
(rapidgzip): the bytes, the exit status and the stderr of the one-thread path."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tool_path

pytest.importorskip("rapidgzip", reason="rapidgzip is not installed (the chute[gzip] extra)")

CHUTE = [sys.executable, "-m", "chute"]


def run(*args: str, engine: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, CHUTE_GZIP_ENGINE=engine)
    return subprocess.run([sys.executable, *python, *CHUTE[1:], *args], capture_output=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """24 MB of noise and log lines as one `gzip -6` member (about 20 MB: past the size
    from which the engine is used)."""
    rng = random.Random(3)
    data = b"".join(rng.randbytes(2000) + b"GET /index.html HTTP/1.1 200\n" * 15 for _ in range(10_000))
    folder = tmp_path_factory.mktemp("engine")
    plain = folder / "big"
    plain.write_bytes(data)
    subprocess.run([tool_path("gzip"), "-6", "-k", str(plain)], check=True)
    return folder / "big.gz", data


def test_decodes_like_gzip(big: tuple[Path, bytes]) -> None:
    path, data = big
    for engine in ("rapidgzip", "none"):
        r = run("-d", "-c", "-T2", str(path), engine=engine)
        assert (r.returncode, r.stderr) == (0, b"")
        assert r.stdout == data
    r = run("cat", "-T2", str(path), engine="rapidgzip")
    assert (r.returncode, r.stdout) == (0, data)
    for engine in ("rapidgzip", "none"):
        r = run("-t", "-T2", str(path), engine=engine)
        assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")


@pytest.mark.parametrize("argv", [("-d", "-c", "-T2"), ("cat", "-T2"), ("-t", "-T2"), ("-t", "-T0")])
def test_the_engine_decodes(big: tuple[Path, bytes], argv: tuple[str, ...]) -> None:
    """The engine is loaded (`python -X importtime` lists it) where it is asked for, and
    not where it is turned off, at one thread, or with -v on -t (which counts members)."""

    def loads_engine(*args: str, engine: str) -> bool:
        r = run(*args, str(big[0]), engine=engine, python=("-X", "importtime"))
        assert r.returncode == 0, r.stderr[-300:]
        return b"| rapidgzip\n" in r.stderr

    from chute.parallel.pool import usable_cores

    # -T0: every usable core, which is one thread on a machine of one
    assert loads_engine(*argv, engine="rapidgzip") == (argv[-1] != "-T0" or usable_cores() > 1)
    assert not loads_engine(*argv, engine="none")
    assert not loads_engine(*argv[:-1], "-T1", engine="rapidgzip")
    if argv[0] == "-t":
        assert not loads_engine(*argv, "-v", engine="rapidgzip")


def _damaged(good: bytes) -> dict[str, bytes]:
    crc = bytearray(good)
    crc[-6] ^= 1
    return {
        "truncated": good[: len(good) // 2],
        "cut in the trailer": good[:-3],
        "CRC32 wrong": bytes(crc),
        "trailing garbage": good + b"garbage!",
        "zero padding": good + bytes(512),
    }


@pytest.mark.parametrize("case", list(_damaged(b"x" * 100)))
def test_damage_reported_as_one_thread_does(big: tuple[Path, bytes], tmp_path: Path, case: str) -> None:
    """Same exit status, same one-line error naming the file, same output (standard output
    with -c; with an output file, it is kept or removed as one thread does)."""
    path = tmp_path / "case.gz"
    path.write_bytes(_damaged(big[0].read_bytes())[case])
    runs = {engine: run("-d", "-c", "-T2", str(path), engine=engine) for engine in ("rapidgzip", "none")}
    assert runs["rapidgzip"].returncode == runs["none"].returncode
    assert runs["rapidgzip"].stderr == runs["none"].stderr
    assert runs["rapidgzip"].stdout == runs["none"].stdout
    if runs["none"].returncode:
        assert runs["rapidgzip"].stderr.startswith(f"chute: {path}: ".encode())
        assert runs["rapidgzip"].stderr.count(b"\n") == 1  # one line, no traceback, nothing from the engine
    files = {}
    for engine in ("rapidgzip", "none"):
        out = tmp_path / f"out.{engine}"
        r = run("-d", "-T2", "-o", str(out), str(path), engine=engine)
        files[engine] = (r.returncode, out.read_bytes() if out.exists() else None)
    assert files["rapidgzip"] == files["none"]
    tests = {engine: run("-t", "-T2", str(path), engine=engine) for engine in ("rapidgzip", "none")}
    assert tests["rapidgzip"].returncode == tests["none"].returncode
    assert tests["rapidgzip"].stderr == tests["none"].stderr


def test_sidecar_index_at_two_threads(big: tuple[Path, bytes], tmp_path: Path) -> None:
    """With an index beside it (`chute index`), -d -T2 and cat -T2 go to the engine at its
    checkpoints (auto: two threads are enough there) and write what `gzip -dc` writes; a
    stale index is refused with one warning line and exit 2, the bytes still right."""
    path = tmp_path / "big.gz"
    path.write_bytes(big[0].read_bytes())
    ref = subprocess.run([tool_path("gzip"), "-dc", str(path)], capture_output=True).stdout
    assert ref == big[1]
    assert run("index", "-q", str(path), engine="auto").returncode == 0
    for argv in (("-d", "-c", "-T2"), ("cat", "-T2")):
        r = run(*argv, str(path), engine="auto", python=("-X", "importtime"))
        assert r.returncode == 0 and b"| rapidgzip\n" in r.stderr
        assert r.stdout == ref
    r = run("-t", "-T2", str(path), engine="auto")
    assert (r.returncode, r.stderr) == (0, b"")
    # the same size, other bytes in the first MiB: the index is for the file before it changed
    blob = bytearray(path.read_bytes())
    blob[50_000:50_016] = bytes(16)
    path.write_bytes(blob)
    one = run("-d", "-c", "-T1", str(path), engine="auto")
    r = run("-d", "-c", "-T2", str(path), engine="auto")
    assert r.stdout == one.stdout
    lines = r.stderr.decode().splitlines()
    assert r.returncode == one.returncode == 1 and lines == one.stderr.decode().splitlines()


def test_stale_sidecar_index_warns(big: tuple[Path, bytes], tmp_path: Path) -> None:
    path = tmp_path / "big.gz"
    path.write_bytes(big[0].read_bytes())
    other = tmp_path / "other.gz"
    other.write_bytes(subprocess.run([tool_path("gzip"), "-1", "-c"], input=big[1], capture_output=True).stdout)
    assert run("index", "-q", str(other), engine="auto").returncode == 0
    os.replace(str(other) + ".idx", str(path) + ".idx")
    r = run("-d", "-c", "-T2", str(path), engine="auto")
    assert r.stdout == big[1]
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        f"chute: {path}: {path}.idx: gzip index is for a file of {other.stat().st_size} bytes, "
        f"not {path.stat().st_size}; decoding the file without it"
    ]
