"""chute.logging: compressing rotating handlers and the live compressed handler."""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import chute
from chute.logging import CompressedFileHandler, CompressingRotatingFileHandler, CompressingTimedRotatingFileHandler


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return log


def test_stdlib_logging_not_shadowed() -> None:
    import chute.logging as cl

    assert logging.__file__ != cl.__file__
    assert logging.handlers.RotatingFileHandler is not None


@pytest.mark.parametrize(("fmt", "tool"), [("zstd", ["zstd", "-dc"]), ("gzip", ["zcat"])])
def test_many_threads_many_rotations(tmp_path: Path, fmt: str, tool: list[str]) -> None:
    path = tmp_path / "app.log"
    h = CompressingRotatingFileHandler(path, maxBytes=4000, backupCount=1000, format=fmt)
    log = _logger(f"t.many.{fmt}", h)
    n_threads, n_lines = 8, 400

    def work(t: int) -> None:
        for i in range(n_lines):
            log.info("thread %d line %05d %s", t, i, "x" * (i % 37))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    h.wait()
    h.close()
    suffix = ".zst" if fmt == "zstd" else ".gz"
    backups = sorted(tmp_path.glob("app.log.*" + suffix), key=lambda p: -int(p.name.split(".")[2]))
    assert len(backups) > 20
    assert not list(tmp_path.glob("*rotating*")) and not list(tmp_path.glob(".*"))
    text = b"".join(subprocess.run([*tool, str(b)], capture_output=True, check=True).stdout for b in backups)
    text += path.read_bytes()
    lines = text.decode().splitlines()
    assert len(lines) == n_threads * n_lines
    for tid in range(n_threads):
        mine = [line for line in lines if line.startswith(f"thread {tid} ")]
        assert [int(line.split()[3]) for line in mine] == list(range(n_lines))  # each once, in order
    # the library reads them the same way
    assert b"".join(chute.open(b).read() for b in backups) + path.read_bytes() == text


