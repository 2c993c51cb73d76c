"""Interop with the reference tools, both ways, through files and through pipes.

What chute writes, gzip/pigz/zstd/lz4/xz/bzip2/brotli read; what they write (single and
multi-member outputs, their options) chute reads. Raw deflate has no tool: it is checked
against the zlib library instead.
"""

from __future__ import annotations

import io
import subprocess
import threading
import zlib
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import have_tool, pieces, text_like

import chute
from chute import codecs
from chute.codecs import FlushMode
from chute.errors import CorruptStreamError, TruncatedStreamError

pytestmark = pytest.mark.interop

DATA = text_like(300_000, seed=5) + bytes(range(256)) * 40
OTHER = text_like(50_000, seed=6)

# tool -> (format, compress command, decompress command, test command); all use stdin/stdout
TOOLS: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "gzip": ("gzip", ["gzip", "-c"], ["gzip", "-dc"], ["gzip", "-t"]),
    "pigz": ("gzip", ["pigz", "-c"], ["pigz", "-dc"], ["pigz", "-t"]),
    "pigz-zlib": ("zlib", ["pigz", "-z", "-c"], ["pigz", "-dzc"], ["pigz", "-tz"]),
    "zstd": ("zstd", ["zstd", "-q", "-c"], ["zstd", "-q", "-dc"], ["zstd", "-q", "-t"]),
    "lz4": ("lz4", ["lz4", "-q", "-c"], ["lz4", "-q", "-dc"], ["lz4", "-q", "-t"]),
    "xz": ("xz", ["xz", "-c"], ["xz", "-dc"], ["xz", "-t"]),
    "bzip2": ("bz2", ["bzip2", "-c"], ["bzip2", "-dc"], ["bzip2", "-t"]),
    "brotli": ("brotli", ["brotli", "-c"], ["brotli", "-dc"], ["brotli", "-t"]),
}


def _tool(key: str) -> tuple[str, list[str], list[str], list[str]]:
    fmt, comp, decomp, test = TOOLS[key]
    if not have_tool(comp[0]):
        pytest.skip(f"{comp[0]} is not installed")
    return fmt, comp, decomp, test


def run(cmd: list[str], data: bytes | None = None) -> bytes:
    done = subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
    return done.stdout


def read_fmt(fmt: str) -> str | None:
    return fmt if fmt in ("brotli", "deflate") else None


def chute_write(f: IO[bytes], fmt: str, level: int | None = None, **options: Any) -> None:
    """Write DATA through chute in uneven pieces, with one SYNC and one FULL flush."""
    with chute.open(f, "wb", format=fmt, level=level, **options) as w:
        for i, piece in enumerate(pieces(DATA, [100_000, 7, 65_536])):
            w.write(piece)
            if i == 1:
                w.flush()
            if i == 3:
                w.flush(FlushMode.FULL)


def _in_thread(fn: Any) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


# ------------------------------------------------------------------ chute writes, tool reads


@pytest.mark.parametrize("key", TOOLS)
def test_tool_reads_chute_file(tmp_path: Path, key: str) -> None:
    fmt, _, decomp, test = _tool(key)
    path = tmp_path / "out"
    with open(path, "wb") as f:
        chute_write(f, fmt)
    run([*test, "--", str(path)] if key != "brotli" else [*test, str(path)])
    assert run([*decomp, str(path)]) == DATA


