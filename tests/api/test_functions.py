"""The one-call API: compress, decompress, copy, detect; max_output."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from conftest import examples, text_like
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute import codecs
from chute.errors import (
    ChuteError,
    CorruptStreamError,
    LimitExceededError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownFormatError,
)

ALL = codecs.names()
DETECTABLE = [n for n in ALL if n not in ("brotli", "deflate")]
DATA = text_like(300_000, seed=3)


@pytest.mark.parametrize("name", ALL)
def test_compress_decompress(name: str) -> None:
    blob = chute.compress(DATA, name)
    assert len(blob) < len(DATA) * 0.8
    assert chute.decompress(blob, name) == DATA
    if name in DETECTABLE:
        assert chute.decompress(blob) == DATA
        assert chute.detect(blob) == name
    else:
        with pytest.raises(UnknownFormatError):
            chute.decompress(blob)


@settings(max_examples=examples(40), deadline=None)
@given(data=st.binary(max_size=3_000), name=st.sampled_from(ALL), kind=st.sampled_from([bytes, bytearray, memoryview]))
def test_round_trip_any_buffer(data: bytes, name: str, kind: type) -> None:
    blob = chute.compress(kind(data), name, codecs.get(name).fast)
    assert isinstance(blob, bytes)
    assert chute.decompress(kind(blob), name) == data


def test_default_format_is_zstd() -> None:
    assert chute.detect(chute.compress(b"x")) == "zstd"


def test_detect() -> None:
    assert chute.detect(b"") is None
    assert chute.detect(b"hello world") is None
    assert chute.detect(b"\x1f\x8b\x08") == "gzip"


@pytest.mark.parametrize("name", ALL)
def test_max_output(name: str) -> None:
    blob = chute.compress(DATA, name)
    assert chute.decompress(blob, name, max_output=len(DATA)) == DATA
    with pytest.raises(LimitExceededError):
        chute.decompress(blob, name, max_output=len(DATA) - 1)
    with pytest.raises(LimitExceededError):
        chute.decompress(blob, name, max_output=0)


def test_max_output_stops_a_bomb_early() -> None:
    comp = codecs.get("zstd").new_compressor(3)
    bomb = b"".join(comp.compress(bytes(1 << 20)) for _ in range(256)) + comp.finish()  # 256 MiB
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceededError):
            chute.decompress(bomb, max_output=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


_PEAK = """
import resource, sys
import chute
from chute.errors import LimitExceededError
data = open(sys.argv[1], "rb").read()
limit = int(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    size = len(chute.decompress(data, max_output=limit))
except LimitExceededError:
    size = -1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(size, (peak - base) * 1024)
"""


@pytest.mark.parametrize("fmt", ["zstd", "gzip"])
@pytest.mark.parametrize("over", [False, True], ids=["fits", "one-byte-over"])
def test_decompress_peak_memory_is_the_limit_plus_a_constant(tmp_path: Path, fmt: str, over: bool) -> None:
    """``decompress(data, max_output=N)`` of 256 MiB: the process grows by about N (it used
    to hold the output twice at the end), measured by the kernel (ru_maxrss) in a process of
    its own."""
    import subprocess
    import sys

    size = 256 << 20
    path = tmp_path / "zeros"
    with open(path, "wb") as f:
        chute.copy(io.BytesIO(bytes(size + over)), f, compress=fmt)
    r = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path), str(size)], capture_output=True, text=True, timeout=300, check=True
    )
    got, grew = map(int, r.stdout.split())
    assert got == (-1 if over else size)
    assert grew < size + (32 << 20), f"grew by {grew >> 20} MiB for a {size >> 20} MiB limit"


def test_decompress_feeds_long_inputs_in_pieces() -> None:
    """zlib copies the input it has not consumed at every bounded call: the input goes to
    the decoder in chunks, so decoding stays linear in the input (here 64 MiB of input
    that barely compresses, decoded in far less time than copying it 64 times)."""
    import time

    data = os.urandom(64 << 20)
    blob = chute.compress(data, "gzip", level=1)
    start = time.process_time()
    assert chute.decompress(blob) == data
    assert time.process_time() - start < 2.0


def test_max_output_negative_is_misuse() -> None:
    with pytest.raises(ValueError):
        chute.decompress(chute.compress(b"x"), max_output=-1)


@pytest.mark.parametrize("name", DETECTABLE)
def test_decompress_errors(name: str) -> None:
    blob = chute.compress(DATA, name)
    with pytest.raises(TruncatedStreamError):
        chute.decompress(blob[:-1])
    with pytest.raises(EOFError):  # the builtin callers already catch
        chute.decompress(blob[: len(blob) // 2])
    with pytest.raises(TrailingDataError):
        chute.decompress(blob + b"junk")
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(CorruptStreamError):
        chute.decompress(bytes(bad))


def test_decompress_not_compressed() -> None:
    with pytest.raises(UnknownFormatError):
        chute.decompress(b"just text")
    with pytest.raises(ValueError):  # UnknownFormatError is a ValueError too
        chute.decompress(b"just text")
    with pytest.raises(TruncatedStreamError):
        chute.decompress(b"")


def test_decompress_concatenated_and_trailing_policy() -> None:
    wire = chute.compress(b"a", "gzip") + chute.compress(b"b", "gzip")
    assert chute.decompress(wire) == b"ab"
    assert chute.decompress(wire, members="first") == b"a"
    assert chute.decompress(chute.compress(b"a", "gzip") + b"junk", trailing="ignore") == b"a"


def test_compress_bad_arguments() -> None:
    with pytest.raises(ValueError):
        chute.compress(b"x", "nope")
    with pytest.raises(ValueError):
        chute.compress(b"x", "zstd", 99)
    with pytest.raises(TypeError):
        chute.compress(b"x", "zstd", "3")  # type: ignore[arg-type]


def test_compress_options_reach_the_codec() -> None:
    small = chute.compress(DATA, "gzip", block_size=10_000)
    assert chute.decompress(small) == DATA
    from chute.codecs._stream import StreamDecoder

    dec = StreamDecoder()
    dec.decompress(small)
    assert dec.members == -(-len(DATA) // 10_000)


# ----------------------------------------------------------------------------------- copy


def test_copy_paths_compress_then_decompress(tmp_path: Path) -> None:
    src = tmp_path / "data.txt"
    src.write_bytes(DATA)
    stats = chute.copy(src, tmp_path / "data.txt.gz", compress=True)
    assert chute.detect((tmp_path / "data.txt.gz").read_bytes()) == "gzip"  # from the suffix
    assert stats.bytes_in == len(DATA) and stats.bytes_out == (tmp_path / "data.txt.gz").stat().st_size
    assert stats.format == "gzip" and stats.ended is not None
    back = chute.copy(str(tmp_path / "data.txt.gz"), str(tmp_path / "back.txt"), decompress=True)
    assert (tmp_path / "back.txt").read_bytes() == DATA
    assert back.format == "gzip" and back.bytes_out == len(DATA)


def test_copy_default_is_zstd_and_named_formats(tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(DATA)
    chute.copy(tmp_path / "in", tmp_path / "out", compress=True)
    assert chute.detect((tmp_path / "out").read_bytes()) == "zstd"
    chute.copy(tmp_path / "in", tmp_path / "out.gz", compress="xz", level=1)
    assert chute.detect((tmp_path / "out.gz").read_bytes()) == "xz"  # an explicit format wins


def test_copy_file_objects_and_progress() -> None:
    seen: list[int] = []
    dst = io.BytesIO()
    chute.copy(io.BytesIO(DATA), dst, compress="lz4", chunk_size=10_000, progress=lambda s: seen.append(s.bytes_in))
    assert seen and seen[-1] == len(DATA)
    assert not dst.closed  # the caller's file objects stay open
    out = io.BytesIO()
    chute.copy(io.BytesIO(dst.getvalue()), out, decompress=True)
    assert out.getvalue() == DATA


def test_copy_decompress_named_format_without_magic() -> None:
    out = io.BytesIO()
    chute.copy(io.BytesIO(chute.compress(DATA, "brotli")), out, decompress=True, format="brotli")
    assert out.getvalue() == DATA


def test_copy_errors() -> None:
    with pytest.raises(ValueError):
        chute.copy(io.BytesIO(), io.BytesIO())
    with pytest.raises(ValueError):
        chute.copy(io.BytesIO(), io.BytesIO(), compress="zstd", decompress=True)
    blob = chute.compress(DATA, "zstd")
    with pytest.raises(TruncatedStreamError):
        chute.copy(io.BytesIO(blob[:-5]), io.BytesIO(), decompress=True)
    with pytest.raises(UnknownFormatError):
        chute.copy(io.BytesIO(b"plain"), io.BytesIO(), decompress=True)
    with pytest.raises(ChuteError):
        chute.copy(io.BytesIO(blob + b"x"), io.BytesIO(), decompress=True)


def test_copy_over_a_pipe(tmp_path: Path) -> None:
    r, w = os.pipe()
    blob = chute.compress(DATA, "gzip")
    with os.fdopen(w, "wb") as wf:
        wf.write(blob[:60_000])  # fits in the pipe buffer
    with os.fdopen(r, "rb") as rf, pytest.raises(TruncatedStreamError):
        chute.copy(rf, io.BytesIO(), decompress=True)


def test_zstd_one_call_records_the_content_size() -> None:
    from chute.codecs.zstd import backend

    data = b"chute " * 1000
    blob = chute.compress(data, "zstd", 22)
    assert backend().get_frame_info(blob).decompressed_size == len(data)
    assert chute.decompress(blob) == data


def test_copy_reads_whole_lz4_blocks_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from chute.api import functions as api
    from chute.codecs.lz4 import MAX_BLOCK
    from chute.streams.pump import DEFAULT_CHUNK

    sizes: list[int] = []
    real = api.compress_stream

    def spy(*args: Any, **kw: Any) -> Any:
        sizes.append(kw["chunk_size"])
        return real(*args, **kw)

    monkeypatch.setattr(api, "compress_stream", spy)
    data = b"x" * 100_000
    for fmt, chunk, expected in (("lz4", None, MAX_BLOCK), ("lz4", 4096, 4096), ("zstd", None, DEFAULT_CHUNK)):
        out = io.BytesIO()
        chute.copy(io.BytesIO(data), out, compress=fmt, chunk_size=chunk)
        assert sizes.pop() == expected
        assert chute.decompress(out.getvalue()) == data


@pytest.mark.parametrize("tool", ["zstd", "xz"])
def test_a_memory_limit_error_names_the_setting_of_each_interface(tmp_path: Path, tool: str) -> None:
    """The API says ``memory_limit=``, the command line ``--memory``: each names what its
    user can change. Streams written by the reference tools (from a pipe: the window is not
    shrunk to the input), decoded under a 64 KiB limit."""
    import shutil
    import subprocess
    import sys

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    data = os.urandom(1 << 20)
    packed = subprocess.run([tool, "-c", "-q"], input=data, capture_output=True, check=True).stdout
    path = tmp_path / f"data.{tool}"
    path.write_bytes(packed)
    with pytest.raises(LimitExceededError) as info:
        chute.decompress(packed, memory_limit=64 << 10)
    assert info.value.setting == "memory_limit"
    assert str(info.value).endswith("; raise it with memory_limit=") and "--memory" not in str(info.value)
    assert chute.decompress(packed, memory_limit=64 << 20) == data
    for argv in (["-dc", "--memory", "64K"], ["cat", "--memory", "64K"]):
        r = subprocess.run([sys.executable, "-m", "chute", *argv, str(path)], capture_output=True, timeout=60)
        assert r.returncode == 1 and r.stdout == b""
        line = r.stderr.decode()
        # the main command also offers zstd's --long=WLOG for a zstd window
        advice = "--long=WLOG or --memory" if argv[0] == "-dc" and "zstd frame" in line else "--memory"
        assert line.startswith(f"chute: {path}: ") and line.endswith(f"; raise it with {advice}\n")
        assert "memory_limit=" not in line and len(line.splitlines()) == 1
