"""Any gzip decoded through the engine (chute.parallel.gzengine) against one thread.

Inputs are written by the real ``gzip`` and ``pigz``; whatever the layout (one member,
pigz's, concatenated members, zero padding, data after the end) and whatever the damage
(cut, flipped bytes), the engine's path writes the same bytes as one thread and raises the
same error class.
"""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest
from conftest import examples, tool_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute.errors import ChuteError
from chute.parallel import gzengine

pytest.importorskip("rapidgzip", reason="rapidgzip is not installed (the chute[gzip] extra)")

_WORDS = [b"GET", b"/index.html", b"200", b"error", b"\n", b"the", b"quick", b"fox", b"2026-12-03", b" "]
#: small engine chunks, so that files of a few hundred KiB are cut and decoded in parallel
SMALL_CHUNK = 32 << 10


def text(seed: int, size: int, noise: int = 3000) -> bytes:
    """``size`` bytes of words with runs of up to ``noise`` random bytes between them (the
    default compresses about 3:1)."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += b"".join(rng.choices(_WORDS, k=2000))
        out += rng.randbytes(rng.randrange(1, noise))
    return bytes(out[:size])


def gzip_of(data: bytes, tool: str = "gzip") -> bytes:
    cmd = [tool_path("gzip"), "-6", "-c"] if tool == "gzip" else [tool_path("pigz"), "-6", "-p", "2", "-c"]
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def one_thread(path: Path) -> tuple[bytes, type[ChuteError] | None]:
    out = io.BytesIO()
    try:
        chute.copy(str(path), out, decompress=True)
    except ChuteError as exc:
        return out.getvalue(), type(exc)
    return out.getvalue(), None


def through_engine(path: Path, **options: int) -> tuple[bytes, type[ChuteError] | None, str | None]:
    out = io.BytesIO()
    with open(path, "rb") as src:
        try:
            stats = gzengine.decode(src, out, threads=2, **options)
        except ChuteError as exc:
            return out.getvalue(), type(exc), None
    return out.getvalue(), None, stats.engine


LAYOUTS = ["gzip", "pigz", "concatenated", "zero padding", "trailing garbage", "padding then a member"]


def layout(kind: str, a: bytes, b: bytes, pad: int) -> bytes:
    if kind == "gzip":
        return gzip_of(a)
    if kind == "pigz":
        return gzip_of(a, "pigz")
    if kind == "concatenated":
        return gzip_of(a) + gzip_of(b, "pigz")
    if kind == "zero padding":
        return gzip_of(a) + bytes(pad)
    if kind == "trailing garbage":
        return gzip_of(a) + b"garbage" + bytes(pad)
    return gzip_of(a) + bytes(pad) + gzip_of(b)


def damaged(blob: bytes, damage: str, where: float, seed: int) -> bytes:
    """``blob`` cut, with a byte flipped, or with 64 random bytes written over, at the
    fraction ``where`` of its length (any other ``damage``: as it is)."""
    at = min(int(where * len(blob)), len(blob) - 1)
    if damage == "cut":
        return blob[:at]
    if damage == "flip":
        return blob[:at] + bytes([blob[at] ^ 0x5A]) + blob[at + 1 :]
    if damage == "overwrite":
        return blob[:at] + random.Random(seed).randbytes(64) + blob[at + 64 :]
    return blob


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 1 << 30),
    sizes=st.tuples(st.integers(0, 600_000), st.integers(0, 200_000)),
    pad=st.integers(1, 600),
    damage=st.sampled_from(["none", "cut", "flip", "overwrite"]),
    where=st.floats(0, 1),
)
def test_engine_writes_what_one_thread_writes(
    tmp_path: Path, kind: str, seed: int, sizes: tuple[int, int], pad: int, damage: str, where: float
) -> None:
    blob = damaged(layout(kind, text(seed, sizes[0]), text(seed + 1, sizes[1]), pad), damage, where, seed)
    path = tmp_path / "in.gz"
    path.write_bytes(blob)
    want, error = one_thread(path)
    got, got_error, engine = through_engine(path, engine_chunk=SMALL_CHUNK)
    assert got_error is error
    assert got == want
    if damage == "none" and kind in ("gzip", "pigz", "concatenated"):
        assert engine == "rapidgzip"  # the engine's output stood: one thread did not decode it again


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A single-member `gzip -6` file of 28 MiB of text and noise, about 20 MB compressed:
    big enough for the engine, several of its chunks, and more than the output held back."""
    data = text(7, 28 << 20, noise=40_000)
    path = tmp_path_factory.mktemp("big") / "big.gz"
    path.write_bytes(gzip_of(data))
    assert path.stat().st_size >= gzengine.MIN_INPUT
    return path, data


