"""``TarReader.name_batches()`` reads the usual headers of each decoded chunk in one loop
(``_names_in_chunk``): one ``adler32`` for an ASCII block, chute's pax mtime record checked
by its shape, checksums and sizes looked up. It must list exactly what the general path
lists, with the same error, whatever the archive, its damage and the chunk cuts."""

from __future__ import annotations

import io
import subprocess
import tarfile
from typing import Any

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.errors import ChuteError
from chute.streams.readahead import ReadAhead
from chute.tar import header as h
from chute.tar import reader as rd
from chute.tar.header import Member
from chute.tar.reader import TarReader
from chute.tar.writer import TarWriter

END = bytes(1024)


def _listed(data: bytes, chunk: int | None, fast: bool) -> tuple[list[bytes], str | None]:
    """The names and the error (if any): by ``name_batches()`` when ``fast``, else by
    iterating members (the general path); from a ReadAhead of ``chunk`` bytes a chunk, or
    from a plain buffered stream (``chunk`` None)."""
    fp: Any = io.BytesIO(data) if chunk is None else ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2)
    got: list[bytes] = []
    reader = TarReader(fp)
    try:
        if fast:
            for batch in reader.name_batches():
                assert batch, "an empty batch"
                got.extend(batch)
        else:
            got.extend(m.name.encode("utf-8", "surrogateescape") for m, _ in reader)
    except ChuteError as exc:
        return got, f"{type(exc).__name__}: {exc}"
    finally:
        if chunk is not None:
            fp.close()
    return got, None


def _same(data: bytes, chunk: int | None) -> tuple[list[bytes], str | None]:
    fast = _listed(data, chunk, True)
    assert fast == _listed(data, chunk, False)
    return fast


names = st.one_of(
    st.text(st.sampled_from("ab/._-\\ \n"), min_size=1, max_size=130),  # ASCII, past the name field
    st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)), min_size=1, max_size=30),
    st.text(st.sampled_from("a\udc80\udcff"), min_size=1, max_size=5),  # bytes that are not UTF-8
)
mtimes = st.one_of(
    st.integers(0, 2**34).map(lambda s: s * 10**9),  # whole seconds: no pax header
    st.integers(0, 2**34 * 10**9),  # a fraction: chute's pax mtime header
    st.integers(-(2**40) * 10**9, 2**70),  # negative, far past ustar's 11 digits
)
kinds = st.sampled_from([h.REGULAR, h.REGULAR, h.DIRECTORY, h.SYMLINK, h.HARDLINK, h.FIFO])


@st.composite
def chute_archives(draw: Any) -> bytes:
    """What chute's writer makes of random members."""
    buf = io.BytesIO()
    w = TarWriter(buf, owner=True)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(kinds)
        size = draw(st.integers(0, 3000)) if kind == h.REGULAR else 0
        link = draw(names) if kind in (h.SYMLINK, h.HARDLINK) else ""
        owner = draw(st.sampled_from(["", "root", "ü" * 40]))
        # (a regular file's name ending in "/" reads as a folder: its data as headers)
        name = draw(names.filter(lambda n: not n.endswith("/")))
        m = Member(name, kind, 0o644, size, draw(mtimes), link, 0, 0, owner, owner)
        w.add(m, io.BytesIO(bytes([65 + size % 26]) * size))
    w.close()
    return buf.getvalue()


chunks = st.one_of(st.none(), st.integers(512, 6000), st.sampled_from([512, 1024, 1536, 2048]))


@settings(max_examples=examples(300), deadline=None)
@given(chute_archives(), chunks)
def test_chute_archives_listed_as_the_general_path_lists_them(data: bytes, chunk: int | None) -> None:
    _, error = _same(data, chunk)
    assert error is None


@settings(max_examples=examples(300), deadline=None)
@given(chute_archives(), chunks, st.data())
def test_damage_anywhere_same_as_the_general_path(data: bytes, chunk: int | None, draw: Any) -> None:
    damaged = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 3))):
        where = draw.draw(st.integers(0, len(data) - 1))
        damaged[where] = draw.draw(st.sampled_from([0, 0x30, 0x37, 0x38, 0x20, 0x80, 0xFF, damaged[where] ^ 1]))
    _same(bytes(damaged), chunk)


@settings(max_examples=examples(200), deadline=None)
@given(chute_archives(), chunks, st.integers(0, 10**6))
def test_cut_anywhere_same_as_the_general_path(data: bytes, chunk: int | None, cut: int) -> None:
    _same(data[: cut % (len(data) + 1)], chunk)


# ----------------------------------------------------------------------------- one header


def _ustar(name: bytes, kind: bytes, size: int, numbers: bytes | None = None) -> bytearray:
    block = bytearray(512)
    block[: len(name)] = name
    block[100:148] = numbers or b"0000644\0" + b"0000000\0" * 2 + b"%011o\0" % size + b"%011o\0" % 1_600_000_000
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    return block