def test_backup_count_limits_compressed_files(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    h = CompressingRotatingFileHandler(path, maxBytes=100, backupCount=3, format="zstd", compresslevel=3)
    log = _logger("t.count", h)
    for i in range(50):
        log.info("line %03d %s", i, "y" * 40)
        h.wait()  # one rotation at a time so the newest backups are known exactly
    h.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["app.log", "app.log.1.zst", "app.log.2.zst", "app.log.3.zst", "app.log.lock"]
    last = [chute.open(tmp_path / f"app.log.{i}.zst").read().decode() for i in (3, 2, 1)]
    assert (
        "".join(last).splitlines()[-1] + "\n" + path.read_text()
        == "".join(f"line {i:03d} {'y' * 40}\n" for i in range(50))[
            -(len("".join(last).splitlines()[-1]) + 1 + len(path.read_text())) :
        ]
    )


def test_log_call_does_not_wait_on_compression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import chute.logging._rotation as rot

    gate = threading.Event()
    real = rot.compress_fd

    def slow(*a: object) -> None:
        gate.wait(10)
        real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(rot, "compress_fd", slow)
    h = CompressingRotatingFileHandler(tmp_path / "a.log", maxBytes=50, backupCount=5, max_pending=100)
    log = _logger("t.nowait", h)
    t0 = time.monotonic()
    for _ in range(20):
        log.info("%s", "z" * 60)  # a rollover each call, compression blocked
    assert time.monotonic() - t0 < 2
    assert len(list(tmp_path.glob("a.log.rotating-*"))) >= 19  # plain files waiting, none lost
    gate.set()
    h.wait()
    h.close()
    assert len(list(tmp_path.glob("a.log.*.zst"))) == 5


CHILD = r"""
import logging, sys, os
sys.path.insert(0, {root!r})
from chute.logging import CompressingRotatingFileHandler
import chute.logging._rotation as rot
def slow(fd, dst, fmt, lvl):
    print("compressing", flush=True)
    import time; time.sleep(60)
rot.compress_fd = slow
h = CompressingRotatingFileHandler({path!r}, maxBytes=200, backupCount=10, max_pending=100)
h.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("child"); log.addHandler(h); log.setLevel(logging.INFO)
for i in range(30):
    log.info("line %03d %s", i, "w" * 30)
h.stream.flush()
print("done", flush=True)
import time; time.sleep(60)
"""


def test_sigkill_during_compression_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    code = CHILD.format(root=str(Path(chute.__file__).parent.parent), path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = ""
    while "done" not in seen:
        seen += proc.stdout.readline()
    # leave a torn temp file too, like a compression killed halfway
    first = sorted(tmp_path.glob("app.log.rotating-*"))[0]
    (tmp_path / f".{first.name}.zst.0123456789ab.chute-tmp").write_bytes(b"\x28\xb5")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert list(tmp_path.glob("app.log.rotating-*"))
    h = CompressingRotatingFileHandler(path, maxBytes=200, backupCount=10)  # restart recovers
    h.wait()
    h.close()
    assert not list(tmp_path.glob("*rotating*")) and not list(tmp_path.glob(".*"))
    backups = [tmp_path / f"app.log.{i}.zst" for i in range(10, 0, -1)]
    text = "".join(chute.open(b).read().decode() for b in backups if b.exists()) + path.read_text()
    assert text == "".join(f"line {i:03d} {'w' * 30}\n" for i in range(30))[-len(text) :]
    assert text.startswith("line 00") and len(text.splitlines()) >= 20


def test_recovery_after_compressed_but_plain_not_removed(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    plain = tmp_path / "app.log.rotating-00000000000000000005"
    plain.write_text("hello\n")
    (tmp_path / (plain.name + ".zst")).write_bytes(chute.compress(b"hello\n"))
    h = CompressingRotatingFileHandler(path, maxBytes=100, backupCount=2)
    h.wait()
    h.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1.zst", "app.log.lock"]
    assert chute.open(tmp_path / "app.log.1.zst").read() == b"hello\n"


def test_recovery_installs_compressed_leftover(tmp_path: Path) -> None:
    (tmp_path / "app.log.1.zst").write_bytes(chute.compress(b"older\n"))
    (tmp_path / "app.log.rotating-00000000000000000007.zst").write_bytes(chute.compress(b"newer\n"))
    h = CompressingRotatingFileHandler(tmp_path / "app.log", maxBytes=100, backupCount=3)
    h.wait()
    h.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1.zst", "app.log.2.zst", "app.log.lock"]
    assert chute.open(tmp_path / "app.log.1.zst").read() == b"newer\n"
    assert chute.open(tmp_path / "app.log.2.zst").read() == b"older\n"


def test_rotation_shifts_only_its_own_backups(tmp_path: Path) -> None:
    # Names that look like backups but are not ours (a leading zero, not a number, beyond
    # backupCount, another suffix) are never moved or deleted.
    foreign = ["app.log.01.zst", "app.log.x.zst", "app.log.7.zst", "app.log.2.gz", "app.log.0.zst"]
    for name in foreign:
        (tmp_path / name).write_bytes(name.encode())
    h = CompressingRotatingFileHandler(tmp_path / "app.log", maxBytes=10, backupCount=3)
    for i in range(5):
        h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, f"line {i} padding", None, None))
        h.wait()
    h.close()
    for name in foreign:
        assert (tmp_path / name).read_bytes() == name.encode()
    ours = sorted(p.name for p in tmp_path.iterdir() if p.name not in foreign)
    assert ours == ["app.log", "app.log.1.zst", "app.log.2.zst", "app.log.3.zst", "app.log.lock"]
    texts = [chute.open(tmp_path / f"app.log.{i}.zst").read() for i in (1, 2, 3)]
    assert texts == [f"line {i} padding\n".encode() for i in (3, 2, 1)]


def test_timed_handler(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    h = CompressingTimedRotatingFileHandler(path, when="S", backupCount=2, format="gzip")
    log = _logger("t.timed", h)
    want = []
    now = int(time.time())
    for i in range(6):
        h.rolloverAt = now - 100 + 10 * i  # force a rollover at this record, named 10 s after the last
        log.info("tick %d", i)
        want.append(f"tick {i}")
        h.wait()
    h.wait()
    h.close()
    gz = sorted(tmp_path.glob("t.log.*.gz"))
    assert len(gz) == 2, sorted(tmp_path.iterdir())
    assert not [p for p in tmp_path.iterdir() if not p.name.endswith(".gz") and p.name not in ("t.log", "t.log.lock")]
    got = b"".join(subprocess.run(["zcat", str(p)], capture_output=True, check=True).stdout for p in gz)
    lines = (got + path.read_bytes()).decode().splitlines()
    assert lines == want[-3:]  # two compressed backups (one record each) and the live file


def test_compressed_file_handler_live(tmp_path: Path) -> None:
    path = tmp_path / "live.log.zst"
    h = CompressedFileHandler(path, flush_interval=0.05)
    log = _logger("t.live", h)
    log.info("first")
    time.sleep(0.3)
    # the real zstd reads it while it is written (it reports the missing end on stderr)
    res = subprocess.run(["zstd", "-dc", str(path)], capture_output=True)
    assert res.stdout == b"first\n"
    log.info("second")
    h.flush()
    res = subprocess.run(["zstd", "-dc", str(path)], capture_output=True)
    assert res.stdout == b"first\nsecond\n"
    h.close()
    assert subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout == b"first\nsecond\n"
    h2 = CompressedFileHandler(path, format="zstd")  # append: a new frame
    _logger("t.live", h2).info("third")
    h2.close()
    assert chute.open(path).read() == b"first\nsecond\nthird\n"


def test_compressed_file_handler_gzip_zcat(tmp_path: Path) -> None:
    path = tmp_path / "live.log.gz"
    h = CompressedFileHandler(path, mode="w", flush_every=1, compresslevel=1)
    log = _logger("t.livegz", h)
    log.info("héllo")
    assert subprocess.run(["zcat", str(path)], capture_output=True).stdout == "héllo\n".encode()
    h.close()


def test_sequence_naming_never_renames_a_backup(tmp_path: Path) -> None:
    h = CompressingRotatingFileHandler(tmp_path / "app.log", maxBytes=10, backupCount=4, naming="sequence")
    inodes: dict[str, int] = {}
    for i in range(9):
        h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, f"line {i} padding", None, None))
        h.wait()
        for p in tmp_path.glob("app.log.*.zst"):
            assert inodes.setdefault(p.name, p.stat().st_ino) == p.stat().st_ino  # same file, same name
    h.close()
    names = sorted(p.name for p in tmp_path.glob("app.log.*.zst"))
    assert names == [f"app.log.{n:08d}.zst" for n in range(5, 9)]  # the newest 4, oldest removed
    assert [chute.open(tmp_path / n).read() for n in names] == [f"line {i} padding\n".encode() for i in range(4, 8)]
    assert (tmp_path / "app.log").read_text() == "line 8 padding\n"


