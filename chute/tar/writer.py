"""Streaming tar writer (PAX format): files, trees, bytes and streams of unknown size."""

from __future__ import annotations

import io
import os
import stat
import time

from ..errors import ArchiveError
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


class TarWriter:
    """Write a PAX tar stream to ``fp`` (any writable binary file object; nothing seeks).

    ``owner=True`` records uid/gid and user/group names; by default members are owned by
    0/0 with no names, so archives do not leak local accounts and are reproducible.
    ``add_stream`` with an unknown size keeps up to ``spool_limit`` bytes in memory, then
    spools the rest to a temporary file in ``spool_dir`` (default: the system's temp dir)
    before writing the member with its real size. ``close()`` writes the end-of-archive
    blocks; it does not close ``fp``.
    """

    def __init__(
        self,
        fp: BinaryIO,
        *,
        owner: bool = False,
        spool_limit: int = DEFAULT_SPOOL_LIMIT,
        spool_dir: str | None = None,
        follow_symlinks: bool = False,
    ) -> None:
        self._fp = fp
        self.owner = owner
        self.spool_limit = spool_limit
        self.spool_dir = spool_dir
        self.follow_symlinks = follow_symlinks
        self._buf = bytearray()
        self._links: dict[tuple[int, int], str] = {}
        self.closed = False
        self.members = 0

    # -- low level
    def _write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= _BUFFER:
            if self._buf:
                write_all(self._fp, self._buf)
                self._buf.clear()
            write_all(self._fp, data)
            return
        self._buf += data
        if len(self._buf) >= _BUFFER:
            write_all(self._fp, self._buf)
            self._buf.clear()

    def add(self, member: Member, fileobj: BinaryIO | None = None) -> None:
        """Write ``member``'s header, then exactly ``member.size`` bytes read from ``fileobj``."""
        if self.closed:
            raise ValueError("TarWriter is closed")
        if not self.owner:
            member.uid = member.gid = 0
            member.uname = member.gname = ""
        if member.type != h.REGULAR:
            member.size = 0
        self._write(h.encode(member))
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
                raise ArchiveError(f"{name}: the source ended {left} bytes early (did it shrink while archived?)")
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
            raise ArchiveError(f"{path}: cannot archive a socket or unknown file type")
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
        st = os.stat(p) if self.follow_symlinks else os.lstat(p)
        self._add_entry(p, name, st, recursive, exclude)

    def _add_entry(
        self, p: str, name: str, st: os.stat_result, recursive: bool, exclude: Callable[[str], bool] | None
    ) -> None:
        if exclude is not None and exclude(name):
            return
        m = self.member_from_stat(p, name, st)
        if m.type == h.REGULAR and m.size:
            with open(p, "rb") as f:
                self.add(m, f)
        else:
            self.add(m)
        if m.type == h.DIRECTORY and recursive:
            with os.scandir(p) as it:
                entries = sorted(it, key=lambda e: e.name)
            base = m.name if m.name not in ("./", "/") else ""
            for e in entries:
                est = e.stat(follow_symlinks=self.follow_symlinks)
                self._add_entry(e.path, base + e.name, est, recursive, exclude)

    def close(self) -> None:
        """Write the end-of-archive blocks and flush (``fp`` stays open)."""
        if self.closed:
            return
        self._write(h.end_of_archive())
        if self._buf:
            write_all(self._fp, self._buf)
            self._buf.clear()
        flush_all(self._fp)
        self.closed = True
        self._links.clear()

    def __enter__(self) -> TarWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()


def exclude_patterns(patterns: Iterable[str]) -> Callable[[str], bool]:
    """An ``exclude`` callable: True when the name or its last part matches a glob pattern."""
    import fnmatch  # here: fnmatch imports re

    pats = list(patterns)

    def excluded(name: str) -> bool:
        n = name.rstrip("/")
        base = n.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(n, p) or fnmatch.fnmatchcase(base, p) for p in pats)

    return excluded


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
