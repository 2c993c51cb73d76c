"""Streaming tar writer (PAX format): files, trees, bytes and streams of unknown size."""

from __future__ import annotations

import io
import os
import stat
import struct
import time
from zlib import adler32

from ..errors import ArchiveError
from ..quoting import quote
from ..streams._writeall import flush_all, write_all
from . import header as h
from .header import BLOCK, Member

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and collections stay off the command path (start-up)
    from collections.abc import Callable, Iterable
    from typing import Any, BinaryIO

__all__ = ["TarWriter", "DEFAULT_SPOOL_LIMIT"]

DEFAULT_SPOOL_LIMIT = 16 << 20
_CHUNK = 1 << 20
_BUFFER = 1 << 18
#: Files up to this size are read whole with one ``os.read``.
_SMALL = 1 << 20
_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class TarWriter:
    """Write a PAX tar stream to ``fp`` (any writable binary file object; nothing seeks).

    ``owner=True`` records uid/gid and user/group names; by default members are owned by
    0/0 with no names, so archives do not leak local accounts and are reproducible.
    ``add_stream`` with an unknown size keeps up to ``spool_limit`` bytes in memory, then
    spools the rest to a temporary file in ``spool_dir`` (default: the system's temp dir)
    before writing the member with its real size. ``close()`` writes the end-of-archive
    blocks; it does not close ``fp``.

    A socket met by :meth:`add_path` is left out, as GNU tar and bsdtar leave it out, with a
    line (``NAME: socket ignored``) given to ``on_warning``, else to :mod:`warnings` as an
    :class:`~chute.errors.ArchiveWarning`.
    """

    def __init__(
        self,
        fp: BinaryIO,
        *,
        owner: bool = False,
        spool_limit: int = DEFAULT_SPOOL_LIMIT,
        spool_dir: str | None = None,
        follow_symlinks: bool = False,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._fp = fp
        self.on_warning = on_warning
        self.owner = owner
        self.spool_limit = spool_limit
        self.spool_dir = spool_dir
        self.follow_symlinks = follow_symlinks
        self._pending: list[bytes | bytearray] = []  # output held for one large write
        self._held = 0
        self._links: dict[tuple[int, int], str] = {}
        self.closed = False
        self.members = 0

    # -- low level
    def _write(self, data: bytes | bytearray | memoryview) -> None:
        # Small pieces are held (copied unless bytes: the caller may reuse its buffer) and
        # joined into one write of about _BUFFER bytes. Joining a list, rather than
        # appending to a bytearray emptied after each write, allocates each output buffer
        # once: a bytearray grown and shrunk again costs a page fault per 4 KiB each time.
        n = len(data)
        if n >= _BUFFER:
            self._flush_pending()
            self._write_out(data)
            return
        self._pending.append(data if type(data) is bytes else bytes(data))
        self._held += n
        if self._held >= _BUFFER:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._held = 0
            self._write_out(data)

    def _write_out(self, data: bytes | bytearray | memoryview) -> None:
        write_all(self._fp, data)

    def add(self, member: Member, fileobj: BinaryIO | None = None) -> None:
        """Write ``member``'s header, then exactly ``member.size`` bytes read from ``fileobj``.

        Raises ValueError, writing nothing, for a name no tar reads back as given: empty,
        holding NUL (the format ends names there), or a regular member's ending in ``/``
        (readers take it for a folder and its data for the next header)."""
        if self.closed:
            raise ValueError("TarWriter is closed")
        if not member.name or "\0" in member.name or "\0" in member.linkname:
            raise ValueError(f"{quote(member.name)}: a member's name cannot be empty or hold NUL")
        if member.type == h.REGULAR and member.name.endswith("/"):
            raise ValueError(f"{quote(member.name)}: a regular member's name cannot end in '/'")
        if not self.owner:
            member.uid = member.gid = 0
            member.uname = member.gname = ""
        if member.type != h.REGULAR:
            member.size = 0
        self._write(encode_header(member))
        self.members += 1
        if member.size:
            if fileobj is None:
                raise ValueError("a regular member with data needs a fileobj")
            self._copy(fileobj, member.size, member.name)
            pad = -member.size % BLOCK
            if pad:
                self._write(bytes(pad))

    def _copy(self, src: BinaryIO, size: int, name: str) -> None:
        left = size
        readinto = getattr(src, "readinto", None)
        buf = bytearray(min(_CHUNK, size))
        view = memoryview(buf)
        while left:
            want = min(left, len(buf))
            if readinto is not None:
                got = readinto(view[:want])
                chunk: Any = view[:got]
            else:
                chunk = src.read(want)
                got = len(chunk)
            if not got:
                raise ArchiveError(
                    f"{quote(name)}: the source ended {left} bytes early (did it shrink while archived?)"
                )
            self._write(chunk)
            left -= got

    def add_bytes(self, name: str, data: bytes, *, mode: int = 0o644, mtime: float | None = None) -> None:
        """A regular member holding ``data``; ``mtime`` defaults to now."""
        self.add(Member(name=name, mode=mode, size=len(data), mtime_ns=_ns(mtime)), io.BytesIO(data))

    def add_stream(
        self, name: str, fileobj: BinaryIO, size: int | None = None, *, mode: int = 0o644, mtime: float | None = None
    ) -> None:
        """A regular member read from ``fileobj`` (a pipe is fine).

        With ``size`` given, exactly that many bytes are copied (a shorter source is an
        error). Without it the data is spooled: in memory up to ``spool_limit`` bytes,
        then in a temporary file, removed afterwards.
        """
        mt = _ns(mtime)
        if size is not None:
            self.add(Member(name=name, mode=mode, size=size, mtime_ns=mt), fileobj)
            return
        first = _read_upto(fileobj, self.spool_limit + 1)
        if len(first) <= self.spool_limit:
            self.add(Member(name=name, mode=mode, size=len(first), mtime_ns=mt), io.BytesIO(first))
            return
        import shutil  # here: tempfile and shutil cost start-up, and only spooling needs them
        import tempfile

        with tempfile.TemporaryFile(dir=self.spool_dir, prefix="chute-spool-") as spool:
            spool.write(first)
            del first
            shutil.copyfileobj(fileobj, spool, _CHUNK)
            total = spool.tell()
            spool.seek(0)
            self.add(Member(name=name, mode=mode, size=total, mtime_ns=mt), spool)

    def member_from_stat(self, path: str, arcname: str, st: os.stat_result) -> Member:
        """The member describing ``path`` (already ``lstat``-ed) under the name ``arcname``."""
        m = Member(name=arcname, mode=stat.S_IMODE(st.st_mode), mtime_ns=st.st_mtime_ns)
        if self.owner:
            m.uid, m.gid = st.st_uid, st.st_gid
            m.uname, m.gname = _user(st.st_uid), _group(st.st_gid)
        fmt = stat.S_IFMT(st.st_mode)
        if fmt == stat.S_IFREG:
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                first = self._links.get(key)
                if first is not None:
                    m.type, m.linkname = h.HARDLINK, first
                    return m
                self._links[key] = arcname
            m.size = st.st_size
        elif fmt == stat.S_IFDIR:
            m.type = h.DIRECTORY
            if not m.name.endswith("/"):
                m.name += "/"
        elif fmt == stat.S_IFLNK:
            m.type, m.linkname = h.SYMLINK, os.readlink(path)
        elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
            m.type = h.CHARDEV if fmt == stat.S_IFCHR else h.BLOCKDEV
            m.devmajor, m.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif fmt == stat.S_IFIFO:
            m.type = h.FIFO
        else:
            raise ArchiveError(f"{quote(path)}: cannot archive a socket or unknown file type")
        return m

    def add_path(
        self,
        path: str | os.PathLike[str],
        arcname: str | None = None,
        *,
        recursive: bool = True,
        exclude: Callable[[str], bool] | None = None,
    ) -> None:
        """Add a file, symlink or directory (with its tree when ``recursive``), depth first.

        ``arcname`` defaults to ``path`` with leading ``/`` and ``..`` parts removed.
        ``exclude(name)`` gets each archive name and drops the entry (and its subtree) when
        it returns True. Files that are hardlinked together are stored once, then as links.
        """
        p = os.fspath(path)
        name = arcname if arcname is not None else _clean_name(p)
        if exclude is not None and exclude(name):
            return
        st = os.stat(p) if self.follow_symlinks else os.lstat(p)
        self._add_entry(p, name, st, recursive, exclude)

    def _add_entry(
        self, p: str, name: str, st: os.stat_result, recursive: bool, exclude: Callable[[str], bool] | None
    ) -> None:
        if stat.S_ISSOCK(st.st_mode):
            self._warn(f"{quote(p)}: socket ignored")
            return
        m = self.member_from_stat(p, name, st)
        if m.type == h.REGULAR and m.size:
            with open(p, "rb") as f:
                self.add(m, f)
        else:
            self.add(m)
        if m.type == h.DIRECTORY and recursive:
            self._add_children(p, m.name if m.name not in ("./", "/") else "", exclude)

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)
            return
        import warnings

        from ..errors import ArchiveWarning

        warnings.warn(message, ArchiveWarning, stacklevel=4)

    def _add_children(self, path: str, base: str, exclude: Callable[[str], bool] | None) -> None:
        """Add what the folder ``path`` holds, named ``base`` + its name, in name order."""
        # Most members of a tree are small files, and then per-file overhead, not bytes, is
        # what the writer spends its time on: a file that needs nothing but a plain header
        # (no owner, one link, small) is stat-ed, read and written here in few steps.
        with os.scandir(path) as it:
            entries = sorted(it, key=_entry_name)
        follow = self.follow_symlinks
        plain = not self.owner
        pending = self._pending
        for e in entries:
            name = base + e.name
            if exclude is not None and exclude(name):
                continue
            st = e.stat(follow_symlinks=follow)
            size = st.st_size
            header = None
            if plain and st.st_mode & 0o170000 == 0o100000 and st.st_nlink == 1 and size <= _SMALL:
                header = _file_header(name, st.st_mode, size, st.st_mtime_ns)
            if header is None:
                self._add_entry(e.path, name, st, True, exclude)
                continue
            if self.closed:
                raise ValueError("TarWriter is closed")
            pending.append(header)
            if size:
                pending.append(_read_file(e.path, size, name))
                pad = -size % BLOCK
                if pad:
                    pending.append(_ZEROS[:pad])
                self._held += len(header) + size + pad
            else:
                self._held += len(header)
            self.members += 1
            if self._held >= _BUFFER:
                self._flush_pending()

    def close(self) -> None:
        """Write the end-of-archive blocks and flush (``fp`` stays open)."""
        if self.closed:
            return
        self._write(h.end_of_archive())
        self._flush_pending()
        flush_all(self._fp)
        self.closed = True
        self._links.clear()

    def __enter__(self) -> TarWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()


