"""Start-up stays light: what ``chute --version`` and ordinary runs import.

A pipe tool is started thousands of times; the benchmark's target is ``chute --version``
within 2.5x of ``python -c pass``. Each module below costs milliseconds (``re`` and
``enum`` most, through everything they import), so none may come back unnoticed. Modules
the interpreter itself loaded before chute ran (``python -c pass``) do not count.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODULES_RUN, interpreter_modules, loaded_by

HEAVY = ["argparse", "re", "enum", "signal", "gettext", "locale", "contextlib", "typing", "shutil", "importlib"]
HEAVY += ["tempfile", "dataclasses", "inspect", "collections", "functools"]

#: Loaded by compress/decompress runs on top of ``--version``'s path: nothing.
COMPRESS_RUN_ALLOWS: set[str] = set()


def test_version_loads_nothing_heavy(tmp_path: Path) -> None:
    assert sorted(loaded_by(tmp_path, "--version") & set(HEAVY)) == []


def test_usage_error_loads_nothing_heavy(tmp_path: Path) -> None:
    report = tmp_path / "modules.txt"
    proc = subprocess.run([sys.executable, "-c", MODULES_RUN, str(report), "-T", "x"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == "chute: argument -T/--threads: not a number: 'x' (see chute --help)\n"
    assert sorted((set(report.read_text().split()) - interpreter_modules()) & set(HEAVY)) == []


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    p = tmp_path / "data.txt"
    p.write_bytes(b"a line of text that repeats\n" * 5000)
    return p


def _runs(sample: Path) -> list[tuple[str, ...]]:
    runs = []
    for fmt in ("gzip", "zstd"):
        packed = f"{sample}.{'gz' if fmt == 'gzip' else 'zst'}"
        runs += [
            ("-F", fmt, "-c", str(sample)),  # compress to stdout
            ("-F", fmt, "-k", "-f", str(sample)),  # compress to a file (atomic temp file + rename)
            ("-d", "-c", packed),
            ("cat", packed),
            ("-t", packed),
            ("-d", "-f", packed),  # decompress to a file
        ]
    return runs


def test_compress_runs_load_nothing_heavy(tmp_path: Path, sample: Path) -> None:
    """Plain compress/decompress runs, gzip and zstd (whose C module chute loads without
    the package around it: that package's enums would load enum, functools, collections)."""
    for argv in _runs(sample):
        heavy = loaded_by(tmp_path, *argv) & set(HEAVY)
        assert sorted(heavy - COMPRESS_RUN_ALLOWS) == [], argv


def _imported(argv: list[str]) -> set[str]:
    """Module names that ``python -X importtime ARGV`` reports importing."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def test_installed_command_imports_nothing_heavy() -> None:
    """The installed ``chute`` script itself (pip's generated wrapper would import re)."""
    launcher = Path(sys.executable).with_name("chute")
    if not launcher.exists():
        pytest.skip("chute is not installed next to this interpreter")
    assert launcher.read_text(errors="replace").startswith("#!"), "expected a Python script"
    heavy = (_imported([str(launcher), "--version"]) - _imported(["-c", "pass"])) & set(HEAVY)
    assert sorted(heavy) == [], f"{launcher} imports these: reinstall chute (pip install -e .)?"


#: ``pack``/``unpack``/``ls`` runs that load nothing heavy. Not listed: compressed output
#: (chute.api.fileobj's writer imports threading, which imports functools and collections).
def _tar_runs(tmp_path: Path, sample: Path) -> list[tuple[str, ...]]:
    import lzma

    import chute.tar

    plain = tmp_path / "a.tar"
    with chute.tar.open(plain, "w") as tw:
        tw.add_path(str(sample), "data.txt")
        tw.add_bytes("sub/b", b"b")
    (tmp_path / "a.tar.xz").write_bytes(lzma.compress(plain.read_bytes()))
    (tmp_path / "a.tar.gz").write_bytes(chute.compress(plain.read_bytes(), format="gzip"))
    (tmp_path / "a.tar.zst").write_bytes(chute.compress(plain.read_bytes(), format="zstd"))
    return [
        ("pack", str(sample), "-o", str(tmp_path / "p.tar")),
        ("pack", "-C", str(tmp_path), "data.txt", "-", "-o", "-", "-F", "none"),
        ("unpack", str(plain), "-C", str(tmp_path / "u1")),
        ("unpack", str(tmp_path / "a.tar.xz"), "-C", str(tmp_path / "u2")),
        ("unpack", "-", "-C", str(tmp_path / "u3")),
        ("ls", str(plain)),
        ("ls", "-l", str(tmp_path / "a.tar.xz")),
        ("unpack", str(tmp_path / "a.tar.gz"), "-C", str(tmp_path / "u4")),
        ("unpack", str(tmp_path / "a.tar.zst"), "-C", str(tmp_path / "u5")),
        ("ls", str(tmp_path / "a.tar.zst")),
    ]


def test_tar_runs_load_nothing_heavy(tmp_path: Path, sample: Path) -> None:
    runs = _tar_runs(tmp_path, sample)
    stdin = (tmp_path / "a.tar").read_bytes()
    for argv in runs:
        heavy = loaded_by(tmp_path, *argv, stdin=stdin) & set(HEAVY)
        assert sorted(heavy) == [], argv
    assert (tmp_path / "u1" / "sub" / "b").read_bytes() == b"b"
    assert (tmp_path / "u3" / "data.txt").read_bytes() == sample.read_bytes()
    assert (tmp_path / "u5" / "data.txt").read_bytes() == sample.read_bytes()


def test_version_names_every_engine_library() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "chute", "--version"], capture_output=True, text=True, check=True
    ).stdout
    lines = out.splitlines()
    assert lines[0].startswith("chute ")
    for lib in ("libzstd", "ISA-L", "libdeflate", "lz4", "brotli", "liblzma", "libbz2"):
        assert any(line.strip().startswith(lib) for line in lines[1:]), (lib, out)
    xz = shutil.which("xz")
    if xz is not None:  # xz --version names the liblzma it runs on: the system's, as Python's lzma
        liblzma = subprocess.run([xz, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[1]
        assert f"  {liblzma}" in lines, (liblzma, out)


def test_plain_tar_runs_load_no_decoder(tmp_path: Path) -> None:
    """``ls`` and ``unpack`` of an uncompressed .tar load neither the file-object layer
    nor the stream decoder: they have nothing to decode (start-up is a good part of an
    ``ls``)."""
    import chute.tar

    plain = tmp_path / "a.tar"
    with chute.tar.open(plain, "w") as tw:
        tw.add_bytes("x", b"x")
    decoder = {"chute.api.fileobj", "chute.codecs._stream", "chute.streams.pump"}
    for argv in (("ls", str(plain)), ("unpack", str(plain), "-C", str(tmp_path / "u"))):
        assert sorted(loaded_by(tmp_path, *argv) & decoder) == [], argv
    assert (tmp_path / "u" / "x").read_bytes() == b"x"
