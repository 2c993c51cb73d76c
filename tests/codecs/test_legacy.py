"""Legacy formats people still meet: ``.lzma`` (LZMA-alone) and the legacy lz4 frame,
written by the reference tools and decoded by chute; formats chute does not decode are
named as such."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples, text_like
from conftest import tool_path as tool
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.codecs import detect, get
from chute.codecs.lzma_alone import looks_like_lzma
from chute.errors import CorruptStreamError, TrailingDataError, TruncatedStreamError, UnknownFormatError

CHUTE = [sys.executable, "-m", "chute"]


def written_by(cmd: list[str], data: bytes) -> bytes:
    return subprocess.run([tool(cmd[0]), *cmd[1:]], input=data, capture_output=True, check=True).stdout


def chute_d(blob: bytes, tmp_path: Path, *args: str, pipe: bool = True) -> subprocess.CompletedProcess[bytes]:
    if pipe:
        return subprocess.run([*CHUTE, "-dc", *args], input=blob, capture_output=True)
    path = tmp_path / "input"
    path.write_bytes(blob)
    return subprocess.run([*CHUTE, "-dc", *args, str(path)], capture_output=True)


# -------------------------------------------------------------------- .lzma (LZMA-alone)

DATA = text_like(300_000, seed=5)


@pytest.mark.parametrize(
    "cmd",
    [
        ["xz", "--format=lzma", "-c"],
        ["xz", "--format=lzma", "-0", "-c"],
        ["xz", "--format=lzma", "-9e", "-c"],
        ["xz", "--format=lzma", "--lzma1=preset=1,lc=0,lp=4,pb=0", "-c"],
        ["xz", "--format=lzma", "--lzma1=preset=6,lc=4,lp=0,pb=4,dict=3MiB", "-c"],
        ["lzma", "-c"],
    ],
)
@pytest.mark.parametrize("pipe", [True, False])
def test_lzma_written_by_xz_and_lzma_is_detected_and_decoded(cmd: list[str], pipe: bool, tmp_path: Path) -> None:
    blob = written_by(cmd, DATA)
    assert detect(blob[:13]) == "lzma"
    r = chute_d(blob, tmp_path, pipe=pipe)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout == DATA
    with chute.open(io.BytesIO(blob)) as f:
        assert f.read() == DATA and f.format == "lzma"


def test_lzma_suffix_is_stripped_and_xz_reads_nothing_new(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.lzma"
    path.write_bytes(written_by(["xz", "--format=lzma", "-c"], DATA))
    r = subprocess.run([*CHUTE, "-d", str(path)], capture_output=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "notes.txt").read_bytes() == DATA
    # chute reads .lzma but does not write it: -F lzma is refused, not silently xz
    r = subprocess.run([*CHUTE, "-F", "lzma", "-c"], input=b"x", capture_output=True)
    assert r.returncode == 1 and r.stderr.startswith(b"chute: -F: ") and not r.stdout


def test_lzma_is_not_concatenable_and_junk_after_it_is_an_error_as_in_xz(tmp_path: Path) -> None:
    blob = written_by(["xz", "--format=lzma", "-c"], DATA)
    for tail in (b"junk\n", blob, b"\0\0\0\0"):
        ref = subprocess.run([tool("xz"), "-dc"], input=blob + tail, capture_output=True)
        r = chute_d(blob + tail, tmp_path)
        assert r.returncode == ref.returncode == 1
        assert r.stdout == DATA  # what was decoded is written first
    with chute.open(io.BytesIO(blob + b"junk")) as f:
        assert f.read() == DATA
        with pytest.raises(TrailingDataError):
            f.read()


def test_cut_lzma_is_truncated() -> None:
    blob = written_by(["xz", "--format=lzma", "-c"], DATA)
    with chute.open(io.BytesIO(blob[: len(blob) // 2])) as f:
        got = f.read()
        assert DATA.startswith(got)
        with pytest.raises(TruncatedStreamError):
            f.read()


def test_lzma_header_test_refuses_random_data_and_text() -> None:
    rnd = random.Random(7)
    false = sum(looks_like_lzma(rnd.randbytes(13)) for _ in range(200_000))
    assert false == 0
    text = text_like(200_000, seed=9)
    assert not any(looks_like_lzma(text[i : i + 13]) for i in range(0, len(text) - 13, 7))
    assert not looks_like_lzma(bytes(13))  # zeros: a dictionary of 0 bytes is not written
    assert detect(b"hello, world!\n") is None


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(min_size=13, max_size=64))
def test_data_detected_as_lzma_has_a_header_xz_accepts(data: bytes) -> None:
    """Whatever detection takes for .lzma, xz's own header test takes too."""
    if detect(data) != "lzma":
        return
    ref = subprocess.run([tool("xz"), "-dc", "--format=lzma"], input=data, capture_output=True)
    assert b"File format not recognized" not in ref.stderr