def _sealed(block: bytearray, form: bytes = b"%06o\0 ", signed: bool = False) -> bytes:
    block[148:156] = b" " * 8
    total = sum(b - 256 if signed and b > 127 else b for b in block)
    block[148:156] = (form % total)[:8].ljust(8, b"\0")
    return bytes(block)


def _pax(record: bytes, size: int | None = None, name: bytes = b"PaxHeaders/f") -> bytes:
    n = len(record) if size is None else size
    return _sealed(_ustar(name, b"x", n)) + record + bytes(-len(record) % 512)


def _file(name: bytes, data: bytes) -> bytes:
    return _sealed(_ustar(name, b"0", len(data))) + data + bytes(-len(data) % 512)


@st.composite
def mtime_records(draw: Any) -> bytes:
    """``LEN mtime=VALUE\n``, mostly in chute's shape, else one thing off: the length
    (one more, one less, a leading zero), the sign, digit counts past the shape's (18 of
    seconds, 9 of fraction) or none, a stray byte."""
    off = draw(st.sampled_from(["none", "none", "length", "sign", "secs", "frac", "stray"]))
    sign = draw(st.sampled_from([b"", b"-", b"+"] if off == "sign" else [b"", b"-"]))
    secs = draw(st.text("0123456789", min_size=0 if off == "secs" else 1, max_size=22 if off == "secs" else 18))
    value = sign + secs.encode()
    if off == "frac" or draw(st.booleans()):
        value += b"." + draw(st.text("0123456789", max_size=12 if off == "frac" else 9)).encode()
    if off == "stray":
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.binary(min_size=1, max_size=2)) + value[at:]
    body = b" mtime=" + value + b"\n"
    length = len(body) + 2
    if off == "length":
        return draw(st.sampled_from([b"%d" % (length + 1), b"%d" % (length - 1), b"0%d" % length])) + body
    return b"%d" % length + body


@settings(max_examples=examples(500), deadline=None)
@given(
    mtime_records(),
    st.sampled_from([None, None, None, 0, 1, -1]),
    st.sampled_from([b"PaxHeaders/f", b"PaxHeaders/f", "PaxHeaders/ü".encode(), b"P" * 100]),
    st.sampled_from([None, 1536, 2048, 4096, 4096]),
)
def test_mtime_records_read_as_the_general_path_reads_them(
    record: bytes, size_shift: int | None, pax_name: bytes, chunk: int | None
) -> None:
    size = None if size_shift is None else max(len(record) + size_shift, 0)
    data = _file(b"first", b"1") + _pax(record, size, pax_name) + _file(b"a", b"x" * 600) + _file(b"last", b"2") + END
    _same(data, chunk)


@pytest.mark.filterwarnings("ignore::chute.errors.ArchiveWarning")  # unknown types: both paths warn
@settings(max_examples=examples(300), deadline=None)
@given(
    st.binary(min_size=1, max_size=100),
    st.sampled_from([b"0", b"\0", b"7", b"1", b"2", b"5", b"3", b"g", b"L"]),
    st.sampled_from([b"%06o\0 ", b"%07o\0", b"%06o \0", b"%07o "]),
    st.booleans(),
    st.one_of(st.binary(max_size=155), st.text(st.sampled_from("ab/\0"), max_size=155).map(str.encode)),
    st.sampled_from([b"ustar\x0000", b"ustar  \0", b"ustar\0xx"]),
    chunks,
)
def test_header_forms_same_as_the_general_path(
    name: bytes, kind: bytes, form: bytes, signed: bool, prefix: bytes, magic: bytes, chunk: int | None
) -> None:
    """Names of any bytes (ASCII or not: one adler32 sums only an ASCII block), every
    checksum form (only the usual one is read in the loop), signed sums, a prefix field,
    other magics and types."""
    block = _ustar(name, kind, 5)
    block[345 : 345 + len(prefix)] = prefix
    block[257:265] = magic
    member = _sealed(block, form, signed) + b"x" * 5 + bytes(507)
    data = _file(b"first", b"1") + member + _file(b"last", b"2") + END
    _same(data, chunk)


@pytest.mark.parametrize("stored", ["right", "less-65521"])
def test_block_summing_past_adler32s_modulus(stored: str) -> None:
    """A block of high bytes sums past 65521, where adler32 wraps: the loop's one adler32
    is for ASCII blocks alone, and a checksum 65521 short is refused as the general path
    refuses it."""
    block = _ustar(b"\xff" * 100, b"0", 3)
    for start, end in ((157, 257), (265, 329), (500, 512)):  # link name, owner names, padding
        block[start:end] = b"\xff" * (end - start)
    block[148:156] = b" " * 8
    total = sum(block)
    assert total > 65521
    block[148:156] = b"%06o\0 " % (total if stored == "right" else total - 65521)
    data = bytes(block) + b"abc" + bytes(509) + _file(b"last", b"2") + END
    for chunk in (None, 4096):
        names, error = _same(data, chunk)
        assert (names, error is None) == (([b"\xff" * 100, b"last"], True) if stored == "right" else ([], False))


