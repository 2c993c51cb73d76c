"""A reader in another process sees each flushed record before the writer closes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import chute

READER = r"""
import sys
from chute.codecs._stream import StreamDecoder
path, fmt, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
dec = StreamDecoder(None if fmt == "auto" else fmt)
seen = b""
with open(path, "rb") as f:
    while seen.count(b"\n") < want:
        data = f.read(65536)
        seen += dec.decompress(data) if data else b""
        if not data:
            import time; time.sleep(0.01)
sys.stdout.write(seen.decode())
"""

FORMATS = ["zstd", "gzip", "lz4", "brotli", "bz2", "xz"]


def _reader(path: Path, fmt: str, want: int) -> subprocess.Popen[str]:
    code = [sys.executable, "-c", READER, str(path), "auto" if fmt != "brotli" else fmt, str(want)]
    return subprocess.Popen(code, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["flush", "interval", "every"])
def test_other_process_sees_flushed_records(tmp_path: Path, fmt: str, how: str) -> None:
    path = tmp_path / "live"
    all_opts: dict[str, dict[str, Any]] = {
        "interval": {"flush_interval": 0.05},
        "every": {"flush_every": 1},
        "flush": {},
    }
    opts = all_opts[how]
    w = chute.open(path, "wb", format=fmt, **opts)
    try:
        for i in range(3):
            rec = f"record {i} {'x' * i}\n".encode()
            w.write(rec)
            if how == "flush":
                w.flush()
            proc = _reader(path, fmt, i + 1)
            out, _ = proc.communicate(timeout=20)  # hangs (timeout) if the record is not decodable
            assert out.splitlines()[-1] == rec.decode().rstrip("\n")
            assert not w.closed
    finally:
        w.close()


@pytest.mark.parametrize(
    ("fmt", "opts"),
    [
        ("gzip", {"strategy": "stream"}),
        ("gzip", {"strategy": "blocks"}),
        ("zstd", {"threads": 2}),
        ("gzip", {"threads": 2}),
    ],
)
def test_flush_with_codec_options(tmp_path: Path, fmt: str, opts: dict[str, Any]) -> None:
    path = tmp_path / "live"
    with chute.open(path, "wb", format=fmt, **opts) as w:
        for i in range(2):
            w.write(f"line {i}\n".encode())
            w.flush()
            out, _ = _reader(path, fmt, i + 1).communicate(timeout=20)
            assert out.splitlines()[-1] == f"line {i}"


def test_zcat_reads_flushed_gzip(tmp_path: Path) -> None:
    path = tmp_path / "live.gz"
    with chute.open(path, "wb", format="gzip", flush_interval=0.02) as w:
        w.write(b"hello\n")
        time.sleep(0.3)
        # zcat complains about the missing trailer but prints what is decodable
        res = subprocess.run(["zcat", str(path)], capture_output=True)
        assert res.stdout == b"hello\n"


def _read_until(proc: subprocess.Popen[bytes], dec: Any, want: bytes, timeout: float = 10.0) -> bytes:
    """Read proc's stdout (non-blocking) through ``dec`` until ``want`` was decoded."""
    import os
    import select

    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = b""
    end = time.monotonic() + timeout
    while want not in got:
        left = end - time.monotonic()
        assert left > 0, f"not delivered in time: {got!r}"
        if select.select([fd], [], [], left)[0]:
            data = os.read(fd, 65536)
            assert data, "stream ended"
            got += dec(data)
    return got


def test_cli_flush_interval_delivers_each_line() -> None:
    from chute.codecs._stream import StreamDecoder

    proc = subprocess.Popen(
        [sys.executable, "-m", "chute", "-c", "--flush-interval", "100"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    dec = StreamDecoder()
    got = b""
    for i in range(3):
        line = f"line {i}\n".encode()
        proc.stdin.write(line)
        proc.stdin.flush()
        t0 = time.monotonic()
        got += _read_until(proc, dec.decompress, line)
        assert time.monotonic() - t0 < 5
    proc.stdin.close()
    assert proc.wait(10) == 0
    assert proc.stdout is not None
    got += dec.decompress(proc.stdout.read())
    dec.end()
    proc.stdout.close()
    assert got == b"line 0\nline 1\nline 2\n"


def test_cli_cat_follow(tmp_path: Path) -> None:
    path = tmp_path / "app.log.zst"
    w = chute.open(path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "chute", "cat", "--follow", str(path)], stdout=subprocess.PIPE)
    try:
        for i in range(3):
            line = f"event {i}\n".encode()
            w.write(line)
            w.flush()
            _read_until(proc, lambda b: b, line)
    finally:
        w.close()
        proc.terminate()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()


def test_text_mode_flush_interval(tmp_path: Path) -> None:
    path = tmp_path / "t.zst"
    with chute.open(path, "wt", flush_interval=0.02) as w:
        w.write("hello\n")
        time.sleep(0.3)
        assert subprocess.run(["zstd", "-dc", str(path)], capture_output=True).stdout == b"hello\n"
