"""The same invocations through chute and the native tool (gzip, zstd, xz): outputs,
exit codes and the files left behind, flag by flag."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import slow_case

NEEDS = {t: shutil.which(t) for t in ("gzip", "zstd", "xz", "lz4")}


def need(tool: str) -> None:
    if NEEDS[tool] is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required in CI")
        pytest.skip(f"{tool} not installed")


def chute(*args: str, cwd: Path | None = None, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}
    return subprocess.run(
        [sys.executable, "-m", "chute", *args], capture_output=True, cwd=cwd, input=input, env=env, timeout=120
    )


def native(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(5)
    words = [bytes(rng.choice(b"etaoinshr") for _ in range(rng.randint(2, 8))) for _ in range(300)]
    p = tmp_path_factory.mktemp("dropin") / "sample.txt"
    p.write_bytes(b"".join(b" ".join(rng.choice(words) for _ in range(10)) + b"\n" for _ in range(40000)))
    return p


@pytest.mark.parametrize(
    "flags",
    [
        slow_case(["-9e"]),
        slow_case(["-6", "--check=sha256"]),
        ["-3", "--check=crc32"],  # the quick run's one: -9e and -6 take seconds
        slow_case(["-1e", "--check=none"]),
    ],
)
def test_xz_flags_give_xz_bytes(sample: Path, flags: list[str]) -> None:
    need("xz")
    mine = chute("-F", "xz", *flags, "-c", str(sample))
    theirs = native("xz", "-T1", *flags, "-c", str(sample))
    assert mine.returncode == theirs.returncode == 0
    assert mine.stdout == theirs.stdout


@pytest.mark.parametrize(
    ("flags", "listing"),
    [
        (["--no-check"], b"Check: None"),
        ([], b"Check: XXH64"),
        (["--check"], b"Check: XXH64"),
        (["--content-size"], b"Decompressed Size: "),
        (["--ultra", "-20"], b"Check: XXH64"),
        (["--fast=3"], b"Check: XXH64"),
    ],
)
def test_zstd_flags_read_by_zstd(sample: Path, tmp_path: Path, flags: list[str], listing: bytes) -> None:
    need("zstd")
    out = tmp_path / "x.zst"
    assert chute(*flags, "-o", str(out), str(sample)).returncode == 0
    assert native("zstd", "-dc", str(out)).stdout == sample.read_bytes()
    assert listing in native("zstd", "-lv", str(out)).stdout


def test_no_content_size_is_not_recorded(sample: Path, tmp_path: Path) -> None:
    need("zstd")
    out = tmp_path / "x.zst"
    assert chute("--no-content-size", "-o", str(out), str(sample)).returncode == 0
    assert b"Decompressed Size" not in native("zstd", "-lv", str(out)).stdout
    assert native("zstd", "-dc", str(out)).stdout == sample.read_bytes()


def test_level_with_a_space_and_negative() -> None:
    data = b"negative levels are zstd's fast ones\n" * 2000
    spaced, joined, fast = (chute(*a, "-c", input=data) for a in (["--level", "-5"], ["--level=-5"], ["--fast=5"]))
    assert spaced.returncode == joined.returncode == fast.returncode == 0
    assert spaced.stdout == joined.stdout == fast.stdout


def test_long_window_needs_long_to_decode_like_zstd(sample: Path, tmp_path: Path) -> None:
    need("zstd")
    big = tmp_path / "big.zst"
    with open(sample, "rb") as f:  # from a pipe: zstd cannot shrink the window to the size
        subprocess.run(["zstd", "-q", "--long=30", "-o", str(big)], stdin=f, check=True)
    # neither tool decodes a 1 GiB window without being told
    theirs = native("zstd", "-dc", str(big))
    mine = chute("-dc", str(big))
    assert theirs.returncode == mine.returncode == 1
    assert mine.stderr.count(b"\n") == 1 and b"--long" in mine.stderr and str(big).encode() in mine.stderr
    assert chute("-dc", "--long=30", str(big)).stdout == sample.read_bytes()
    assert chute("-dc", "-M", "1G", str(big)).stdout == sample.read_bytes()
    # and the other way: chute --long=30 written, zstd --long=30 reads it
    mine_out = tmp_path / "mine.zst"
    assert chute("--long=30", "-o", str(mine_out), str(sample)).returncode == 0
    assert native("zstd", "-dc", str(mine_out)).returncode == 1
    assert native("zstd", "-dc", "--long=30", str(mine_out)).stdout == sample.read_bytes()


@pytest.mark.parametrize("level", ["-20", "-22"])
def test_ultra_levels_need_ultra(level: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 1000)
    r = chute(level, "f", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == b"chute: --level: zstd levels 20 to 22 need --ultra\n"
    assert sorted(os.listdir(tmp_path)) == ["f"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-F", "gzip", "--long"], b"chute: --long: applies to zstd only, not to gzip\n"),
        (["-F", "gzip", "--ultra"], b"chute: --ultra: applies to zstd only, not to gzip\n"),
        (["-e"], b"chute: --extreme: applies to xz only, not to zstd\n"),
        (["-F", "gzip", "--no-check"], b"chute: --check: applies to xz, zstd and lz4, not to gzip\n"),
        (["-F", "xz", "--check=md5"], b"chute: --check: xz checks are crc32, crc64, sha256, none, not 'md5'\n"),
        (
            ["-F", "xz", "--fast=3"],
            b"chute: --fast: --fast=N applies to zstd only (format is xz); --fast alone works for all\n",
        ),
        (["-F", "xz", "--content-size"], b"chute: --content-size: applies to zstd only, not to xz\n"),
        (["-n"], b"chute: --no-name: applies to gzip only, not to zstd\n"),
    ],
)
def test_a_flag_for_another_format_is_one_line(tmp_path: Path, args: list[str], line: bytes) -> None:
    (tmp_path / "f").write_bytes(b"data\n" * 100)
    r = chute(*args, "f", cwd=tmp_path)
    assert (r.returncode, r.stderr, r.stdout) == (1, line, b"")
    assert sorted(os.listdir(tmp_path)) == ["f"]


def _tree(root: Path) -> None:
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "a.txt").write_bytes(b"alpha\n" * 300)
    (root / "d" / "sub" / "b.txt").write_bytes(b"beta\n" * 300)
    (root / "d" / "sub" / "c.txt.gz").write_bytes(b"")  # already has the suffix


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_recursive_like_gzip_r(tmp_path: Path) -> None:
    need("gzip")
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    _tree(theirs)
    _tree(mine)
    t = native("gzip", "-r", "-k", "d", cwd=theirs)
    m = chute("-F", "gzip", "-r", "-k", "d", cwd=mine)
    assert _files(theirs) == _files(mine)
    # both pass over the file that already has the suffix, silently
    assert (t.returncode, m.returncode, m.stderr) == (0, 0, b"")
    for name in ("d/a.txt.gz", "d/sub/b.txt.gz"):
        assert native("gzip", "-dc", str(mine / name)).stdout == (theirs / name.removesuffix(".gz")).read_bytes()
    # and back: -d -r restores the same names beside the compressed files
    (mine / "d" / "sub" / "c.txt.gz").unlink()
    for p in (mine / "d").rglob("*.txt"):
        p.unlink()
    assert chute("-d", "-r", "d", cwd=mine).returncode == 0
    assert (mine / "d" / "sub" / "b.txt").read_bytes() == b"beta\n" * 300


def test_exclude_compressed_like_zstd(tmp_path: Path) -> None:
    need("zstd")
    for side in ("theirs", "mine"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "plain.txt").write_bytes(b"text\n" * 100)
        (tmp_path / side / "old.gz").write_bytes(b"\x1f\x8b" + b"\0" * 20)
    t = native("zstd", "-q", "--exclude-compressed", "plain.txt", "old.gz", cwd=tmp_path / "theirs")
    m = chute("--exclude-compressed", "plain.txt", "old.gz", cwd=tmp_path / "mine")
    assert t.returncode == m.returncode == 0
    assert _files(tmp_path / "theirs") == _files(tmp_path / "mine") == {"plain.txt", "old.gz", "plain.txt.zst"}


def test_combined_short_flags(sample: Path, tmp_path: Path) -> None:
    need("gzip")
    r = chute("-F", "gzip", "-9n", "-c", str(sample))
    assert r.returncode == 0
    out = subprocess.run(["gzip", "-dc"], input=r.stdout, capture_output=True).stdout
    assert out == sample.read_bytes()
    r = chute("-F", "gzip", "-kvT0", "-o", str(tmp_path / "s.gz"), str(sample))
    assert r.returncode == 0 and b"s.gz" in r.stderr
    assert chute("-dc", str(tmp_path / "s.gz")).stdout == sample.read_bytes()


def _changed_span(a: bytes, b: bytes, trailer: int) -> int:
    """Bytes of ``b`` between the first and the last byte that differ from ``a`` (the
    stream's closing checksum left out): at most what rsync sends after a small edit."""
    a, b = a[: len(a) - trailer], b[: len(b) - trailer]
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return len(b) - p - s


def test_rsyncable_zstd_resynchronises_after_an_insertion(tmp_path: Path) -> None:
    need("zstd")
    rng = random.Random(11)
    words = [bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(3, 9))) for _ in range(2000)]
    data = b" ".join(rng.choice(words) for _ in range(3_000_000))  # ~18 MB, ~50% compressible
    before, after = tmp_path / "before", tmp_path / "after"
    before.write_bytes(data)
    after.write_bytes(data[: len(data) // 3] + b"X" + data[len(data) // 3 :])
    spans = {}
    for flags, trailer in (([], 0), (["--rsyncable"], 4)):
        old = chute(*flags, "-c", str(before)).stdout
        new = chute(*flags, "-c", str(after)).stdout
        back = subprocess.run(["zstd", "-dc"], input=new, capture_output=True, check=True).stdout
        assert back == after.read_bytes()
        spans[bool(flags)] = _changed_span(old, new, trailer) / len(new)
    assert spans[False] > 0.5 and spans[True] < 0.5, spans
    # and still the same bytes at any thread count
    outs = {chute("--rsyncable", f"-T{n}", "-c", str(after)).stdout for n in (1, 2, 3)}
    assert len(outs) == 1


def test_rsyncable_gzip_resynchronises_after_an_insertion(tmp_path: Path) -> None:
    """Members cut where the content says: after a one-byte insertion only the member
    holding it changes; gzip reads the output; the same bytes at any thread count."""
    need("gzip")
    rng = random.Random(12)
    words = [bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(3, 9))) for _ in range(2000)]
    data = b" ".join(rng.choice(words) for _ in range(1_500_000))  # ~9 MB
    before, after = tmp_path / "before", tmp_path / "after"
    before.write_bytes(data)
    after.write_bytes(data[:100_000] + b"X" + data[100_000:])
    spans, sizes = {}, {}
    for flags in ([], ["--rsyncable"]):
        old = chute("-F", "gzip", *flags, "-c", str(before)).stdout
        new = chute("-F", "gzip", *flags, "-c", str(after)).stdout
        back = subprocess.run(["gzip", "-dc"], input=new, capture_output=True, check=True).stdout
        assert back == after.read_bytes()
        spans[bool(flags)] = _changed_span(old, new, 0) / len(new)
        sizes[bool(flags)] = len(new)
    assert spans[False] > 0.9 and spans[True] < 0.15, spans
    assert sizes[True] < sizes[False] * 1.05
    outs = {chute("-F", "gzip", "--rsyncable", f"-T{n}", "-c", str(after)).stdout for n in (1, 2, 3)}
    assert len(outs) == 1