@pytest.mark.parametrize("key", TOOLS)
def test_tool_reads_chute_through_a_pipe(key: str) -> None:
    fmt, _, decomp, _ = _tool(key)
    proc = subprocess.Popen(decomp, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None

    def produce() -> None:
        assert proc.stdin is not None
        try:
            chute_write(proc.stdin, fmt)
        finally:
            proc.stdin.close()

    writer = _in_thread(produce)
    out = proc.stdout.read()
    proc.stdout.close()
    writer.join(30)
    assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    assert out == DATA


@pytest.mark.parametrize("key", ["gzip", "zstd", "lz4", "xz", "bzip2", "brotli", "pigz-zlib"])
def test_tool_reads_every_chute_level(tmp_path: Path, key: str) -> None:
    fmt, _, decomp, _ = _tool(key)
    codec = codecs.get(fmt)
    levels = {codec.levels[0], codec.fast, codec.default_level, codec.best}
    if fmt != "zstd":
        levels.add(codec.levels[1])
    for level in sorted(levels):
        blob = chute.compress(DATA[:50_000], fmt, level)
        assert run(decomp, blob) == DATA[:50_000], level


def test_gzip_stream_strategy_and_small_blocks(tmp_path: Path) -> None:
    _tool("gzip")
    for options in ({"strategy": "stream"}, {"block_size": 10_000}):
        buf = io.BytesIO()
        chute_write(buf, "gzip", **options)
        assert run(["gzip", "-dc"], buf.getvalue()) == DATA
        assert run(["pigz", "-dc"], buf.getvalue()) == DATA


def test_lz4_and_zstd_options_chute_writes(tmp_path: Path) -> None:
    _tool("lz4")
    _tool("zstd")
    for options in ({"block_size": 64 << 10, "block_linked": True}, {"checksum": False}):
        buf = io.BytesIO()
        chute_write(buf, "lz4", **options)
        assert run(["lz4", "-q", "-dc"], buf.getvalue()) == DATA
    for options in ({"checksum": False}, {"long_distance": True, "window_log": 24}):
        buf = io.BytesIO()
        chute_write(buf, "zstd", **options)
        assert run(["zstd", "-q", "-dc"], buf.getvalue()) == DATA
    # zstd's own workers (the codec option; chute.open(threads=) goes through chute.parallel.jobs)
    comp = codecs.get("zstd").new_compressor(3, threads=2)
    wire = b"".join(comp.compress(p) + comp.flush() for p in pieces(DATA, [100_000])) + comp.finish()
    assert run(["zstd", "-q", "-dc"], wire) == DATA


def test_chute_zstd_checksum_is_checked_by_zstd() -> None:
    _tool("zstd")
    blob = bytearray(chute.compress(DATA, "zstd"))
    blob[-2] ^= 0x01  # in the content checksum
    done = subprocess.run(["zstd", "-q", "-dc"], input=bytes(blob), capture_output=True, check=False)
    assert done.returncode != 0


def test_chute_gzip_header_is_reproducible() -> None:
    _tool("gzip")
    blob = chute.compress(b"same", "gzip")
    assert blob[4:8] == b"\0\0\0\0"  # no mtime
    assert blob[3] & 0x08 == 0  # no file name
    assert blob == chute.compress(b"same", "gzip")
    assert run(["gzip", "-dc"], blob) == b"same"


# ------------------------------------------------------------------ tool writes, chute reads


@pytest.mark.parametrize("key", TOOLS)
def test_chute_reads_tool_file(tmp_path: Path, key: str) -> None:
    fmt, comp, _, _ = _tool(key)
    src = tmp_path / "data"
    src.write_bytes(DATA)
    out = tmp_path / "data.out"
    out.write_bytes(run([*comp, str(src)]))
    with chute.open(out, format=read_fmt(fmt)) as r:
        assert r.read() == DATA
        assert r.format == fmt


@pytest.mark.parametrize("key", TOOLS)
def test_chute_reads_tool_through_a_pipe(key: str) -> None:
    fmt, comp, _, _ = _tool(key)
    proc = subprocess.Popen(comp, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        assert proc.stdin is not None
        try:
            for piece in pieces(DATA, [30_000]):
                proc.stdin.write(piece)
        finally:
            proc.stdin.close()

    feeder = _in_thread(feed)
    with chute.open(proc.stdout, format=read_fmt(fmt)) as r:
        got = r.read(12_345) + r.read()
    proc.stdout.close()
    feeder.join(30)
    assert proc.wait(30) == 0
    assert got == DATA


@pytest.mark.parametrize(
    ("key", "options"),
    [
        ("gzip", ["-1"]),
        ("gzip", ["-9"]),
        ("pigz", ["-11"]),  # zopfli
        ("pigz", ["-i", "-b", "32"]),  # independent 32 KiB blocks
        ("pigz", ["-p", "2", "-b", "64"]),
        ("zstd", ["-19"]),
        ("zstd", ["--fast=5"]),
        ("zstd", ["-T2", "-B65536"]),  # several jobs
        ("zstd", ["--no-check"]),
        ("zstd", ["--content-size"]),
        ("zstd", ["--long=24"]),
        ("lz4", ["--content-size"]),
        ("lz4", ["-BD"]),
        ("lz4", ["-BX", "-B4"]),
        ("lz4", ["--no-frame-crc"]),
        ("lz4", ["-12"]),
        ("xz", ["--check=none"]),
        ("xz", ["--check=crc32"]),
        ("xz", ["--check=crc64"]),
        ("xz", ["--check=sha256"]),
        ("xz", ["-0", "--block-size=20000"]),
        ("xz", ["-T2", "--block-size=50000"]),
        ("xz", ["--format=xz", "-9e"]),
        ("bzip2", ["-1"]),
        ("brotli", ["-q", "0"]),
        ("brotli", ["-q", "5", "-w", "10"]),
        ("brotli", ["-w", "24"]),
    ],
)
def test_chute_reads_tool_options(key: str, options: list[str]) -> None:
    fmt, comp, _, _ = _tool(key)
    blob = run([comp[0], *options, *comp[1:]], DATA)
    assert chute.decompress(blob, read_fmt(fmt)) == DATA
    with chute.open(io.BytesIO(blob), format=read_fmt(fmt), chunk_size=4_096) as r:
        assert b"".join(iter(lambda: r.read(10_000), b"")) == DATA


def test_chute_reads_gzip_with_name_and_comment(tmp_path: Path) -> None:
    _tool("gzip")
    src = tmp_path / "named.txt"
    src.write_bytes(DATA)
    blob = run(["gzip", "-N", "-c", str(src)])
    assert blob[3] & 0x08  # FNAME present
    assert chute.decompress(blob) == DATA


def test_chute_reads_concatenated_gzip_members(tmp_path: Path) -> None:
    _tool("gzip")
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(DATA)
    b.write_bytes(OTHER)
    blob = run(["gzip", "-c", str(a)]) + run(["pigz", "-c", str(b)]) + run(["gzip", "-c"], b"")
    assert chute.decompress(blob) == DATA + OTHER
    assert run(["gzip", "-dc"], blob) == DATA + OTHER  # the reference agrees


def test_chute_reads_zstd_of_concatenated_files(tmp_path: Path) -> None:
    _tool("zstd")
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(DATA)
    b.write_bytes(OTHER)
    blob = run(["zstd", "-q", "-c", str(a), str(b)])  # one frame per file
    assert blob.count(b"\x28\xb5\x2f\xfd") >= 2
    assert chute.decompress(blob) == DATA + OTHER


def test_chute_reads_bzip2_concatenated_streams(tmp_path: Path) -> None:
    _tool("bzip2")
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(DATA)
    b.write_bytes(OTHER)
    blob = run(["bzip2", "-c", str(a), str(b)]) + run(["bzip2", "-c"], OTHER)
    assert blob.count(b"BZh9") >= 3
    assert chute.decompress(blob) == DATA + OTHER + OTHER
    big = run(["bzip2", "-1", "-c"], DATA * 3)  # several 100 KiB blocks in one stream
    assert chute.decompress(big) == DATA * 3


def test_chute_reads_lz4_frames(tmp_path: Path) -> None:
    _tool("lz4")
    blob = run(["lz4", "-q", "-c", "--content-size"], DATA) + run(["lz4", "-q", "-c", "-BD"], OTHER)
    assert chute.decompress(blob) == DATA + OTHER
    assert run(["lz4", "-q", "-dc"], blob) == DATA + OTHER


def test_chute_reads_xz_concatenated_and_padded() -> None:
    _tool("xz")
    blob = run(["xz", "-c", "--check=sha256"], DATA) + run(["xz", "-c", "--check=none"], OTHER)
    padded = blob + bytes(8)
    assert run(["xz", "-dc"], padded) == DATA + OTHER  # xz accepts 4-byte aligned padding
    assert chute.decompress(padded) == DATA + OTHER
    between = run(["xz", "-c"], DATA) + bytes(12) + run(["xz", "-c"], OTHER)
    assert run(["xz", "-dc"], between) == DATA + OTHER  # ... between streams too
    assert chute.decompress(between) == DATA + OTHER
    for bad in (blob + bytes(3), run(["xz", "-c"], DATA) + bytes(5) + run(["xz", "-c"], OTHER)):
        assert subprocess.run(["xz", "-dc"], input=bad, capture_output=True, check=False).returncode != 0
        with pytest.raises(CorruptStreamError):
            chute.decompress(bad)


def test_gzip_zero_padding_like_tar() -> None:
    _tool("gzip")
    blob = run(["gzip", "-c"], DATA) + bytes(10_240)
    assert run(["gzip", "-dc"], blob) == DATA
    assert chute.decompress(blob) == DATA


@pytest.mark.parametrize("key", ["gzip", "zstd", "lz4", "xz", "bzip2", "brotli"])
def test_truncated_tool_output_is_an_error(key: str) -> None:
    fmt, comp, _, _ = _tool(key)
    blob = run(comp, DATA)
    for cut in (len(blob) // 3, len(blob) - 1):
        with pytest.raises(TruncatedStreamError):
            chute.decompress(blob[:cut], read_fmt(fmt))


def test_skippable_frame_written_by_zstd_is_skipped(tmp_path: Path) -> None:
    _tool("zstd")
    frame = run(["zstd", "-q", "-c"], DATA)
    skippable = b"\x5a\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"hello"
    blob = skippable + frame + skippable
    assert run(["zstd", "-q", "-dc"], blob) == DATA  # the reference skips it
    assert chute.decompress(blob) == DATA
    lz4_frame = run(["lz4", "-q", "-c"], DATA)
    assert run(["lz4", "-q", "-dc"], skippable + lz4_frame) == DATA
    assert chute.decompress(skippable + lz4_frame) == DATA  # detection looks past it


# ------------------------------------------------------------------------- raw deflate


def test_raw_deflate_against_zlib() -> None:
    buf = io.BytesIO()
    chute_write(buf, "deflate")
    assert zlib.decompress(buf.getvalue(), -15) == DATA
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = comp.compress(DATA) + comp.flush()
    assert chute.decompress(blob, "deflate") == DATA