# ----------------------------------------------------------------------------- headers

_ZEROS = bytes(BLOCK)
# A ustar block whose name fits the name field (empty prefix): the name, the numeric
# fields mode uid gid size mtime (48 bytes), the checksum, the type, the link target,
# magic and version, uname, gname, then zeros (devmajor, devminor, prefix, padding).
_USTAR = struct.Struct("100s48s8sc100s8s32s32s183x")
_MAGIC = b"ustar\x0000"
_NUMBERS = b"\0".join((b"%07o", b"%07o", b"%07o", b"%011o", b"%011o", b""))
_FILE_NUMBERS = b"\0".join((b"%07o", b"0" * 7, b"0" * 7, b"%011o", b"%011o", b""))  # uid and gid 0
_MAX_ID = 8**7
_MAX_11 = 8**11
# The byte sum of a block's constant parts: the checksum field as eight spaces, the magic.
_BASE_SUM = 8 * 32 + sum(_MAGIC)


def encode_header(m: Member) -> bytes:
    """The same bytes as :func:`chute.tar.header.encode`, made faster for the usual member.

    The usual member: an ASCII name and link target of up to 100 bytes, ASCII owner
    names of up to 31, numbers that fit their octal fields, not a device. It gets one
    ustar block, preceded by a PAX header with the mtime when that has a fraction of a
    second. Anything else goes through :func:`chute.tar.header.encode`.
    """
    name, link, uname, gname, typeflag = m.name, m.linkname, m.uname, m.gname, m.type
    secs, frac = divmod(m.mtime_ns, 1_000_000_000)
    if not (
        len(name) <= 100
        and name.isascii()
        and len(link) <= 100
        and link.isascii()
        and len(uname) <= 31
        and uname.isascii()
        and len(gname) <= 31
        and gname.isascii()
        and typeflag in _PLAIN_TYPES
        and 0 <= m.uid < _MAX_ID
        and 0 <= m.gid < _MAX_ID
        and 0 <= m.size < _MAX_11
        and 0 <= secs < _MAX_11
    ):
        return h.encode(m)
    bname = name.encode("ascii")
    numbers = _NUMBERS % (m.mode & 0o7777, m.uid, m.gid, m.size, secs)
    blink, buname, bgname = link.encode("ascii"), uname.encode("ascii"), gname.encode("ascii")
    checksum = _checksum(bname, numbers, b"".join((typeflag, blink, buname, bgname)))
    block = _USTAR.pack(bname, numbers, checksum, typeflag, blink, _MAGIC, buname, bgname)
    return _with_mtime_record(block, bname, secs, frac) if frac else block