@pytest.mark.parametrize("stored", ["right", "one-more", "less-65521"])
@pytest.mark.parametrize("high", [False, True], ids=["ascii", "high-bytes"])
def test_pax_header_checksum_checked(stored: str, high: bool) -> None:
    """chute's pax mtime header with its checksum right or not (in the usual form), in
    an ASCII block or one summing past adler32's modulus: read as the general path reads it."""
    record = b"30 mtime=1600000000.123456789\n"
    block = _ustar(b"PaxHeaders/f", b"x", len(record))
    if high:
        for start, end in ((12, 100), (157, 257), (265, 329), (500, 512)):
            block[start:end] = b"\xff" * (end - start)
    block[148:156] = b" " * 8
    total = sum(block) + {"right": 0, "one-more": 1, "less-65521": -65521}[stored]
    block[148:156] = b"%06o\0 " % total
    data = bytes(block) + record + bytes(512 - len(record)) + _file(b"a", b"x") + _file(b"last", b"2") + END
    for chunk in (None, 4096):
        names, error = _same(data, chunk)
        assert (names, error is None) == (([b"a", b"last"], True) if stored == "right" else ([], False))


@pytest.mark.parametrize(("magic", "expected"), [(b"ustar\x0000", b"pre/name"), (b"ustar  \0", b"name")])
def test_prefix_field_only_in_ustar(magic: bytes, expected: bytes) -> None:
    """ustar's prefix field holds the start of the path; old GNU headers keep other
    things there (times, in octal digits): not part of the name."""
    block = _ustar(b"name", b"0", 1)
    block[257:265] = magic
    field = b"pre" if magic[5] == 0 else b"14567654321"
    block[345 : 345 + len(field)] = field
    data = _sealed(block) + b"x" + bytes(511) + END
    for chunk in (None, 4096):
        assert _same(data, chunk) == ([expected], None)


def test_shapes_cover_what_lone_mtime_takes_with_up_to_18_digits() -> None:
    """Every record of the loop's shapes is one _lone_mtime takes, with the length right."""
    for shape in rd._MTIME_SHAPES:
        for digit in b"19":
            body = shape[2:].replace(b"0", bytes([digit]))
            record = b"%d" % (len(body) + 2) + body
            assert record.translate(rd._DIGITS_TO_ZERO) == shape
            assert rd._lone_mtime(record) is not None, record


def test_memos_stay_bounded() -> None:
    for i in range(rd._MEMO_MAX + 5):
        rd._octal_size(b"%011o" % i)
        rd._ascii_sum(b"%06o\0 " % (i % 8**6))
    assert len(rd._SIZES) <= rd._MEMO_MAX and len(rd._ASCII_SUMS) <= rd._MEMO_MAX
    assert rd._octal_size(b"%011o" % 513) == 1024 and rd._octal_size(b"00000000000") == 0


@pytest.mark.skipif(subprocess.run(["which", "tar"], capture_output=True).returncode, reason="GNU tar not installed")
@pytest.mark.parametrize("fmt", ["gnu", "pax", "ustar", "v7"])
def test_gnu_tar_archives_listed_as_gnu_tar_lists_them(tmp_path: Any, fmt: str) -> None:
    """GNU tar's own archives in each of its formats (pax: an atime and ctime record per
    member, so the general path) through the loop: the names ``tar -tf`` lists."""
    root = tmp_path / "src"
    for i in range(300):
        d = root / f"d{i // 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.txt").write_bytes(b"x" * (i * 7))
    if fmt != "v7":  # a path past the name field: the prefix field, a long name or a pax path
        (root / ("n" * 60)).mkdir()
        (root / ("n" * 60) / ("a" * 90)).write_bytes(b"y")
    data = subprocess.run(
        ["tar", f"--format={fmt}", "-cf", "-", "-C", str(tmp_path), "src"], capture_output=True, check=True
    ).stdout
    listed = subprocess.run(["tar", "-tf", "-"], input=data, capture_output=True, check=True).stdout.splitlines()
    for chunk in (None, 512, 4096, 1 << 20):
        names, error = _same(data, chunk)
        assert error is None and [n.rstrip(b"/") for n in names] == [n.rstrip(b"/") for n in listed]


@pytest.mark.parametrize("kind", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_tarfile_archives_same_as_the_general_path(kind: int) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=kind) as tf:
        for i in range(100):
            ti = tarfile.TarInfo(f"dir/{'é' if i % 7 == 0 else 'e'}{i}" + "x" * (i % 3) * 60)
            ti.size = i
            ti.mtime = 1_600_000_000 + i / 3
            tf.addfile(ti, io.BytesIO(b"z" * i))
    for chunk in (None, 512, 1000, 65536):
        _same(buf.getvalue(), chunk)
