"""gzip's -N/--name: chute stores the source's name and time as gzip -N does, restores
them with -d -N, and reads and writes the same headers as gzip, both ways."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tool_path

MTIME = 1_620_284_889  # 2021-05-06 07:08:09 UTC


def chute(*args: str, cwd: Path | None = None, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHUTE_THREADS", "CHUTE_LEVEL")}
    return subprocess.run(
        [sys.executable, "-m", "chute", *args], capture_output=True, cwd=cwd, input=input, env=env, timeout=120
    )


def text(size: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefgh ") for _ in range(rng.randint(2, 9))) for _ in range(200)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
    return bytes(out[:size])


def source(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (MTIME, MTIME))
    return path


def gzip_header(name: bytes | None, mtime: int, data: bytes) -> bytes:
    """A gzip file built from RFC 1952: FNAME ``name`` (raw bytes), MTIME ``mtime``."""
    import zlib

    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    flg = 0x08 if name is not None else 0
    head = b"\x1f\x8b\x08" + bytes([flg]) + mtime.to_bytes(4, "little") + b"\x00\x03"
    if name is not None:
        head += name + b"\0"
    return head + body + (zlib.crc32(data)).to_bytes(4, "little") + len(data).to_bytes(4, "little")


@pytest.mark.parametrize("size", [50_000, 3_500_000])  # one member; several (MZ-sized)
@pytest.mark.parametrize("threads", ["-T1", "-T2"])
def test_gzip_restores_what_chute_stores(tmp_path: Path, size: int, threads: str) -> None:
    gzip = tool_path("gzip")
    data = text(size)
    src = source(tmp_path, "héllo.txt", data)
    assert chute("-N", "-F", "gzip", threads, "--rm", str(src)).returncode == 0
    packed = tmp_path / "héllo.txt.gz"
    listing = subprocess.run([gzip, "-lvN", str(packed)], capture_output=True, check=True).stdout
    assert "héllo.txt".encode() in listing
    assert b"May  6" in listing
    renamed = tmp_path / "other.gz"
    packed.rename(renamed)
    subprocess.run([gzip, "-dN", str(renamed)], capture_output=True, check=True)
    assert src.read_bytes() == data
    assert src.stat().st_mtime == MTIME
    assert not renamed.exists()


def test_chute_restores_what_gzip_stores(tmp_path: Path) -> None:
    gzip = tool_path("gzip")
    data = text(200_000)
    src = source(tmp_path, "naïve.log", data)
    subprocess.run([gzip, "-N", str(src)], check=True)  # gzip's default, said out loud
    (tmp_path / "naïve.log.gz").rename(tmp_path / "x.gz")
    result = chute("-dN", str(tmp_path / "x.gz"))
    assert result.returncode == 0, result.stderr
    assert src.read_bytes() == data
    assert src.stat().st_mtime == MTIME
    assert not (tmp_path / "x").exists()


def test_several_members_stay_splittable_and_listed(tmp_path: Path) -> None:
    """The name sits in the first member's header only; chute -l still reads every
    member's size, and chute -d decodes them all, as gzip -t checks them."""
    data = text(3_500_000)
    src = source(tmp_path, "big.txt", data)
    assert chute("-N", "-F", "gzip", "-T2", str(src)).returncode == 0
    packed = tmp_path / "big.txt.gz"
    listed = chute("-lv", str(packed))
    assert listed.returncode == 0
    assert b"(from the member sizes)" in listed.stdout
    assert b"4 frame(s)" in listed.stdout
    assert chute("-dc", str(packed)).stdout == data
    if shutil.which("gzip"):
        assert subprocess.run(["gzip", "-t", str(packed)], capture_output=True).returncode == 0


def test_same_bytes_at_any_thread_count(tmp_path: Path) -> None:
    src = source(tmp_path, "f.txt", text(2_500_000))
    outs = {chute("-N", "-F", "gzip", t, "-c", str(src)).stdout for t in ("-T1", "-T2", "-T0")}
    assert len(outs) == 1


