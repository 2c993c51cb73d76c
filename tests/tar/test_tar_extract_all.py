"""``Extractor.extract_all``: the one-loop path for plain files and folders agrees with
the general path (``TarReader`` + ``extract_member``) on every archive, errors included,
and is the path actually taken for the usual members.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tartrees import snapshot

from chute.errors import ArchiveError, ChuteError, TruncatedStreamError
from chute.streams.readahead import ReadAhead
from chute.tar import extract as ex
from chute.tar import header as h
from chute.tar.extract import Extractor, ExtractStats, extract
from chute.tar.header import Member
from chute.tar.safety import Limits, apply_filters, normalize_name

T0 = 1_600_000_000


def _general(fp: Any, target: Path, **kw: Any) -> ExtractStats:
    with Extractor(target, **kw) as e:
        for m, data in e.reader(fp):
            e.extract_or_skip(m, data)
    return e.stats


def _state(root: Path) -> dict[str, Any]:
    """The tree with exact mtimes (ns); folders made along the way (not members) have the
    time of the run, left out."""
    out = snapshot(root, dir_mtimes=False)
    recent = time.time_ns() - 3600 * 10**9
    for rel in list(out):
        if rel != "<hardlinks>":
            mtime = os.lstat(root / rel).st_mtime_ns
            out[rel] = (*out[rel], mtime if mtime < recent else "recent")
    return out


def _outcome(run: Any, data: bytes, target: Path, through: str, **kw: Any) -> tuple[Any, Any]:
    fp: Any = io.BytesIO(data) if through == "buffered" else ReadAhead(io.BytesIO(data), chunk_size=700, depth=2)
    warnings: list[str] = []
    try:
        result: Any = run(fp, target, warn=warnings.append, **kw)
    except (ChuteError, OSError) as exc:
        result = (type(exc), str(exc))
    finally:
        if isinstance(fp, ReadAhead):
            fp.close()
    return result, warnings, _state(target) if target.exists() else None


def _same_as_general(data: bytes, through: str = "buffered", **kw: Any) -> tuple[Any, Any, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        fast = _outcome(extract, data, Path(tmp, "fast"), through, **kw)
        general = _outcome(_general, data, Path(tmp, "general"), through, **kw)
    assert fast == general
    return fast


@pytest.fixture
def general_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the members that went through ``extract_member`` (the general path)."""
    seen: list[str] = []
    real = Extractor.extract_member

    def spy(self: Extractor, m: Member, data: Any) -> None:
        seen.append(m.name)
        real(self, m, data)

    monkeypatch.setattr(Extractor, "extract_member", spy)
    return seen


def _ti(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644, link: str = "") -> Any:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.mtime, ti.linkname = kind, len(data), mode, T0, link
    return ti, data


