"""Random reads in any gzip through an index (chute.parallel.gzindex, chute.open(index=)).

Inputs are written by the reference tools (gzip, pigz) and Python's gzip module, in random
member layouts (one member, several concatenated, empty members, zero padding); every read
through an index must equal the same slice of what ``gzip -d`` decodes.
"""

from __future__ import annotations

import functools
import gzip
import io
import random
import subprocess
import zlib

import pytest
from conftest import examples, text_like, tool_path
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.api.functions import read_range
from chute.codecs import gzindex as fmt
from chute.errors import ChuteError, IndexFileError, IndexFileWarning, TruncatedStreamError
from chute.parallel.gzindex import IndexedGzipReader, build_index, extend_index, load_index

SPACING = fmt.MIN_SPACING


def tool_gzip(data: bytes, how: str) -> bytes:
    """``data`` compressed by the reference tool ``how`` ("gzip -6", "pigz -1"...)."""
    tool, level = how.split()
    return subprocess.run([tool_path(tool), level, "-c", "-n"], input=data, capture_output=True, check=True).stdout


def reference_decode(blob: bytes) -> bytes:
    """What ``gzip -d`` makes of ``blob`` (zero padding after the last member included)."""
    done = subprocess.run([tool_path("gzip"), "-d", "-c"], input=blob, capture_output=True)
    assert done.returncode in (0, 2), done.stderr  # 2: "trailing garbage ignored" (the zeros)
    return done.stdout


def data_of(seed: int, size: int, kind: str) -> bytes:
    if kind == "text":
        return text_like(size, seed)
    if kind == "random":
        return random.Random(seed).randbytes(size)
    rnd = random.Random(seed)  # mixed: text with random stretches
    parts, n = [], 0
    while n < size:
        part = (
            text_like(rnd.randint(1, 50_000), rnd.randint(0, 1 << 30))
            if rnd.random() < 0.7
            else rnd.randbytes(rnd.randint(1, 20_000))
        )
        parts.append(part)
        n += len(part)
    return b"".join(parts)[:size]


TOOLS = ["gzip -1", "gzip -6", "gzip -9", "pigz -6", "python -6", "python -0"]


