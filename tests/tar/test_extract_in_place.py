"""``Extractor.extract_all`` reads a compressed archive (a ``ReadAhead``) in place, from
copies of its decoded chunks, and gives ``fp`` back what it took before anything else
reads it (the general path, a file too large for the writer thread, a member not chosen).
Whatever the chunk size, and wherever the archive is cut, the outcome is the one of the
same archive read from a plain file object: the same files, warnings, counts, error and
``-v`` names, with and without the writer thread."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tar_writer_thread import _tree

import chute.tar.extract as extract_mod
from chute.errors import ChuteError
from chute.streams.readahead import ReadAhead
from chute.tar import TarWriter
from chute.tar.header import Member
from chute.tar.select import SelectingExtractor, Selection

# member: (folder index, size, kind): "f" a file, "d" a folder member, "l" a symlink (general path)
member = st.tuples(st.integers(0, 2), st.integers(0, 3000), st.sampled_from("ffffdl"))


def _archive(spec: list[tuple[int, int, str]], chute_made: bool) -> bytes:
    """The members of ``spec`` (name ``dK/mI``), as chute writes them (a pax header with the
    mtime before each) or as GNU tar does (tarfile's GNU format)."""
    buf = io.BytesIO()
    if chute_made:
        with TarWriter(buf) as tw:
            for i, (k, size, kind) in enumerate(spec):
                mtime = 1_600_000_000 + i + 0.25
                if kind == "f":
                    tw.add_bytes(f"d{k}/m{i}", bytes([65 + i % 26]) * size, mtime=mtime)
                elif kind == "d":
                    tw.add(Member(f"d{k}/m{i}", b"5", 0o755, 0, int(mtime * 10**9)))
                else:
                    tw.add(Member(f"d{k}/m{i}", b"2", 0o777, 0, int(mtime * 10**9), linkname="x"))
        return buf.getvalue()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for i, (k, size, kind) in enumerate(spec):
            ti = tarfile.TarInfo(f"d{k}/m{i}")
            ti.mtime = 1_600_000_000 + i
            if kind == "f":
                ti.size = size
                tf.addfile(ti, io.BytesIO(bytes([65 + i % 26]) * size))
            else:
                ti.type = tarfile.DIRTYPE if kind == "d" else tarfile.SYMTYPE
                ti.linkname = "x" if kind == "l" else ""
                tf.addfile(ti)
    return buf.getvalue()


def _outcome(data: bytes, target: Path, chunk: int | None, threaded: bool, chosen: str | None) -> tuple[Any, ...]:
    fp: Any = io.BytesIO(data) if chunk is None else ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2)
    warnings: list[str] = []
    listed: list[str] = []
    selection = Selection([chosen]) if chosen else None
    error = None
    try:
        with SelectingExtractor(target, selection, warn=warnings.append, verbose=listed.append) as ex:
            ex.threaded = threaded
            try:
                ex.extract_all(fp)
            except (ChuteError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
    finally:
        if chunk is not None:
            fp.close()
    s = ex.stats
    return _tree(target), warnings, (s.members, s.bytes, s.refused, s.failed, s.warnings), error, listed


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=st.lists(member, min_size=2, max_size=12),
    chute_made=st.booleans(),
    chunk=st.integers(1, 4000),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    threaded=st.booleans(),
    chosen=st.sampled_from([None, "d1"]),
    queued_max=st.sampled_from([1 << 20, 1024]),
)
def test_in_place_reading_is_the_plain_reading(
    spec: list[tuple[int, int, str]],
    chute_made: bool,
    chunk: int,
    cut: float | None,
    threaded: bool,
    chosen: str | None,
    queued_max: int,
) -> None:
    data = _archive(spec, chute_made)
    if cut is not None:
        data = data[: int(len(data) * cut)]
    mp = pytest.MonkeyPatch()
    mp.setattr(extract_mod, "_QUEUED_MAX", queued_max)  # 1024: most files on the main thread (copy_member)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plain = _outcome(data, Path(tmp, "plain"), None, threaded, chosen)
            in_place = _outcome(data, Path(tmp, "in-place"), chunk, threaded, chosen)
    finally:
        mp.undo()
    assert in_place == plain