def _archive(fmt: int, *members: tuple[Any, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


# ----------------------------------------------------------------------------- which path


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_plain_files_and_folders_take_the_fast_path(tmp_path: Path, general_names: list[str], fmt: int) -> None:
    prefixed = "p" * 90 + "/" + "q" * 60 + "/file.txt"  # over 100 bytes: ustar prefix (PAX, GNU: their own)
    data = _archive(
        fmt,
        _ti("top", tarfile.DIRTYPE, mode=0o750),
        _ti("top/a.txt", data=b"hello" * 300, mode=0o640),
        _ti("top/empty", data=b""),
        _ti("top/sub/deep/x.py", data=b"print()\n", mode=0o4755),  # folders not in the archive
        _ti("top/w", data=b"w", mode=0o666),
        _ti("caf\udcc3.bin", data=b"latin-1 byte in the name"),  # not UTF-8
        _ti("p" * 90, tarfile.DIRTYPE),
        _ti("p" * 90 + "/" + "q" * 60, tarfile.DIRTYPE),
        _ti(prefixed, data=b"deep"),
    )
    _same_as_general(data)
    general_names.clear()
    extract(io.BytesIO(data), tmp_path / "t")
    expected = set()  # over 100 bytes: GNU 'L' or a PAX header; in ustar the prefix field
    if fmt != tarfile.USTAR_FORMAT:
        expected |= {prefixed, "p" * 90 + "/" + "q" * 60 + "/"}
    if fmt == tarfile.PAX_FORMAT:
        expected.add("caf\udcc3.bin")  # not ASCII: a PAX path
    assert set(general_names) == expected
    t = tmp_path / "t"
    assert (t / prefixed).read_bytes() == b"deep"
    assert stat.S_IMODE(os.stat(t / "top").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(t / "top/sub/deep/x.py").st_mode) == 0o755  # setuid stripped
    assert stat.S_IMODE(os.stat(t / "top/w").st_mode) == 0o644  # group/other write stripped
    assert os.stat(t / "top/a.txt").st_mtime_ns == T0 * 10**9
    assert os.listdir(t / "top/sub") == ["deep"]


def test_other_members_take_the_general_path(tmp_path: Path, general_names: list[str]) -> None:
    data = _archive(
        tarfile.PAX_FORMAT,
        _ti("f", data=b"f"),
        _ti("l", tarfile.SYMTYPE, link="f"),
        _ti("h", tarfile.LNKTYPE, link="f"),
        _ti("./dot", data=b"x"),
        _ti(".hidden", data=b"x"),
        _ti("a//b", data=b"x"),
        _ti("a/./c", data=b"x"),
        _ti("z/"),  # a regular-file header with a trailing slash: a directory (old V7 and BSD tars)
        _ti("x" * 200, data=b"x"),  # PAX path
        _ti("s" * 40, data=b"x" * 10),
    )
    _same_as_general(data)
    general_names.clear()
    extract(io.BytesIO(data), tmp_path / "t")
    assert general_names == ["l", "h", ".hidden", "a//b", "a/./c", "z/", "x" * 200]


def test_dot_slash_names_take_the_short_path(tmp_path: Path, general_names: list[str]) -> None:
    """``tar -C DIR -cf - .`` starts every name with ``./``: the same short path, the same
    tree and messages as the general path; ``./`` itself (the target) and names that need
    more normalizing (``././x``, ``./.x``) go the general way."""
    data = _archive(
        tarfile.GNU_FORMAT,
        _ti("./", tarfile.DIRTYPE),
        _ti("./d", tarfile.DIRTYPE, mode=0o700),
        _ti("./d/f", data=b"x" * 700),
        _ti("./" + "n" * 98, data=b"long"),  # a 100-byte name field with no NUL
        _ti("././x", data=b"x"),
        _ti("./.x", data=b"x"),
    )
    _same_as_general(data)
    _same_as_general(data, "readahead")
    general_names.clear()
    extract(io.BytesIO(data), tmp_path / "t")
    assert general_names == ["./", "././x", "./.x"]
    assert (tmp_path / "t" / ("n" * 98)).read_bytes() == b"long"
    truncated = _archive(tarfile.GNU_FORMAT, _ti("./d/f", data=b"x" * 700))[:900]
    assert _same_as_general(truncated)[0] == (TruncatedStreamError, "./d/f: archive ends inside the member's data")


@settings(max_examples=examples(300), deadline=None)
@given(
    st.binary(min_size=512, max_size=512),
    st.sampled_from([b"./", b"./a", b"./a/b", b"./" + b"c" * 98, b"./.a", b"././a", b"./a/../b"]),
    st.booleans(),
)
def test_dot_slash_names_take_the_short_path_as_the_rest_of_the_name(raw: bytes, name: bytes, prefix: bool) -> None:
    """Whatever else the block holds, a header whose name starts with ``./`` is taken
    exactly when it is right and the rest of the name is one the short path takes, with no
    ustar prefix before it; it then names the member as the general path does."""
    block = bytearray(raw)
    block[0:100] = name.ljust(100, b"\0")
    block[156:157] = b"0"
    block[257:265] = b"ustar\x0000" if prefix else b"ustar  \0"
    block[345:500] = (b"p" if prefix else b"").ljust(155, b"\0")
    size, mtime = int.from_bytes(raw[124:128]), int.from_bytes(raw[136:140])
    block[100:148] = b"0000644\0" + b"0000000\0" * 2 + b"%011o\0" % size + b"%011o\0" % mtime
    rest = name[2:]
    plain = bool(rest) and not rest.startswith(b".") and b"/." not in rest and b".." not in rest
    for good in (True, False):
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % (sum(block) + (0 if good else 1))
        usual = ex._usual_header(bytes(block))
        assert (usual is not None) == (good and plain and not prefix)
        if usual is not None:
            m = h.decode(bytes(block))
            assert usual[1] == m.name  # as stored, for messages
            assert normalize_name(m.name) == usual[2] and (usual[3], usual[4]) == (m.mode, m.size)


def test_after_a_global_pax_header_every_member_takes_the_general_path(
    tmp_path: Path, general_names: list[str]
) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"mtime": "1500000000"}) as tf:
        for ti, data in (_ti("a", data=b"1"), _ti("d", tarfile.DIRTYPE)):
            tf.addfile(ti, io.BytesIO(data))
    _same_as_general(buf.getvalue())
    general_names.clear()
    extract(io.BytesIO(buf.getvalue()), tmp_path / "t")
    assert general_names == ["a", "d/"]


