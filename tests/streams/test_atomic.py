"""chute.streams.atomic: outputs appear whole or not at all, and never clobber without consent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chute.streams.atomic import AtomicFile, copy_metadata


def test_commit_renames_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with AtomicFile(target) as f:
        f.write(b"payload")
        assert not target.exists()
        (only,) = tmp_path.iterdir()
        assert only.name.endswith(".chute-tmp")
    assert target.read_bytes() == b"payload"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_exception_removes_temp_and_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicFile(target, overwrite=True) as f:
        f.write(b"new but broken")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_existing_target_refused_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError), AtomicFile(target):
        pass
    assert target.read_bytes() == b"old"


def test_target_appearing_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(FileExistsError), AtomicFile(target) as f:
        f.write(b"mine")
        target.write_bytes(b"someone else's")
    assert target.read_bytes() == b"someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_mode_follows_umask_and_explicit_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with AtomicFile(tmp_path / "a") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640
    with AtomicFile(tmp_path / "b", mode=0o600) as f:
        f.write(b"x")
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o600


def test_copy_metadata(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"1")
    b.write_bytes(b"2")
    a.chmod(0o604)
    os.utime(a, ns=(1_000_000_000_123, 1_500_000_000_456))
    copy_metadata(a, b)
    assert b.stat().st_mode & 0o777 == 0o604
    assert b.stat().st_mtime_ns == 1_500_000_000_456


def test_sigterm_removes_live_temp_files(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys, time
        from chute.streams.atomic import AtomicFile, Terminated, cleanup_on_signals, die_by_signal
        cleanup_on_signals()
        try:
            with AtomicFile({str(tmp_path / "out")!r}) as f:
                f.write(b"partial")
                f.flush()
                print("ready", flush=True)
                time.sleep(30)
        except Terminated as exc:
            die_by_signal(exc.signum)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_temp_file_is_private_and_a_taken_name_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is made without tempfile (start-up): new, 0600, never an existing name."""
    from chute.streams import atomic

    names = iter([b"\x01" * 6, b"\x01" * 6, b"\x02" * 6])
    monkeypatch.setattr(atomic.os, "urandom", lambda n: next(names))
    prefix = str(tmp_path / ".out.bin.")
    fd, first = atomic._mkstemp(prefix, ".chute-tmp")
    os.close(fd)
    assert first == prefix + "010101010101.chute-tmp"
    assert os.stat(first).st_mode & 0o777 == 0o600
    fd, second = atomic._mkstemp(prefix, ".chute-tmp")  # the same name comes up first: skipped
    os.close(fd)
    assert second == prefix + "020202020202.chute-tmp"
