"""The decoder window read from headers written by the reference tools, against what those
tools report (``zstd -lv``, ``xz -lvv``) or were told (``bzip2 -3``, ``lz4 -B5``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import tool_path as need
from hypothesis import given
from hypothesis import strategies as st

from chute.bench.window import decoder_window


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("window") / "data"
    path.write_bytes(b"".join(b"line %d of the window test\n" % (i * 7919 % 100003) for i in range(40000)))
    return path


def run(*args: str) -> bytes:
    return subprocess.run(args, check=True, capture_output=True).stdout


@pytest.mark.parametrize("args", [["-1"], ["-19"], ["--long=24", "-3"], ["-3", "--no-content-size"]])
def test_zstd_window_as_zstd_lists_it(data: Path, args: list[str]) -> None:
    zstd = need("zstd")
    out = data.with_suffix(".zst")
    run(zstd, "-q", "-f", *args, str(data), "-o", str(out))
    listed = run(zstd, "-lv", str(out)).decode()
    m = re.search(r"Window Size: .*\((\d+) B\)", listed)
    assert m, listed
    assert decoder_window("zstd", out.read_bytes()[:64]) == int(m.group(1))


@pytest.mark.parametrize("level", ["-0", "-6", "-9"])
def test_xz_dictionary_as_xz_lists_it(data: Path, level: str) -> None:
    xz = need("xz")
    out = data.with_suffix(".xz")
    out.write_bytes(run(xz, "-q", level, "-c", str(data)))
    listed = run(xz, "-lvv", str(out)).decode()
    m = re.search(r"dict=(\d+)([KM]i)B", listed)
    assert m, listed
    expected = int(m.group(1)) << (10 if m.group(2) == "Ki" else 20)
    assert decoder_window("xz", out.read_bytes()[:64]) == expected


@pytest.mark.parametrize("level", [1, 3, 9])
def test_bzip2_block_size(data: Path, level: int) -> None:
    head = run(need("bzip2"), f"-{level}", "-c", str(data))[:64]
    assert decoder_window("bz2", head) == level * 100_000


@pytest.mark.parametrize("flags, size", [(["-B4"], 64 << 10), (["-B7"], 4 << 20), (["-B5", "-BD"], (256 + 64) << 10)])
def test_lz4_block_size(data: Path, flags: list[str], size: int) -> None:
    head = run(need("lz4"), "-q", *flags, "-c", str(data))[:64]
    assert decoder_window("lz4", head) == size


def test_gzip_family() -> None:
    import zlib

    assert decoder_window("zlib", zlib.compressobj(6, zlib.DEFLATED, 10).compress(b"x") + b"") == 1 << 10
    assert decoder_window("zlib", zlib.compress(b"x")) == 32 << 10
    assert decoder_window("gzip", b"\x1f\x8b") == 32 << 10


@pytest.mark.parametrize("lgwin", [10, 16, 18, 22, 24])
def test_brotli_window(data: Path, lgwin: int) -> None:
    brotli = pytest.importorskip("brotli")
    head = brotli.compress(data.read_bytes()[:100000], quality=5, lgwin=lgwin)[:64]
    assert decoder_window("brotli", head) == (1 << lgwin) - 16


def test_empty_or_short_headers_give_none() -> None:
    assert decoder_window("zstd", b"\x28\xb5") is None
    assert decoder_window("xz", b"") is None
    assert decoder_window("bz2", b"BZ") is None


@given(st.sampled_from(["zstd", "xz", "brotli", "bz2", "lz4", "zlib", "gzip", "deflate"]), st.binary(max_size=80))
def test_any_bytes_give_a_size_or_none(fmt: str, head: bytes) -> None:
    got = decoder_window(fmt, head)
    assert got is None or got >= 0


@given(st.binary(min_size=1, max_size=64), st.integers(0, 63))
def test_damaged_zstd_headers_never_raise(data: bytes, cut: int) -> None:
    got = decoder_window("zstd", b"\x28\xb5\x2f\xfd" + data[:cut])
    assert got is None or got >= 0