@pytest.mark.parametrize(
    "kw",
    [{"strip_components": 1}, {"owner": True}, {"limits": Limits(max_name_length=100)}],
    ids=["strip", "owner", "short-name-cap"],
)
def test_options_the_fast_path_does_not_cover(tmp_path: Path, general_names: list[str], kw: dict[str, Any]) -> None:
    data = _archive(tarfile.USTAR_FORMAT, _ti("d", tarfile.DIRTYPE), _ti("d/f", data=b"x"))
    if kw.get("owner") and os.geteuid() != 0:
        pytest.skip("restoring owners needs root")
    extract(io.BytesIO(data), tmp_path / "t", **kw)
    assert general_names == ["d/", "d/f"]


def test_custom_filters_or_subclass_keep_the_general_path(tmp_path: Path, general_names: list[str]) -> None:
    data = _archive(tarfile.USTAR_FORMAT, _ti("f", data=b"x"))
    renamed = []

    def rename(m: Member, limits: Limits) -> Member:
        renamed.append(m.name)
        m.name = "g"
        return m

    with Extractor(tmp_path / "t", filters=[rename]) as e:
        e.extract_all(io.BytesIO(data))
    assert renamed == ["f"] and (tmp_path / "t" / "g").read_bytes() == b"x"

    class Mine(Extractor):
        def extract_member(self, m: Member, data: Any) -> None:
            renamed.append("sub:" + m.name)
            super().extract_member(m, data)

    with Mine(tmp_path / "u") as e:
        e.extract_all(io.BytesIO(data))
    assert renamed == ["f", "sub:f"]


# ----------------------------------------------------------------------------- same outcome


def _patch(
    data: bytes, index: int, offset: int, value: bytes, fix_checksum: bool = True, ck: bytes = b"%06o\0 "
) -> bytes:
    """Change bytes of the ``index``-th header block (found by walking the archive)."""
    out = bytearray(data)
    pos = 0
    for _ in range(index):
        size = h.parse_number(bytes(out[pos + 124 : pos + 136]))
        kind = out[pos + 156 : pos + 157]
        pos += 512 + (0 if kind in (b"1", b"2", b"5") else size + (-size % 512))
    out[pos + offset : pos + offset + len(value)] = value
    if fix_checksum:
        out[pos + 148 : pos + 156] = b"        "
        out[pos + 148 : pos + 156] = ck % sum(out[pos : pos + 512])
    return bytes(out)


BASE = _archive(tarfile.USTAR_FORMAT, _ti("d", tarfile.DIRTYPE, mode=0o700), _ti("d/f", data=b"x" * 700))
GNU = _archive(tarfile.GNU_FORMAT, _ti("d", tarfile.DIRTYPE, mode=0o700), _ti("d/f", data=b"x" * 700))

