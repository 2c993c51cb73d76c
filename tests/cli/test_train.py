"""``chute train`` and ``-D``: real processes, checked against the zstd CLI."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]
needs_zstd = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd CLI not installed")


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, *args], input=input, capture_output=True, timeout=120)


def log_lines(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    levels = ["INFO", "INFO", "INFO", "WARNING", "ERROR"]
    return [
        (
            f"2026-12-03T10:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{rng.randrange(1000):03d}Z {rng.choice(levels)} "
            f"worker-{rng.randrange(16)} request_id={rng.getrandbits(64):016x} "
            f"GET /api/v1/orders/{rng.randrange(10**6)} status={rng.choice([200, 200, 200, 404, 500])} "
            f"duration_ms={rng.randrange(1, 900)}"
        ).encode()
        for i in range(n)
    ]


@pytest.fixture
def lines_file(tmp_path: Path) -> Path:
    p = tmp_path / "app.log"
    p.write_bytes(b"\n".join(log_lines(4000)) + b"\n")
    return p


def test_train_lines_reports_held_out_ratios(lines_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "app.dict"
    r = run("train", "--lines", str(lines_file), "-o", str(out), "--size", "16K")
    assert r.returncode == 0, r.stderr
    msg = r.stderr.decode()
    m = re.search(r"on (\d+) held-out samples at level 3: ratio ([\d.]+) without, ([\d.]+) with it", msg)
    assert m, msg
    assert int(m.group(1)) == 400
    assert float(m.group(3)) > 1.5 * float(m.group(2))
    content = out.read_bytes()
    assert content[:4] == b"\x37\xa4\x30\xec" and len(content) <= 16 << 10
    assert f"ID 0x{int.from_bytes(content[4:8], 'little'):08x}" in msg


def test_train_folder_and_delimiter(tmp_path: Path) -> None:
    folder = tmp_path / "samples"
    (folder / "sub").mkdir(parents=True)
    records = [json.dumps({"n": i, "name": f"item {i}", "tags": ["a", "b"][: i % 3]}).encode() for i in range(600)]
    for i, rec in enumerate(records[:300]):
        (folder / ("sub" if i % 2 else "") / f"{i}.json").write_bytes(rec)
    assert run("train", str(folder), "-o", str(tmp_path / "f.dict"), "--size", "4K", "-q").returncode == 0
    joined = tmp_path / "records.bin"
    joined.write_bytes(b"\x1e".join(records))
    r = run("train", "--delimiter", "\\x1e", str(joined), "-o", str(tmp_path / "d.dict"), "--size", "4K")
    assert r.returncode == 0, r.stderr
    assert b"trained on 540 samples" in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"one\ntwo\nthree\n", "too few samples (3)"),
        (b"\n".join(b"%d" % i for i in range(200)), "samples too small"),
    ],
)
def test_train_refuses_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "few.txt"
    p.write_bytes(content)
    out = tmp_path / "x.dict"
    r = run("train", "--lines", str(p), "-o", str(out))
    assert r.returncode == 1
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"chute: {p}: ") and message in lines[0], lines
    assert not out.exists()


def test_train_keeps_an_existing_output(lines_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "app.dict"
    out.write_bytes(b"keep me")
    r = run("train", "--lines", str(lines_file), "-o", str(out))
    assert r.returncode == 1 and b"already exists" in r.stderr
    assert out.read_bytes() == b"keep me"


@needs_zstd
def test_dash_D_both_ways_with_zstd(lines_file: Path, tmp_path: Path) -> None:
    d = tmp_path / "app.dict"
    assert run("train", "--lines", str(lines_file), "-o", str(d), "--size", "16K", "-q").returncode == 0
    record = log_lines(1, seed=99)[0]
    one = tmp_path / "one.log"
    one.write_bytes(record)
    assert run("-D", str(d), str(one)).returncode == 0
    packed = (tmp_path / "one.log.zst").read_bytes()
    plain = subprocess.run(["zstd", "-q", "-c", str(one)], capture_output=True, check=True).stdout
    assert len(packed) < len(plain) * 0.6, (len(packed), len(plain))
    assert subprocess.run(["zstd", "-dq", "-D", str(d), "-c"], input=packed, capture_output=True).stdout == record
    theirs = subprocess.run(["zstd", "-q", "-D", str(d), "-c"], input=record, capture_output=True, check=True).stdout
    r = run("-dc", "-D", str(d), input=theirs)
    assert r.returncode == 0 and r.stdout == record
    (tmp_path / "theirs.zst").write_bytes(theirs)
    r = run("cat", "-D", str(d), str(tmp_path / "theirs.zst"), str(tmp_path / "one.log.zst"))
    assert r.returncode == 0 and r.stdout == record * 2
    r = run("cat", "--follow", "-D", str(d), str(tmp_path / "theirs.zst"))
    assert r.returncode == 1
    want = "chute: -D: --follow and --range read files without a dictionary; use chute -dc -D"
    assert r.stderr.decode().strip() == want


def test_missing_or_wrong_dictionary_is_one_line(lines_file: Path, tmp_path: Path) -> None:
    d = tmp_path / "app.dict"
    other = tmp_path / "other.dict"
    assert run("train", "--lines", str(lines_file), "-o", str(d), "--size", "8K", "-q").returncode == 0
    other_lines = tmp_path / "other.log"
    other_lines.write_bytes(b"\n".join(log_lines(3000, seed=5)))
    assert run("train", "--lines", str(other_lines), "-o", str(other), "--size", "4K", "-q").returncode == 0
    one = tmp_path / "one.log"
    one.write_bytes(log_lines(1, seed=7)[0])
    assert run("-D", str(d), str(one)).returncode == 0
    want = f"needs dictionary 0x{int.from_bytes(d.read_bytes()[4:8], 'little'):08x}"
    for extra in ([], ["-D", str(other)]):
        r = run("-d", "-f", *extra, str(tmp_path / "one.log.zst"))
        lines = r.stderr.decode().splitlines()
        assert r.returncode == 1 and len(lines) == 1, lines
        assert lines[0].startswith(f"chute: {tmp_path / 'one.log.zst'}: {want}"), lines


def test_dash_D_refusals(tmp_path: Path) -> None:
    f = tmp_path / "x"
    f.write_bytes(b"x" * 100)
    r = run("-F", "gzip", "-D", str(f), "-c", str(f))
    assert r.returncode == 1 and r.stderr.decode().strip() == "chute: -D: dictionaries are for zstd, not gzip"
    r = run("-D", str(tmp_path / "nope.dict"), "-c", str(f))
    assert r.returncode == 1
    assert r.stderr.decode().strip() == f"chute: {tmp_path / 'nope.dict'}: no such file or directory"