def _variants(good: bytes) -> dict[str, bytes]:
    def change(at: int, xor: int) -> bytes:
        return good[:at] + bytes([good[at] ^ xor]) + good[at + 1 :]

    return {
        "cut in half": good[: len(good) // 2],
        "cut in the trailer": good[:-4],
        "cut in the last chunk": good[:-100_000],
        "byte flipped mid-stream": change(len(good) // 2, 0xFF),
        "CRC32 wrong": change(len(good) - 6, 1),
        "ISIZE wrong": change(len(good) - 2, 1),
        "trailing garbage": good + b"garbage!",
        "zero padding": good + bytes(1024),
    }


def test_big_file_intact(big: tuple[Path, bytes]) -> None:
    path, data = big
    got, error, engine = through_engine(path)
    assert (error, engine) == (None, "rapidgzip")
    assert got == data


@pytest.mark.parametrize("case", list(_variants(b"x" * 100)))
def test_big_file_damaged(big: tuple[Path, bytes], tmp_path: Path, case: str) -> None:
    """Past the held-back output: a file damaged anywhere still gives one thread's bytes
    and error class, never more output."""
    path = tmp_path / "case.gz"
    path.write_bytes(_variants(big[0].read_bytes())[case])
    want, error = one_thread(path)
    got, got_error, _ = through_engine(path)
    assert got_error is error
    assert got == want


@pytest.mark.parametrize(("choice", "threads"), [("rapidgzip", 2), ("auto", gzengine.MIN_THREADS)])
def test_copy_uses_the_engine_for_a_big_file(
    big: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, choice: str, threads: int
) -> None:
    path, data = big
    monkeypatch.setenv(gzengine.ENV, choice)
    out = io.BytesIO()
    stats = chute.copy(str(path), out, decompress=True, threads=threads)
    assert getattr(stats, "engine", None) == "rapidgzip"
    assert out.getvalue() == data


def test_engine_off_is_the_one_thread_path(
    big: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHUTE_GZIP_ENGINE=none: the same bytes and errors, without the engine."""
    path, data = big
    monkeypatch.setenv(gzengine.ENV, "none")
    with open(path, "rb") as src:
        assert not gzengine.usable(src, 2)
    out = io.BytesIO()
    stats = chute.copy(str(path), out, decompress=True, threads=2)
    assert not hasattr(stats, "engine")
    assert out.getvalue() == data
    cut = tmp_path / "cut.gz"
    cut.write_bytes(path.read_bytes()[:-1000])
    out = io.BytesIO()
    with pytest.raises(ChuteError) as caught:
        chute.copy(str(cut), out, decompress=True, threads=2)
    assert (out.getvalue(), type(caught.value)) == one_thread(cut)


def test_unknown_engine_name_is_a_chute_error(big: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(gzengine.ENV, "zlib")
    with pytest.raises(ChuteError, match="CHUTE_GZIP_ENGINE"):
        chute.copy(str(big[0]), io.BytesIO(), decompress=True, threads=gzengine.MIN_THREADS)


def test_what_goes_to_the_engine(big: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = big
    with open(path, "rb") as src:
        assert not gzengine.usable(src, 2)  # two threads gain nothing: auto leaves them
        assert gzengine.usable(src, gzengine.MIN_THREADS)
        monkeypatch.setenv(gzengine.ENV, "rapidgzip")
        assert gzengine.usable(src, 2)
        assert not gzengine.usable(src, 1)  # one thread: the one-thread path
        src.seek(10)
        assert not gzengine.usable(src, 2)  # not read from its start
        assert src.tell() == 10
    small = tmp_path / "small.gz"
    small.write_bytes(gzip_of(b"x" * 1000))
    with open(small, "rb") as src:
        assert not gzengine.usable(src, 2)  # too small to pay
        assert gzengine.usable(src, 2, min_input=0)
    zst = tmp_path / "big.zst"
    zst.write_bytes(chute.compress(b"x" * 100, "zstd") + bytes(gzengine.MIN_INPUT))
    with open(zst, "rb") as src:
        assert not gzengine.usable(src, 2)  # not gzip
    read, write = __import__("os").pipe()
    with open(read, "rb") as src, open(write, "wb"):
        assert not gzengine.usable(src, 2)  # a pipe


# ----------------------------------------------------------------------------- chute.open


def read_all(path: Path, threads: int | None, step: int) -> tuple[bytes, type[ChuteError] | None]:
    """Everything ``chute.open(path, threads=threads)`` returns in reads of ``step`` bytes,
    and the error it raises."""
    parts = []
    with chute.open(path, "rb", threads=threads) as f:
        try:
            while part := f.read(step):
                parts.append(part)
        except ChuteError as exc:
            return b"".join(parts), type(exc)
    return b"".join(parts), None


def test_open_reads_through_the_engine(big: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    path, data = big
    monkeypatch.setenv(gzengine.ENV, "rapidgzip")
    with chute.open(path, "rb", threads=2) as f:
        assert isinstance(f._raw, gzengine.EngineRaw)  # type: ignore[union-attr]
        assert f.format == "gzip"
        assert f.read(1000) == data[:1000]
        f.seek(5_000_000)
        assert f.read(100) == data[5_000_000:5_000_100]
        f.seek(10)  # backward: from the start again
        assert f.read(100) == data[10:110]
        assert f.read() == data[110:]
        assert f.read() == b""
    monkeypatch.setenv(gzengine.ENV, "none")
    with chute.open(path, "rb", threads=2) as f:
        assert not isinstance(f._raw, gzengine.EngineRaw)  # type: ignore[union-attr]


@pytest.mark.parametrize("case", list(_variants(b"x" * 100)))
def test_open_damaged_reads_as_one_thread(
    big: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """The same error class, and a prefix of what one thread returns: how much of the
    damaged member a reader returns before a checksum error depends on the sizes of its
    reads (one thread's does too), and the engine's reader meets it in other steps."""
    monkeypatch.setenv(gzengine.ENV, "rapidgzip")
    path = tmp_path / "case.gz"
    path.write_bytes(_variants(big[0].read_bytes())[case])
    for step in (1 << 20, 100_000):
        got, error = read_all(path, 2, step)
        want, want_error = read_all(path, None, step)
        assert error is want_error
        assert want.startswith(got)
        assert len(want) - len(got) < 1 << 20  # at most one step of one thread behind


def test_open_reader_left_open_at_exit(big: tuple[Path, bytes]) -> None:
    """A reader never closed does not take the interpreter down at exit (the engine's
    threads are stopped first)."""
    code = f"import chute\nf = chute.open({str(big[0])!r}, 'rb', threads=2)\nprint(len(f.read(1000)))\n"
    env = dict(__import__("os").environ, CHUTE_GZIP_ENGINE="rapidgzip")
    r = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, env=env, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"1000\n", b"")


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 400_000),
    damage=st.sampled_from(["none", "cut", "flip"]),
    where=st.floats(0, 1),
    steps=st.lists(st.integers(1, 300_000), min_size=1, max_size=5),
)
def test_engine_reader_returns_what_one_thread_returns(
    tmp_path: Path, kind: str, seed: int, size: int, damage: str, where: float, steps: list[int]
) -> None:
    """Reads of random sizes through the engine's raw stream: the same error class, and a
    prefix of what a one-thread reader returns (all of it when nothing is wrong)."""
    from chute.api.fileobj import ChuteReader

    blob = layout(kind, text(seed, size), text(seed + 1, size // 3), 100)
    at = min(int(where * len(blob)), len(blob) - 1)
    if damage == "cut":
        blob = blob[:at]
    elif damage == "flip":
        blob = blob[:at] + bytes([blob[at] ^ 0x5A]) + blob[at + 1 :]
    path = tmp_path / "in.gz"
    path.write_bytes(blob)

    def reads(engine: bool) -> tuple[bytes, type[ChuteError] | None]:
        parts: list[bytes] = []
        with open(path, "rb") as fp:
            raw = gzengine.EngineRaw(fp, 2) if engine else None
            with ChuteReader(fp, raw=raw) as reader:
                try:
                    for i in range(10_000):
                        part = reader.read(steps[i % len(steps)])
                        if not part:
                            break
                        parts.append(part)
                except ChuteError as exc:
                    return b"".join(parts), type(exc)
        return b"".join(parts), None

    got, error = reads(True)
    want, want_error = reads(False)
    assert error is want_error
    assert want.startswith(got)
    if error is None:
        assert got == want


# ----------------------------------------------------------------------------- through an index


def index_of(blob: bytes, spacing: int = 64 << 10) -> object:
    from chute.parallel.gzindex import build_index

    return build_index(io.BytesIO(blob), spacing=spacing)


def write_index(path: Path) -> None:
    from chute.codecs.gzindex import serialize

    with open(path, "rb") as f:
        Path(str(path) + ".idx").write_bytes(serialize(index_of(path.read_bytes(), 1 << 20)))  # type: ignore[arg-type]
        assert f.tell() == 0


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from([k for k in LAYOUTS if k != "trailing garbage"]),
    seed=st.integers(0, 1 << 30),
    sizes=st.tuples(st.integers(0, 600_000), st.integers(0, 200_000)),
    pad=st.integers(1, 600),
    damage=st.sampled_from(["none", "cut", "flip", "overwrite", "CRC32", "ISIZE"]),
    where=st.floats(0, 1),
)
def test_engine_through_an_index_writes_what_one_thread_writes(
    tmp_path: Path, kind: str, seed: int, sizes: tuple[int, int], pad: int, damage: str, where: float
) -> None:
    """The index is made of the intact file and handed to the engine whatever the damage
    (sidecar() would refuse most damaged files: this is the harder case): the bytes and the
    error class are one thread's, and the index's checkpoints are where the engine cut."""
    good = layout(kind, text(seed, sizes[0]), text(seed + 1, sizes[1]), pad)
    try:
        index = index_of(good)
    except ChuteError:  # one thread refuses the intact file too (data after zero padding)
        return
    blob = damaged(good, damage, where, seed)
    if damage in ("CRC32", "ISIZE") and kind in ("gzip", "pigz") and sizes[0]:
        # the trailer of the only member (of an empty one: test_empty_member_trailer_unchecked)
        at = len(blob) - (8 if damage == "CRC32" else 3)
        blob = blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1 :]
    path = tmp_path / "in.gz"
    path.write_bytes(blob)
    want, error = one_thread(path)
    got, got_error, engine = through_engine(path, index=index)  # type: ignore[arg-type]
    assert got_error is error
    assert got == want
    if blob == good and kind in ("gzip", "pigz", "concatenated"):
        assert engine == "rapidgzip+index"


def test_damage_just_before_a_checkpoint(tmp_path: Path) -> None:
    """A bit flipped before a checkpoint that decodes without a deflate error and changes
    the output past the checkpoint (one thread goes on from the damaged window, where the
    index holds the intact one): one thread's bytes, then its checksum error."""
    from chute.codecs import gzindex as fmt

    data = text(5, 4 << 20, noise=3)  # words: later bytes copy earlier ones
    good = gzip_of(data)
    index = index_of(good)
    cps = [cp for cp in index.checkpoints if cp.kind == fmt.INSIDE]  # type: ignore[attr-defined]
    cp = cps[len(cps) // 2]
    after = data[cp.out : cp.out + 65536]
    case = tmp_path / "case.gz"
    for back in range(20, 4000, 3):
        pos = cp.bit // 8 - back
        bad = good[:pos] + bytes([good[pos] ^ 0x08]) + good[pos + 1 :]
        case.write_bytes(bad)
        want, error = one_thread(case)
        if error is not None and len(want) > cp.out + 65536 and want[cp.out : cp.out + 65536] != after:
            break
    else:
        pytest.skip("no flip before the checkpoint decoded quietly")
    got, got_error, _ = through_engine(case, index=index)  # type: ignore[arg-type]
    assert (got, got_error) == (want, error)


def test_sidecar_index_found_used_and_refused(
    big: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chute.errors import IndexFileWarning

    path, data = big
    copy = tmp_path / "big.gz"
    copy.write_bytes(path.read_bytes())
    with open(copy, "rb") as src:
        assert gzengine.sidecar(src, 2) is None  # no index
    write_index(copy)
    with open(copy, "rb") as src:
        assert gzengine.sidecar(src, 1) is None  # one thread: the one-thread path
        assert gzengine.sidecar(src, 2) is not None
        assert src.tell() == 0
    out = io.BytesIO()
    stats = chute.copy(str(copy), out, decompress=True, threads=2)
    assert (getattr(stats, "engine", None), out.getvalue() == data) == ("rapidgzip+index", True)
    monkeypatch.setenv(gzengine.ENV, "none")
    with open(copy, "rb") as src:
        assert gzengine.sidecar(src, 2) is None  # no engine
    monkeypatch.delenv(gzengine.ENV)
    # the same size, other bytes: a stale index is refused with a warning, not trusted
    blob = bytearray(copy.read_bytes())
    blob[100:120] = bytes(20)
    copy.write_bytes(blob)
    with open(copy, "rb") as src, pytest.warns(IndexFileWarning, match="another file"):
        assert gzengine.sidecar(src, 2) is None
    # stored data (random bytes): one thread copies it faster than the engine
    noise = tmp_path / "noise.gz"
    noise.write_bytes(gzip_of(random.Random(1).randbytes(gzengine.MIN_INPUT + 1000)))
    write_index(noise)
    with open(noise, "rb") as src:
        assert gzengine.sidecar(src, 2) is None
        assert gzengine.sidecar(src, 2, min_input=0) is None
    # another tool's file under that name: not ours to judge, no warning
    Path(str(copy) + ".idx").write_bytes(b"GZIDX\0\0\0" + bytes(100))
    with open(copy, "rb") as src:
        assert gzengine.sidecar(src, 2) is None


@pytest.mark.xfail(strict=True, reason="rapidgzip checks no trailer of a member that decodes to nothing")
@pytest.mark.parametrize("field", [-8, -3])
def test_empty_member_trailer_unchecked(tmp_path: Path, field: int) -> None:
    """A known hole of the engine: an empty member whose CRC32 or ISIZE is wrong ends
    cleanly, where one thread raises ChecksumError (gzip -d: crc error)."""
    good = gzip_of(b"")
    path = tmp_path / "empty.gz"
    path.write_bytes(good[:field] + bytes([good[field] ^ 1]) + good[field + 1 :])
    assert through_engine(path)[:2] == one_thread(path)


def test_window_check_stops_at_a_checkpoint_whose_window_differs() -> None:
    """_Windows lets through the engine's output up to the first checkpoint whose window
    is not the output before it, wherever the reads are cut."""
    from chute.codecs import gzindex as fmt

    data = text(11, 3 << 20)
    index = index_of(gzip_of(data))
    cps = index.checkpoints  # type: ignore[attr-defined]
    inside = [cp for cp in cps if cp.kind == fmt.INSIDE and cp.window_size]
    assert len(inside) > 5
    bad_cp = inside[3]
    bad = bytearray(data)
    bad[bad_cp.out - 100] ^= 1
    for step in (1 << 20, 100_000, 32768, 4099):
        for output, stop in ((data, len(data)), (bytes(bad), bad_cp.out)):
            check = gzengine._Windows(index)  # type: ignore[arg-type]
            done = 0
            while done < len(output):
                piece = memoryview(output)[done : done + step]
                good = check.good(done, piece)
                done += good
                if good < len(piece):
                    break
            assert done == stop, step
