"""Data after the end of a valid stream: every decoded byte is delivered first.

The decoder, the file object, and the command line (one thread and several, files and
pipes), for every format; the command line's policy is checked against what each format's
own tool does with the same file.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples, payloads, pieces, slow_case, text_like
from conftest import tool_path as tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute.codecs import names
from chute.codecs._stream import StreamDecoder
from chute.errors import ChuteError, TrailingDataError

CHUTE = [sys.executable, "-m", "chute"]


def decode_all(blob: bytes, fmt: str | None, sizes: list[int], max_length: int) -> tuple[bytes, Exception | None]:
    """Feed ``blob`` in pieces, as a pump does; (everything delivered, the error or None)."""
    dec = StreamDecoder(fmt)
    out: list[bytes] = []
    try:
        for piece in pieces(blob, sizes):
            out.append(dec.decompress(piece, max_length))
            while not dec.needs_input and not dec.eof:
                out.append(dec.decompress(b"", max_length))
        dec.end()
    except ChuteError as exc:
        return b"".join(out), exc
    return b"".join(out), None


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(names()),
    data=payloads(30_000),
    junk=st.binary(min_size=1, max_size=300),
    sizes=st.lists(st.integers(1, 5_000), min_size=1, max_size=6),
    max_length=st.sampled_from([-1, 1, 100, 4096, 1 << 20]),
    detect=st.booleans(),
)
def test_any_stream_then_any_bytes_delivers_the_whole_stream(
    fmt: str, data: bytes, junk: bytes, sizes: list[int], max_length: int, detect: bool
) -> None:
    blob = chute.compress(data, fmt)
    detectable = bool(chute.codecs.get(fmt).magic) or fmt == "zlib"
    fmt_arg = None if detect and detectable else fmt
    got, error = decode_all(blob + junk, fmt_arg, sizes, max_length)
    if fmt == "brotli" and error is not None:
        # the binding drops the output of the call that meets the end of the stream with
        # more input after it (fed in pieces of brotli.FEED bytes): docs/streams.md
        assert data.startswith(got)
        return
    assert got[: len(data)] == data
    if error is None:  # junk that decodes (zeros after gzip or xz, an empty member...)
        assert len(got) >= len(data)


@settings(max_examples=examples(25), deadline=None)
@given(
    fmt=st.sampled_from(["gzip", "zstd", "xz", "bz2", "lz4"]),
    data=payloads(40_000),
    junk=st.binary(min_size=1, max_size=100).filter(lambda b: b.strip(b"\0")),
    reads=st.lists(st.integers(1, 70_000), min_size=1, max_size=5),
)
def test_reader_returns_what_it_decoded_then_raises(fmt: str, data: bytes, junk: bytes, reads: list[int]) -> None:
    blob = chute.compress(data, fmt) + b"\xff" + junk  # 0xff starts no member of any format
    got = bytearray()
    with chute.open(io.BytesIO(blob), chunk_size=1000) as r:
        i = 0
        with pytest.raises(TrailingDataError):
            while True:
                part = r.read(reads[i % len(reads)])
                i += 1
                got += part
                assert part  # the error comes before the end
    assert got == data


def test_read_all_returns_everything_then_raises() -> None:
    data = text_like(3 << 20)
    for fmt in ("gzip", "zstd", "xz", "bz2", "lz4", "zlib", "deflate"):
        with chute.open(io.BytesIO(chute.compress(data, fmt) + b"\xffjunk"), format=fmt) as r:
            assert r.read() == data
            with pytest.raises(TrailingDataError):
                r.read()


@pytest.mark.slow  # 3 MiB at brotli's default level: 5 s and more; slow, for the quick run's time
def test_brotli_loses_at_most_the_output_of_one_feed() -> None:
    """The brotli binding raises for data after the end and drops that call's output."""
    data = text_like(3 << 20)
    with chute.open(io.BytesIO(chute.compress(data, "brotli") + b"\xffjunk"), format="brotli") as r:
        got = r.read()
        assert data.startswith(got) and len(data) - len(got) < 1 << 20
        with pytest.raises(chute.errors.CorruptStreamError):
            r.read()


# -------------------------------------------------------------------- the command line

TOOLS = {"gzip": "gzip", "bz2": "bzip2", "xz": "xz", "zstd": "zstd", "lz4": "lz4"}


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("trailing") / "text"
    p.write_bytes(text_like(6 << 20, seed=3))
    return p


