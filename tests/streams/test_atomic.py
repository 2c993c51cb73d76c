"""chute.streams.atomic: outputs appear whole or not at all, and never clobber without consent."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.streams.atomic import AtomicFile, copy_metadata, temp_prefix


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
    # the default action, whatever this process inherited: an ignored SIGTERM stays ignored
    default = lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, preexec_fn=default)
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
    fd, first = atomic._mkstemp(str(tmp_path), ".out.bin.", ".chute-tmp")
    os.close(fd)
    assert first == prefix + "010101010101.chute-tmp"
    assert os.stat(first).st_mode & 0o777 == 0o600
    fd, second = atomic._mkstemp(str(tmp_path), ".out.bin.", ".chute-tmp")  # the same name comes up first: skipped
    os.close(fd)
    assert second == prefix + "020202020202.chute-tmp"


NAME_MAX = 255


def _long_names() -> list[str]:
    """Names from 228 to 251 bytes (a temporary name used to add 24 and pass 255), ASCII and
    with multi-byte characters that must not be cut in half."""
    names = ["n" * size for size in (228, 240, 251)]
    names += ["é" * 114, "x" + "日本" * 41 + "z"]  # 228 and 248 bytes in UTF-8
    return names


@pytest.mark.parametrize("name", _long_names(), ids=lambda n: f"{len(os.fsencode(n))}B")
def test_outputs_with_names_near_the_limit_are_written(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    assert len(os.fsencode(name)) <= NAME_MAX
    seen: list[str] = []
    with AtomicFile(target) as f:
        seen = os.listdir(tmp_path)
        f.write(b"data")
    assert target.read_bytes() == b"data"
    assert os.listdir(tmp_path) == [name]
    (tmp,) = seen
    assert len(os.fsencode(tmp)) <= NAME_MAX
    assert tmp.startswith("." + name[:60]) and tmp.endswith(".chute-tmp")
    tmp.encode("utf-8")  # cut between characters: still valid text


def test_shortened_temporary_names_stay_unique(tmp_path: Path) -> None:
    """Two outputs whose names differ only past the cut get different temporary files."""
    a, b = "k" * 250 + "a", "k" * 250 + "b"
    with AtomicFile(tmp_path / a) as fa, AtomicFile(tmp_path / b) as fb:
        temps = os.listdir(tmp_path)
        assert len(temps) == 2 and temps[0] != temps[1]
        fa.write(b"A")
        fb.write(b"B")
    assert (tmp_path / a).read_bytes() == b"A" and (tmp_path / b).read_bytes() == b"B"


@pytest.mark.parametrize("size", [228, 240, 251])
@pytest.mark.parametrize(("fmt", "suffix", "tool"), [("zstd", ".zst", "zstd"), ("gzip", ".gz", "gzip")])
def test_cli_compresses_and_decompresses_names_near_the_limit(
    tmp_path: Path, size: int, fmt: str, suffix: str, tool: str
) -> None:
    """What zstd and gzip do: a file whose compressed name still fits is compressed and
    restored, both ways with the reference tool."""
    import shutil

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    name = tmp_path / ("L" * size)
    data = os.urandom(1000) * 50
    name.write_bytes(data)
    chute = [sys.executable, "-m", "chute"]
    r = subprocess.run([*chute, "-F", fmt, "-q", str(name)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    packed = Path(str(name) + suffix)
    assert subprocess.run([tool, "-dc", str(packed)], capture_output=True, check=True).stdout == data
    name.unlink()
    r = subprocess.run([*chute, "-d", "-q", str(packed)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert name.read_bytes() == data
    # and a file the reference tool wrote
    packed.unlink()
    subprocess.run([tool, "-q", str(name)], check=True)
    r = subprocess.run([*chute, "-d", "-q", "-f", str(packed)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert name.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name.name, packed.name])


def _ignore_hangup_and_interrupt() -> None:
    """What ``nohup`` and a shell's background job do before chute starts."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_signals_ignored_at_start_stay_ignored(tmp_path: Path) -> None:
    """Like gzip: started under nohup (SIGHUP ignored) or in the background (SIGINT
    ignored), chute outlives the terminal and Ctrl-C, and its output is complete."""
    import time

    import chute

    out = tmp_path / "out.zst"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chute", "-o", str(out), "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ignore_hangup_and_interrupt,
    )
    assert proc.stdin is not None and proc.stderr is not None
    data = os.urandom(100_000) * 20
    try:
        proc.stdin.write(data[:1_000_000])
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while not any(p.name.endswith(".chute-tmp") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "temp file never appeared"
            time.sleep(0.02)
        proc.send_signal(signal.SIGHUP)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        proc.stdin.write(data[1_000_000:])
        proc.stdin.close()
        proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == 0, err
    assert chute.decompress(out.read_bytes()) == data


# -- targets that are not regular files: written in place, never replaced


def _null_twin(path: Path) -> Path:
    """A character device like /dev/null (1, 3) at ``path``, in the test's own folder."""
    if os.geteuid() != 0:
        pytest.skip("making a device node (mknod) needs root")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


@pytest.mark.parametrize("overwrite", [False, True])
def test_device_is_written_in_place(tmp_path: Path, overwrite: bool) -> None:
    dev = _null_twin(tmp_path / "null")
    before = os.lstat(dev)
    with AtomicFile(dev, overwrite=overwrite, mode=0o600, fsync=True) as f:
        f.write(b"x" * 100_000)
        assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file
    after = os.lstat(dev)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_device_survives_an_error(tmp_path: Path) -> None:
    dev = _null_twin(tmp_path / "null")
    ino = os.lstat(dev).st_ino
    with pytest.raises(RuntimeError), AtomicFile(dev, overwrite=True) as f:
        f.write(b"partial")
        raise RuntimeError("boom")
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and os.lstat(dev).st_ino == ino


def test_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        with AtomicFile(fifo) as f:
            f.write(b"through the pipe")
        out, _ = reader.communicate(timeout=20)
    finally:
        if reader.poll() is None:  # a reader nobody wrote to
            reader.kill()
            reader.wait()
    assert out == b"through the pipe"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_symlink_to_device_is_followed(tmp_path: Path) -> None:
    _null_twin(tmp_path / "null")
    (tmp_path / "link").symlink_to("null")
    with AtomicFile(tmp_path / "link") as f:
        f.write(b"gone")
    assert os.readlink(tmp_path / "link") == "null"
    assert stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)