def test_every_lzma_header_xz_writes_is_detected() -> None:
    for preset in ("-0", "-3", "-6", "-9", "-1e"):
        for opts in ("", ",lc=0,lp=0,pb=0", ",lc=1,lp=3,pb=4"):
            blob = written_by(["xz", "--format=lzma", f"--lzma1=preset={preset[1:]}{opts}", "-c"], b"abc")
            assert detect(blob) == "lzma", (preset, opts)


# -------------------------------------------------------------------- legacy lz4 frame

BIG = text_like(20 << 20, seed=11)  # three 8 MiB blocks


@pytest.mark.parametrize("size", [0, 1, 100_000, len(BIG)])
@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("pipe", [True, False])
def test_legacy_lz4_written_by_lz4_l(size: int, threads: str, pipe: bool, tmp_path: Path) -> None:
    data = BIG[:size]
    blob = written_by(["lz4", "-l", "-c"], data)
    assert blob[:4] == b"\x02\x21\x4c\x18" and detect(blob) == "lz4"
    r = chute_d(blob, tmp_path, "-T", threads, pipe=pipe)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout == data


def test_legacy_lz4_frames_concatenated_and_mixed_with_modern_ones(tmp_path: Path) -> None:
    a, b = b"first part\n" * 5000, b"second part\n" * 7000
    legacy_a = written_by(["lz4", "-l", "-c"], a)
    modern_b = written_by(["lz4", "-c"], b)
    for blob, want in (
        (legacy_a + legacy_a, a + a),
        (legacy_a + modern_b, a + b),
        (modern_b + legacy_a, b + a),
    ):
        ref = subprocess.run([tool("lz4"), "-dc"], input=blob, capture_output=True)
        assert ref.stdout == want
        r = chute_d(blob, tmp_path)
        assert (r.returncode, r.stdout) == (0, want)
        assert chute.decompress(blob) == want


def test_legacy_lz4_damage_and_junk_as_lz4_reports_them(tmp_path: Path) -> None:
    data = BIG[: 17 << 20]
    blob = written_by(["lz4", "-l", "-c"], data)
    # junk after the frame: lz4 -d fails (exit 1), after writing everything
    ref = subprocess.run([tool("lz4"), "-dc"], input=blob + b"junk", capture_output=True)
    r = chute_d(blob + b"junk", tmp_path)
    assert (r.returncode, r.stdout) == (ref.returncode, data) == (1, data)
    # a damaged third block: the two before it are delivered, as lz4 -d delivers them
    first = int.from_bytes(blob[4:8], "little")
    second = int.from_bytes(blob[8 + first : 12 + first], "little")
    third_at = 12 + first + second + 4
    bad = bytearray(blob)
    bad[third_at : third_at + 64] = bytes(64)
    ref = subprocess.run([tool("lz4"), "-dc"], input=bytes(bad), capture_output=True)
    r = chute_d(bytes(bad), tmp_path)
    assert r.returncode == 1 and ref.returncode != 0
    assert r.stdout == data[: 16 << 20] and len(r.stdout) >= len(ref.stdout)
    with chute.open(io.BytesIO(bytes(bad))) as f:
        assert f.read() == data[: 16 << 20]
        with pytest.raises(CorruptStreamError):
            f.read()


