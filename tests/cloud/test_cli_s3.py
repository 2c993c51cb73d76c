"""The chute command against a real S3 API (moto's server on loopback, see conftest.py).

Every command that names a file takes a URL there: compress to, decompress from, cat a
glob, list and test, pack to, unpack and ls from. The objects chute writes are checked with
the reference tools (zstd, gzip, tar) and the reference tools' output is read by chute.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import need_tool

from .conftest import Bucket

#: Each run starts a chute that imports s3fs (a second or more): the quick run keeps two
#: tests (compress to a URL, cat a glob), the rest are marked slow.
pytestmark = pytest.mark.interop

CHUTE = [sys.executable, "-m", "chute"]


def chute(*argv: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run([*CHUTE, *argv], input=stdin, capture_output=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def text_lines(n: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"etaoinshrdlu") for _ in range(rng.randint(2, 9))) for _ in range(200)]
    return b"".join(b" ".join(rng.choice(words) for _ in range(8)) + b"\n" for _ in range(n))


def tool(*argv: str, stdin: bytes) -> bytes:
    need_tool(argv[0])
    return subprocess.run(list(argv), input=stdin, capture_output=True, check=True).stdout


def test_compress_to_a_url_gives_what_zstd_reads(bucket: Bucket, tmp_path: Path) -> None:
    data = text_lines(20000)
    src = tmp_path / "data.log"
    src.write_bytes(data)
    chute(str(src), "-o", bucket.url("data.log.zst"), *bucket.cli_options)
    assert tool("zstd", "-dc", stdin=bucket.get("data.log.zst")) == data
    assert src.read_bytes() == data  # kept


@pytest.mark.slow
def test_decompress_from_a_url_what_gzip_wrote(bucket: Bucket, tmp_path: Path) -> None:
    data = text_lines(20000, seed=2)
    url = bucket.put("in/x.gz", tool("gzip", "-c", stdin=data))
    out = tmp_path / "x"
    chute("-d", url, "-o", str(out), *bucket.cli_options)
    assert out.read_bytes() == data
    assert chute("-dc", url, *bucket.cli_options).stdout == data


@pytest.mark.slow
def test_url_to_url_names_the_output_as_for_files(bucket: Bucket) -> None:
    data = text_lines(3000, seed=3)
    url = bucket.put("a.txt", data)
    chute(url, *bucket.cli_options)  # a.txt -> a.txt.zst, beside it
    assert tool("zstd", "-dc", stdin=bucket.get("a.txt.zst")) == data
    chute("-d", "-f", "--rm", bucket.url("a.txt.zst"), *bucket.cli_options)  # -> a.txt again, source removed
    assert bucket.keys() == ["a.txt"]
    assert bucket.get("a.txt") == data


@pytest.mark.slow
def test_existing_object_is_not_overwritten_without_force(bucket: Bucket, tmp_path: Path) -> None:
    src = tmp_path / "new"
    src.write_bytes(b"new content\n")
    url = bucket.put("out.zst", b"old object")
    proc = chute(str(src), "-o", url, *bucket.cli_options, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"chute: {url}: already exists (use -f to overwrite)\n"
    assert bucket.get("out.zst") == b"old object"
    chute(str(src), "-o", url, "-f", *bucket.cli_options)
    assert tool("zstd", "-dc", stdin=bucket.get("out.zst")) == b"new content\n"


@pytest.mark.slow
def test_rm_removes_a_url_source_only_after_success(bucket: Bucket, tmp_path: Path) -> None:
    good = bucket.put("good.gz", tool("gzip", "-c", stdin=b"fine\n"))
    bad = bucket.put("bad.gz", tool("gzip", "-c", stdin=text_lines(2000))[:-20])  # truncated
    proc = chute("-d", "--rm", good, bad, *bucket.cli_options, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(f"chute: {bad}: ")
    assert len(proc.stderr.decode().splitlines()) == 1
    assert bucket.keys() == ["bad.gz", "good"]  # good.gz gone, bad.gz kept, no partial "bad"
    assert bucket.get("good") == b"fine\n"


def test_cat_a_glob_decodes_every_match_in_sorted_order(bucket: Bucket) -> None:
    parts = {f"logs/2026-12-0{i}.log.gz": text_lines(500, seed=i) for i in (3, 1, 2)}
    for key, data in parts.items():
        bucket.put(key, tool("gzip", "-c", stdin=data))
    bucket.put("logs/other.txt", b"not matched\n")
    out = chute("cat", bucket.url("logs/*.log.gz"), *bucket.cli_options).stdout
    assert out == b"".join(parts[k] for k in sorted(parts))


@pytest.mark.slow
def test_a_glob_that_matches_nothing_is_an_error_naming_it(bucket: Bucket) -> None:
    bucket.put("logs/a.gz", tool("gzip", "-c", stdin=b"a\n"))
    pattern = bucket.url("logs/*.zst")
    proc = chute("cat", pattern, *bucket.cli_options, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"chute: {pattern}: no object matches\n"
    assert proc.stdout == b""


@pytest.mark.slow
def test_missing_object_is_one_line(bucket: Bucket) -> None:
    url = bucket.url("nothing.zst")
    proc = chute("-dc", url, *bucket.cli_options, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"chute: {url}: no such file or object\n"


@pytest.mark.slow
def test_list_and_test_a_url(bucket: Bucket) -> None:
    data = text_lines(5000, seed=4)
    url = bucket.put("x.zst", tool("zstd", "-c", stdin=data))
    listed = chute("-l", url, *bucket.cli_options).stdout.decode().splitlines()
    assert listed[1].split()[:2] == [str(len(bucket.get("x.zst"))), str(len(data))]
    assert listed[1].endswith(url)
    assert chute("-t", "-v", url, *bucket.cli_options).stderr.decode() == f"chute: {url}: OK (zstd, 1 member(s))\n"
    bad = bucket.put("bad.zst", bucket.get("x.zst")[:-9])
    proc = chute("-t", bad, *bucket.cli_options, check=False)
    assert proc.returncode == 1 and proc.stderr.decode().startswith(f"chute: {bad}: ")


@pytest.mark.slow
def test_seekable_range_reads_from_a_url(bucket: Bucket, tmp_path: Path) -> None:
    data = text_lines(40000, seed=5)
    src = tmp_path / "s"
    src.write_bytes(data)
    chute(str(src), "--seekable", "-o", bucket.url("s.zst"), *bucket.cli_options)
    got = chute("cat", "--range", "1000000:1000100", bucket.url("s.zst"), *bucket.cli_options).stdout
    assert got == data[1000000:1000100]


@pytest.mark.slow
def test_pack_to_a_url_unpack_and_ls_from_it(bucket: Bucket, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_bytes(text_lines(1000, seed=6))
    (tree / "sub" / "b.bin").write_bytes(os.urandom(5000))
    url = bucket.url("a.tar.zst")
    chute("pack", "-C", str(tmp_path), "tree", "-o", url, *bucket.cli_options)
    # GNU tar reads what chute uploaded
    need_tool("tar")
    listing = tool("tar", "-t", "--zstd", "-f", "-", stdin=bucket.get("a.tar.zst")).decode().split()
    assert sorted(listing) == ["tree/", "tree/a.txt", "tree/sub/", "tree/sub/b.bin"]
    names = chute("ls", url, *bucket.cli_options).stdout.decode().split()
    assert sorted(names) == sorted(listing)
    out = tmp_path / "out"
    chute("unpack", url, "-C", str(out), *bucket.cli_options)
    assert (out / "tree" / "a.txt").read_bytes() == (tree / "a.txt").read_bytes()
    assert (out / "tree" / "sub" / "b.bin").read_bytes() == (tree / "sub" / "b.bin").read_bytes()


@pytest.mark.slow
def test_unpack_what_gnu_tar_wrote(bucket: Bucket, tmp_path: Path) -> None:
    need_tool("tar")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"from tar\n")
    made = subprocess.run(["tar", "-czf", "-", "-C", str(tmp_path), "d"], capture_output=True, check=True).stdout
    url = bucket.put("t.tgz", made)
    chute("unpack", url, "-C", str(tmp_path / "x"), "--progress", *bucket.cli_options)
    assert (tmp_path / "x" / "d" / "f").read_bytes() == b"from tar\n"
    assert chute("unpack", "-O", url, *bucket.cli_options).stdout == b"from tar\n"


@pytest.mark.slow
def test_storage_option_values_are_json_where_they_parse(bucket: Bucket) -> None:
    url = bucket.put("j.gz", tool("gzip", "-c", stdin=b"json\n"))
    # use_ssl=false is the JSON false (the string "false" would be true to boto)
    out = chute("-dc", url, *bucket.cli_options, "--storage-option", "use_ssl=false").stdout
    assert out == b"json\n"
    proc = chute("-dc", url, "--storage-option", "nonsense", check=False)
    assert proc.returncode == 1
    assert b"expected KEY=VALUE" in proc.stderr and len(proc.stderr.splitlines()) == 1


# -- interrupted uploads -----------------------------------------------------------------


def _feed(proc: subprocess.Popen[bytes], chunk: bytes) -> None:
    """Write ``chunk`` to ``proc`` again and again, until it is gone."""
    assert proc.stdin is not None
    try:
        while True:
            proc.stdin.write(chunk)
    except (BrokenPipeError, ValueError, OSError):
        pass


def _upload_until_parts_sent(bucket: Bucket, key: str) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    """A chute compressing an endless incompressible pipe to ``key``: returned once its
    multipart upload has begun (parts are being sent)."""
    proc = subprocess.Popen(
        [*CHUTE, "-1", "-o", bucket.url(key), *bucket.cli_options],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    feeder = threading.Thread(target=_feed, args=(proc, os.urandom(1 << 20)), daemon=True)
    feeder.start()
    deadline = time.monotonic() + 60
    while not bucket.uploads():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        assert time.monotonic() < deadline, "no multipart upload began"
        time.sleep(0.1)
    time.sleep(0.5)  # a part or two more
    return proc, feeder


def _reap(proc: subprocess.Popen[bytes], feeder: threading.Thread) -> None:
    proc.wait(timeout=60)
    feeder.join(timeout=60)
    for pipe in (proc.stdin, proc.stderr):
        try:
            if pipe is not None:
                pipe.close()
        except BrokenPipeError:
            pass


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
@pytest.mark.slow
def test_killed_upload_leaves_no_object(bucket: Bucket, sig: signal.Signals) -> None:
    proc, feeder = _upload_until_parts_sent(bucket, "big.zst")
    proc.send_signal(sig)
    _reap(proc, feeder)
    assert proc.returncode != 0
    assert bucket.keys() == []  # `ls` of the bucket: nothing
    if sig != signal.SIGKILL:  # chute had the chance to abort the multipart upload
        assert bucket.uploads() == []
        assert proc.returncode in (-sig, 128 + sig, 130)


@pytest.mark.slow
def test_failed_compression_uploads_nothing(bucket: Bucket, tmp_path: Path) -> None:
    """An error in the middle (a truncated input, decompressing) aborts the upload: the
    output is larger than one part, so parts went up before the error."""
    data = os.urandom(12 << 20)
    packed = tool("zstd", "-1", "-c", stdin=data)
    url = bucket.put("cut.zst", packed[: len(packed) - 1000])
    proc = chute("-d", url, "-o", bucket.url("cut"), *bucket.cli_options, check=False)
    assert proc.returncode == 1
    assert bucket.keys() == ["cut.zst"]
    assert bucket.uploads() == []