@st.composite
def layouts(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(gzip file, its decoded bytes)."""
    members = []
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.sampled_from([0, 1, 1000, 70_000, 200_000, 500_000]))
        data = data_of(draw(st.integers(0, 1 << 30)), size, draw(st.sampled_from(["text", "random", "mixed"])))
        how = draw(st.sampled_from(TOOLS))
        if how.startswith("python"):
            blob = gzip.compress(data, int(how.split()[1][1:]), mtime=0)
        else:
            blob = tool_gzip(data, how)
        members.append(blob)
    blob = b"".join(members) + bytes(draw(st.sampled_from([0, 0, 1, 512, 10_000])))
    return blob, reference_decode(blob)


def index_of(blob: bytes, spacing: int = SPACING) -> fmt.GzipIndex:
    return fmt.parse(fmt.serialize(build_index(io.BytesIO(blob), spacing=spacing)))


@settings(max_examples=examples(30), deadline=None)
@given(layouts(), st.lists(st.tuples(st.floats(0, 1.05), st.integers(0, 300_000)), min_size=1, max_size=8))
def test_every_read_is_the_slice_of_the_plain_decode(
    layout: tuple[bytes, bytes], reads: list[tuple[float, int]]
) -> None:
    blob, plain = layout
    index = index_of(blob)
    assert index.out_size == len(plain) and index.size == len(blob)
    assert all(b.out - a.out >= SPACING for a, b in zip(index.checkpoints, index.checkpoints[1:], strict=False))
    with IndexedGzipReader(io.BytesIO(blob), index) as f:
        for where, n in reads:
            at = int(where * len(plain))
            assert f.seek(at) == at
            assert f.read(n) == plain[at : at + n]
        f.seek(0)
        assert f.read() == plain


def test_checkpoints_land_inside_members_and_at_their_starts() -> None:
    data = text_like(3 << 20, 1)
    blob = tool_gzip(data[: 2 << 20], "gzip -6") + tool_gzip(data[2 << 20 :], "pigz -9")
    index = index_of(blob)
    kinds = [cp.kind for cp in index.checkpoints]
    assert fmt.INSIDE in kinds and kinds.count(fmt.MEMBER) >= 1
    assert all(0 < cp.window_size <= fmt.WINDOW for cp in index.checkpoints if cp.kind == fmt.INSIDE)
    with IndexedGzipReader(io.BytesIO(blob), index) as f:
        for i, cp in enumerate(index.checkpoints):
            f.seek(cp.out)
            assert f.read(100_000) == data[cp.out : cp.out + 100_000], i


def test_a_seek_decodes_one_checkpoint_span_only() -> None:
    data = text_like(6 << 20, 2)
    blob = tool_gzip(data, "gzip -6")
    index = index_of(blob, 1 << 20)

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            got = super().read(n)
            Counting.read_bytes += len(got)
            return got

    with IndexedGzipReader(Counting(blob), index) as f:
        Counting.read_bytes = 0
        f.seek(5 << 20)
        assert f.read(1000) == data[5 << 20 : (5 << 20) + 1000]
    span = max(b.bit - a.bit for a, b in zip(index.checkpoints, index.checkpoints[1:], strict=False)) // 8
    assert Counting.read_bytes < span + 2 * (1 << 20)  # one span, and one read step of slack
    assert Counting.read_bytes < len(blob) / 3


def test_an_extended_index_equals_a_fresh_one() -> None:
    data = text_like(1 << 20, 3)
    first = tool_gzip(data, "gzip -6")
    old = index_of(first)
    grown = first + tool_gzip(data[:300_000], "pigz -6") + tool_gzip(data[500_000:], "gzip -1")
    new = extend_index(io.BytesIO(grown), old)
    assert new is not None
    assert fmt.serialize(new) == fmt.serialize(build_index(io.BytesIO(grown), spacing=SPACING))
    assert extend_index(io.BytesIO(grown), new) is None


def test_extend_refuses_a_changed_prefix() -> None:
    data = text_like(300_000, 4)
    blob = tool_gzip(data, "gzip -6")
    index = index_of(blob)
    other = tool_gzip(text_like(300_000, 5), "gzip -6")
    with pytest.raises(IndexFileError, match="another file"):
        extend_index(io.BytesIO(other + b"more"), index)


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(0, 1 << 30), st.data())
def test_a_stale_index_is_refused(seed: int, data: st.DataObject) -> None:
    plain = data_of(seed, 400_000, "mixed")
    blob = tool_gzip(plain, "gzip -6")
    raw = fmt.serialize(build_index(io.BytesIO(blob), spacing=SPACING))
    change = data.draw(st.sampled_from(["other file", "cut", "first bytes", "last bytes", "sampled byte"]))
    if change == "other file":
        stale = tool_gzip(data_of(seed + 1, 400_000, "mixed"), "gzip -6")
    elif change == "cut":
        stale = blob[: data.draw(st.integers(1, len(blob) - 1))]
    else:
        spans = fmt.sample_spans(len(blob))
        start, n = {"first bytes": spans[0], "last bytes": spans[-1]}.get(change, spans[len(spans) // 2])
        at = start + data.draw(st.integers(0, n - 1))
        stale = blob[:at] + bytes([blob[at] ^ data.draw(st.integers(1, 255))]) + blob[at + 1 :]
    with pytest.raises(IndexFileError):
        load_index(raw, io.BytesIO(stale))


def test_a_sequential_read_checks_the_checkpoints_it_passes() -> None:
    """An index of another file, with the right identity forged in: reading across its
    checkpoints finds that they do not match, and says so, rather than decode on."""
    a = tool_gzip(text_like(600_000, 6), "gzip -6")
    b = tool_gzip(text_like(600_000, 7), "gzip -6")
    index_b = build_index(io.BytesIO(b), spacing=SPACING)
    index_a = build_index(io.BytesIO(a), spacing=SPACING)
    forged = fmt.GzipIndex(SPACING, index_a.size, index_b.out_size, index_a.ident, index_b.checkpoints)
    with IndexedGzipReader(io.BytesIO(a), forged) as f, pytest.raises(ChuteError):
        while f.read(1 << 16):
            pass


@functools.cache
def _indexed_text() -> tuple[bytes, bytes]:
    """A gzip file of text, and its index."""
    blob = tool_gzip(text_like(400_000, 8), "gzip -6")
    return blob, fmt.serialize(build_index(io.BytesIO(blob), spacing=SPACING))


@settings(max_examples=examples(40), deadline=None)
@given(st.data())
def test_a_damaged_index_never_gives_wrong_bytes(data: st.DataObject) -> None:
    blob, good = _indexed_text()
    raw = bytearray(good)
    for at in data.draw(st.sets(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
        raw[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(IndexFileError):
        load_index(bytes(raw), io.BytesIO(blob))


def test_invalid_files_raise_what_a_plain_decode_raises() -> None:
    blob = tool_gzip(text_like(300_000, 9), "gzip -6")
    with pytest.raises(TruncatedStreamError):
        build_index(io.BytesIO(blob[:-100]))
    with pytest.raises(chute.TrailingDataError):
        build_index(io.BytesIO(blob + b"junk"))
    with pytest.raises(chute.TrailingDataError):
        build_index(io.BytesIO(blob + bytes(10) + b"x"))
    bad_crc = blob[:-8] + bytes([blob[-8] ^ 1]) + blob[-7:]
    with pytest.raises(chute.ChecksumError):
        build_index(io.BytesIO(bad_crc))
    with pytest.raises(chute.UnknownFormatError):
        build_index(io.BytesIO(zlib.compress(b"not gzip")))
    with pytest.raises(TruncatedStreamError):
        build_index(io.BytesIO(b""))


# --------------------------------------------------------------------------- chute.open


@pytest.fixture
def indexed(tmp_path):
    plain = data_of(10, 900_000, "mixed")
    path = tmp_path / "data.gz"
    path.write_bytes(tool_gzip(plain, "gzip -6"))
    with open(path, "rb") as f:
        (tmp_path / "data.gz.idx").write_bytes(fmt.serialize(build_index(f, spacing=SPACING)))
    return path, plain


def test_open_uses_the_index_beside_the_file(indexed) -> None:
    path, plain = indexed
    with chute.open(path) as f:
        assert isinstance(f, IndexedGzipReader)
        f.seek(700_000)
        assert f.read(5) == plain[700_000:700_005]
        assert f.seek(-10, io.SEEK_END) == len(plain) - 10
        assert f.read() == plain[-10:]
    with chute.open(path, index=False) as f:
        assert not isinstance(f, IndexedGzipReader)
    with chute.open(path, "rt", encoding="latin-1") as t:
        t.seek(0)
        assert t.read(3) == plain[:3].decode("latin-1")
    out = io.BytesIO()
    assert read_range(path, 100_000, 100_050, out) == 50
    assert out.getvalue() == plain[100_000:100_050]


def test_open_with_index_elsewhere(indexed, tmp_path) -> None:
    path, plain = indexed
    moved = tmp_path / "elsewhere.idx"
    (tmp_path / "data.gz.idx").rename(moved)
    with chute.open(path, index=moved) as f:
        assert isinstance(f, IndexedGzipReader)
        f.seek(850_000)
        assert f.read() == plain[850_000:]
    with open(path, "rb") as raw, chute.open(raw, index=moved) as f:
        f.seek(10)
        assert f.read(10) == plain[10:20]


def test_a_refused_sidecar_warns_and_the_file_is_read_plainly(indexed) -> None:
    path, plain = indexed
    sidecar = path.with_name("data.gz.idx")
    raw = bytearray(sidecar.read_bytes())
    raw[100] ^= 1
    sidecar.write_bytes(raw)
    with pytest.warns(IndexFileWarning, match=r"data\.gz\.idx: damaged gzip index"), chute.open(path) as f:
        assert not isinstance(f, IndexedGzipReader)
        assert f.read() == plain
    with pytest.raises(IndexFileError, match=r"data\.gz\.idx: damaged"):
        chute.open(path, index=sidecar)


def test_a_grown_file_reads_past_its_index(indexed) -> None:
    path, plain = indexed
    more = text_like(200_000, 11)
    with open(path, "ab") as f:
        f.write(tool_gzip(more, "gzip -6"))
    with chute.open(path) as f:
        assert isinstance(f, IndexedGzipReader)
        f.seek(len(plain) - 5)
        assert f.read() == plain[-5:] + more
        with pytest.raises(io.UnsupportedOperation):
            f.seek(-1, io.SEEK_END)


def test_index_is_for_the_default_options_only(indexed) -> None:
    path, _ = indexed
    with chute.open(path, max_output=10) as f:  # the limit holds: no sidecar, the plain reader
        assert not isinstance(f, IndexedGzipReader)
        with pytest.raises(chute.LimitExceededError):
            f.read()
    with pytest.raises(ValueError, match="default options"):
        chute.open(path, index=path.with_name("data.gz.idx"), max_output=10)
    with pytest.raises(ValueError, match="default options"):
        chute.open(path, index=path.with_name("data.gz.idx"), format="zstd")


@settings(max_examples=examples(15), deadline=None)
@given(layouts(), st.integers(64, 5000), st.integers(256, 70_000), st.integers(0, 1 << 20))
def test_any_read_and_output_step(layout: tuple[bytes, bytes], read_step: int, out_step: int, at: int) -> None:
    """Input read and output made in steps of any size: members, trailers and checkpoints
    then fall across every kind of step boundary."""
    from chute.parallel import gzindex as module

    blob, plain = layout
    reference = fmt.serialize(build_index(io.BytesIO(blob), spacing=SPACING))
    saved = module.READ_STEP, module.OUT_STEP
    module.READ_STEP, module.OUT_STEP = read_step, out_step
    try:
        index = index_of(blob)
        assert fmt.serialize(index) == reference  # the checkpoints are the stream's, not the steps'
        with IndexedGzipReader(io.BytesIO(blob), index) as f:
            at = min(at, len(plain))
            f.seek(at)
            assert f.read() == plain[at:]
    finally:
        module.READ_STEP, module.OUT_STEP = saved


def test_a_forged_checkpoint_is_met_while_reading_and_names_the_index(indexed) -> None:
    """An index with its digest and identity right but one checkpoint moved (made by hand:
    random damage is refused by the digest already)."""
    path, plain = indexed
    sidecar = path.with_name("data.gz.idx")
    index = fmt.parse(sidecar.read_bytes())
    i = next(i for i, cp in enumerate(index.checkpoints) if cp.kind == fmt.INSIDE and i + 1 < len(index.checkpoints))
    cp = index.checkpoints[i]
    index.checkpoints[i] = fmt.Checkpoint(cp.bit, cp.out + 1, cp.kind, cp.window_size, cp.window)
    sidecar.write_bytes(fmt.serialize(index))
    with chute.open(path) as f:
        assert isinstance(f, IndexedGzipReader)
        got = b""
        with pytest.raises(IndexFileError, match=r"data\.gz\.idx: gzip index does not match the file"):
            while chunk := f.read(1 << 16):
                got += chunk
        assert plain.startswith(got)


def test_another_tools_file_named_like_the_sidecar_is_ignored(indexed) -> None:
    path, plain = indexed
    path.with_name("data.gz.idx").write_bytes(b"an index of some other program\n")
    with chute.open(path) as f:  # no warning (they are errors here)
        assert not isinstance(f, IndexedGzipReader)
        assert f.read() == plain
    with pytest.raises(IndexFileError, match="not a chute gzip index"):
        chute.open(path, index=path.with_name("data.gz.idx"))


def test_without_the_system_zlib_the_sidecar_is_skipped(indexed, monkeypatch) -> None:
    """No libz to load (simulated: it is on every machine the tests run on)."""
    from chute.codecs import _libz

    monkeypatch.setattr(_libz, "_lib", None)
    monkeypatch.setattr(_libz, "_missing", "gzip indexes need the system zlib library (libz), which was not found")
    path, plain = indexed
    with chute.open(path) as f:
        assert not isinstance(f, IndexedGzipReader) and f.read() == plain
    with pytest.raises(IndexFileError, match="needs the system zlib"):
        chute.open(path, index=path.with_name("data.gz.idx"))
