"""Safe extraction of a tar stream into a folder.

Every path is walked from the target folder one component at a time with
``O_NOFOLLOW | O_DIRECTORY`` (``openat``-style, through ``dir_fd``), so a symlink already in
the target, or created earlier by the same archive, is never followed while writing. Each
file is written to a temporary name beside its final one and renamed into place once
complete: a member that fails mid-write leaves no partial file. Directory modes and mtimes
are applied at the end (so that writing their contents does not undo them, and read-only
folders can still be filled), but at most ``max_pending_dirs`` are kept waiting: past that
the oldest is applied at once. Memory thus stays bounded whatever the number of members.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, BinaryIO

from ..errors import LimitExceededError, UnsafeArchiveError
from . import header as h
from .header import Member
from .reader import TarReader, _DataStream
from .safety import DEFAULT_FILTERS, Filter, Limits, normalize_name

__all__ = ["Extractor", "extract", "ExtractStats"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20
_MAX_HOPS = 40
_FD_CACHE = 64
MAX_PENDING_DIRS = 16384


@dataclasses.dataclass
class ExtractStats:
    members: int = 0
    bytes: int = 0


class Extractor:
    """Write members into ``target`` (created if missing).

    ``trust=True`` lifts every policy check (absolute paths are still made relative, but
    ``..``, links anywhere, devices, modes as stored). ``owner=True`` restores uid/gid.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        trust: bool = False,
        limits: Limits | None = None,
        filters: Sequence[Filter] = DEFAULT_FILTERS,
        strip_components: int = 0,
        owner: bool = False,
    ) -> None:
        self.target = os.fspath(target)
        self.trust = trust
        self.limits = limits or Limits()
        self.filters = () if trust else filters
        self.strip = strip_components
        self.owner = owner
        self.stats = ExtractStats()
        self._tmp_counter = 0
        self._tmp_prefix = f".chute-{os.getpid()}-"
        os.makedirs(self.target, exist_ok=True)
        self._root = os.open(self.target, _DIR_FLAGS)
        self._fds: OrderedDict[tuple[str, ...], int] = OrderedDict()
        self._dirs: OrderedDict[tuple[str, ...], Member] = OrderedDict()
        self.max_pending_dirs = MAX_PENDING_DIRS
        self._nofollow = 0 if trust else _NOFOLLOW
        self._buf = bytearray(_CHUNK)
        # Folders (fds) where os.open(mode) gives exactly ``mode & ~umask``: there a file
        # whose mode the umask leaves alone needs no fchmod (see _write_file).
        self._umask = _read_umask()
        self._exact_mode_dirs: set[int] = set()
        if self._umask is not None and _mode_is_exact(self._root):
            self._exact_mode_dirs.add(self._root)

    # ------------------------------------------------------------------ directories
    def _dir(self, parts: tuple[str, ...], member: str, create: bool = True) -> int:
        """An fd for the real directory ``parts`` under the target (never via a symlink)."""
        if not parts:
            return self._root
        fd = self._fds.get(parts)
        if fd is not None:
            self._fds.move_to_end(parts)
            return fd
        parent = self._dir(parts[:-1], member, create)
        name = parts[-1]
        try:
            fd = os.open(name, _DIR_FLAGS | self._nofollow, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(name, 0o755, dir_fd=parent)
            except FileExistsError:
                pass
            fd = os.open(name, _DIR_FLAGS | self._nofollow, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                where = "/".join(parts)
                raise UnsafeArchiveError(
                    f"{member}: {where!r} in the target is a symlink or not a folder; refusing to write through it"
                ) from None
            raise
        self._fds[parts] = fd
        if self._umask is not None and _mode_is_exact(fd):
            self._exact_mode_dirs.add(fd)
        if len(self._fds) > _FD_CACHE:
            _, old = self._fds.popitem(last=False)
            self._exact_mode_dirs.discard(old)
            os.close(old)
        return fd

    def _finish_dir(self, parts: tuple[str, ...], m: Member) -> None:
        mode, mtime_ns = m.mode & 0o7777, m.mtime_ns
        try:
            fd = self._dir(parts, m.name, create=False)
        except FileNotFoundError:
            return
        if self.owner:
            os.fchown(fd, m.uid, m.gid)
        os.chmod(fd, mode)
        os.utime(fd, ns=(mtime_ns, mtime_ns))

    # ------------------------------------------------------------------ members
    def _parts(self, name: str, m: Member) -> tuple[str, ...] | None:
        parts = name.split("/")
        plain = "" not in parts and "." not in parts and ".." not in parts  # then normalize_name is a no-op
        if not plain:
            parts = [p for p in normalize_name(name).lstrip("/").split("/") if p]
        if self.strip:
            parts = parts[self.strip :]
        if not plain and not self.trust and ".." in parts:
            raise UnsafeArchiveError(f"{m.name}: path with '..' refused")
        return tuple(parts) if parts else None

    def _tmpname(self) -> str:
        self._tmp_counter += 1
        return f"{self._tmp_prefix}{self._tmp_counter}.part"

    def extract_member(self, m: Member, data: Any) -> None:
        """Extract one member read from a :class:`TarReader` (``data``: its stream)."""
        limits = self.limits
        stats = self.stats
        stats.members += 1
        stats.bytes += m.size
        if not self.trust:
            if limits.max_members is not None and stats.members > limits.max_members:
                raise LimitExceededError(f"{m.name}: more than {limits.max_members} members in the archive")
            if limits.max_total_size is not None and stats.bytes > limits.max_total_size:
                raise LimitExceededError(f"{m.name}: archive data over the {limits.max_total_size} byte limit")
        for check in self.filters:
            m = check(m, limits)
        parts = self._parts(m.name, m)
        if parts is None:
            return
        t = m.type
        if t == h.REGULAR:
            self._write_file(self._dir(parts[:-1], m.name), parts[-1], m, data)
            return
        if t == h.DIRECTORY:
            self._dir(parts, m.name)
            self._dirs[parts] = m
            self._dirs.move_to_end(parts)
            if len(self._dirs) > self.max_pending_dirs:
                self._finish_dir(*self._dirs.popitem(last=False))
            return
        d = self._dir(parts[:-1], m.name)
        name = parts[-1]
        if m.type == h.SYMLINK:
            if not self.trust:
                self._check_symlink(parts[:-1], m)
            self._place(d, name, m, lambda tmp: os.symlink(m.linkname, tmp, dir_fd=d))
            if self.owner:
                os.chown(name, m.uid, m.gid, dir_fd=d, follow_symlinks=False)
            os.utime(name, ns=(m.mtime_ns, m.mtime_ns), dir_fd=d, follow_symlinks=False)
        elif m.type == h.HARDLINK:
            self._hardlink(d, name, m)
        elif m.type in (h.CHARDEV, h.BLOCKDEV, h.FIFO):
            kind = {h.CHARDEV: stat.S_IFCHR, h.BLOCKDEV: stat.S_IFBLK, h.FIFO: stat.S_IFIFO}[m.type]
            dev = os.makedev(m.devmajor, m.devminor)
            self._place(d, name, m, lambda tmp: os.mknod(tmp, kind | (m.mode & 0o7777), dev, dir_fd=d))
        else:
            raise UnsafeArchiveError(f"{m.name}: cannot extract member type {m.type!r}")

    def _place(self, d: int, name: str, m: Member, make: Any) -> None:
        tmp = self._tmpname()
        make(tmp)
        try:
            os.rename(tmp, name, src_dir_fd=d, dst_dir_fd=d)
        except OSError as exc:
            _unlink(tmp, d)
            if isinstance(exc, (IsADirectoryError, FileExistsError)) or exc.errno == errno.ENOTEMPTY:
                raise UnsafeArchiveError(f"{m.name}: a folder of that name exists in the target") from None
            raise

    def _write_file(self, d: int, name: str, m: Member, data: Any) -> None:
        mode = m.mode & 0o7777
        # Created with its final mode when the umask and the folder leave it as is (no
        # default ACL), else private and fchmod-ed at the end. Either way no group/other
        # write bit before the end: those always take the fchmod path.
        exact = not mode & ~0o755 and self._umask is not None and not mode & self._umask and d in self._exact_mode_dirs
        for _ in range(100):
            self._tmp_counter += 1
            tmp = f"{self._tmp_prefix}{self._tmp_counter}.part"
            try:
                fd = os.open(tmp, _FILE_FLAGS, mode if exact else 0o600, dir_fd=d)
                break
            except FileExistsError:  # left by an earlier run with our pid, or an archive member
                continue
        else:
            raise FileExistsError(errno.EEXIST, "cannot create a temporary file", tmp)
        try:
            if type(data) is _DataStream:
                data.copy_to(fd, self._buf)
            else:
                buf = self._buf
                view = memoryview(buf)
                readinto = data.readinto
                while n := readinto(buf):
                    chunk = view[:n]
                    while chunk:
                        chunk = chunk[os.write(fd, chunk) :]
            if self.owner:
                os.fchown(fd, m.uid, m.gid)
                exact = False  # fchown may clear mode bits
            if not exact:
                os.fchmod(fd, mode)
            os.utime(fd, ns=(m.mtime_ns, m.mtime_ns))
        except BaseException:
            os.close(fd)
            _unlink(tmp, d)
            raise
        os.close(fd)
        try:
            os.rename(tmp, name, src_dir_fd=d, dst_dir_fd=d)
        except OSError as exc:
            _unlink(tmp, d)
            if isinstance(exc, IsADirectoryError) or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise UnsafeArchiveError(f"{m.name}: a folder of that name exists in the target") from None
            raise

    def _hardlink(self, d: int, name: str, m: Member) -> None:
        src = self._parts(m.linkname, m)
        if src is None:
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} refused")
        try:
            sd = self._dir(src[:-1], m.name, create=False)
            st = os.stat(src[-1], dir_fd=sd, follow_symlinks=False)
        except FileNotFoundError:
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} is not in the target") from None
        if not self.trust and not stat.S_ISREG(st.st_mode):
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} is not a regular file")
        if src == self._parts(m.name, m):
            return
        self._place(d, name, m, lambda tmp: os.link(src[-1], tmp, src_dir_fd=sd, dst_dir_fd=d, follow_symlinks=False))

    def _check_symlink(self, base: tuple[str, ...], m: Member) -> None:
        """Resolve the link's target against the real tree: every ``..`` must leave a real folder."""
        self._resolve(list(base), m.linkname, m, [0])

    def _resolve(self, stack: list[str], target: str, m: Member, hops: list[int]) -> tuple[list[str], bool]:
        unknown = False
        if target.startswith("/"):
            raise UnsafeArchiveError(f"{m.name}: link to absolute path {target!r} refused")
        for comp in target.split("/"):
            if comp in ("", "."):
                continue
            if comp == "..":
                if not stack or unknown:
                    raise UnsafeArchiveError(
                        f"{m.name}: link target {m.linkname!r} climbs out of the target or through a non-folder"
                    )
                stack.pop()
                continue
            if unknown:
                stack.append(comp)
                continue
            try:
                fd = self._dir(tuple(stack), m.name, create=False)
                st = os.stat(comp, dir_fd=fd, follow_symlinks=False)
            except (FileNotFoundError, UnsafeArchiveError):
                unknown = True
                stack.append(comp)
                continue
            if stat.S_ISLNK(st.st_mode):
                hops[0] += 1
                if hops[0] > _MAX_HOPS:
                    raise UnsafeArchiveError(f"{m.name}: too many levels of symlinks in {m.linkname!r}")
                stack, unknown = self._resolve(stack, os.readlink(comp, dir_fd=fd), m, hops)
            else:
                stack.append(comp)
                unknown = not stat.S_ISDIR(st.st_mode)
        return stack, unknown

    def close(self) -> None:
        """Apply the pending directory modes and times, release the folder handles."""
        try:
            while self._dirs:
                self._finish_dir(*self._dirs.popitem())
        finally:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
            self._exact_mode_dirs.clear()
            if self._root >= 0:
                os.close(self._root)
                self._root = -1

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract(
    fp: BinaryIO,
    target: str | os.PathLike[str],
    *,
    trust: bool = False,
    limits: Limits | None = None,
    strip_components: int = 0,
    owner: bool = False,
) -> ExtractStats:
    """Extract the (uncompressed) tar stream ``fp`` into ``target``, safely unless ``trust``."""
    with Extractor(target, trust=trust, limits=limits, strip_components=strip_components, owner=owner) as ex:
        for member, data in TarReader(fp):
            ex.extract_member(member, data)
        return ex.stats


def _read_umask() -> int | None:
    """The process umask, read without changing it (Linux ``/proc``); None when unknown."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _mode_is_exact(fd: int) -> bool:
    """Whether files created in the folder ``fd`` get the mode asked, less the umask.

    A default POSIX ACL replaces the umask (the new file's mode is then the ACL's, masked
    by the mode asked): such folders, and those where that cannot be told, are False.
    """
    try:
        os.getxattr(fd, "system.posix_acl_default")
    except OSError as exc:
        return exc.errno == errno.ENODATA
    except (AttributeError, TypeError):  # no xattr support in this os module
        return False
    return False


def _unlink(name: str, d: int) -> None:
    try:
        os.unlink(name, dir_fd=d)
    except OSError:
        pass
