"""``chute -l`` reads the sizes a file records (xz index, zstd and lz4 frame headers, seek
tables, gzip member sizes) and decodes only where nothing is recorded, saying so;
checked against ``xz -l``, ``zstd -l`` and ``gzip -l``."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import loaded_by


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required in CI")
        pytest.skip(f"{tool} not installed")


def chute(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}
    return subprocess.run([sys.executable, "-m", "chute", *args], capture_output=True, text=True, env=env, timeout=120)


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()[1:] if line.strip() and not line.startswith(" " * 20)]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(3)
    p = tmp_path_factory.mktemp("list") / "data"
    # 18 MB: several blocks of chute's xz, zstd, gzip and lz4 layouts
    p.write_bytes(b"".join(rng.randbytes(60) + b"\n" + b"abc" * rng.randint(1, 40) for _ in range(180_000)))
    return p


def _uncompressed(out: str, name: str) -> int:
    for row in rows(out):
        if row and row[4] == name:
            return int(row[1])
    raise AssertionError(out)


def _corrupt_middle(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    for k in range(len(raw) // 2, len(raw) // 2 + 64):
        raw[k] ^= 0x55
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("native", [False, True])
def test_xz_from_the_index(data: Path, tmp_path: Path, native: bool) -> None:
    need("xz")
    out = tmp_path / "d.xz"
    if native:
        with out.open("wb") as f:
            subprocess.run(["xz", "-0", "-T2", "-c", str(data)], stdout=f, check=True)
    else:
        assert chute("-F", "xz", "-0", "-o", str(out), str(data)).returncode == 0
    robot = subprocess.run(["xz", "--robot", "-l", str(out)], capture_output=True, text=True, check=True).stdout
    totals = next(line.split("\t") for line in robot.splitlines() if line.startswith("totals"))
    assert _uncompressed(chute("-l", str(out)).stdout, str(out)) == int(totals[4]) == data.stat().st_size
    verbose = chute("-lv", str(out)).stdout
    assert "(from the xz index)" in verbose
    streams = int(totals[1])
    assert f"{out}: {streams} frame(s)" in verbose
    # read from the index, not decoded: damage in the middle changes nothing (-t sees it)
    _corrupt_middle(out)
    assert _uncompressed(chute("-l", str(out)).stdout, str(out)) == data.stat().st_size
    assert chute("-t", str(out)).returncode == 1


@pytest.mark.parametrize("how", ["chute", "chute-seekable", "zstd"])
def test_zstd_from_frame_headers(data: Path, tmp_path: Path, how: str) -> None:
    need("zstd")
    out = tmp_path / "d.zst"
    if how == "zstd":
        subprocess.run(["zstd", "-q", "-1", "-o", str(out), str(data)], check=True)
    else:
        extra = ["--seekable"] if how == "chute-seekable" else []
        assert chute("-1", *extra, "-o", str(out), str(data)).returncode == 0
    theirs = subprocess.run(["zstd", "-lv", str(out)], capture_output=True, text=True, check=True).stdout
    size = int(re.search(r"Decompressed Size: .*\((\d+) B\)", theirs).group(1))  # type: ignore[union-attr]
    listing = chute("-lv", str(out)).stdout
    assert _uncompressed(listing, str(out)) == size == data.stat().st_size
    assert ("(from the seek table)" if how == "chute-seekable" else "(from the frame headers)") in listing
    _corrupt_middle(out)
    assert _uncompressed(chute("-l", str(out)).stdout, str(out)) == size


def test_gzip_member_sizes_and_plain_isize(data: Path, tmp_path: Path) -> None:
    need("gzip")
    mine, plain = tmp_path / "mine.gz", tmp_path / "plain.gz"
    assert chute("-F", "gzip", "-1", "-o", str(mine), str(data)).returncode == 0
    with plain.open("wb") as f:
        subprocess.run(["gzip", "-1", "-c", str(data)], stdout=f, check=True)
    listing = chute("-lv", str(mine), str(plain)).stdout
    assert _uncompressed(listing, str(mine)) == data.stat().st_size
    assert "(from the member sizes)" in listing and "(from the last member's ISIZE, modulo 4 GiB)" in listing
    gzip_l = subprocess.run(["gzip", "-l", str(plain)], capture_output=True, text=True, check=True).stdout
    assert _uncompressed(listing, str(plain)) == int(gzip_l.splitlines()[1].split()[1])


def test_decodes_where_nothing_is_recorded_and_says_so(data: Path, tmp_path: Path) -> None:
    need("zstd")
    piped = tmp_path / "piped.zst"
    with data.open("rb") as f:
        subprocess.run(["zstd", "-q", "-1", "-o", str(piped)], stdin=f, check=True)  # no size in the header
    bz = tmp_path / "d.bz2"
    assert chute("-F", "bz2", "-1", "-o", str(bz), str(data)).returncode == 0
    listing = chute("-lv", str(piped), str(bz)).stdout
    assert _uncompressed(listing, str(piped)) == _uncompressed(listing, str(bz)) == data.stat().st_size
    assert listing.count("(decoded: the format records no size)") == 2


def test_lz4_content_size(data: Path, tmp_path: Path) -> None:
    need("lz4")
    out = tmp_path / "d.lz4"
    subprocess.run(["lz4", "-q", "--content-size", str(data), str(out)], check=True)
    listing = chute("-lv", str(out)).stdout
    assert "(from the frame descriptors)" in listing
    assert _uncompressed(listing, str(out)) == data.stat().st_size


@pytest.mark.parametrize("fmt", ["zstd", "xz"])
def test_list_from_metadata_loads_no_decoder(tmp_path: Path, fmt: str) -> None:
    """Start-up is most of what ``-l`` costs: a file that records its sizes is listed
    without loading the stream decoder, the pump or ``warnings``."""
    import chute as lib

    path = tmp_path / f"a.{'zst' if fmt == 'zstd' else 'xz'}"
    path.write_bytes(lib.compress(b"abc" * 1000, fmt))
    listing = tmp_path / "listing.txt"
    loaded = loaded_by(tmp_path, "-l", str(path), stdout=listing)
    assert "3000" in listing.read_text()
    assert "chute.api.listing" in loaded  # the metadata path did run
    heavy = {"chute.codecs._stream", "chute.streams.pump", "warnings"}
    assert sorted(loaded & heavy) == []