def test_rsyncable_gzip_members_are_listed_and_split(tmp_path: Path) -> None:
    src = tmp_path / "f"
    rng = random.Random(13)
    src.write_bytes(b"".join(b"%d %s\n" % (i, rng.randbytes(8).hex().encode()) for i in range(150_000)))
    assert chute("-F", "gzip", "--rsyncable", str(src)).returncode == 0
    listed = chute("-lv", str(tmp_path / "f.gz"))
    assert b"(from the member sizes)" in listed.stdout
    assert chute("-dc", "-T2", str(tmp_path / "f.gz")).stdout == src.read_bytes()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-F", "xz", "--rsyncable"], b"chute: --rsyncable: applies to gzip and zstd only, not to xz\n"),
        (
            ["-F", "gzip", "--rsyncable", "--seekable"],
            b"chute: --rsyncable: not with --seekable, whose blocks have a fixed size\n",
        ),
        (
            ["-F", "gzip", "--rsyncable", "--flush-interval", "100"],
            b"chute: --rsyncable: gzip's members end where the content says, not with --flush-interval\n",
        ),
    ],
)
def test_rsyncable_refused_where_it_cannot_apply(tmp_path: Path, flags: list[str], message: bytes) -> None:
    (tmp_path / "f").write_bytes(b"data\n" * 100)
    r = chute(*flags, "f", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (1, message)
    assert os.listdir(tmp_path) == ["f"]
