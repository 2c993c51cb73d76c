"""A gzip log cut by a crash: the end marker tells it from a closed one.

``CompressedFileHandler`` writes a gzip log as whole members, so a file cut between two
members decodes without an error. The start and end markers make the cut visible to
:func:`chute.logging.check_end_marker` and ``chute -t``, and stay invisible to gzip.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.errors import TruncatedStreamError
from chute.logging import CompressedFileHandler, check_end_marker
from chute.logging.endmark import END, START

ROOT = str(Path(chute.__file__).resolve().parent.parent)
CHUTE = [sys.executable, "-m", "chute"]
GZIP = shutil.which("gzip")
needs_gzip = pytest.mark.skipif(GZIP is None and os.environ.get("CI") != "true", reason="gzip not installed")


def _log(path: Path, records: list[str], **kw: object) -> list[int]:
    """Write ``records``, one gzip member each; returns the file size after each."""
    h = CompressedFileHandler(path, flush_every=1, flush_interval=None, **kw)  # type: ignore[arg-type]
    h.setFormatter(logging.Formatter("%(message)s"))
    sizes = [path.stat().st_size]
    for r in records:
        h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, r, None, None))
        sizes.append(path.stat().st_size)
    h.close()
    return sizes


@needs_gzip
def test_markers_are_empty_members_for_gzip(tmp_path: Path) -> None:
    assert GZIP is not None
    f = tmp_path / "m.gz"
    f.write_bytes(START + END)
    res = subprocess.run([GZIP, "-dc", str(f)], capture_output=True)
    assert (res.returncode, res.stdout, res.stderr) == (0, b"", b"")
    assert subprocess.run([GZIP, "-t", str(f)], capture_output=True).returncode == 0
    assert chute.decompress(START + END) == b""


@needs_gzip
def test_closed_log_passes_and_reads_the_same(tmp_path: Path) -> None:
    assert GZIP is not None
    path = tmp_path / "app.log.gz"
    _log(path, ["one", "two"])
    _log(path, ["three"])  # a second session appended
    want = b"one\ntwo\nthree\n"
    assert subprocess.run([GZIP, "-dc", str(path)], capture_output=True, check=True).stdout == want
    assert chute.open(path).read() == want
    check_end_marker(path)
    res = subprocess.run([*CHUTE, "-t", str(path)], capture_output=True)
    assert (res.returncode, res.stderr) == (0, b"")


KILLED = r"""
import logging, os, signal, sys
sys.path.insert(0, sys.argv[1])
from chute.logging import CompressedFileHandler
h = CompressedFileHandler(sys.argv[2], flush_every=1, flush_interval=None)
h.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("k"); log.addHandler(h); log.setLevel(logging.INFO)
for i in range(5):
    log.info("record %d", i)
os.kill(os.getpid(), signal.SIGKILL)
"""


@needs_gzip
def test_log_of_a_killed_writer_is_reported(tmp_path: Path) -> None:
    assert GZIP is not None
    path = tmp_path / "app.log.gz"
    res = subprocess.run([sys.executable, "-c", KILLED, ROOT, str(path)], capture_output=True)
    assert res.returncode == -signal.SIGKILL
    want = b"".join(b"record %d\n" % i for i in range(5))
    # what gzip sees: a complete file, exit 0, no hint
    assert subprocess.run([GZIP, "-dc", str(path)], capture_output=True, check=True).stdout == want
    with pytest.raises(TruncatedStreamError, match="without the end marker"):
        check_end_marker(path)
    res = subprocess.run([*CHUTE, "-t", str(path)], capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.startswith(f"chute: {path}: ends without the end marker") and res.stderr.count("\n") == 1
    # the process restarts and appends a closed session: the cut one is still reported
    _log(path, ["after restart"])
    with pytest.raises(TruncatedStreamError, match="session from byte 0 has no end marker"):
        check_end_marker(path)
    assert subprocess.run([GZIP, "-dc", str(path)], capture_output=True, check=True).stdout == want + b"after restart\n"


@needs_gzip
def test_plain_gzip_files_are_not_checked(tmp_path: Path) -> None:
    assert GZIP is not None
    path = tmp_path / "plain.gz"
    path.write_bytes(subprocess.run([GZIP, "-c"], input=b"x" * 1000, capture_output=True, check=True).stdout[:-8])
    # not a log: check_end_marker returns at once (the cut is chute -t's decoder's to find)
    check_end_marker(path)
    res = subprocess.run([*CHUTE, "-t", str(path)], capture_output=True)
    assert res.returncode == 1 and b"marker" not in res.stderr


@settings(max_examples=examples(25), deadline=None)
@given(records=st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=12), data=st.data())
def test_every_cut_at_a_member_boundary_is_reported(
    tmp_path_factory: pytest.TempPathFactory, records: list[str], data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("cut") / "app.log.gz"
    sizes = _log(path, [r.replace("\r", "") for r in records])
    whole = path.read_bytes()
    assert whole.startswith(START) and whole.endswith(END)
    check_end_marker(path)
    boundary = data.draw(st.sampled_from(sizes))  # after the start marker or after any record
    cut = path.with_name("cut.gz")
    cut.write_bytes(whole[:boundary])
    with pytest.raises(TruncatedStreamError):
        check_end_marker(cut)
    # what was written before the cut is all there
    assert chute.open(cut).read() == chute.open(path).read()[: len(chute.open(cut).read())]