@pytest.mark.parametrize("naming", ["shift", "sequence"])
def test_back_pressure_bounds_the_rotated_files_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, naming: str
) -> None:
    import chute.logging._rotation as rot

    real = rot.compress_fd

    def slow(*a: object) -> None:
        time.sleep(0.02)  # a compression slower than the logger
        real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(rot, "compress_fd", slow)
    h = CompressingRotatingFileHandler(tmp_path / "a.log", maxBytes=50, backupCount=1000, naming=naming, max_pending=3)
    most = 0
    for i in range(60):  # a rotation at every record
        h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, f"{i:03d} " + "z" * 60, None, None))
        most = max(most, len(list(tmp_path.glob("a.log.rotating-*"))))
    h.close()
    assert most <= 3
    assert len(list(tmp_path.glob("a.log.*.zst"))) == 59


def test_timed_rotation_never_overwrites_an_existing_backup(tmp_path: Path) -> None:
    # Another process rotated for this interval already: its backup must survive.
    path = tmp_path / "t.log"
    h = CompressingTimedRotatingFileHandler(path, when="S", backupCount=0, format="gzip")
    h.rolloverAt = int(time.time()) - 5
    stamp = time.strftime(h.suffix, time.localtime(h.rolloverAt - h.interval))
    theirs = tmp_path / f"t.log.{stamp}.gz"
    theirs.write_bytes(chute.compress(b"another process\n", format="gzip"))
    _logger("t.timed.exists", h).info("mine")
    h.close()
    assert chute.open(theirs).read() == b"another process\n"
    assert path.read_text() == "mine\n"


