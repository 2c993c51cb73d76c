"""zstd's --adapt: the level follows the speed of the output. A real reader process that
drains the pipe slowly makes the level climb; a fast one makes it fall; the output is a
valid zstd stream either way (checked with zstd -d)."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples, payloads, tool_path
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.parallel.adapt import AdaptiveCompressor
from chute.parallel.jobs import member_function, parallel_compressor

#: A reader that drains standard input at RATE bytes per second into a file. Its clock
#: starts at the first byte: started earlier, it would drain at full speed until it caught
#: up with the time chute took to start (seconds on a loaded machine).
SLOW_READER = """
import sys, time
rate, out = int(sys.argv[1]), open(sys.argv[2], "wb")
start, total = None, 0
while chunk := sys.stdin.buffer.read(16384):
    start = start or time.monotonic()
    out.write(chunk)
    total += len(chunk)
    time.sleep(max(0.0, start + total / rate - time.monotonic()))
"""


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}


def levels(stderr: bytes) -> list[int]:
    """The levels of each frame, from the -v line ``--adapt: N frame(s), ...: L L L``."""
    line = next(x for x in stderr.decode().splitlines() if "--adapt:" in x)
    return [int(v) for v in line.rsplit(":", 1)[1].split()]


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(7)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    path = tmp_path_factory.mktemp("adapt") / "text.log"
    path.write_bytes(b" ".join(rng.choice(words) for _ in range(1_000_000))[: 6 << 20])
    return path


def test_slow_reader_raises_the_level(text: Path, tmp_path: Path) -> None:
    zstd = tool_path("zstd")
    out = tmp_path / "out.zst"
    chute_proc = subprocess.Popen(
        [sys.executable, "-m", "chute", "--adapt", "-v", "-T1", "-c", str(text)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    assert chute_proc.stdout is not None
    reader = subprocess.run(
        [sys.executable, "-c", SLOW_READER, str(1 << 20), str(out)], stdin=chute_proc.stdout, timeout=120
    )
    chute_proc.stdout.close()
    _, err = chute_proc.communicate(timeout=120)
    assert chute_proc.returncode == 0 and reader.returncode == 0, err
    used = levels(err)
    assert len(used) == 6
    assert used[0] == 3 and max(used) >= 5, used  # one step up per frame the reader was the bottleneck
    back = subprocess.run([zstd, "-dc", str(out)], capture_output=True, check=True).stdout
    assert back == text.read_bytes()


def test_fast_reader_lowers_the_level(text: Path, tmp_path: Path) -> None:
    zstd = tool_path("zstd")
    out = tmp_path / "out.zst"
    result = subprocess.run(
        [sys.executable, "-m", "chute", "--adapt=min=2", "-15", "-v", "-T1", "-o", str(out), str(text)],
        capture_output=True,
        env=env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    used = levels(result.stderr)
    assert used[0] == 15 and used[-1] < 15 and min(used) >= 2, used
    assert all(b - a in (-1, 0, 1) for a, b in itertools.pairwise(used))
    back = subprocess.run([zstd, "-dc", str(out)], capture_output=True, check=True).stdout
    assert back == text.read_bytes()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-F", "gzip", "--adapt"], b"chute: --adapt: applies to zstd only, not to gzip"),
        (["--adapt", "--long"], b"chute: --adapt: not with --long"),
        (["--adapt", "--rsyncable"], b"chute: --adapt: not with --rsyncable"),
        (["--adapt=min=5,max=3"], b"chute: --adapt: min=5 is above max=3"),
        (["--adapt=max=21"], b"chute: --adapt: zstd levels 20 to 22 need --ultra"),
        (
            ["--adapt=min=1,low=3"],
            b"chute: argument --adapt: expected min=N,max=M, not 'min=1,low=3' (see chute --help)",
        ),
    ],
)
def test_adapt_refused(tmp_path: Path, flags: list[str], message: bytes) -> None:
    (tmp_path / "f").write_bytes(b"x\n" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "chute", *flags, "f"], capture_output=True, cwd=tmp_path, env=env(), timeout=60
    )
    assert (result.returncode, result.stderr.strip()) == (1, message)
    assert os.listdir(tmp_path) == ["f"]


def frames_of(blocks: list[bytes], levels: list[int]) -> bytes:
    """Each block compressed on its own into one zstd frame at its level."""
    zstd = chute.codecs.get("zstd")
    return b"".join(member_function(zstd, lv)(block) for lv, block in zip(levels, blocks, strict=True))


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@settings(max_examples=examples(25), deadline=None)
@given(
    payloads(60_000),
    st.lists(st.integers(1, 30_000), min_size=1, max_size=5),
    st.integers(1, 3),
    st.tuples(st.integers(-3, 8), st.integers(-3, 8)).map(sorted),
    st.booleans(),
)
def test_any_levels_any_chunking_is_one_frame_per_block_at_its_level(
    data: bytes, sizes: list[int], threads: int, bounds: list[int], flush: bool
) -> None:
    """Whatever the timing made of the levels (within the bounds), each block, cut at 4096
    bytes and at a flush, is the frame one zstd call makes of it at its level, in order."""
    comp = AdaptiveCompressor(
        5, threads=threads, min_level=bounds[0], max_level=bounds[1], block_size=4096, checksum=True
    )
    out, blocks, pos, start, k = [], [], 0, 0, 0
    while pos < len(data):
        step = sizes[k % len(sizes)]
        out.append(comp.compress(data[pos : pos + step]))
        pos = min(len(data), pos + step)
        if flush and k == 1:
            out.append(comp.flush())
            blocks += cut(data[start:pos], 4096)
            start = pos
        k += 1
    out.append(comp.finish())
    blocks += cut(data[start:], 4096) or ([] if blocks else [b""])  # an empty input: one empty frame
    assert all(bounds[0] <= lv <= bounds[1] for lv in comp.levels)
    assert b"".join(out) == frames_of(blocks, comp.levels)
    assert chute.decompress(b"".join(out)) == data


@pytest.mark.interop
@pytest.mark.parametrize("threads", [1, 2])
def test_fixed_range_writes_the_block_compressors_bytes(text: Path, threads: int) -> None:
    """min = max: the level cannot move, and the output is byte for byte what the block
    compressor writes at that level; zstd -d reads it."""
    data = text.read_bytes()[:600_000]
    comp = AdaptiveCompressor(4, threads=threads, min_level=4, max_level=4, block_size=1 << 16)
    out = comp.compress(data[:70_000]) + comp.compress(data[70_000:]) + comp.finish()
    assert comp.levels == [4] * 10
    fixed = parallel_compressor("zstd", 4, threads=threads, block_size=1 << 16)
    assert out == fixed.compress(data) + fixed.finish() == frames_of(cut(data, 1 << 16), comp.levels)
    back = subprocess.run([tool_path("zstd"), "-dc"], input=out, capture_output=True, check=True).stdout
    assert back == data