VARIANTS = {
    "ustar": BASE,
    "gnu": GNU,
    "old-regular-type": _patch(BASE, 1, 156, b"\0"),
    "contiguous-type": _patch(BASE, 1, 156, b"7"),
    "fifo-refused": _patch(BASE, 1, 156, b"6"),
    "unknown-type-as-file": _patch(BASE, 1, 156, b"Z"),
    "v7-no-magic": _patch(BASE, 1, 257, b"\0" * 8),
    "other-ustar-version": _patch(BASE, 1, 263, b"  "),
    "bad-checksum": _patch(BASE, 1, 0, b"e", fix_checksum=False),
    "checksum-spaces": _patch(BASE, 1, 0, b"d", ck=b" %06o\0"),
    "checksum-7-digits": _patch(BASE, 1, 0, b"d", ck=b"%07o\0"),
    "checksum-no-nul": _patch(BASE, 1, 0, b"d", ck=b"%06o  "),
    "size-spaces": _patch(BASE, 1, 124, b" 0000001274 "),
    "size-base256": _patch(BASE, 1, 124, b"\x80" + bytes(9) + b"\x02\xbc"),
    "size-negative": _patch(BASE, 1, 124, b"-0000000001\0"),
    "size-underscore": _patch(BASE, 1, 124, b"0_000001274\0"),
    "mode-garbage": _patch(BASE, 1, 100, b"zzzzzzz\0"),
    "uid-garbage": _patch(BASE, 1, 108, b"zzzzzzz\0"),
    "mtime-negative": _patch(BASE, 1, 136, b"-0000000001\0"),
    "folder-with-size": _patch(BASE, 0, 124, b"00000001000\0"),
    "prefix-in-gnu-header-ignored": _patch(GNU, 1, 345, b"pre"),
    "prefix": _patch(BASE, 1, 345, b"d"),
    "absolute": _patch(BASE, 1, 0, b"/d/f"),
    "drive": _patch(BASE, 1, 0, b"c:f\0"),
    "dotdot": _patch(BASE, 1, 0, b"../f"),
    "dotdot-backslash": _patch(BASE, 1, 0, b"d\\..\\f"),
    "empty-name": _patch(BASE, 1, 0, b"\0"),
    "name-100-bytes": _patch(BASE, 1, 0, b"d/" + b"n" * 98),
    "truncated-data": BASE[: 512 * 2 + 300],
    "truncated-padding": BASE[: 512 * 2 + 800],
    "truncated-header": BASE[: 512 * 2 + 1024 + 100],
    "no-end-blocks": BASE[: 512 * 2 + 1024],
}


@pytest.mark.filterwarnings("ignore::chute.errors.ArchiveWarning")  # unknown-type-as-file
@pytest.mark.parametrize("through", ["buffered", "readahead"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_header_variants_same_as_the_general_path(variant: str, through: str) -> None:
    _same_as_general(VARIANTS[variant], through)


@pytest.mark.parametrize("trust", [False, True])
@pytest.mark.parametrize(
    "limits",
    [Limits(max_members=2), Limits(max_total_size=700), Limits(max_total_size=699), Limits(max_name_length=256)],
    ids=repr,
)
def test_limits_same_as_the_general_path(limits: Limits, trust: bool) -> None:
    data = _archive(tarfile.USTAR_FORMAT, _ti("d", tarfile.DIRTYPE), _ti("d/f", data=b"x" * 700), _ti("g", data=b"y"))
    _same_as_general(data, limits=limits, trust=trust)


names = st.lists(st.sampled_from(["a", "b", ".", "..", "", "é", ".h", "c:", "x\\..", "..y"]), min_size=1, max_size=4)
members = st.lists(
    st.tuples(
        names.map("/".join),
        st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]),
        st.sampled_from([0o644, 0o755, 0o4777, 0o600, 0o1777]),
        st.binary(max_size=600),
        names.map("/".join),
    ),
    max_size=8,
)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members, st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]), st.booleans())
def test_random_archives_same_as_the_general_path(
    spec: list[tuple[str, bytes, int, bytes, str]], fmt: int, trust: bool
) -> None:
    entries = []
    for name, kind, mode, data, link in spec:
        if not name or (trust and (kind == tarfile.SYMTYPE or ".." in name.split("/") or ".." in link.split("/"))):
            continue  # trusted: such members may write outside the target, as asked
        ti, body = _ti(name, kind, data if kind == tarfile.REGTYPE else b"", mode, link)
        entries.append((ti, body))
    try:
        data = _archive(fmt, *entries)
    except ValueError:  # a name ustar cannot hold
        return
    _same_as_general(data, "readahead" if trust else "buffered", trust=trust)


# ----------------------------------------------------------------------------- folders