def _file_header(name: str, mode: int, size: int, mtime_ns: int) -> bytes | None:
    """:func:`encode_header` of a regular file owned by 0/0 without names, in fewer steps;
    None when it needs more than that (a long or non-ASCII name, an mtime out of range).

    The numbers are formatted once (one ``%``, shared by the PAX header), the checksums
    summed by ``adler32`` and the blocks, with the PAX mtime header when there is one, made
    by one ``struct.pack``: about a third of the time of :func:`encode_header`.
    """
    secs, frac = divmod(mtime_ns, 1_000_000_000)
    if len(name) > 100 or not name.isascii() or not 0 <= secs < _MAX_11 or size >= _MAX_11:
        return None
    bname = name.encode("ascii")
    numbers = _FILE_NUMBERS % (mode & 0o7777, size, secs)
    check = b"%06o\0 " % ((adler32(numbers, adler32(bname)) & 0xFFFF) + _FILE_SUM)  # see _checksum
    if not frac:
        return _FILE.pack(bname, numbers, check, REGULAR, _MAGIC)
    value = (b"%d.%09d" % (secs, frac)).rstrip(b"0")  # the fraction is not 0: its "." stays
    n = len(value) + 10  # the record "NN mtime=VALUE\n" (13 to 40 bytes: NN has two digits)
    cut = bname.rfind(b"/") + 1
    pax_name = b"PaxHeaders/" + (bname[cut : cut + 80] or b"_")
    pax_numbers = _PAX_NUMBERS[n] + numbers[36:]  # the mtime field is the file's
    pax_check = b"%06o\0 " % ((adler32(pax_numbers, adler32(pax_name)) & 0xFFFF) + _PAX_SUM)
    record = b"%d mtime=%s\n" % (n, value)
    return _PAX_FILE.pack(
        pax_name, pax_numbers, pax_check, PAX_LOCAL, _MAGIC, record, bname, numbers, check, REGULAR, _MAGIC
    )