def test_default_and_no_name_store_nothing(tmp_path: Path) -> None:
    src = source(tmp_path, "f.txt", b"some text\n")
    for flags in ([], ["-n"]):
        out = chute(*flags, "-F", "gzip", "-c", str(src)).stdout
        assert out[3] & 0x08 == 0 and out[4:8] == b"\0\0\0\0"


def test_standard_input_stores_a_time_and_no_name(tmp_path: Path) -> None:
    src = source(tmp_path, "f.txt", b"piped\n")
    with src.open("rb") as f:
        out = subprocess.run(
            [sys.executable, "-m", "chute", "-N", "-F", "gzip"], stdin=f, capture_output=True, check=True
        ).stdout
    assert out[3] & 0x08 == 0
    assert int.from_bytes(out[4:8], "little") == MTIME


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (b"../../escape.txt", "escape.txt"),
        (b"/etc/passwd", "passwd"),
        (b"a/b/c.txt", "c.txt"),
        (b"..", "x"),
        (b"", "x"),
        (b"dir/", "x"),
    ],
)
def test_stored_paths_give_a_base_name_beside_the_input(tmp_path: Path, stored: bytes, expected: str) -> None:
    inner = tmp_path / "in"
    inner.mkdir()
    (inner / "x.gz").write_bytes(gzip_header(stored, MTIME, b"payload\n"))
    before = set(tmp_path.rglob("*"))
    result = chute("-dN", str(inner / "x.gz"))
    assert result.returncode == 0, result.stderr
    made = set(tmp_path.rglob("*")) - before
    assert made == {inner / expected}
    assert (inner / expected).read_bytes() == b"payload\n"


def test_name_that_is_not_latin1_round_trips_as_bytes(tmp_path: Path) -> None:
    """FNAME holds the file system's bytes, as gzip writes them (here UTF-8 and an
    invalid UTF-8 byte): the same name comes back."""
    raw = "日本.txt".encode() + b"\xff"
    (tmp_path / "x.gz").write_bytes(gzip_header(raw, 0, b"data\n"))
    assert chute("-dN", str(tmp_path / "x.gz")).returncode == 0
    assert sorted(os.listdir(os.fsencode(tmp_path))) == sorted([b"x.gz", raw])
    assert Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + raw)).read_bytes() == b"data\n"


def test_no_time_stored_keeps_the_source_time(tmp_path: Path) -> None:
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip_header(b"y.txt", 0, b"data\n"))
    os.utime(packed, (MTIME + 100, MTIME + 100))
    assert chute("-dN", str(packed)).returncode == 0
    assert (tmp_path / "y.txt").stat().st_mtime == MTIME + 100


def test_to_stdout_and_output_ignore_the_stored_name(tmp_path: Path) -> None:
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip_header(b"y.txt", MTIME, b"data\n"))
    assert chute("-dNc", str(packed)).stdout == b"data\n"
    assert chute("-dN", "-o", str(tmp_path / "z"), str(packed)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gz", "z"]


def test_existing_file_at_the_stored_name_is_kept(tmp_path: Path) -> None:
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip_header(b"y.txt", MTIME, b"data\n"))
    (tmp_path / "y.txt").write_bytes(b"mine")
    result = chute("-dN", str(packed))
    assert result.returncode == 1
    assert b"y.txt: already exists" in result.stderr
    assert (tmp_path / "y.txt").read_bytes() == b"mine"
    assert packed.exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-N", "-F", "zstd"], b"chute: --name: applies to gzip only, not to zstd"),
        (["-N", "-F", "gzip", "--seekable"], b"chute: --name: --seekable gzip (BGZF) members carry no name"),
    ],
)
def test_name_refused_where_it_cannot_apply(tmp_path: Path, flags: list[str], message: bytes) -> None:
    src = source(tmp_path, "f.txt", b"x\n")
    result = chute(*flags, str(src))
    assert result.returncode == 1
    assert result.stderr.strip() == message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