def test_folder_members_make_the_folder_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder member is made (mkdir), then opened: no failed open before each one."""
    data = _archive(
        tarfile.USTAR_FORMAT, *(_ti(f"d{i}", tarfile.DIRTYPE) for i in range(5)), _ti("d0/s", tarfile.DIRTYPE)
    )
    failed: list[str] = []
    real = os.open

    def counting_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        try:
            return real(path, flags, *args, **kw)
        except FileNotFoundError:
            failed.append(path)
            raise

    monkeypatch.setattr(os, "open", counting_open)
    extract(io.BytesIO(data), tmp_path / "t")
    assert failed == []
    assert sorted(os.listdir(tmp_path / "t")) == ["d0", "d1", "d2", "d3", "d4"]
    # again over the same tree: the folders exist, nothing fails
    extract(io.BytesIO(data), tmp_path / "t")
    assert failed == []


@pytest.mark.parametrize("fast", [True, False])
def test_folder_member_over_a_symlink_or_a_file_is_refused(tmp_path: Path, fast: bool) -> None:
    run = extract if fast else _general
    for what in ("symlink", "dangling", "file"):
        t = tmp_path / f"{what}-{fast}"
        t.mkdir()
        (tmp_path / "outside").mkdir(exist_ok=True)
        if what == "symlink":
            (t / "d").symlink_to(tmp_path / "outside")
        elif what == "dangling":
            (t / "d").symlink_to(tmp_path / "nowhere")
        else:
            (t / "d").write_bytes(b"file")
        data = _archive(tarfile.USTAR_FORMAT, _ti("d", tarfile.DIRTYPE), _ti("d/f", data=b"x"))
        with pytest.raises(ArchiveError, match="'d' in the target is a symlink or not a folder"):
            run(io.BytesIO(data), t, strict=True)
        warnings: list[str] = []
        stats = run(io.BytesIO(data), t, warn=warnings.append)  # skipped, one line each
        assert stats.refused == 2 and len(warnings) == 2
        assert all("'d' in the target is a symlink or not a folder" in w for w in warnings)
        assert os.listdir(tmp_path / "outside") == []
        assert not (tmp_path / "nowhere").exists()


def test_many_folders_past_the_fd_cache(tmp_path: Path) -> None:
    """Files spread over more folders than the extractor keeps open, in turn."""
    dirs = [f"d{i:03d}/e" for i in range(90)]
    entries = [_ti(d, tarfile.DIRTYPE, mode=0o750) for d in dirs]
    entries += [_ti(f"{d}/f{j}", data=f"{d}{j}".encode()) for j in range(3) for d in dirs]
    data = _archive(tarfile.USTAR_FORMAT, *entries)
    state = _same_as_general(data, "readahead")[2]
    assert state[f"{dirs[-1]}/f2"][0] == "f" and state[dirs[0]][1] == 0o750


def test_symlink_check_opening_many_folders_does_not_lose_the_links_folder(tmp_path: Path) -> None:
    """Resolving a link's target opens each folder on its way, which may close the oldest
    folder handles (64 are kept): the link's own folder is opened after the check."""
    chain = "/".join(f"a{i}" for i in range(80))
    data = _archive(
        tarfile.GNU_FORMAT,
        _ti(chain, tarfile.DIRTYPE),
        *(_ti(f"y{i}", tarfile.DIRTYPE) for i in range(70)),  # the chain's handles are closed
        _ti("top", tarfile.DIRTYPE),
        _ti("top/link", tarfile.SYMTYPE, link="../" + chain),
    )
    extract(io.BytesIO(data), tmp_path / "t")
    assert os.readlink(tmp_path / "t" / "top" / "link") == "../" + chain
    assert [p.parent.name for p in (tmp_path / "t").rglob("link")] == ["top"]


# ----------------------------------------------------------------------------- small parts


def test_record_classes_compare_and_print_as_dataclasses_did() -> None:
    m = Member("a", size=3)
    assert m == Member("a", h.REGULAR, 0o644, 3) and m != Member("b", size=3) and m != ("a",)
    assert repr(m) == (
        "Member(name='a', type=b'0', mode=420, size=3, mtime_ns=0, linkname='', uid=0, gid=0, "
        "uname='', gname='', devmajor=0, devminor=0, sparse=None, real_size=None)"
    )
    assert repr(Limits()) == "Limits(max_members=1000000, max_total_size=68719476736, max_name_length=4096)"
    assert Limits(1, 2, 3) == Limits(max_members=1, max_total_size=2, max_name_length=3)
    assert repr(ExtractStats(2, 5)) == "ExtractStats(members=2, bytes=5, refused=0, failed=0, warnings=0)"
    assert ExtractStats() == ExtractStats(0, 0)
    for obj in (m, Limits(), ExtractStats()):
        with pytest.raises(TypeError):
            hash(obj)
        with pytest.raises(AttributeError):
            obj.other = 1  # type: ignore[union-attr]