# A ustar block with no link target, no owner names and an empty prefix: the name, the
# numbers, the checksum, the type, then the magic and zeros; _PAX_FILE: a PAX header block,
# its records padded to a block, and the member's block.
_PLAIN_BLOCK = "100s48s8sc100x8s247x"
_FILE = struct.Struct(_PLAIN_BLOCK)
_PAX_FILE = struct.Struct(_PLAIN_BLOCK + "512s" + _PLAIN_BLOCK)
REGULAR, PAX_LOCAL = h.REGULAR, h.PAX_LOCAL
# the byte sums of the constant parts of those blocks, less adler32's 1
_FILE_SUM = _BASE_SUM + REGULAR[0] - 1
_PAX_SUM = _BASE_SUM + PAX_LOCAL[0] - 1
# a PAX header's numbers but its mtime: mode 644, ids 0, the size of its record by length
_PAX_NUMBERS = [b"\0".join((b"0000644", b"0" * 7, b"0" * 7, b"%011o" % n, b"")) for n in range(41)]


def _checksum(name: bytes, numbers: bytes, rest: bytes) -> bytes:
    """The checksum field of a block holding these bytes beside its constant parts.

    The fast paths take ASCII only, so a block's byte sum is below 512 x 128, less than
    adler32's modulus (65521): the low half of adler32 is then 1 + the plain sum.
    """
    total = (adler32(rest, adler32(numbers, adler32(name))) & 0xFFFF) - 1 + _BASE_SUM
    return b"%06o\0 " % total


