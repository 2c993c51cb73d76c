"""The main ``chute`` command, run as a real subprocess (exit codes, files, pipes)."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]
DATA = b"".join(b"line %d of a log file, with some repetition\n" % i for i in range(50_000))


def run(*args: str, input: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, *args], input=input, capture_output=True, cwd=cwd, timeout=60)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "data.log"
    p.write_bytes(DATA)
    os.chmod(p, 0o640)
    os.utime(p, (1_600_000_000, 1_600_000_000))
    return p


def test_compress_file_keeps_source_and_copies_metadata(src: Path) -> None:
    r = run(str(src))
    assert r.returncode == 0, r.stderr
    out = src.with_name("data.log.zst")
    assert src.exists()
    st = out.stat()
    assert st.st_mode & 0o777 == 0o640
    assert int(st.st_mtime) == 1_600_000_000
    assert subprocess.run(["zstd", "-dc", str(out)], capture_output=True, check=True).stdout == DATA


@pytest.mark.parametrize(
    ("fmt", "suffix", "tool"),
    [
        ("gzip", ".gz", "gzip"),
        ("zstd", ".zst", "zstd"),
        ("lz4", ".lz4", "lz4"),
        ("bz2", ".bz2", "bzip2"),
        ("xz", ".xz", "xz"),
        ("brotli", ".br", "brotli"),
    ],
)
def test_formats_and_decompress_roundtrip(src: Path, fmt: str, suffix: str, tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")
    assert run("-F", fmt, str(src)).returncode == 0
    out = src.with_name("data.log" + suffix)
    assert subprocess.run([tool, "-dc", str(out)], capture_output=True, check=True).stdout == DATA
    src.unlink()
    r = run("-d", "--rm", str(out))
    assert r.returncode == 0, r.stderr
    assert src.read_bytes() == DATA
    assert not out.exists()


def test_stdin_to_stdout_detects_format_on_a_pipe() -> None:
    comp = run("-F", "xz", "-c", input=DATA)
    assert comp.returncode == 0
    assert comp.stdout[:6] == b"\xfd7zXZ\x00"
    back = run("-d", input=comp.stdout)
    assert back.returncode == 0 and back.stdout == DATA


def test_level_flags_change_output() -> None:
    fast = run("-1", "-c", input=DATA).stdout
    best = run("-19", "-c", input=DATA).stdout
    assert len(best) < len(fast)
    assert run("--fast", "-c", input=DATA).stdout == fast
    bad = run("--level", "99", "-c", input=DATA)
    assert bad.returncode == 1
    assert bad.stderr.startswith(b"chute: --level: zstd level must be between")


@pytest.mark.slow  # zstd -19, twice
def test_level_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTE_LEVEL", "19")
    assert run("-c", input=DATA).stdout == run("-19", "-c", input=DATA).stdout
    assert run("-1", "-c", input=DATA).stdout == run("--fast", "-c", input=DATA).stdout  # flags win
    # a level the chosen format does not have names the variable, not a flag never given
    bad = run("-F", "xz", "-c", input=DATA)
    assert bad.returncode == 1
    assert bad.stderr == b"chute: CHUTE_LEVEL: xz level must be between 0 and 9, not 19\n"
    monkeypatch.setenv("CHUTE_LEVEL", "high")
    assert run("-c", input=DATA).stderr == b"chute: CHUTE_LEVEL: not a number: 'high'\n"


def test_existing_output_untouched_without_force(src: Path) -> None:
    out = src.with_name("data.log.zst")
    out.write_bytes(b"precious")
    r = run(str(src))
    assert r.returncode == 1
    assert b"already exists" in r.stderr
    assert out.read_bytes() == b"precious"
    assert run("-f", str(src)).returncode == 0
    assert out.read_bytes() != b"precious"


def test_truncated_input_leaves_no_file_and_keeps_source(tmp_path: Path) -> None:
    blob = run("-c", input=DATA).stdout
    bad = tmp_path / "cut.zst"
    bad.write_bytes(blob[: len(blob) // 2])
    r = run("-d", "--rm", str(bad))
    assert r.returncode == 1
    assert r.stderr.count(b"\n") == 1 and b"Traceback" not in r.stderr
    assert b"truncated" in r.stderr
    assert bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.zst"]


def test_trailing_garbage_is_an_error() -> None:
    blob = run("-F", "zstd", "-c", input=DATA).stdout
    r = run("-d", input=blob + b"junk")
    assert (r.returncode, r.stdout) == (1, DATA)
    assert b"trailing data" in r.stderr
    blob = run("-F", "gzip", "-c", input=DATA).stdout
    assert run("-d", "--trailing=error", input=blob + b"junk").returncode == 1
    assert run("-d", input=blob + b"\0" * 1024).stdout == DATA


def test_errors_are_one_line(tmp_path: Path) -> None:
    r = run(str(tmp_path / "missing"))
    assert (r.returncode, r.stderr) == (1, f"chute: {tmp_path / 'missing'}: no such file or directory\n".encode())
    r = run("-d", input=b"definitely not compressed")
    assert r.returncode == 1 and r.stderr == b"chute: -: not in a known compressed format\n"
    r = run("-F", "nope", "-c", input=b"x")
    assert r.returncode == 1 and b"unknown format" in r.stderr and b"Traceback" not in r.stderr


def test_unreadable_source(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    p = tmp_path / "secret"
    p.write_bytes(b"x")
    p.chmod(0)
    r = run(str(p))
    assert r.returncode == 1 and b"permission denied" in r.stderr


def test_directory_is_a_warning(tmp_path: Path) -> None:
    r = run(str(tmp_path))
    assert r.returncode == 2 and b"is a directory" in r.stderr


def test_passthrough_with_force_on_cat() -> None:
    r = run("cat", "-f", input=b"plain text\n")
    assert r.returncode == 0 and r.stdout == b"plain text\n"


def test_cat_concatenates_members(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.zst"
    a.write_bytes(run("-F", "gzip", "-c", input=b"first\n").stdout)
    b.write_bytes(run("-c", input=b"second\n").stdout)
    r = run("cat", str(a), str(b))
    assert r.returncode == 0 and r.stdout == b"first\nsecond\n"


def test_test_and_list(tmp_path: Path) -> None:
    good = tmp_path / "good.zst"
    good.write_bytes(run("-c", input=DATA).stdout)
    bad = tmp_path / "bad.zst"
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    assert run("-t", str(good)).returncode == 0
    r = run("-t", str(good), str(bad))
    assert r.returncode == 1 and r.stderr.startswith(f"chute: {bad}:".encode())
    listing = run("-l", str(good)).stdout.decode()
    assert str(len(DATA)) in listing and str(good.stat().st_size) in listing and "zstd" in listing


def test_refuses_terminal_output() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # child: stdout is the pty
        os.execv(sys.executable, [*CHUTE, "-c", "/dev/null"])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1
    assert b"refusing to write compressed data to a terminal" in output


@pytest.mark.parametrize("cmd", ["cat", "-d -T2 -c"])  # -T2: written from a second thread
def test_broken_pipe_is_quiet(tmp_path: Path, cmd: str) -> None:
    big = tmp_path / "big.zst"
    big.write_bytes(run("-c", input=DATA * 20).stdout)
    pipeline = f"{sys.executable} -m chute {cmd} {big} | head -c 10"
    p = subprocess.run(pipeline, shell=True, capture_output=True, timeout=60)
    assert p.stdout == DATA[:10]
    assert p.stderr == b""


def _default_signals() -> None:
    """In the child, before chute starts: the default action for the signals the test sends,
    whatever this process inherited (started with SIGINT ignored, as a background job or
    under nohup, Python would leave it ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_leaves_no_partial_output(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out.zst"
    proc = subprocess.Popen(
        [*CHUTE, "-o", str(out), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_default_signals,
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.stdin.write(DATA)
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while not any(p.name.endswith(".chute-tmp") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "temp file never appeared"
            time.sleep(0.02)
        proc.send_signal(sig)
        proc.wait(timeout=10)
        err = proc.stderr.read()
    finally:  # a failure above must not leave the process running into the next test
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stderr.close()
    assert proc.returncode == (130 if sig == signal.SIGINT else -sig)
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_flush_interval_delivers_before_eof() -> None:
    proc = subprocess.Popen([*CHUTE, "-c", "--flush-interval", "100"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = subprocess.Popen([*CHUTE, "-d", "-c"], stdin=proc.stdout, stdout=subprocess.PIPE)
    assert proc.stdin is not None and reader.stdout is not None
    try:
        for i in range(3):
            line = b"record %d\n" % i
            proc.stdin.write(line)
            proc.stdin.flush()
            t0 = time.monotonic()
            assert reader.stdout.readline() == line  # arrives while the writer is still open
            assert time.monotonic() - t0 < 5
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
        rest = reader.stdout.read()
        reader.stdout.close()
        reader.wait(timeout=10)
    assert proc.returncode == 0 and reader.returncode == 0
    assert rest == b""


def test_output_option_and_suffix_mapping(tmp_path: Path) -> None:
    tgz = tmp_path / "x.tgz"
    tgz.write_bytes(run("-F", "gzip", "-c", input=b"tar bytes").stdout)
    assert run("-d", str(tgz)).returncode == 0
    assert (tmp_path / "x.tar").read_bytes() == b"tar bytes"
    other = tmp_path / "named.bin"
    assert run("-d", "-o", str(other), str(tgz)).returncode == 0
    assert other.read_bytes() == b"tar bytes"
    r = run("-d", str(other))
    assert r.returncode == 2 and b"unknown suffix" in r.stderr


def test_version_and_module_entry() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith(b"chute ")


@pytest.mark.parametrize("args", [[], ["-d", "-T2"]])  # -T2: written from a second thread
def test_disk_full_is_one_line(src: Path, args: list[str]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    if args:
        src.with_suffix(".zst").write_bytes(run("-c", str(src)).stdout)
        src = src.with_suffix(".zst")
    with open("/dev/full", "wb") as full:
        r = subprocess.run([*CHUTE, *args, "-c", str(src)], stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 1
    assert r.stderr.endswith(b"no space left on device\n") and r.stderr.count(b"\n") == 1


def test_verbose_summary_and_forced_progress(src: Path) -> None:
    r = run("-v", "-c", str(src))
    assert r.returncode == 0
    assert r.stderr.startswith(f"chute: {src}: ".encode()) and b"-> stdout" in r.stderr
    r = run("--progress", "-c", str(src))
    assert b"\r" in r.stderr and b"MiB" in r.stderr
    assert run("-c", str(src)).stderr == b""  # stderr is not a terminal: no progress


def test_stdin_from_a_file_is_sized_from_its_offset(src: Path, tmp_path: Path) -> None:
    """``chute < file`` knows what is left of the file (threads and progress use it), and
    a shell that already read part of it gets only the rest compressed."""
    from chute.cli.compress import _regular_size

    with open(src, "rb", buffering=0) as f:
        f.read(1000)
        assert _regular_size(f, from_offset=True) == len(DATA) - 1000
        assert _regular_size(f, from_offset=False) == len(DATA)
    r, w = os.pipe()
    with os.fdopen(r, "rb", buffering=0) as pipe:
        assert _regular_size(pipe, from_offset=True) is None
    os.close(w)
    with open(src, "rb") as f:
        f.seek(1000)
        done = subprocess.run([*CHUTE, "-c", "-T2"], stdin=f, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    back = subprocess.run([*CHUTE, "-d"], input=done.stdout, capture_output=True, timeout=60)
    assert back.stdout == DATA[1000:]
