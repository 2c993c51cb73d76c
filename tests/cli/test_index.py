"""``chute index`` and ``chute cat --range`` through a gzip index: real processes, files
written by gzip and pigz, ranges checked against what ``gzip -d`` decodes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import text_like, tool_path

from chute.codecs import gzindex as fmt

CHUTE = [sys.executable, "-m", "chute"]


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, *map(str, args)], capture_output=True, timeout=120)


def gz(data: bytes, tool: str = "gzip") -> bytes:
    return subprocess.run([tool_path(tool), "-6", "-c"], input=data, capture_output=True, check=True).stdout


def gunzip(path: Path) -> bytes:
    return subprocess.run([tool_path("gzip"), "-d", "-c", str(path)], capture_output=True, check=True).stdout


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "log.gz"
    path.write_bytes(gz(text_like(3 << 20, 1)) + gz(text_like(1 << 20, 2), "pigz"))
    return path


def test_index_then_ranges_equal_gzip_d(big: Path) -> None:
    done = run("index", "--spacing", "256K", big)
    assert done.returncode == 0, done.stderr
    assert b"written" in done.stderr
    index = fmt.parse(big.with_name("log.gz.idx").read_bytes())
    assert index.spacing == 256 << 10 and len(index.checkpoints) > 10
    plain = gunzip(big)
    for a, b in [(0, 10), (1_000_000, 1_300_000), (len(plain) - 100, len(plain) + 50), (3 << 20, (3 << 20) + 1)]:
        got = run("cat", "--range", f"{a}:{b}", big)
        assert got.returncode == 0, got.stderr
        assert got.stdout == plain[a:b]


def test_index_of_an_unchanged_file_is_left_alone_and_a_grown_one_extended(big: Path) -> None:
    assert run("index", "--spacing", "256K", big).returncode == 0
    sidecar = big.with_name("log.gz.idx")
    before = sidecar.stat().st_mtime_ns
    done = run("index", big)
    assert done.returncode == 0 and b"up to date" in done.stderr
    assert sidecar.stat().st_mtime_ns == before
    with open(big, "ab") as f:
        f.write(gz(text_like(1 << 20, 3)))
    done = run("index", big)
    assert done.returncode == 0 and b"extended" in done.stderr, done.stderr
    fresh = big.with_name("fresh.idx")
    assert run("index", "--spacing", "256K", "-o", fresh, big).returncode == 0
    assert sidecar.read_bytes() == fresh.read_bytes()
    plain = gunzip(big)
    assert run("cat", "--range", f"{len(plain) - 1000}:", big).stdout == plain[-1000:]


def test_a_stale_index_is_an_error_naming_it_and_f_rebuilds(big: Path, tmp_path: Path) -> None:
    assert run("index", big).returncode == 0
    big.write_bytes(gz(text_like(2 << 20, 9)))
    done = run("index", big)
    assert done.returncode == 1
    assert done.stderr.decode().startswith(f"chute: {big}.idx: gzip index ")
    assert "-f" in done.stderr.decode() and done.stderr.count(b"\n") == 1
    # cat --range: the refused sidecar warns (exit 2), the bytes are still right
    plain = gunzip(big)
    got = run("cat", "--range", "1000:2000", big)
    assert got.returncode == 2 and got.stdout == plain[1000:2000]
    assert got.stderr.decode().startswith(f"chute: {big}.idx: ")
    assert run("index", "-f", big).returncode == 0
    got = run("cat", "--range", "1000:2000", big)
    assert got.returncode == 0 and got.stdout == plain[1000:2000] and not got.stderr


@pytest.mark.parametrize(
    "blob,words",
    [
        (b"not gzip at all", "not a gzip file"),
        (b"", "empty"),
        (None, "ends inside a member"),
        (None, "trailing data"),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_writes_no_index(
    tmp_path: Path, blob: bytes | None, words: str
) -> None:
    path = tmp_path / "bad.gz"
    whole = gz(text_like(500_000, 4))
    if blob is None:
        blob = whole[:-50] if "ends" in words else whole + b"junk"
    path.write_bytes(blob)
    done = run("index", path)
    assert done.returncode == 1
    line = done.stderr.decode()
    assert line.startswith(f"chute: {path}: ") and words in line and line.count("\n") == 1
    assert list(tmp_path.iterdir()) == [path]


def test_usage_errors(big: Path) -> None:
    done = run("index", "--spacing", "1K", big)
    assert done.returncode != 0 and b"spacing" in done.stderr
    done = run("index", "-o", "x.idx", big, big)
    assert done.returncode == 1 and b"-o" in done.stderr
    done = run("index", big.with_name("missing.gz"))
    assert done.returncode == 1 and b"missing.gz" in done.stderr


def test_index_to_standard_output(big: Path) -> None:
    done = run("index", "-q", "-o", "-", big)
    assert done.returncode == 0 and not done.stderr
    assert fmt.parse(done.stdout).size == big.stat().st_size


def test_import_and_export(big: Path, tmp_path: Path) -> None:
    plain = gunzip(big)
    gzt = tmp_path / "log.gzi"
    subprocess.run([tool_path("gztool"), "-s", "1", "-I", str(gzt), "-i", str(big)], capture_output=True, check=True)
    done = run("index", "--import", gzt, big)
    assert done.returncode == 0 and b"imported" in done.stderr, done.stderr
    assert run("cat", "--range", "2000000:2000100", big).stdout == plain[2_000_000:2_000_100]
    done = run("index", "--export", tmp_path / "out.gzi", "--format", "gztool", big)
    assert done.returncode == 0, done.stderr
    got = subprocess.run(
        [tool_path("gztool"), "-I", str(tmp_path / "out.gzi"), "-b", "3500000", str(big)],
        capture_output=True,
        check=True,
    ).stdout
    assert got == plain[3_500_000:]


def test_import_errors_name_the_index(big: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.idx"
    junk.write_bytes(b"this is no index")
    done = run("index", "--import", junk, big)
    assert done.returncode == 1 and done.stderr.decode().startswith(f"chute: {junk}: not an index")
    other = tmp_path / "other.gz"
    other.write_bytes(gz(text_like(2 << 20, 8)))
    gzt = tmp_path / "other.gzi"
    subprocess.run([tool_path("gztool"), "-s", "1", "-I", str(gzt), "-i", str(other)], capture_output=True, check=True)
    done = run("index", "--import", gzt, big)
    assert done.returncode == 1 and done.stderr.decode().startswith(f"chute: {gzt}: gztool index ")
    assert not big.with_name("log.gz.idx").exists()
    done = run("index", "--export", tmp_path / "x", big)
    assert done.returncode == 1 and b"--format" in done.stderr
