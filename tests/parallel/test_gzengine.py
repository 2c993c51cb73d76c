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
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import chute
from chute.errors import ChecksumError, ChuteError
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


def reads_through(path: Path, engine: bool, steps: list[int]) -> tuple[bytes, type[ChuteError] | None]:
    """What a ``chute.open``-style reader returns of ``path`` in reads of ``steps`` bytes
    (in turn), through the engine's raw stream or one thread's, and the class of the error
    that ended it (``None``: the end)."""
    from chute.api.fileobj import ChuteReader

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
    blob = layout(kind, text(seed, size), text(seed + 1, size // 3), 100)
    at = min(int(where * len(blob)), len(blob) - 1)
    if damage == "cut":
        blob = blob[:at]
    elif damage == "flip":
        blob = blob[:at] + bytes([blob[at] ^ 0x5A]) + blob[at + 1 :]
    path = tmp_path / "in.gz"
    path.write_bytes(blob)

    got, error = reads_through(path, True, steps)
    want, want_error = reads_through(path, False, steps)
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
@example(kind="gzip", seed=1, sizes=(0, 0), pad=1, damage="CRC32", where=0.5)  # an empty member
@example(kind="pigz", seed=1, sizes=(0, 0), pad=1, damage="ISIZE", where=0.5)
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
    if damage in ("CRC32", "ISIZE") and kind in ("gzip", "pigz"):
        # the trailer of the only member (empty when sizes[0] is 0)
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


# ----------------------------------------------------------------------------- empty members
#
# A member that decodes to nothing (a header, an empty deflate stream, a trailer) can pass
# the engine with a wrong CRC32 or ISIZE; chute.parallel.gzempty finds such members before
# the engine's output is written, and the file goes to one thread.

#: Empty deflate streams (RFC 1951), each starting on a byte: a final fixed-Huffman block
#: holding only its end code; a final stored block of no bytes; a sync flush (an empty
#: stored block) then a final fixed block; two sync flushes then a final stored block.
EMPTY_DEFLATE = {
    "fixed": b"\x03\x00",
    "stored": b"\x01\x00\x00\xff\xff",
    "sync flush": b"\x00\x00\x00\xff\xff\x03\x00",
    "two flushes, stored": b"\x00\x00\x00\xff\xff" * 2 + b"\x01\x00\x00\xff\xff",
}
#: Header flags (RFC 1952): FHCRC 2, FEXTRA 4, FNAME 8, FCOMMENT 16.
HEADERS = {"bare": 0, "FNAME": 8, "FEXTRA": 4, "FCOMMENT": 16, "FHCRC": 2, "all": 2 | 4 | 8 | 16}


def empty_member(flags: int = 0, deflate: bytes = b"\x03\x00", crc: int = 0, isize: int = 0) -> bytes:
    """A gzip member (RFC 1952) of ``deflate`` with the header ``flags`` ask for and the
    trailer ``crc``, ``isize`` (both 0 when right for an empty member)."""
    import struct
    import zlib

    head = bytearray(b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", 1_700_000_000) + b"\x00\x03")
    if flags & 4:
        head += struct.pack("<H", 10) + b"AP\x06\x00sixsix"
    if flags & 8:
        head += b"empty.txt\x00"
    if flags & 16:
        head += b"nothing here\x00"
    if flags & 2:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    return bytes(head) + deflate + struct.pack("<II", crc, isize)


def tool_empty(tool: str, tmp_path: Path) -> bytes:
    """What ``tool`` writes for an empty file given by name (FNAME, and pigz's MTIME)."""
    name = tmp_path / "empty.txt"
    name.write_bytes(b"")
    blob = subprocess.run([tool_path(tool), "-c", str(name)], capture_output=True, check=True).stdout
    assert blob[3] & 8  # the name is in the header
    return blob


def wrong(member: bytes, field: str) -> bytes:
    """``member`` with a bit of its trailer's CRC32 or ISIZE flipped."""
    at = len(member) - (8 if field == "CRC32" else 3)
    return member[:at] + bytes([member[at] ^ 1]) + member[at + 1 :]


@pytest.fixture(scope="module")
def members() -> tuple[bytes, bytes]:
    """Two `gzip -6` members of about 200 KB each: several engine chunks of SMALL_CHUNK."""
    return gzip_of(text(21, 600_000)), gzip_of(text(22, 600_000))


def placed(where: str, empty: bytes, a: bytes, b: bytes) -> bytes:
    """``empty`` alone, before, between or after the members ``a`` and ``b``; or after
    160 KB of right empty members (whole engine chunks of nothing before any output)."""
    good = empty_member()
    return {
        "only": empty,
        "first": empty + a + b,
        "middle": a + empty + b,
        "last": a + b + empty,
        "after empties": good * 4000 + empty + good * 4000 + a,
    }[where]


WHERES = ["only", "first", "middle", "last", "after empties"]


@pytest.mark.parametrize("where", WHERES)
@pytest.mark.parametrize("field", ["CRC32", "ISIZE", "right"])
@pytest.mark.parametrize("shape", list(EMPTY_DEFLATE))
def test_empty_member_trailer_checked(
    tmp_path: Path, members: tuple[bytes, bytes], where: str, field: str, shape: str
) -> None:
    """An empty member with a wrong CRC32 or ISIZE, wherever it is: one thread's bytes and
    its ChecksumError (gzip -d: crc error / length error); with a right trailer, the
    engine's output stands."""
    empty = empty_member(deflate=EMPTY_DEFLATE[shape])
    if field != "right":
        empty = wrong(empty, field)
    path = tmp_path / "in.gz"
    path.write_bytes(placed(where, empty, *members))
    want, error = one_thread(path)
    assert error is (None if field == "right" else ChecksumError)
    got, got_error, engine = through_engine(path, engine_chunk=SMALL_CHUNK)
    assert (got, got_error) == (want, error)
    if field == "right":
        assert engine == "rapidgzip"
    gz = subprocess.run([tool_path("gzip"), "-dc", str(path)], capture_output=True)
    assert (gz.returncode == 0, gz.stdout) == (field == "right", want)  # gzip agrees


@pytest.mark.parametrize("header", list(HEADERS))
@pytest.mark.parametrize("field", ["CRC32", "ISIZE"])
def test_empty_member_header_options(tmp_path: Path, members: tuple[bytes, bytes], header: str, field: str) -> None:
    """Whatever the header holds (a name, an extra field, a comment, a header CRC), an
    empty member with a wrong trailer is found, alone and between members."""
    empty = wrong(empty_member(HEADERS[header]), field)
    for where in ("only", "middle", "after empties"):
        path = tmp_path / f"{where}.gz"
        path.write_bytes(placed(where, empty, *members))
        want, error = one_thread(path)
        assert error is ChecksumError
        assert through_engine(path, engine_chunk=SMALL_CHUNK)[:2] == (want, error)


@pytest.mark.parametrize("tool", ["gzip", "pigz"])
@pytest.mark.parametrize("field", ["CRC32", "ISIZE", "right"])
def test_empty_member_from_the_tools(tmp_path: Path, members: tuple[bytes, bytes], tool: str, field: str) -> None:
    """The empty members `gzip` and `pigz` write (named, as for a file), damaged or not."""
    empty = tool_empty(tool, tmp_path)
    if field != "right":
        empty = wrong(empty, field)
    for where in WHERES:
        path = tmp_path / f"{where}.gz"
        path.write_bytes(placed(where, empty, *members))
        want, error = one_thread(path)
        assert error is (None if field == "right" else ChecksumError)
        assert through_engine(path, engine_chunk=SMALL_CHUNK)[:2] == (want, error)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_empty_member_through_an_index(tmp_path: Path, members: tuple[bytes, bytes], where: str) -> None:
    """Through an index made of the intact file (its checkpoints are where the engine's
    chunks start), an empty member whose CRC32 turned wrong: one thread's bytes and error."""
    good = placed(where, empty_member(), *members)
    index = index_of(good)
    path = tmp_path / "in.gz"
    path.write_bytes(placed(where, wrong(empty_member(), "CRC32"), *members))
    want, error = one_thread(path)
    assert error is ChecksumError
    assert through_engine(path, index=index)[:2] == (want, error)  # type: ignore[arg-type]


@pytest.mark.parametrize("where", WHERES)
def test_empty_member_through_the_engine_reader(tmp_path: Path, members: tuple[bytes, bytes], where: str) -> None:
    """chute.open's engine reader: the same error class, and a prefix of what one thread's
    reader returns."""
    path = tmp_path / "in.gz"
    path.write_bytes(placed(where, wrong(empty_member(), "CRC32"), *members))

    got, error = reads_through(path, True, [100_000])
    want, want_error = reads_through(path, False, [100_000])
    assert error is want_error is ChecksumError
    assert want.startswith(got)


@pytest.mark.parametrize("flag", [0x20, 0x40, 0x80])
@pytest.mark.parametrize("which", ["a member", "an empty member"])
def test_reserved_header_flags(tmp_path: Path, members: tuple[bytes, bytes], flag: int, which: str) -> None:
    """A member whose header has a reserved flag bit set, which one thread refuses (gzip
    -d: not supported) and the engine reads as a member: one thread's bytes and error."""
    second = members[1] if which == "a member" else empty_member() + members[1]
    path = tmp_path / "in.gz"
    path.write_bytes(members[0] + second[:3] + bytes([second[3] | flag]) + second[4:])
    want, error = one_thread(path)
    assert error is not None
    assert through_engine(path, engine_chunk=SMALL_CHUNK)[:2] == (want, error)
    assert subprocess.run([tool_path("gzip"), "-dc", str(path)], capture_output=True).returncode != 0


def test_big_file_with_an_empty_member(big: tuple[Path, bytes], tmp_path: Path) -> None:
    """An empty member with a wrong CRC32 after the 20 MB member, with the engine's own
    chunks: one thread's bytes (all the data) and its ChecksumError."""
    path = tmp_path / "big.gz"
    path.write_bytes(big[0].read_bytes() + wrong(empty_member(), "CRC32") + gzip_of(b"after"))
    got, error, _ = through_engine(path)
    assert error is ChecksumError
    assert got == big[1]


# ----------------------------------------------------------------------------- the search


def stored_gzip(data: bytes) -> bytes:
    """``data`` as one gzip member of stored deflate blocks (level 0): its bytes appear in
    the compressed file as they are."""
    import zlib

    z = zlib.compressobj(0, zlib.DEFLATED, 31)
    return z.compress(data) + z.flush()


PLANTS = {
    "magic": lambda rng: b"\x1f\x8b\x08" + rng.randbytes(rng.randrange(0, 40)),
    "magic, flags": lambda rng: b"\x1f\x8b\x08" + bytes([rng.choice([0, 2, 4, 8, 16, 30])]) + rng.randbytes(30),
    "header": lambda rng: empty_member(rng.choice(list(HEADERS.values())))[:-10] + rng.randbytes(rng.randrange(0, 20)),
    "empty member": lambda rng: empty_member(rng.choice(list(HEADERS.values()))),
    "bad empty member": lambda rng: wrong(empty_member(), rng.choice(["CRC32", "ISIZE"])),
    "member": lambda rng: gzip_of(rng.randbytes(rng.randrange(0, 200))),
}


def planted(seed: int, size: int, kinds: list[str], count: int) -> bytes:
    """``size`` random bytes with ``count`` things of ``kinds`` (:data:`PLANTS`) written in
    at random places."""
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    for _ in range(count):
        thing = PLANTS[rng.choice(kinds)](rng)
        at = rng.randrange(0, max(1, size - len(thing)))
        data[at : at + len(thing)] = thing
    return bytes(data[:size])


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(1, 300_000),
    kinds=st.lists(st.sampled_from(list(PLANTS)), min_size=1, max_size=3),
    count=st.integers(1, 40),
    around=st.sampled_from(["alone", "between members"]),
)
def test_planted_magic_never_a_false_error(
    tmp_path: Path, members: tuple[bytes, bytes], seed: int, size: int, kinds: list[str], count: int, around: str
) -> None:
    """Coincidental ``1f 8b 08`` (bare, with a header after, whole members, empty members
    with a wrong trailer) inside stored blocks, where they appear in the compressed bytes
    as they are: the engine's path never raises where one thread does not, and writes the
    same bytes."""
    blob = stored_gzip(planted(seed, size, kinds, count))
    if around == "between members":
        blob = members[0] + blob + members[1]
    path = tmp_path / "in.gz"
    path.write_bytes(blob)
    want, error = one_thread(path)
    assert error is None
    got, got_error, _ = through_engine(path, engine_chunk=SMALL_CHUNK)
    assert (got_error, got == want) == (None, True)


def naive_first_suspect(blob: bytes) -> int | None:
    """:func:`gzempty.first_suspect` the slow way: every offset in turn."""
    import tempfile

    from chute.parallel import gzempty

    with tempfile.TemporaryFile() as f:
        f.write(blob)
        f.flush()
        for at in range(len(blob)):
            if blob.startswith(gzempty.MAGIC, at) and gzempty.suspect_at(f.fileno(), at):
                return at
    return None


@settings(max_examples=examples(60), deadline=None)
@given(
    seed=st.integers(0, 1 << 30),
    size=st.integers(0, 3000),
    count=st.integers(0, 12),
    step=st.integers(3, 200),
    search=st.sampled_from(["memmem", "bytes.find", "pread"]),
)
def test_search_finds_the_first_suspect_wherever_reads_cut(
    seed: int, size: int, count: int, step: int, search: str
) -> None:
    """first_suspect() against every offset in turn, with reads of ``step`` bytes (a magic
    cut by the end of a read is found whole in the next), through libc's memmem,
    bytes.find, or os.pread where there is no preadv."""
    import tempfile
    from unittest import mock

    from chute.parallel import gzempty

    blob = planted(seed, size, list(PLANTS), count)
    with tempfile.TemporaryFile() as f, mock.patch.object(gzempty, "STEP", step):
        f.write(blob)
        f.flush()
        patches = []
        if search != "memmem":
            patches.append(mock.patch.object(gzempty, "_memmem", lambda: None))
        if search == "pread":
            patches.append(mock.patch.object(gzempty.os, "preadv", None))
        for patch in patches:
            patch.start()
        try:
            if search == "memmem":
                assert gzempty._memmem() is not None  # this platform has it
            assert gzempty.first_suspect(f.fileno(), len(blob)) == naive_first_suspect(blob)
        finally:
            for patch in patches:
                patch.stop()


@pytest.mark.parametrize(
    ("case", "suspect"),
    [
        ("right empty member", False),
        ("CRC32 wrong", True),
        ("ISIZE wrong", True),
        ("cut in its trailer at the end of the file", True),
        ("cut in its header at the end of the file", True),
        ("a member with data", False),
        ("reserved flag bits, a member after", True),
        ("reserved flag bits, an empty member after", True),
        ("reserved flag bits, a wrong trailer after", False),
        ("reserved flag bits, not deflate after", False),
        ("not deflate", False),
        ("deflate without output past the probe", True),
    ],
)
def test_what_is_a_suspect(tmp_path: Path, case: str, suspect: bool) -> None:
    """suspect_at() on each kind of place that reads 1f 8b 08."""
    from chute.codecs.gzip import MAX_HEADER
    from chute.parallel import gzempty

    right = empty_member(8)
    blob = {
        "right empty member": right,
        "CRC32 wrong": wrong(right, "CRC32"),
        "ISIZE wrong": wrong(right, "ISIZE"),
        "cut in its trailer at the end of the file": right[:-3],
        "cut in its header at the end of the file": right[:12],
        "a member with data": wrong(gzip_of(b"data"), "CRC32"),  # the engine checks those
        "reserved flag bits, a member after": b"\x1f\x8b\x08\x80" + gzip_of(text(3, 300_000))[4:],
        "reserved flag bits, an empty member after": b"\x1f\x8b\x08\x28" + right[4:],
        "reserved flag bits, a wrong trailer after": b"\x1f\x8b\x08\x28" + wrong(right, "CRC32")[4:],
        "reserved flag bits, not deflate after": b"\x1f\x8b\x08\x40" + right[4:-10] + b"\x07\x00" + bytes(8),
        "not deflate": right[:-10] + b"\x07\x00" + bytes(8),
        "deflate without output past the probe": right[:-10]
        + b"\x00\x00\x00\xff\xff" * ((MAX_HEADER + gzempty.PROBE) // 5 + 1)
        + b"\x03\x00"
        + bytes(8),
    }[case]
    path = tmp_path / "x"
    path.write_bytes(b"junk" + blob + (b"" if "end of the file" in case else gzip_of(b"next")))
    with open(path, "rb") as f:
        assert gzempty.suspect_at(f.fileno(), 4) is suspect


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


def test_scan_passes_what_it_searched(tmp_path: Path) -> None:
    """Scan.passed(): true up to the reads before a suspect, false past it and for a file
    it cannot read; stop() ends the search (what it did not search is not passed)."""
    from unittest import mock

    from chute.parallel import gzempty

    at = 10_000
    blob = bytes(at) + wrong(empty_member(), "CRC32") + bytes(5000)
    path = tmp_path / "x"
    path.write_bytes(blob)
    with open(path, "rb") as f, mock.patch.object(gzempty, "STEP", 1000):
        scan = gzempty.Scan(f.fileno(), len(blob))
        assert not scan.passed(len(blob))
        assert scan.done
        assert scan.passed(at - 1000)
        assert not scan.passed(at + 1)
        scan.stop()
    read, write = __import__("os").pipe()
    __import__("os").close(write)
    scan = gzempty.Scan(read, 1 << 20)  # a pipe: pread fails
    assert not scan.passed(1)
    __import__("os").close(read)
    clean = tmp_path / "clean"
    clean.write_bytes(bytes(1 << 20))  # 350,000 reads of 3 bytes: stopped long before the end
    with open(clean, "rb") as f, mock.patch.object(gzempty, "STEP", 3):
        scan = gzempty.Scan(f.fileno(), 1 << 20)
        scan.stop()
        assert scan.done
        assert not scan.passed(1 << 20)


@pytest.mark.parametrize("hold", [gzengine.HOLD, 1])
@pytest.mark.parametrize("where", ["none", "middle", "last"])
def test_output_held_while_the_search_is_behind(
    big: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: int, where: str
) -> None:
    """A search slower than the engine (reads of 32 KiB, 1 ms apart: 0.6 s for the file):
    the output it has not passed yet is held (up to HOLD bytes, then the decode waits),
    and what is written is still one thread's bytes and error, in order."""
    import time

    from chute.parallel import gzempty

    search = gzempty.first_suspect

    def slow(fd: int, size: int, progress: object = None) -> int | None:
        def step(offset: int) -> bool:
            time.sleep(0.001)
            return progress(offset)  # type: ignore[operator, no-any-return]

        return search(fd, size, step)

    held = []
    ready = gzengine._Gate.ready

    def counted(self: object, end: int) -> bool:
        held.append(not ready(self, end))  # type: ignore[arg-type]
        return held[-1]

    monkeypatch.setattr(gzempty, "STEP", 32 << 10)
    monkeypatch.setattr(gzempty, "first_suspect", slow)
    monkeypatch.setattr(gzengine._Gate, "ready", counted)
    monkeypatch.setattr(gzengine, "HOLD", hold)
    blob = big[0].read_bytes()
    bad = wrong(empty_member(), "CRC32")
    path = tmp_path / "in.gz"
    path.write_bytes({"none": blob, "middle": blob + bad + gzip_of(b"after"), "last": blob + bad}[where])
    want, error = one_thread(path)
    got, got_error, engine = through_engine(path)
    assert (got, got_error) == (want, error)
    assert (error, engine) == ((None, "rapidgzip") if where == "none" else (ChecksumError, None))
    assert any(held)  # some output did wait