@pytest.mark.parametrize("chunk", [1, 5, 7, 100])
def test_readahead_write_to_passes_over_the_padding(chunk: int) -> None:
    data = b"0123456789" * 3
    r, w = os.pipe()
    ahead = ReadAhead(io.BytesIO(data), chunk_size=chunk, depth=2)
    try:
        assert ahead.write_to(w, 4, skip=3) == 7
        assert ahead.read(3) == b"789"
        assert ahead.write_to(w, 5, skip=0) == 5
        assert ahead.write_to(w, 10, skip=100) == 15  # the end: fewer
        assert ahead.write_to(w, 1, skip=1) == 0
        os.close(w)
        assert os.read(r, 100) == b"0123" + b"01234" + b"5678901234"
    finally:
        os.close(r)
        ahead.close()


header_names = st.text(alphabet="ab/.:\\é\x01 ", min_size=1, max_size=12)


@settings(max_examples=examples(500), deadline=None)
@given(
    header_names,
    st.sampled_from([h.REGULAR, h.DIRECTORY, h.SYMLINK, b"\0", b"7"]),
    st.integers(0, 0o7777),
    st.integers(0, 10**6),
    st.integers(0, 8**11 - 1),
    st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), max_size=2),
    st.booleans(),
)
def test_usual_header_agrees_with_decode_and_the_filters(
    name: str, kind: bytes, mode: int, size: int, mtime: int, changes: list[tuple[int, int]], fix: bool
) -> None:
    """What the short path reads from a block is what the general path would make of it."""
    block = bytearray(h.encode(Member(name, h.REGULAR, mode, size, mtime * 10**9))[-512:])
    block[156:157] = kind
    for pos, value in changes:
        block[pos] = value
    if fix:
        block[148:156] = b"        "
        block[148:156] = b"%06o\0 " % sum(block)
    got = ex._usual_header(bytes(block))
    if got is None:
        return
    folder, name, path, mode, size, mtime_ns = got
    assert h.checksum_ok(bytes(block))
    m = h.decode(bytes(block))
    assert m.type in (h.REGULAR, h.DIRECTORY) and folder == (m.type == h.DIRECTORY)
    assert (name, mode & 0o7777, mtime_ns) == (m.name, m.mode, m.mtime_ns)
    assert size == (0 if folder else m.size)
    filtered = apply_filters(Member(m.name, m.type, m.mode, m.size, linkname=m.linkname), Limits())
    assert filtered.mode == mode & 0o755 and filtered.name == name
    assert normalize_name(name).rstrip("/") == path and ".." not in path.split("/")


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_usual_header_takes_what_tar_tools_write(fmt: int) -> None:
    for ti, _ in (_ti("dir/file.txt", data=b"x" * 10, mode=0o755), _ti("dir", tarfile.DIRTYPE)):
        got = ex._usual_header(ti.tobuf(fmt, "utf-8", "surrogateescape")[:512])
        assert got is not None
        assert got[1:3] == ((ti.name + "/", ti.name) if ti.isdir() else (ti.name, ti.name))


def test_heap_tuning_waits_for_a_full_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's malloc tuning (ctypes: milliseconds of start-up) is applied only
    once a decoded chunk comes back full: a small archive never pays for it."""
    import chute.tar
    from chute.streams import _malloc

    calls: list[int] = []
    monkeypatch.setattr(_malloc, "tune", lambda: calls.append(1) or True)
    small = chute.tar._TuneWhenLong(io.BytesIO(b"x" * 100))
    assert small.read(1000) == b"x" * 100 and small.read(1000) == b"" and calls == []
    big = chute.tar._TuneWhenLong(io.BytesIO(b"x" * 3000))
    assert big.read(1000) == b"x" * 1000 and calls == [1]
    assert big.read(1000) == b"x" * 1000 and calls == [1]