def test_sequence_naming_recovers_a_rotated_file_left_plain(tmp_path: Path) -> None:
    (tmp_path / "app.log.rotating-00000000000000000007").write_text("left by a killed process\n")
    (tmp_path / ".app.log.00000007.zst.0123456789ab.chute-tmp").write_bytes(b"\x28\xb5")  # its torn compression
    h = CompressingRotatingFileHandler(tmp_path / "app.log", maxBytes=1000, backupCount=5, naming="sequence")
    h.wait()
    _logger("t.seq.recover", h).info("next")
    h.doRollover()
    h.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["app.log", "app.log.00000007.zst", "app.log.00000008.zst", "app.log.lock"]
    assert chute.open(tmp_path / "app.log.00000007.zst").read() == b"left by a killed process\n"
    assert chute.open(tmp_path / "app.log.00000008.zst").read() == b"next\n"


def _torn_temp(dst: Path) -> str:
    """The temporary file AtomicFile makes for ``dst``, left as a killed compression leaves it."""
    from chute.streams import atomic

    a = atomic.AtomicFile(dst, overwrite=True)
    f = a.__enter__()
    f.write(b"\x28\xb5\x2f\xfd")
    f.close()
    assert a.tmp is not None
    atomic._LIVE.discard(a.tmp)
    return os.path.basename(a.tmp)


LONG_BASE = "l" * 206 + ".log"  # its rotated files' temporary names pass 255 bytes: shortened


def test_recovery_removes_shortened_torn_temp(tmp_path: Path) -> None:
    """A compression killed halfway leaves the plain rotated file and a torn temporary file;
    the next handler compresses the plain file again and removes the torn one, also where
    the name was too long to spell in the temporary name."""
    plain = tmp_path / (LONG_BASE + ".rotating-00000000000000000003")
    plain.write_text("kept\n")
    torn = _torn_temp(tmp_path / (plain.name + ".zst"))
    assert not torn.startswith(f".{plain.name}.zst.")  # the long name was shortened
    h = CompressingRotatingFileHandler(tmp_path / LONG_BASE, maxBytes=100, backupCount=2)
    h.wait()
    h.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LONG_BASE, LONG_BASE + ".1.zst", LONG_BASE + ".lock"]
    assert chute.open(tmp_path / (LONG_BASE + ".1.zst")).read() == b"kept\n"


def test_recovery_removes_shortened_orphan_temp(tmp_path: Path) -> None:
    """A torn temporary file whose plain file is gone (compressed by another process) is
    removed at start-up, long name or not."""
    done = tmp_path / (LONG_BASE + ".rotating-00000000000000000004.zst")
    done.write_bytes(chute.compress(b"done\n", format="zstd"))
    torn = _torn_temp(done)
    assert not torn.startswith(f".{done.name}.")  # the long name was shortened
    h = CompressingRotatingFileHandler(tmp_path / LONG_BASE, maxBytes=100, backupCount=5)
    h.wait()
    h.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LONG_BASE, LONG_BASE + ".1.zst", LONG_BASE + ".lock"]
    assert chute.open(tmp_path / (LONG_BASE + ".1.zst")).read() == b"done\n"


@pytest.mark.parametrize("handler", ["size", "time"])
def test_device_log_is_never_rotated(tmp_path: Path, handler: str) -> None:
    """Logging to a device (a /dev/null twin made here) writes into it; even an explicit
    rollover leaves the device node in place, as the size and time checks do."""
    import stat

    if os.geteuid() != 0:
        pytest.skip("making a device node (mknod) needs root")
    dev = tmp_path / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    h: CompressingRotatingFileHandler | CompressingTimedRotatingFileHandler
    if handler == "size":
        h = CompressingRotatingFileHandler(dev, maxBytes=10, backupCount=3)
    else:
        h = CompressingTimedRotatingFileHandler(dev, when="S", backupCount=3)
    h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, "longer than ten bytes", None, None))
    h.doRollover()
    h.emit(logging.LogRecord("t", logging.INFO, __file__, 0, "after the rollover", None, None))
    h.wait()
    h.close()
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and os.lstat(dev).st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "null.lock"]
