"""``--indexable`` (gzip): a point where decoding starts with no window at least every MiB
of input. Every gzip layout chute writes already has one (independent members), so the
flag changes no byte; these tests hold chute to that, with the real ``gzip -d`` reading the
output and Python's zlib counting the members."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import tool_path

MIB = 1 << 20


def chute(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}
    return subprocess.run(
        [sys.executable, "-m", "chute", *args], capture_output=True, input=input, env=env, timeout=120
    )


def members(data: bytes) -> list[int]:
    """The decoded size of each gzip member of ``data``, in order."""
    sizes = []
    while data:
        d = zlib.decompressobj(31)
        sizes.append(len(d.decompress(data)))
        assert d.eof
        data = d.unused_data
    return sizes


@pytest.fixture(scope="module")
def text() -> bytes:
    rng = random.Random(19)
    words = [bytes(rng.choice(b"abcdefghij \n") for _ in range(rng.randint(2, 12))) for _ in range(500)]
    return b" ".join(rng.choice(words) for _ in range(700_000))[: 5 * MIB + 12345]


@pytest.mark.parametrize(
    "extra",
    [["-T1"], ["-T2"], ["-T1", "--rsyncable"], ["--flush-interval", "50"], ["--seekable"], ["-9", "-T2"]],
    ids=" ".join,
)
def test_every_mib_starts_a_member_and_the_flag_changes_no_byte(tmp_path: Path, text: bytes, extra: list[str]) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(text)
    plain = chute("-F", "gzip", *extra, "-c", str(src))
    flagged = chute("-F", "gzip", "--indexable", *extra, "-c", str(src))
    assert plain.returncode == 0 and flagged.returncode == 0, flagged.stderr
    if "--flush-interval" not in extra:  # timed flushes make the bytes depend on timing
        assert flagged.stdout == plain.stdout
    sizes = members(flagged.stdout)
    assert sum(sizes) == len(text)
    assert len(sizes) >= 5 and max(sizes) <= MIB
    out = subprocess.run([tool_path("gzip"), "-dc"], input=flagged.stdout, capture_output=True, check=True)
    assert out.stdout == text


@pytest.mark.parametrize("fmt", ["zstd", "xz", "lz4", "bz2"])
def test_other_formats_get_one_line(fmt: str) -> None:
    r = chute("-F", fmt, "--indexable", "-c", input=b"x")
    assert r.returncode == 1
    assert r.stderr.decode() == f"chute: --indexable: applies to gzip only, not to {fmt}\n"
    assert r.stdout == b""