def test_symlink_to_regular_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "old").write_bytes(b"old")
    (tmp_path / "link").symlink_to("old")
    with pytest.raises(FileExistsError), AtomicFile(tmp_path / "link"):
        pass
    with AtomicFile(tmp_path / "link", overwrite=True) as f:
        f.write(b"new")
    assert not (tmp_path / "link").is_symlink()
    assert (tmp_path / "link").read_bytes() == b"new"
    assert (tmp_path / "old").read_bytes() == b"old"


def test_temp_prefix_matches_the_temporary_files_made(tmp_path: Path) -> None:
    for name in ("short.log.1.zst", "n" * 240 + ".log.1.zst", "é" * 120 + ".zst"):
        with AtomicFile(tmp_path / name) as f:
            (tmp,) = (p.name for p in tmp_path.iterdir() if p.name.endswith(".chute-tmp"))
            assert tmp.startswith(temp_prefix(tmp_path / name))
            assert len(tmp) == len(temp_prefix(tmp_path / name)) + 12 + len(".chute-tmp")
            f.write(b"x")


def test_shortened_prefixes_tell_targets_apart(tmp_path: Path) -> None:
    """Names that differ only past the cut get different prefixes (a hash of the whole
    name), so a temporary file can be traced to its target without listing it."""
    a, b = tmp_path / ("k" * 250 + "a"), tmp_path / ("k" * 250 + "b")
    assert temp_prefix(a) != temp_prefix(b)
    assert temp_prefix(a).startswith("." + "k" * 200) and temp_prefix(a).endswith(".")
    assert temp_prefix(tmp_path / "short.zst") == ".short.zst."


_NAME_CHARS = st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",))
#: any name, and names near the limit (only those are shortened) that end differently
_NAMES = st.one_of(
    st.text(_NAME_CHARS, min_size=1, max_size=255),
    st.tuples(st.integers(200, 250), st.text(_NAME_CHARS, max_size=20)).map(lambda t: "n" * t[0] + t[1]),
)


@settings(max_examples=examples(200), deadline=None)
@given(a=_NAMES, b=_NAMES)
def test_temp_prefix_fits_and_differs(tmp_path_factory: pytest.TempPathFactory, a: str, b: str) -> None:
    folder = tmp_path_factory.getbasetemp()
    names = [n for n in (a, b) if len(os.fsencode(n)) <= NAME_MAX and n not in (".", "..")]
    prefixes = [temp_prefix(folder / n) for n in names]
    for p in prefixes:
        assert len(os.fsencode(p)) + 12 + len(".chute-tmp") <= NAME_MAX
        p.encode("utf-8")  # never cut inside a character
    if len(names) == 2 and a != b:
        assert prefixes[0] != prefixes[1]


def test_target_that_stopped_being_special_goes_through_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device replaced by a regular file (or removed) between the check and the open is
    not written in place: the rules of regular files apply again."""
    from chute.streams import atomic

    monkeypatch.setattr(atomic, "writes_in_place", lambda path: True)  # the check saw a device
    regular, gone = tmp_path / "regular", tmp_path / "gone"
    regular.write_bytes(b"old")
    with pytest.raises(FileExistsError), AtomicFile(regular):
        pass
    with AtomicFile(regular, overwrite=True) as f:
        f.write(b"new")
    with AtomicFile(gone) as g:
        g.write(b"fresh")
    assert regular.read_bytes() == b"new" and gone.read_bytes() == b"fresh"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone", "regular"]