def test_legacy_lz4_cut_inside_a_block_is_truncated() -> None:
    blob = written_by(["lz4", "-l", "-c"], DATA)
    with pytest.raises(TruncatedStreamError):
        chute.decompress(blob[:-10])
    assert get("lz4").name == "lz4"


# -------------------------------------------------------------------- not decoded: named


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"LZIP\x01\x0c" + bytes(30), b"lzip data"),
        (b"\x1f\x9d\x90", b"Unix compress (.Z) data"),  # what compress writes for empty input
        (b"\x1f\x1e\x00\x00\x00\x00", b"pack (.z) data"),
        (b"PK\x03\x04" + bytes(30), b"a zip archive"),
    ],
)
def test_formats_chute_does_not_decode_are_named(head: bytes, what: bytes, tmp_path: Path) -> None:
    r = chute_d(head, tmp_path, pipe=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"chute: {tmp_path / 'input'}: ".encode() + what + b": a format chute does not decode")
    assert r.stderr.count(b"\n") == 1


def test_compress_header_is_real() -> None:
    """The .Z header above is one gzip -d decodes (an empty file)."""
    r = subprocess.run([tool("gzip"), "-dc"], input=b"\x1f\x9d\x90", capture_output=True)
    assert (r.returncode, r.stdout) == (0, b"")


@pytest.mark.parametrize("fmt", ["brotli", "deflate"])
def test_formats_without_signature_are_suggested(fmt: str, tmp_path: Path) -> None:
    blob = chute.compress(DATA, fmt)
    r = chute_d(blob, tmp_path)
    assert r.returncode == 1 and r.stderr.count(b"\n") == 1
    assert f"-F {fmt}".encode() in r.stderr
    assert chute_d(blob, tmp_path, "-F", fmt).stdout == DATA
    with pytest.raises(UnknownFormatError, match=f"-F {fmt}"):
        chute.decompress(blob)
    # data that is neither gets no such suggestion
    r = chute_d(b"plain text, not compressed\n" * 100, tmp_path)
    assert r.stderr == b"chute: -: not in a known compressed format\n"


# -------------------------------------------------------------------- xz: unknown check type


def _xz_with_check_id(data: bytes, check_id: int) -> bytes:
    """An xz stream written by xz with CRC32, its check ID changed to ``check_id`` (2 or 3:
    reserved IDs whose check field is 4 bytes too) in the stream header and footer, with
    their CRC32s recomputed, as the .xz specification lays them out."""
    import zlib

    blob = bytearray(written_by(["xz", "--check=crc32", "-c"], data))
    assert blob[6:8] == b"\x00\x01" and blob[-3:] == b"\x01YZ"
    blob[7] = blob[-3] = check_id
    blob[8:12] = zlib.crc32(bytes(blob[6:8])).to_bytes(4, "little")
    blob[-12:-8] = zlib.crc32(bytes(blob[-8:-2])).to_bytes(4, "little")
    return bytes(blob)


@pytest.mark.parametrize("check_id", [2, 3])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_xz_with_an_unknown_check_decodes_with_a_warning_like_xz(check_id: int, threads: str, tmp_path: Path) -> None:
    from chute.errors import UnverifiedDataWarning

    blob = _xz_with_check_id(DATA, check_id) * 2  # two streams: -T2 decodes them apart
    ref = subprocess.run([tool("xz"), "-dc"], input=blob, capture_output=True)
    assert ref.returncode == 2 and b"integrity check" in ref.stderr
    for pipe in (True, False):
        r = chute_d(blob, tmp_path, "-T", threads, pipe=pipe)
        assert (r.returncode, r.stdout) == (2, DATA * 2)
        assert r.stderr.count(b"\n") == 1 and f"integrity check (ID {check_id})".encode() in r.stderr
    r = subprocess.run([*CHUTE, "-t", str(tmp_path / "input")], capture_output=True)
    assert r.returncode == 2 and b"not verified" in r.stderr
    with pytest.warns(UnverifiedDataWarning, match="not verified"):
        assert chute.decompress(blob) == DATA * 2
    # known checks stay silent
    plain = written_by(["xz", "--check=sha256", "-c"], DATA)
    assert chute_d(plain, tmp_path, "-T", threads).returncode == 0
