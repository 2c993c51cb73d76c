"""The writer thread of ``Extractor.extract_all``: small files are made on a second thread
while the main thread reads the next headers. Whatever the thread does, the outcome is the
one of the same extraction without it (``threaded = False``): the same files, the same
warnings and counts, the same error naming the same member, no partial or temporary file,
nothing left registered for removal, the same names listed by ``-v``; and on the command
line, a full disk is one line and exit status 1, ``-v`` listing only the members begun."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from chute.streams.atomic import _LIVE
from chute.tar.select import SelectingExtractor

FILES = 300  # more than a few batches of the writer thread


def _archive(files: int = FILES, folders: int = 7) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for i in range(files):
            ti = tarfile.TarInfo(f"d{i % folders}/f{i}")
            data = bytes([65 + i % 26]) * (i % 1500 + 1)
            ti.size, ti.mtime, ti.mode = len(data), 1_600_000_000 + i, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()
    }


def _run(data: bytes, target: Path, threaded: bool, fail: Any = None, **kw: Any) -> tuple[Any, ...]:
    """Extract ``data`` into ``target``; ``fail(path)`` may raise in place of ``os.open``
    of a file or ``os.write`` of its data. The tree, warnings, counts, error and the names
    ``-v`` listed."""
    warnings: list[str] = []
    listed: list[str] = []
    real_open, real_write = os.open, os.write
    opened: dict[int, str] = {}

    def fake_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if fail is not None and flags & os.O_CREAT:
            fail("open", path)
        fd = real_open(path, flags, mode, dir_fd=dir_fd)
        opened[fd] = path
        return fd

    def fake_write(fd: int, b: Any) -> int:
        if fail is not None and fd in opened:
            fail("write", opened[fd])
        return real_write(fd, b)

    error = None
    mp = pytest.MonkeyPatch()
    mp.setattr(os, "open", fake_open)
    mp.setattr(os, "write", fake_write)
    try:
        with SelectingExtractor(target, warn=warnings.append, verbose=listed.append, **kw) as ex:
            ex.threaded = threaded
            try:
                ex.extract_all(io.BytesIO(data))
            except (OSError, Exception) as exc:
                error = f"{type(exc).__name__}: {exc}"
    finally:
        mp.undo()
    leftovers = [p.name for p in target.rglob(".chute-*")]
    assert not leftovers
    assert not any(p.startswith(str(target)) for p in _LIVE)
    s = ex.stats
    counts = (s.members, s.bytes, s.refused, s.failed)
    return _tree(target), warnings, counts, error, listed


def _both(tmp_path: Path, data: bytes, fail: Any = None, prepare: Any = None, **kw: Any) -> tuple[Any, ...]:
    """The outcome with the writer thread, checked equal to the one without; ``fail()``
    makes the ``fail`` function of each run."""
    outcomes = []
    for threaded in (True, False):
        target = tmp_path / f"t{threaded}"
        target.mkdir()
        if prepare is not None:
            prepare(target)
        outcomes.append(_run(data, target, threaded, fail() if fail is not None else None, **kw))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


def _used(target: Path) -> None:
    """A target that holds a file: there files are made under temporary names."""
    (target / "x").touch()
    os.utime(target / "x", ns=(0, 0))


@pytest.mark.parametrize("where", ["open", "write"])
@pytest.mark.parametrize("at", [0, 1, 63, 64, 150, FILES - 1])
@pytest.mark.parametrize("used", [False, True], ids=["empty-target", "used-target"])
def test_disk_full_stops_at_that_member(tmp_path: Path, where: str, at: int, used: bool) -> None:
    """ENOSPC on the file of member ``at`` (the ``at``-th file created: files are made in
    archive order): the members before it are whole, nothing of it or after it is made,
    and the error names it."""

    def make() -> Any:
        created: list[str] = []

        def fail(what: str, path: str) -> None:
            if what == "open":
                created.append(path)
            if what == where and len(created) > at and path in created[at:]:  # full from there on
                raise OSError(errno.ENOSPC, "No space left on device")

        return fail

    tree, _, counts, error, listed = _both(tmp_path, _archive(), make, prepare=_used if used else None)
    assert error is not None and error.startswith("OSError") and f"d{at % 7}/f{at}" in error and "No space" in error
    assert sorted(int(k.rpartition("f")[2]) for k in tree if k != "x") == list(range(at))
    # -v lists the files made, then the one the error names; none of those read ahead
    # and never begun, and the counts are of the members listed
    assert listed == [f"d{i % 7}/f{i}" for i in range(at + 1)]
    assert counts[0] == at + 1 and counts[1] == sum(i % 1500 + 1 for i in range(at + 1))


def test_the_extractor_counts_what_it_made(tmp_path: Path) -> None:
    """A whole extraction: -v lists every member once, in archive order, and the counts
    are those of the archive (with and without the thread)."""
    tree, warnings, counts, error, listed = _both(tmp_path, _archive())
    assert error is None and not warnings and len(tree) == FILES
    assert listed == [f"d{i % 7}/f{i}" for i in range(FILES)]
    assert counts == (FILES, sum(i % 1500 + 1 for i in range(FILES)), 0, 0)


@pytest.mark.parametrize("strict", [False, True])
def test_a_member_the_system_refuses_is_skipped_or_stops(tmp_path: Path, strict: bool) -> None:
    """EACCES on one file: a warning naming it and the rest extracted, or with ``strict``
    the error there; the same with and without the thread."""

    def fail(what: str, path: str) -> None:
        if what == "open" and path == "f100":
            raise PermissionError(errno.EACCES, "Permission denied")

    tree, warnings, counts, error, listed = _both(tmp_path, _archive(), lambda: fail, strict=strict)
    assert listed == [f"d{i % 7}/f{i}" for i in range(101 if strict else FILES)]
    if strict:
        assert error is not None and "Permission denied" in error and len(tree) == 100
        assert "'d2/f100'" in error and counts[0] == 101  # named after the member
    else:
        assert warnings == ["d2/f100: permission denied; skipped"] and counts[3] == 1
        assert len(tree) == FILES - 1 and error is None


def test_a_file_then_a_folder_of_its_name(tmp_path: Path) -> None:
    """A folder needed under the name of a file still in the queue: the file is made
    first, so the later member is refused as without the thread."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name in ("a", "a/b", "c"):
            ti = tarfile.TarInfo(name)
            ti.size = 1
            tf.addfile(ti, io.BytesIO(b"1"))
    tree, warnings, _, error, _ = _both(tmp_path, buf.getvalue())
    assert sorted(tree) == ["a", "c"] and len(warnings) == 1 and "'a'" in warnings[0] and error is None


