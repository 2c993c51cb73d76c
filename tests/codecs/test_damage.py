"""Damage mid-stream: what was decoded before it is delivered, then one error line.

Each stream is written by the format's own tool, damaged in the middle, and decoded by
that tool and by chute; chute must deliver about as much as the tool (the bindings drop
the output of the call that fails, so chute asks them for little at a time).
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import text_like
from conftest import tool_path as tool

import chute
from chute.codecs._base import WrappedDecompressor
from chute.codecs._zlib_engine import ZlibStreamDecompressor
from chute.codecs.zstd import ZstdDecompressor
from chute.errors import CorruptStreamError

CHUTE = [sys.executable, "-m", "chute"]
DATA = text_like(6 << 20, seed=21)
TOOLS = {
    "gzip": ["gzip"],
    "bz2": ["bzip2"],
    "xz": ["xz"],
    "zstd": ["zstd", "-q"],
    "lz4": ["lz4", "-q", "-B4"],
}  # 64 KiB blocks: damage costs one
#: Most decoded bytes chute may deliver short of the format's tool.
SLACK = {
    "bz2": WrappedDecompressor.STEP,
    "xz": WrappedDecompressor.STEP,
    "zstd": ZstdDecompressor.STEP,
    "lz4": 0,
}


@functools.cache  # the tools write the same bytes each time; xz takes seconds
def damaged(fmt: str, where: float = 0.6) -> bytes:
    cmd = TOOLS[fmt]
    blob = bytearray(subprocess.run([tool(cmd[0]), *cmd[1:], "-c"], input=DATA, capture_output=True).stdout)
    pos = int(len(blob) * where)
    for i in range(pos, pos + 32):
        blob[i] ^= 0x55
    return bytes(blob)


def inflate_until_damage(blob: bytes) -> bytes:
    """Everything zlib decodes from ``blob`` before it finds the damage, byte by byte:
    the most any inflate can deliver (gzip's own inflate checks less and goes on)."""
    dec = zlib.decompressobj(31)
    out = []
    try:
        for i in range(0, len(blob), 16):
            out.append(dec.decompress(blob[i : i + 16]))
    except zlib.error:
        pass
    return b"".join(out)


@pytest.mark.parametrize("fmt", list(TOOLS))
@pytest.mark.parametrize(("threads", "pipe"), [("1", False), ("2", True), ("2", False)])
def test_damage_delivers_what_was_decoded_before_it(fmt: str, threads: str, pipe: bool, tmp_path: Path) -> None:
    blob = damaged(fmt)
    path = tmp_path / f"damaged.{fmt}"
    path.write_bytes(blob)
    ref = subprocess.run([tool(TOOLS[fmt][0]), "-dc", str(path)], capture_output=True)
    assert ref.returncode != 0
    if pipe:
        with open(path, "rb") as f:
            r = subprocess.run([*CHUTE, "-dc", "-T", threads], stdin=f, capture_output=True)
    else:
        r = subprocess.run([*CHUTE, "-dc", "-T", threads, str(path)], capture_output=True)
    assert r.returncode == 1
    assert r.stderr.count(b"\n") == 1 and r.stderr.startswith(b"chute: -: " if pipe else f"chute: {path}: ".encode())
    if fmt == "gzip":
        best = inflate_until_damage(blob)
        assert best.startswith(r.stdout) and len(r.stdout) >= len(best) - 4 * ZlibStreamDecompressor.FEED
        assert ref.stdout.startswith(r.stdout)  # gzip's inflate goes on where zlib stops
    else:
        assert ref.stdout.startswith(r.stdout) or r.stdout.startswith(ref.stdout)
        assert len(r.stdout) >= len(ref.stdout) - SLACK[fmt]


@pytest.mark.parametrize("fmt", list(TOOLS))
def test_reader_returns_what_was_decoded_then_raises(fmt: str, tmp_path: Path) -> None:
    blob = damaged(fmt)
    cli = subprocess.run([*CHUTE, "-dc"], input=blob, capture_output=True).stdout
    with chute.open(io.BytesIO(blob)) as f:
        got = f.read()
        with pytest.raises(CorruptStreamError):
            f.read()
    # as much as the command line, give or take the step the binding is asked for
    slack = 4 * ZlibStreamDecompressor.FEED if fmt == "gzip" else SLACK[fmt]
    assert (got.startswith(cli) or cli.startswith(got)) and abs(len(got) - len(cli)) <= slack
    assert len(got) > len(DATA) // 3


def test_checksum_mismatch_at_the_end_delivers_the_whole_frame() -> None:
    """A check that fails at the end of a member: the data before it is delivered, as
    the tools deliver it (chute used to deliver nothing of such an lz4 frame)."""
    for fmt in ("lz4", "gzip", "xz"):
        blob = bytearray(chute.compress(DATA[:300_000], fmt))
        blob[-5] ^= 0xFF  # inside the trailing check (gzip: CRC32; lz4: content checksum)
        if fmt == "xz":
            blob = bytearray(chute.compress(DATA[:300_000], fmt))
            blob[-40] ^= 0xFF  # the block's CRC64, before the index
        with chute.open(io.BytesIO(bytes(blob)), format=fmt) as f:
            got = f.read()
            with pytest.raises(CorruptStreamError):
                f.read()
        slack = {"lz4": 0, "xz": WrappedDecompressor.STEP, "gzip": 0}[fmt]
        assert DATA[:300_000].startswith(got) and len(got) >= 300_000 - slack, fmt


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize(("where", "members"), [(-8, 1), (-1, 1), (-3, 2), (-6, 3)])
def test_gzip_trailer_mismatch_delivers_what_gzip_delivers(
    threads: str, where: int, members: int, tmp_path: Path
) -> None:
    """A wrong CRC32 or ISIZE in the trailer of the last member (``where`` counts from the
    end): the member's bytes reach stdout, as ``gzip -dc`` writes them, then one error."""
    gz = tool("gzip")
    parts = [DATA[i::members][: 1 << 20] for i in range(members)]
    blob = bytearray(b"".join(subprocess.run([gz, "-6", "-c"], input=p, capture_output=True).stdout for p in parts))
    blob[where] ^= 0x01
    path = tmp_path / "damaged.gz"
    path.write_bytes(blob)
    ref = subprocess.run([gz, "-dc", str(path)], capture_output=True)
    r = subprocess.run([*CHUTE, "-dc", "-T", threads, str(path)], capture_output=True)
    assert ref.returncode == r.returncode == 1
    assert r.stdout == ref.stdout == b"".join(parts)
    assert r.stderr.count(b"\n") == 1 and b"checksum mismatch" in r.stderr


@pytest.mark.parametrize("where", [-1, -4])
def test_zlib_adler32_mismatch_delivers_what_pigz_delivers(where: int, tmp_path: Path) -> None:
    """A wrong Adler-32 at the end of a zlib stream (written by ``pigz -z``): every decoded
    byte reaches stdout, as ``pigz -dz`` writes them, then one error line."""
    pigz = tool("pigz")
    data = DATA[: 3 << 20]
    blob = bytearray(subprocess.run([pigz, "-z", "-6", "-c"], input=data, capture_output=True, check=True).stdout)
    blob[where] ^= 0x01
    path = tmp_path / "damaged.zz"
    path.write_bytes(blob)
    ref = subprocess.run([pigz, "-dz", "-c", str(path)], capture_output=True)
    r = subprocess.run([*CHUTE, "-dc", "-F", "zlib", str(path)], capture_output=True)
    assert ref.returncode == r.returncode == 1
    assert r.stdout == ref.stdout == data
    assert r.stderr.count(b"\n") == 1 and b"checksum mismatch" in r.stderr and str(path).encode() in r.stderr


def _zlib_head(cmf: int, flg: int) -> bytes:
    """CMF and FLG with FCHECK set so that the header check holds."""
    flg &= 0xE0
    return bytes([cmf, flg | (31 - (cmf << 8 | flg) % 31) % 31])


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (_zlib_head(0x88, 0x80), "window"),  # CINFO 8: a 64 KiB window
        (_zlib_head(0x79, 0x80), "not deflate"),  # CM 9
        (bytes([0x78, 0x9D]), "header check"),
        (_zlib_head(0x78, 0xA0), "preset dictionary"),  # FDICT
    ],
)
def test_zlib_bad_header_is_one_error(head: bytes, message: str) -> None:
    blob = head + zlib.compress(b"x" * 100)[2:]
    with pytest.raises(CorruptStreamError, match=message), chute.open(io.BytesIO(blob), format="zlib") as f:
        f.read()