def _with_junk(text: Path, fmt: str, writer: str) -> Path:
    """``text`` compressed by the format's tool (or chute -T2: several frames), then junk."""
    out = text.with_name(f"{writer}.{fmt}.junk")
    if not out.exists():
        if writer == "tool":
            blob = subprocess.run([tool(TOOLS[fmt]), "-c", str(text)], capture_output=True, check=True).stdout
        else:
            blob = subprocess.run([*CHUTE, "-T2", "-F", fmt, "-c", str(text)], capture_output=True, check=True).stdout
        out.write_bytes(blob + b"junk after the stream\n")
    return out


@pytest.mark.parametrize("fmt", [slow_case(f) if f in ("xz", "bz2") else f for f in TOOLS])  # the slow writers
@pytest.mark.parametrize("writer", ["tool", "chute"])
@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("pipe", [False, True])
def test_cli_writes_every_byte_then_reports_like_the_formats_tool(
    text: Path, fmt: str, writer: str, threads: str, pipe: bool
) -> None:
    path = _with_junk(text, fmt, writer)
    ref = subprocess.run([tool(TOOLS[fmt]), "-dc", str(path)], capture_output=True)
    if pipe:
        with open(path, "rb") as f:
            r = subprocess.run([*CHUTE, "-dc", "-T", threads], stdin=f, capture_output=True)
    else:
        r = subprocess.run([*CHUTE, "-dc", "-T", threads, str(path)], capture_output=True)
    assert r.stdout == text.read_bytes() == ref.stdout
    assert r.stderr.count(b"\n") == 1 and b"trailing data" in r.stderr
    assert r.stderr.startswith(b"chute: -: " if pipe else f"chute: {path}: ".encode())
    if fmt == "bz2":  # bzip2 warns and exits 0: a warning is exit 2 here, as gzip has it
        assert ref.stderr and r.returncode == 2
    else:
        assert r.returncode == ref.returncode
    assert (b"ignored" in r.stderr) == (r.returncode == 2)


@pytest.mark.parametrize("fmt", ["gzip", "zstd"])
def test_trailing_option_overrides_the_default(text: Path, fmt: str) -> None:
    path = _with_junk(text, fmt, "chute")
    data = text.read_bytes()
    for policy, status in (("error", 1), ("ignore", 2)):
        r = subprocess.run([*CHUTE, "-dc", f"--trailing={policy}", str(path)], capture_output=True)
        assert (r.returncode, r.stdout) == (status, data)
    r = subprocess.run([*CHUTE, "-t", "--trailing=ignore", str(path)], capture_output=True)
    assert r.returncode == 2 and b"ignored" in r.stderr


def test_ignored_trailing_data_keeps_the_output_file_and_the_source(text: Path, tmp_path: Path) -> None:
    src = tmp_path / "t.gz"
    src.write_bytes(_with_junk(text, "gzip", "chute").read_bytes())
    r = subprocess.run([*CHUTE, "-d", "--rm", str(src)], capture_output=True)
    assert r.returncode == 2
    assert (tmp_path / "t").read_bytes() == text.read_bytes()
    assert src.exists()  # a warning is not a success: the source stays
    bad = tmp_path / "z" / "t.zst"
    bad.parent.mkdir()
    bad.write_bytes(_with_junk(text, "zstd", "chute").read_bytes())
    r = subprocess.run([*CHUTE, "-d", str(bad)], capture_output=True)
    assert r.returncode == 1  # an error: no output file, as zstd -d leaves none
    assert [p.name for p in bad.parent.iterdir()] == ["t.zst"]


def test_dcf_passes_data_after_the_last_stream_through_like_zcat_f(tmp_path: Path) -> None:
    """gzip's own test mixed-gz+plain: a gzip member of "xxx\\n" then plain "yyy\\n"."""
    path = tmp_path / "mixed"
    path.write_bytes(subprocess.run([tool("gzip"), "-c"], input=b"xxx\n", capture_output=True).stdout + b"yyy\n")
    ref = subprocess.run([tool("gzip"), "-dcf", str(path)], capture_output=True)
    for args in ([str(path)], []):
        with open(path, "rb") as f:
            r = subprocess.run([*CHUTE, "-dcf", *args], stdin=f, capture_output=True)
        assert (r.returncode, r.stdout, r.stderr) == (ref.returncode, b"xxx\nyyy\n", b"")