def _with_mtime_record(block: bytes, bname: bytes, secs: int, frac: int) -> bytes:
    """``block`` preceded by a PAX header holding the exact mtime, as
    :func:`chute.tar.header.encode` writes it."""
    body = b" mtime=%d.%s\n" % (secs, (b"%09d" % frac).rstrip(b"0"))
    n = len(body) + 2  # the length counts its own two digits (the body is 11 to 28 bytes)
    record = b"%d%s" % (n, body)
    pax_name = b"PaxHeaders/" + (bname.rsplit(b"/", 1)[-1][:80] or b"_")
    numbers = _FILE_NUMBERS % (0o644, n, secs)
    pax = _USTAR.pack(pax_name, numbers, _checksum(pax_name, numbers, h.PAX_LOCAL), h.PAX_LOCAL, b"", _MAGIC, b"", b"")
    return b"".join((pax, record, _ZEROS[n:], block))


# Types whose members take the fast path: ASCII (see _checksum), and no device numbers.
_PLAIN_TYPES = frozenset({h.REGULAR, h.HARDLINK, h.SYMLINK, h.DIRECTORY, h.FIFO, h.CONTIGUOUS})


def _read_file(path: str, size: int, name: str) -> bytes:
    """The first ``size`` bytes of the file at ``path``; an error if it has fewer.

    A read error names ``path`` (a failed ``read`` carries no file name of its own).
    """
    fd = os.open(path, _O_READ)
    try:
        data = os.read(fd, size)
        if len(data) < size:
            parts = [data]
            got = len(data)
            while got < size:
                more = os.read(fd, size - got)
                if not more:
                    raise ArchiveError(
                        f"{quote(name)}: the source ended {size - got} bytes early (did it shrink while archived?)"
                    )
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = path
        raise
    finally:
        os.close(fd)
    return data


def _entry_name(e: os.DirEntry[str]) -> str:
    return e.name


def exclude_patterns(patterns: Iterable[str]) -> Callable[[str], bool]:
    """An ``exclude`` callable: True when a glob pattern matches the name as GNU tar's
    ``--exclude`` does: the whole name or its end from any ``/`` (so the last part), or a
    folder above it (see :func:`chute.tar.select.glob_matcher`)."""
    from .select import glob_matcher

    return glob_matcher(patterns)


def _clean_name(path: str) -> str:
    parts = [x for x in path.replace(os.sep, "/").split("/") if x not in ("", ".", "..")]
    return "/".join(parts) or "."


def _ns(mtime: float | None) -> int:
    return time.time_ns() if mtime is None else int(mtime * 1_000_000_000)


def _read_upto(f: BinaryIO, n: int) -> bytes:
    chunks = []
    while n > 0:
        c = f.read(min(n, _CHUNK))
        if not c:
            break
        chunks.append(c)
        n -= len(c)
    return b"".join(chunks)


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return ""


def _group(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (KeyError, ImportError):
        return ""
