"""Measuring: ratios against ``zstd -b``, peak memory that C allocations make, the sample
plan, the ratio's interval, and results that must round-trip."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chute.bench import child
from chute.bench.inputs import SLICE, plan, spread_order
from chute.bench.measure import Candidate, grid, measure, ratio_interval
from chute.bench.window import decoder_window
from chute.errors import ChuteError


def text(n: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    words = [bytes(rnd.choices(b"abcdefghijklmnop", k=rnd.randint(2, 9))) for _ in range(2000)]
    out = bytearray()
    while len(out) < n:
        out += b" ".join(rnd.choices(words, k=12)) + b"\n"
    return bytes(out[:n])


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("measure") / "text"
    path.write_bytes(text(3 << 20))
    return path


def test_zstd_ratios_agree_with_zstd_b(sample_file: Path) -> None:
    zstd = shutil.which("zstd")
    if zstd is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zstd is required in CI")
        pytest.skip("zstd not installed")
    run = subprocess.run([zstd, "-b1e3", "-q", "-i0", str(sample_file)], check=True, capture_output=True, text=True)
    out = run.stdout + run.stderr
    # "-1       873631 (2.991) 136.28 MB/s ..." (1.5.4); newer releases write "(x2.991)"
    theirs = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"^-(\d+)\s+\d+ \(x?([\d.]+)\)", out, re.M)}
    assert set(theirs) == {1, 2, 3}, out
    p = plan([str(sample_file)])
    try:
        for level, ratio in theirs.items():
            res = measure(Candidate("zstd", level), p, 30)
            assert res.error is None
            assert res.ratio == pytest.approx(ratio, rel=0.01)
    finally:
        p.cleanup()


def test_peak_memory_sees_c_allocations(sample_file: Path) -> None:
    """zstd -19 allocates tens of MiB inside libzstd (invisible to tracemalloc), lz4 -1 little."""
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("peak memory is measured on Linux only (/proc/self/clear_refs)")
    p = plan([str(sample_file)])
    try:
        big = measure(Candidate("zstd", 19), p, 30)
        small = measure(Candidate("lz4", 1), p, 30)
    finally:
        p.cleanup()
    assert big.c_mem is not None and small.c_mem is not None
    assert big.c_mem > 32 << 20 > small.c_mem
    # the command line compresses a file of one block in one frame with its size: the
    # window is sized to the content, as zstd -19 sizes it for the same file
    ref = subprocess.run(["zstd", "-19", "-q", "-c", str(sample_file)], capture_output=True, check=True).stdout
    assert big.window == decoder_window("zstd", ref[:64])
    assert big.d_mem is not None and big.d_mem < big.c_mem


def test_plan_spreads_slices_across_files_in_proportion(tmp_path: Path) -> None:
    sizes = {"a": 40 << 20, "b": 8 << 20, "c": 16 << 20}
    for name, size in sizes.items():
        with open(tmp_path / name, "wb") as f:
            f.truncate(size)
    p = plan([str(tmp_path)], sample=16 << 20)
    try:
        assert p.sampled and p.total == 64 << 20 and p.files == 3
        assert all(s.size == SLICE for s in p.streams) and len(p.streams) == 16
        per_file = {name: sum(1 for s in p.streams if s.source.endswith(name)) for name in sizes}
        assert per_file == {"a": 10, "b": 2, "c": 4}
        for s in p.streams:
            assert s.offset >= 0 and s.offset + s.size <= sizes[Path(s.source).name]
        offsets = sorted((s.source, s.offset) for s in p.streams)
        assert len(set(offsets)) == len(offsets)
    finally:
        p.cleanup()
    assert not os.path.exists(p.streams[0].path)


def test_plan_slices_hold_the_bytes_at_their_offsets(tmp_path: Path) -> None:
    data = os.urandom(5 << 20)
    (tmp_path / "f").write_bytes(data)
    p = plan([str(tmp_path / "f")], sample=2 << 20)
    try:
        for s in p.streams:
            assert Path(s.path).read_bytes() == data[s.offset : s.offset + s.size]
    finally:
        p.cleanup()


def test_small_input_is_measured_whole_and_missing_one_named(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 1000)
    p = plan([str(tmp_path / "f")])
    assert not p.sampled and [s.size for s in p.streams] == [1000]
    p.cleanup()
    with pytest.raises(ChuteError, match="nope: no such file"):
        plan([str(tmp_path / "nope")])


@pytest.mark.parametrize("n", [1, 2, 5, 16, 33])
def test_spread_order_is_a_permutation_whose_prefixes_spread(n: int) -> None:
    order = spread_order(n)
    assert sorted(order) == list(range(n))
    if n >= 4:
        first = sorted(order[:4])
        assert first[0] < n / 4 and first[-1] >= n / 2


def test_ratio_interval_covers_the_whole_files_ratio(tmp_path: Path) -> None:
    """Sampled slices of a file whose halves differ: the interval holds the ratio measured
    on every byte, and is narrower with more slices."""
    data = text(12 << 20, seed=2)[: 6 << 20] + os.urandom(2 << 20) + text(4 << 20, seed=3)[: 4 << 20]
    (tmp_path / "f").write_bytes(data)
    c = Candidate("zstd", 1)
    whole = plan([str(tmp_path / "f")], full=True)
    few = plan([str(tmp_path / "f")], sample=4 << 20)
    many = plan([str(tmp_path / "f")], sample=8 << 20)
    try:
        truth = measure(c, whole, 60).ratio
        widths = []
        for p in (few, many):
            r = measure(c, p, 60)
            assert r.ratio_low is not None and r.ratio_high is not None
            assert r.ratio_low <= truth <= r.ratio_high
            widths.append(r.ratio_high - r.ratio_low)
        assert widths[1] < widths[0]
    finally:
        for p in (whole, few, many):
            p.cleanup()
    assert ratio_interval([100], [50], 1000) is None


def test_time_limit_stops_after_the_stream_that_reaches_it(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}").write_bytes(text(1 << 20, seed=i))
    p = plan([str(tmp_path)])
    try:
        r = measure(Candidate("xz", 9), p, 0.001)
    finally:
        p.cleanup()
    assert r.error is None and r.streams == 1 and r.partial


def test_a_result_that_does_not_round_trip_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checking sink compares every byte: decoded output that differs is refused."""
    (tmp_path / "f").write_bytes(b"abcdef" * 1000)
    sink = child._Compare(str(tmp_path / "f"))
    sink.write(b"abcdef" * 10)
    with pytest.raises(ChuteError, match="does not round-trip"):
        sink.write(b"abcdeF")
    short = child._Compare(str(tmp_path / "f"))
    short.write(b"abcdef")
    with pytest.raises(ChuteError, match="fewer than the original"):
        short.close()


def test_grid_defaults_and_narrowing() -> None:
    everything = grid(None, None, None)
    assert {c.format for c in everything} == {"zstd", "gzip", "lz4", "xz", "bz2", "brotli", "zlib", "deflate"}
    assert grid(["gz"], [1, 12, 13], [1, 2]) == [
        Candidate("gzip", 1, 1), Candidate("gzip", 1, 2), Candidate("gzip", 12, 1), Candidate("gzip", 12, 2)
    ]  # fmt: skip
    assert grid(["bz2"], [0], None) == []


def test_a_failing_child_is_an_error_not_a_figure(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(text(100_000))
    p = plan([str(tmp_path / "f")])
    try:
        os.unlink(p.streams[0].path)  # the measuring process cannot read it
        r = measure(Candidate("zstd", 1), p, 5)
    finally:
        p.cleanup()
    assert r.error is not None and "No such file" in r.error and r.ratio == 0.0
