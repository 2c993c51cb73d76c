"""The same input, format, level and options give the same bytes at any -T and on any
number of cores: the layout (one stream or independent blocks) follows the input only."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import slow_case

from chute.api.fileobj import fixed_layout_compressor
from chute.parallel.pool import usable_cores

FORMATS = ["zstd", "gzip", "lz4", "bz2", "xz", "brotli"]


def _data(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(400)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
        out += rng.randbytes(rng.randint(0, 40))
    return bytes(out[:size])


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # more than two blocks of every format (zstd and xz: 8 MiB, bz2: 7.2 MB)
    p = tmp_path_factory.mktemp("same") / "big.bin"
    p.write_bytes(_data(17 << 20))
    return p


def _run(args: list[str], src: Path, *, pipe: bool = False, one_core: bool = False) -> str:
    cmd = [sys.executable, "-m", "chute", *args]
    if one_core:
        cmd = ["taskset", "-c", "0", *cmd]
    env = {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}
    with open(src, "rb") as f:
        if pipe:
            out = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True, env=env).stdout
        else:
            out = subprocess.run([*cmd, str(src)], stdout=subprocess.PIPE, check=True, env=env).stdout
    return hashlib.sha256(out).hexdigest()


@pytest.mark.skipif(shutil.which("taskset") is None or usable_cores() < 2, reason="needs taskset and two cores")
@pytest.mark.parametrize("fmt", ["zstd", slow_case("xz"), slow_case("bz2"), "gzip", "lz4", "gzip --rsyncable"])
def test_cli_same_bytes_on_one_core_and_two(big: Path, fmt: str) -> None:
    args = ["-F", *fmt.split(), "-1", "-c"]
    digests = {
        "default": _run(args, big),
        "one core": _run(args, big, one_core=True),
        "-T1": _run([*args, "-T1"], big),
        "-T2": _run([*args, "-T2"], big),
        "-T0 one core": _run([*args, "-T0"], big, one_core=True),
        "pipe -T1": _run([*args, "-T1"], big, pipe=True),
        "pipe -T0": _run([*args, "-T0"], big, pipe=True),
    }
    assert len(set(digests.values())) == 1, digests


@pytest.mark.parametrize(
    ("size", "fmt"),
    [
        # the quick run leaves out xz's and bz2's 3 MiB (one block, as 1000 bytes) and 17 MiB
        # (the slowest case); zstd's 17 MiB keeps a file of several 8 MiB blocks in it
        slow_case(size, fmt) if fmt in ("xz", "bz2") and size > 1 << 20 else (size, fmt)
        for size in (0, 1000, 3 << 20, 17 << 20)
        for fmt in FORMATS
    ],
)
def test_api_layout_ignores_threads(fmt: str, size: int) -> None:
    if fmt == "brotli" and size > 1 << 20:
        size = 1 << 20  # one stream on one thread anyway; keep it quick
    data = _data(size, seed=size)
    outs = set()
    for threads in (None, 1, 2, 3, 0):
        for known in (size, None):
            comp = fixed_layout_compressor(fmt, 1, threads=threads, size=known)
            step = 1 << 20
            parts = [comp.compress(data[i : i + step]) for i in range(0, len(data), step)]
            parts.append(comp.finish())
            getattr(comp, "close", lambda: None)()
            outs.add(b"".join(parts))
    assert len(outs) == 1
    import chute

    assert chute.decompress(outs.pop(), fmt) == data


def test_api_zstd_tuned_same_bytes_for_any_worker_count() -> None:
    data = _data(9 << 20)
    outs = set()
    for threads in (None, 1, 2, 4):
        comp = fixed_layout_compressor("zstd", 3, threads=threads, long_distance=True)
        outs.add(comp.compress(data) + comp.finish())
    assert len(outs) == 1