@pytest.mark.parametrize("used", [False, True], ids=["empty-target", "used-target"])
def test_a_large_member_after_a_small_one_of_the_same_name_wins(tmp_path: Path, used: bool) -> None:
    """A member seen twice, first small (queued), then over 1 MiB (written on the main
    thread): the later one is what stays, as without the thread."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for data in (b"small", b"L" * (2 << 20)):
            ti = tarfile.TarInfo("d/a")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    tree, _, _, error, _ = _both(tmp_path, buf.getvalue(), prepare=_used if used else None)
    assert tree["d/a"][0] == b"L" * (2 << 20) and error is None


def test_truncated_archive_makes_the_files_before(tmp_path: Path) -> None:
    data = _archive()
    cut = data[: len(data) // 2 + 100]
    tree, _, counts, error, listed = _both(tmp_path, cut)
    assert error is not None and "archive ends inside" in error and len(tree) > 64
    made = sorted(tree, key=lambda k: int(k.rpartition("f")[2]))
    assert listed[: len(made)] == made and len(listed) - len(made) in (0, 1) and counts[0] == len(listed)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Any:
    where = tmp_path / "small"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip() or r.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)


def test_unpack_into_a_full_disk_is_one_line(tmp_path: Path, small_tmpfs: Path) -> None:
    """``chute unpack -v`` of 600 small files (about 440 kB, in many batches) into a 256 KiB
    tmpfs: one line naming the archive and a member, exit status 1, no traceback, no
    temporary file, and every file left is whole. ``-v`` lists the files made, in order,
    then the member the error names: none of those read ahead and never begun."""
    arc = tmp_path / "a.tar"
    arc.write_bytes(_archive(FILES * 2))
    r = subprocess.run(
        [sys.executable, "-m", "chute", "unpack", "-v", str(arc), "-C", str(small_tmpfs)], capture_output=True
    )
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("chute: ") and "a.tar: d" in err and "no space left" in err.lower()
    assert not list(small_tmpfs.rglob(".chute-*"))
    made = sorted((p for p in small_tmpfs.rglob("f*")), key=lambda p: int(p.name[1:]))
    for p in made:
        i = int(p.name[1:])
        assert p.read_bytes() == bytes([65 + i % 26]) * (i % 1500 + 1)
    failed = err.split(": ")[2]
    assert r.stdout.decode().splitlines() == [str(p.relative_to(small_tmpfs)) for p in made] + [failed]
