"""chute's archives against GNU tar and bsdtar, both ways, for every compression."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tartrees import make_tree, snapshot

import chute.tar
from chute.tar.extract import extract

pytestmark = pytest.mark.interop

CHUTE = [sys.executable, "-m", "chute"]
# suffix -> (GNU tar option, binary it needs)
COMPRESSIONS = {
    ".tar": ("", None),
    ".tar.gz": ("-z", "gzip"),
    ".tar.zst": ("--zstd", "zstd"),
    ".tar.xz": ("-J", "xz"),
    ".tar.bz2": ("-j", "bzip2"),
    ".tar.lz4": ("--use-compress-program=lz4", "lz4"),
}


def _need(tool: str | None) -> None:
    if tool and shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("src") / "tree")


@pytest.fixture(scope="module")
def short_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("src") / "tree", long_names=False)


@pytest.mark.parametrize("suffix", list(COMPRESSIONS))
@pytest.mark.parametrize("tool", ["tar", "bsdtar"])
def test_chute_archive_extracts_with_tool(tree: Path, tmp_path: Path, suffix: str, tool: str) -> None:
    _need(tool)
    _need(COMPRESSIONS[suffix][1])
    archive = tmp_path / ("a" + suffix)
    subprocess.run([*CHUTE, "pack", "-C", str(tree.parent), "tree", "-o", str(archive)], check=True)
    out = tmp_path / "out"
    out.mkdir()
    if suffix == ".tar.lz4" and tool == "tar":
        cmd = ["tar", "-I", "lz4", "-xpf", str(archive), "-C", str(out)]
    else:
        cmd = [tool, "-xpf", str(archive), "-C", str(out)]
    subprocess.run(cmd, check=True)
    assert snapshot(out / "tree") == snapshot(tree)


@pytest.mark.parametrize("suffix", list(COMPRESSIONS))
@pytest.mark.parametrize("fmt", ["gnu", "pax", "ustar"])
def test_gnu_tar_archive_unpacks_with_chute(
    tree: Path, short_tree: Path, tmp_path: Path, suffix: str, fmt: str
) -> None:
    _need(COMPRESSIONS[suffix][1])
    src = short_tree if fmt == "ustar" else tree
    archive = tmp_path / ("a" + suffix)
    opt = COMPRESSIONS[suffix][0]
    cmd = ["tar", f"--format={fmt}", "-cf", str(archive), "-C", str(src.parent), "tree"]
    if opt:
        cmd.insert(1, opt)
    subprocess.run(cmd, check=True)
    out = tmp_path / "out"
    subprocess.run([*CHUTE, "unpack", str(archive), "-C", str(out)], check=True)
    assert snapshot(out / "tree") == snapshot(src)


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz", ".tar.zst", ".tar.xz"])
@pytest.mark.parametrize("fmt", ["pax", "ustar", "gnutar"])
def test_bsdtar_archive_unpacks_with_chute(tree: Path, short_tree: Path, tmp_path: Path, suffix: str, fmt: str) -> None:
    _need("bsdtar")
    src = short_tree if fmt == "ustar" else tree
    archive = tmp_path / ("a" + suffix)
    subprocess.run(["bsdtar", "--format", fmt, "-a", "-cf", str(archive), "-C", str(src.parent), "tree"], check=True)
    out = tmp_path / "out"
    with open(archive, "rb") as f:  # a pipe-like, non-seekable reader
        chute.tar.extract_archive(_NoSeek(f), out)
    assert snapshot(out / "tree") == snapshot(src)


class _NoSeek:
    def __init__(self, f: object) -> None:
        self._f = f

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)  # type: ignore[attr-defined,no-any-return]

    def readinto(self, b: bytearray) -> int:
        return self._f.readinto(b)  # type: ignore[attr-defined,no-any-return]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_gnu_sparse_files_read_as_regular(tmp_path: Path, fmt: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = bytearray(5_000_000)
    for off in (0, 1_000_000, 4_999_000):
        data[off : off + 1000] = os.urandom(1000)
    with open(src / "sparse", "wb") as f:
        for off in (0, 1_000_000, 4_999_000):
            f.seek(off)
            f.write(data[off : off + 1000])
    archive = tmp_path / "s.tar"
    subprocess.run(["tar", f"--format={fmt}", "--sparse", "-cf", str(archive), "-C", str(src), "sparse"], check=True)
    with open(archive, "rb") as f:
        extract(f, tmp_path / "out")
    assert (tmp_path / "out" / "sparse").read_bytes() == bytes(data)
