"""Safe extraction of a tar stream into a folder.

A member the policy refuses (see :mod:`chute.tar.safety`), or one whose path would go
through a symlink, is skipped with one warning line naming it and the extraction goes on
(``strict=True``: it stops there). Every path is walked from the target folder one component at a time with
``O_NOFOLLOW | O_DIRECTORY`` (``openat``-style, through ``dir_fd``), so a symlink already in
the target, or created earlier by the same archive, is never followed while writing. Each
file is written to a temporary name beside its final one and renamed into place once
complete: a member that fails mid-write leaves no partial file. Directory modes and mtimes
are applied at the end (so that writing their contents does not undo them, and read-only
folders can still be filled), but at most ``max_pending_dirs`` are kept waiting: past that
the oldest is applied at once. Memory thus stays bounded whatever the number of members.
"""

from __future__ import annotations

import _thread
import errno
import os
import stat
from _queue import SimpleQueue  # queue and threading would import collections: start-up
from itertools import count
from zlib import adler32

from ..errors import LimitExceededError, TruncatedStreamError, UnsafeArchiveError
from ..quoting import quote
from ..streams.atomic import _LIVE
from ..streams.readahead import ReadAhead
from . import header as h
from .header import BLOCK, Member, _Record
from .reader import TarReader, _DataStream, _lone_mtime, _small_pax_size, _SparseStream, copy_member
from .safety import DATA_FILTERS, DEFAULT_FILTERS, Limits, normalize_name, policy_filters

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc and typing stay off the command path (start-up)
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, BinaryIO

    from .safety import Filter

__all__ = ["Extractor", "extract", "ExtractStats"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20
_MAX_HOPS = 40
_FD_CACHE = 64
MAX_PENDING_DIRS = 16384
# The short path of extract_all hands small files (data and padding up to _QUEUED_MAX) to a
# writer thread in batches of up to _BATCH files, at most _BATCHES batches ahead of it.
_QUEUED_MAX = 1 << 20
_BATCH = 64
_BATCHES = 4
# Errors after which no other member could be written either: the extraction stops there.
# Any other OSError fails one member, and the extraction goes on.
_FATAL_ERRNOS = frozenset(
    getattr(errno, n)
    for n in ("ENOSPC", "EDQUOT", "EIO", "EROFS", "EMFILE", "ENFILE", "ENOMEM", "EBADF")
    if hasattr(errno, n)
)


class ExtractStats(_Record):
    """What an extraction did: members read, bytes of member data written (the data runs of
    a sparse file, not its holes), members refused by the policy (skipped with a warning),
    members that failed (an error from the system, skipped with a warning) and warnings of
    the reader (a member read the way other tools read it but worth a word, such as an
    unknown type extracted as a regular file)."""

    __slots__ = ("members", "bytes", "refused", "failed", "warnings")  # noqa: RUF023 - in field order (repr)

    def __init__(self, members: int = 0, bytes: int = 0, refused: int = 0, failed: int = 0, warnings: int = 0) -> None:
        self.members = members
        self.bytes = bytes
        self.refused = refused
        self.failed = failed
        self.warnings = warnings


class Extractor:
    """Write members into ``target`` (created if missing).

    ``policy`` names what is refused (:data:`~chute.tar.safety.POLICIES`): ``"default"``
    (symlinks restored as they are, never written through), ``"data"`` (links must stay
    inside the target, as tarfile's ``data`` filter) or ``"trust"`` (no check: ``..``,
    links anywhere, devices, modes as stored; absolute paths are still made relative).
    ``trust=True`` is ``policy="trust"``. ``filters`` replaces the policy's filters.

    :meth:`extract_all` skips a refused member (and one the system fails to write) with a
    warning, ``warn(line)``, and goes on; ``strict=True`` raises at the first instead.
    ``warn`` defaults to the ``chute.tar`` logger. The counts are in :attr:`stats`.
    ``owner=True`` restores uid/gid.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        policy: str = "default",
        strict: bool = False,
        warn: Callable[[str], None] | None = None,
        trust: bool = False,
        limits: Limits | None = None,
        filters: Sequence[Filter] | None = None,
        strip_components: int = 0,
        owner: bool = False,
    ) -> None:
        if trust:
            policy = "trust"
        policy_default = policy_filters(policy)
        self.target = os.fspath(target)
        self.policy = policy
        self.trust = policy == "trust"
        self.strict = strict
        self._warn = warn
        self.limits = limits or Limits()
        self.filters = policy_default if filters is None or self.trust else filters
        self.strip = strip_components
        self.owner = owner
        self.stats = ExtractStats()
        # Temporary names, ".chute-PID-N.part": one source for the main thread, one for the
        # writer thread ("wN"), so that the two never need to agree on a counter.
        self._tmp_prefix = prefix = f".chute-{os.getpid()}-"
        self._names = map(f"{prefix}{{}}.part".format, count(1))
        self._writer_names = map(f"{prefix}w{{}}.part".format, count(1))
        self._said_absolute = False
        os.makedirs(self.target, exist_ok=True)
        # Temporary files are registered for removal by their absolute path before they
        # exist (see _make_tmp): the signal handler of chute.streams.atomic removes them.
        self._abs_target = os.path.abspath(self.target)
        self._root = os.open(self.target, _DIR_FLAGS)
        # A target that is empty at the start holds only what this extraction made: a file
        # is created under its own name there (O_EXCL; see _open_file)
        self._in_place = _is_empty(self._root)
        self._placing: str | None = None  # the last file created under its own name
        # Open folders by path under the target ("a/b"), least recently used first, and
        # folders whose mode and mtime wait for the end, by path (plain dicts keep order).
        self._fds: dict[str, int] = {}
        self._dirs: dict[str, Member] = {}
        self.max_pending_dirs = MAX_PENDING_DIRS
        self._nofollow = 0 if self.trust else _NOFOLLOW
        self._buf = bytearray(_CHUNK)
        # Folders (fds) where os.open(mode) gives exactly ``mode & ~umask``: there a file
        # whose mode the umask leaves alone needs no fchmod (see _write_file).
        self._umask = _read_umask()
        self._exact_mode_dirs: set[int] = set()
        if self._umask is not None and _mode_is_exact(self._root):
            self._exact_mode_dirs.add(self._root)
        # For subclasses that choose members (chute.tar.select): the short path of
        # extract_all skips, unread, a member whose name (as stored) _wants refuses, and
        # passes the name of each member it extracts to _announce.
        self._wants: Callable[[str], bool] | None = None
        self._announce: Callable[[str], None] | None = None
        # The writer thread of extract_all (see _flush), started with the first file
        # it is given: its job queue, the free batch slots, what it failed on.
        self.threaded = True
        self._jobs: SimpleQueue[Any] | None = None
        self._slots: SimpleQueue[int] = SimpleQueue()
        self._writer_done = _thread.allocate_lock()
        self._writer_failed: list[tuple[BaseException, str, bool]] = []
        self._writer_stop = False
        # Members read ahead and queued, and so counted in stats, but never begun: the
        # writer stopped before them (see _not_made).
        self._unmade = [0, 0]
        self._queued: list[tuple[Any, ...]] = []  # the next batch

    def _short_path_ok(self) -> bool:
        """Whether :meth:`extract_all` may take its short path: it does what
        :meth:`extract_member` does for the usual member, so not when a subclass changed
        that (a subclass that keeps to ``_wants`` and ``_announce`` says so here)."""
        return type(self).extract_member is Extractor.extract_member

    # ------------------------------------------------------------------ directories
    def _dir(self, path: str, member: str, create: bool = True, new: bool = False) -> int:
        """An fd for the real directory ``path`` ("a/b", "" for the target) under the
        target, never reached through a symlink. ``new``: a folder member, which most
        often does not exist yet (mkdir first, then open)."""
        if not path:
            return self._root
        fds = self._fds
        fd = fds.get(path)
        if fd is not None:
            fds[path] = fds.pop(path)  # most recently used: last
            return fd
        i = path.rfind("/")
        parent = self._dir(path[:i] if i > 0 else "", member, create)
        name = path[i + 1 :]
        flags = _DIR_FLAGS | self._nofollow
        if self._jobs is not None or self._queued:
            self._drain(report=False)  # a queued file may have the name: made first, as without the thread
        try:
            if new:
                try:
                    os.mkdir(name, 0o755, dir_fd=parent)
                except FileExistsError:
                    pass
            try:
                fd = os.open(name, flags, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o755, dir_fd=parent)
                except FileExistsError:
                    pass
                fd = os.open(name, flags, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise UnsafeArchiveError(
                    f"{member}: {path!r} in the target is a symlink or not a folder; refusing to write through it"
                ) from None
            raise
        fds[path] = fd
        if self._umask is not None and _mode_is_exact(fd):
            self._exact_mode_dirs.add(fd)
        if len(fds) > _FD_CACHE:
            self._drain(report=False)  # queued files may still use the folder's fd
            old = fds.pop(next(iter(fds)))
            self._exact_mode_dirs.discard(old)
            os.close(old)
        return fd

    def _pending_dir(self, path: str, m: Member) -> None:
        """Remember the folder ``path`` for its mode and mtime at the end."""
        dirs = self._dirs
        dirs.pop(path, None)
        dirs[path] = m
        if len(dirs) > self.max_pending_dirs:
            oldest = next(iter(dirs))
            self._finish_dir(oldest, dirs.pop(oldest))

    def _finish_dir(self, path: str, m: Member) -> None:
        self._drain(report=False)  # the folder's files first: its mtime and mode come last
        mode, mtime_ns = m.mode & 0o7777, m.mtime_ns
        try:
            fd = self._dir(path, m.name, create=False)
            if self.owner:
                os.fchown(fd, m.uid, m.gid)
            os.chmod(fd, mode)
            os.utime(fd, ns=(mtime_ns, mtime_ns))
        except FileNotFoundError:
            return
        except (UnsafeArchiveError, OSError) as exc:
            self._skip(exc, m.name)

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
        if "\0" in name:  # whatever the policy: no file system takes it
            raise UnsafeArchiveError(f"{m.name!r}: NUL in a member name refused")
        return tuple(parts) if parts else None

    def _live(self, dpath: str, tmp: str) -> str:
        """The absolute path of the temporary file ``tmp`` in the folder ``dpath``."""
        return f"{self._abs_target}/{dpath}/{tmp}" if dpath else f"{self._abs_target}/{tmp}"

    def extract_member(self, m: Member, data: Any) -> None:
        """Extract one member read from a :class:`TarReader` (``data``: its stream).

        Raises :class:`~chute.errors.UnsafeArchiveError` or
        :class:`~chute.errors.LimitExceededError` naming a member the policy refuses (the
        caller skips its data: :meth:`extract_or_skip`), ``OSError`` if the system does."""
        limits = self.limits
        stats = self.stats
        stats.members += 1
        trust = self.trust
        if not trust and limits.max_members is not None and stats.members > limits.max_members:
            raise LimitExceededError(f"{m.name}: more than {limits.max_members} members in the archive")
        if not trust and not self._said_absolute and m.name.startswith("/"):
            self._said_absolute = True
            self._say("removing leading '/' from member names")
        for check in self.filters:
            m = check(m, limits)
        parts = self._parts(m.name, m)
        t = m.type
        if parts is None:
            if t == h.DIRECTORY or self.strip:  # the target itself, or a name stripped away
                return
            raise UnsafeArchiveError(f"{m.name or '(empty name)'}: the name is empty or '.'; not extracted")
        if "\0" in m.linkname:
            raise UnsafeArchiveError(f"{m.name}: NUL in a link target refused")
        if t == h.REGULAR:
            written = m.size if m.sparse is None else sum(n for _, n in m.sparse)
            if not trust and limits.max_total_size is not None and stats.bytes + written > limits.max_total_size:
                raise LimitExceededError(f"{m.name}: archive data over the {limits.max_total_size} byte limit")
            stats.bytes += written
            dpath = "/".join(parts[:-1])
            self._write_file(self._dir(dpath, m.name), dpath, parts[-1], m, data)
            return
        if t == h.DIRECTORY:
            path = "/".join(parts)
            self._dir(path, m.name, new=True)
            self._pending_dir(path, m)
            return
        if t == h.SYMLINK and self.policy == "data":
            # before the folder's fd is taken: resolving may open (and evict) many folders
            self._check_symlink(parts[:-1], m)
        dpath = "/".join(parts[:-1])
        d = self._dir(dpath, m.name)
        name = parts[-1]
        if t == h.SYMLINK:
            self._place(d, dpath, name, m, lambda tmp: os.symlink(m.linkname, tmp, dir_fd=d))
            if self.owner:
                os.chown(name, m.uid, m.gid, dir_fd=d, follow_symlinks=False)
            os.utime(name, ns=(m.mtime_ns, m.mtime_ns), dir_fd=d, follow_symlinks=False)
        elif t == h.HARDLINK:
            self._hardlink(d, dpath, name, m)
        elif t in (h.CHARDEV, h.BLOCKDEV, h.FIFO):
            kind = {h.CHARDEV: stat.S_IFCHR, h.BLOCKDEV: stat.S_IFBLK, h.FIFO: stat.S_IFIFO}[t]
            dev = os.makedev(m.devmajor, m.devminor)
            self._place(d, dpath, name, m, lambda tmp: os.mknod(tmp, kind | (m.mode & 0o7777), dev, dir_fd=d))
        else:
            raise UnsafeArchiveError(f"{m.name}: cannot extract member type {m.type!r}")

    def extract_or_skip(self, m: Member, data: Any) -> bool:
        """:meth:`extract_member`, but a member that is refused, or that the system fails
        to write, is counted in :attr:`stats` and reported through ``warn`` (one line
        naming it), and False is returned: the caller skips its data and goes on.

        Raised as they come instead: anything with ``strict``; the member-count limit
        (reading on would be the denial of service it guards against); errors no other
        member could escape (a full disk, a read-only or failing file system; the
        ``OSError`` gets the member's name); errors of the archive itself (corrupt,
        truncated)."""
        try:
            self.extract_member(m, data)
            return True
        except (UnsafeArchiveError, LimitExceededError, OSError) as exc:
            self._skip(exc, m.name)
        return False

    def _say(self, line: str) -> None:
        if self._warn is not None:
            self._warn(line)
        else:
            import logging

            logging.getLogger("chute.tar").warning("%s", line)

    def reader(self, fp: BinaryIO) -> TarReader:
        """A :class:`TarReader` of ``fp`` whose warnings (an unknown member type read as a
        regular file...) are counted in :attr:`stats` and reported like refusals."""
        return TarReader(fp, on_warning=self._read_warning)

    def _read_warning(self, line: str) -> None:
        self.stats.warnings += 1
        self._say(line)

    def extract_all(self, fp: BinaryIO) -> ExtractStats:
        """Extract every member of the (uncompressed) tar stream ``fp``.

        The same as ``for m, data in self.reader(fp): self.extract_or_skip(m, data)``, with
        the usual member on a shorter path: a regular file or a folder in a ustar or GNU
        header of its own (no PAX or GNU extension before it), numeric fields in their
        usual shape and a plain name (no ``//``, no part ``.``, ``..`` or starting with a
        dot, not absolute), under a policy's own filters, without ``owner`` or
        ``strip_components``. It does what the general path would, with the same checks,
        in one loop: no :class:`Member`, no stream object, no filter calls for such files.
        Any other member, or any doubt (checksum, limits, a folder that cannot be opened
        or a file that cannot be created), takes the general path.
        """
        reader = self.reader(fp)
        limits = self.limits
        cap = limits.max_name_length
        if (
            self.strip
            or self.owner
            or not (self.trust or self.filters is DEFAULT_FILTERS or self.filters is DATA_FILTERS)
            or (not self.trust and cap is not None and cap < 256)  # a ustar name has 256 bytes at most
            or not self._short_path_ok()
        ):
            try:
                for m, data in reader:
                    self.extract_or_skip(m, data)
            except BaseException:
                self._remove_live()
                raise
            return self.stats
        stats = self.stats
        no_cap = 1 << 62
        max_members = no_cap if self.trust or limits.max_members is None else limits.max_members
        max_total = no_cap if self.trust or limits.max_total_size is None else limits.max_total_size
        mode_mask = 0o7777 if self.trust else 0o755
        umask = self._umask
        exact_dirs = self._exact_mode_dirs
        names = self._names
        buf = self._buf
        # From a ReadAhead (a compressed archive) the headers and small files are read in
        # place from its decoded chunks: its read() costs ~3 us a call, a slice ~0.3 us.
        # Before anything else reads fp (the general path, a large file, a member skipped),
        # sync() gives it back what was taken.
        read, sync = _in_place(fp) if isinstance(fp, ReadAhead) else (fp.read, _no_sync)
        pax_local = h.PAX_LOCAL
        utime, fchmod, close, rename = os.utime, os.fchmod, os.close, os.rename
        live_discard = _LIVE.discard
        last_path: str | None = None  # the folder of the previous file, its fd and absolute path
        d = self._root
        abs_dir = self._abs_target + "/"
        exact_dir = False
        in_place = self._in_place
        # kept in locals, and put back where other code reads them (finally, general path)
        members, total, offset = stats.members, stats.bytes, reader.offset
        wants, announce = self._wants, self._announce
        threaded = self.threaded
        queued = self._queued
        try:
            while True:
                block = read(BLOCK)
                # A pax header that gives only the mtime (chute writes one before every
                # member) is read here: the member after it may still take the short path.
                head, pre, pax_mtime, head_size = block, b"", None, BLOCK
                if block[156:157] == pax_local and not reader._globals:
                    # as TarReader._small_pax, through the same read as the rest
                    records = _small_pax_size(block)
                    if records is not None:
                        pre = read(BLOCK)
                        pax_mtime = _lone_mtime(pre[:records]) if len(pre) == BLOCK else None
                        if pax_mtime is not None:
                            block = read(BLOCK)
                            pre += block
                            head_size = 3 * BLOCK
                usual = None if reader._globals or (pre and pax_mtime is None) else _usual_header(block)
                if usual is not None and wants is not None and not wants(usual[1]):
                    skipped = usual[4] + (-usual[4] % BLOCK)  # not chosen: data and padding dropped unread
                    sync()
                    reader._skip(skipped, usual[1])
                    offset += head_size + skipped
                    continue
                if usual is not None and (members >= max_members or total + usual[4] > max_total):
                    usual = None  # the general path refuses it
                if usual is not None:
                    folder, name, path, mode, size, mtime = usual
                    mode &= mode_mask
                    if pax_mtime is not None:
                        mtime = pax_mtime
                    if folder:
                        last_path = None  # folder fds may be closed
                        try:
                            self._dir(path, name, new=True)
                        except (UnsafeArchiveError, OSError):
                            usual = None  # the general path refuses it, or reports the error
                        else:
                            if announce is not None:
                                if self._jobs is not None or queued:
                                    self._drain(report=False)  # the files before it are announced first
                                announce(name)
                            members += 1
                            self._pending_dir(path, Member(name, h.DIRECTORY, mode, 0, mtime))
                            offset += head_size
                            continue
                    else:
                        i = path.rfind("/")
                        if i < 0:
                            dpath, base = "", path
                        else:
                            dpath, base = path[:i], path[i + 1 :]
                        if dpath != last_path:
                            try:
                                d = self._dir(dpath, name)
                            except (UnsafeArchiveError, OSError):
                                last_path = None
                                usual = None
                            else:
                                last_path = dpath
                                exact_dir = d in exact_dirs
                                abs_dir = self._live(dpath, "")
                if usual is not None:
                    pad = -size % BLOCK
                    # As _write_file: created with its final mode when the umask and the
                    # folder keep it, else private and fchmod-ed once complete.
                    exact = exact_dir and not mode & ~0o755 and not mode & umask  # type: ignore[operator]
                    if threaded and size + pad <= _QUEUED_MAX:
                        # read here, the file made (and announced) by the writer thread (_writer)
                        members += 1
                        total += size
                        content = read(size + pad)
                        if len(content) < size + pad:
                            if announce is not None:  # as without the thread: the files before, then its name
                                self._drain(report=False)
                                announce(name)
                            where = "data" if len(content) < size else "padding"
                            raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's {where}")
                        queued.append((d, abs_dir, base, name, content, size, mode, exact, mtime))
                        offset += head_size + size + pad
                        if len(queued) >= _BATCH:
                            self._flush()
                        continue
                    if self._jobs is not None or queued:
                        self._drain()  # a large file: written here, after those queued
                    fmode = mode if exact else 0o600
                    try:
                        fd, tmp, live = self._make_tmp(abs_dir, names, base if in_place else None, d, fmode)
                    except OSError:  # the general path reports it
                        last_path = None
                        fd = -1
                    if fd >= 0:
                        if announce is not None:
                            announce(name)
                        members += 1
                        total += size
                        try:
                            sync()
                            copy_member(fp, fd, size, pad, buf, name)
                            if not exact:
                                fchmod(fd, mode)
                            utime(fd, ns=(mtime, mtime))
                        except BaseException as exc:
                            close(fd)
                            _unlink(tmp, d)
                            live_discard(live)
                            if isinstance(exc, OSError):  # the data is half read: no going on
                                raise OSError(exc.errno, exc.strerror, name) from None
                            raise
                        close(fd)
                        offset += head_size + size + pad
                        if tmp == base:  # made under its own name (see _open_file)
                            live_discard(live)
                            continue
                        try:
                            rename(tmp, base, src_dir_fd=d, dst_dir_fd=d)
                        except OSError as exc:
                            live_discard(live)
                            try:
                                _rename_failed(exc, tmp, d, name)
                            except (UnsafeArchiveError, OSError) as refused:
                                stats.members = members
                                self._skip(refused, name)
                            continue
                        live_discard(live)
                        continue
                # anything else: the general path, from this block on
                stats.members, stats.bytes, reader.offset = members, total, offset
                try:
                    self._drain()  # the files queued before come first (a hard link may name one)
                    sync()
                    member = reader._member(head, pre)
                    if member is None:
                        self._stop_writer()
                        return stats
                    last_path = None  # folder fds may have been closed
                    self.extract_or_skip(member[0], member[1])
                    reader._finish(member[2])
                finally:  # what the general path counted, even if it raised
                    members, total, offset = stats.members, stats.bytes, reader.offset
        except BaseException as exc:
            stats.members = members
            if self._jobs is not None or self._queued:
                # the files queued before (read whole) are made first, as they would have
                # been without the thread; and for an error, what the writer failed on is
                # reported (an earlier error wins)
                try:
                    self._stop_writer(report=False)
                    if isinstance(exc, Exception):
                        self._report_writer()
                except BaseException:
                    self._stop_writer(abandon=True)
                    self._remove_live()
                    raise
            self._remove_live()
            raise
        finally:
            sync()
            # the writer has ended, or it has no failure to stop on: what it dropped is final
            unmade = self._unmade
            stats.members, stats.bytes, reader.offset = members - unmade[0], total - unmade[1], offset
            unmade[:] = [0, 0]

    def _remove_live(self) -> None:
        """Remove this extraction's temporary files still registered: on an exception that
        may have landed between a file's creation and its rename (Ctrl-C), as the signal
        handler of :mod:`chute.streams.atomic` does for SIGTERM; and the last file created
        under its own name, if it is still registered."""
        under = self._abs_target + "/"
        for path in list(_LIVE):
            if path == self._placing or (
                path.startswith(under) and path.rpartition("/")[2].startswith(self._tmp_prefix)
            ):
                _LIVE.discard(path)
                try:
                    os.unlink(path)
                except OSError:
                    pass

    # ------------------------------------------------------------------ the writer thread
    # The short path of extract_all reads the next headers while the writer thread makes
    # the files of the members before (open, write, utime, close: system calls, which
    # release the GIL). Files are made in archive order, each registered for removal
    # before it exists, as on the main thread. Before anything else touches the target
    # (a folder's mode, a folder handle closed, a member on the general path, the end)
    # the main thread waits for the queue to empty (_drain). What the writer fails on is
    # reported by the main thread as if it had failed there (_report_writer); after an
    # error that stops the extraction, the writer makes no more files.

    def _flush(self) -> None:
        """Hand the batch of queued files to the writer thread (started on first use),
        once it is at most ``_BATCHES`` batches behind; report what it failed on."""
        if self._jobs is None:
            self._jobs = SimpleQueue()
            self._slots = SimpleQueue()
            for _ in range(_BATCHES):
                self._slots.put(1)
            self._writer_stop = False
            self._writer_done.acquire()
            _thread.start_new_thread(self._writer, (self._jobs, self._slots))
        self._slots.get()
        self._jobs.put(self._queued[:])
        self._queued.clear()
        if self._writer_failed:
            self._report_writer()

    def _drain(self, report: bool = True) -> None:
        """Wait until every queued file is made; then, if ``report``, report what the
        writer failed on (else that waits for the next report)."""
        if self._queued:
            self._flush() if report else self._flush_quietly()
        if self._jobs is None:
            return
        done = _thread.allocate_lock()
        done.acquire()
        self._jobs.put(done)
        done.acquire()  # released by the writer once it reaches it
        if report and self._writer_failed:
            self._report_writer()

    def _flush_quietly(self) -> None:
        failed = self._writer_failed
        self._writer_failed = []
        try:
            self._flush()
        finally:
            self._writer_failed = failed + self._writer_failed

    def _stop_writer(self, abandon: bool = False, report: bool = True) -> None:
        """End the writer thread once the queue is empty (and reported, see
        :meth:`_drain`), or with ``abandon`` at once: the files not begun are not made."""
        if abandon:
            self._writer_stop = True
        else:
            self._drain(report)
        jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.put(None)
            self._writer_done.acquire()  # released by the writer as it ends
            self._writer_done.release()
        if self._queued:  # abandoned before it was handed over
            self._not_made(self._queued)
            self._queued.clear()

    def _not_made(self, items: list[tuple[Any, ...]]) -> None:
        """Count queued files that will not be made (the writer stopped before them): they
        were counted in :attr:`stats` when read, and are taken out of it at the end of
        :meth:`extract_all`. Called by one thread at a time: the writer while it runs,
        the main thread once it has ended."""
        unmade = self._unmade
        unmade[0] += len(items)
        unmade[1] += sum(item[5] for item in items)

    def _report_writer(self) -> None:
        """Report, in order, the files the writer failed on, as the main thread would have
        (a warning, or the exception that stops the extraction)."""
        failed = self._writer_failed
        while failed:
            exc, name, direct = failed.pop(0)
            if direct:
                raise exc
            self._skip(exc, name)

    def _writer(self, jobs: SimpleQueue[Any], slots: SimpleQueue[int]) -> None:
        """The writer thread: make the files of each batch, in order, as the short path of
        :meth:`extract_all` would (see :meth:`_open_file`), announcing each as it is begun.
        What it fails on is kept for the main thread (:meth:`_writer_failed_on`)."""
        make_tmp, names, in_place, announce = self._make_tmp, self._writer_names, self._in_place, self._announce
        write, fchmod, utime, close, rename = os.write, os.fchmod, os.utime, os.close, os.rename
        discard, failed_on = _LIVE.discard, self._writer_failed_on
        try:
            while True:
                job = jobs.get()
                if job is None:
                    return
                if type(job) is not list:
                    job.release()  # a _drain waits for it
                    continue
                for i, (d, abs_dir, base, name, data, size, mode, exact, mtime) in enumerate(job):
                    if self._writer_stop:
                        self._not_made(job[i:])
                        break
                    try:
                        if announce is not None:
                            announce(name)
                        try:
                            fd, tmp, live = make_tmp(
                                abs_dir, names, base if in_place else None, d, mode if exact else 0o600
                            )
                        except OSError as exc:
                            failed_on(exc, name, False)
                            continue
                        try:
                            try:
                                view = memoryview(data)[:size]
                                done = write(fd, view)
                                while done < size:  # a short write (a signal): the rest
                                    done += write(fd, view[done:])
                                if not exact:
                                    fchmod(fd, mode)
                                utime(fd, ns=(mtime, mtime))
                            finally:
                                close(fd)
                        except BaseException as exc:
                            _unlink(tmp, d)
                            discard(live)
                            if isinstance(exc, OSError):
                                exc = OSError(exc.errno, exc.strerror, name)
                            failed_on(exc, name, True)
                            continue
                        if tmp != base:
                            try:
                                rename(tmp, base, src_dir_fd=d, dst_dir_fd=d)
                            except OSError as exc:
                                discard(live)
                                try:
                                    _rename_failed(exc, tmp, d, name)
                                except (UnsafeArchiveError, OSError) as refused:
                                    failed_on(refused, name, False)
                                continue
                        discard(live)
                    except BaseException as exc:  # raised on the main thread instead
                        failed_on(exc, name, True)
                slots.put(1)
        finally:
            self._writer_done.release()

    def _writer_failed_on(self, exc: BaseException, name: str, direct: bool) -> None:
        """Keep ``exc`` for :meth:`_report_writer`; stop the writer if it ends the
        extraction (``direct``: raised as it is; else as :meth:`_skip` would)."""
        self._writer_failed.append((exc, name, direct))
        if direct or self.strict or (isinstance(exc, OSError) and exc.errno in _FATAL_ERRNOS):
            self._writer_stop = True

    def _open_file(self, d: int, dpath: str, name: str, mode: int) -> tuple[int, str, str]:
        """A new file for the member ``name`` in the folder ``d``: (fd, the name it has
        now, absolute path registered for removal), as :meth:`_make_tmp` makes it.

        In a target that was empty at the start, a name that does not exist yet is
        created as it is (``O_EXCL``): there is nothing it could replace, and no
        ``rename`` to pay. It is registered for removal like a temporary name, and removed
        if the member fails, so an interrupted extraction leaves no partial file under a
        member's name either; only SIGKILL or a crash can (as it can leave a temporary
        file). A name that exists (a member seen twice) is written under a temporary
        name and renamed over it, as everywhere else.
        """
        return self._make_tmp(self._live(dpath, ""), self._names, name if self._in_place else None, d, mode)

    def _make_tmp(
        self,
        abs_dir: str,
        names: Iterator[str],
        first: str | None = None,
        d: int = -1,
        mode: int = 0o600,
        make: Callable[[str], object] | None = None,
    ) -> tuple[int, str, str]:
        """A new file, open to write, in the folder ``d`` of the target (``abs_dir``: its
        absolute path and a final ``/``), ``O_EXCL`` with ``mode``; or with ``make`` given,
        ``make(name)`` instead (a link, a device; the result is then -1, not an fd). It is
        made under the name ``first`` if given, else, or if that exists, under the next
        temporary name from ``names`` (the name source of the calling thread). Returns the
        fd, the name and its absolute path.

        The absolute path is in ``chute.streams.atomic``'s registry of files to remove on
        a signal from before the file exists; the caller discards it once the file is
        complete under its final name, or removed. A name that exists already is not ours
        and is left alone: the next name is tried. This is the one place where the main
        thread and the writer thread create what they write."""
        tmp = first if first is not None else next(names)
        tries = 100
        while True:
            live = abs_dir + tmp
            _LIVE.add(live)
            if tmp is first:
                self._placing = live
            try:
                if make is None:
                    return os.open(tmp, _FILE_FLAGS, mode, dir_fd=d), tmp, live
                make(tmp)
                return -1, tmp, live
            except FileExistsError:  # a member seen before, or left by an earlier run with our pid
                _LIVE.discard(live)
                tries -= 1
                if not tries:
                    raise FileExistsError(errno.EEXIST, "cannot create a temporary file", live) from None
                tmp = next(names)
            except OSError:
                _LIVE.discard(live)
                raise
            # any other exception (Ctrl-C) leaves it registered: extract_all removes it

    def _skip(self, exc: BaseException, name: str) -> None:
        """Count and report the member ``name`` that failed with ``exc``, or raise (see
        :meth:`extract_or_skip`)."""
        if isinstance(exc, (UnsafeArchiveError, LimitExceededError)):
            limits = self.limits
            if self.strict or (limits.max_members is not None and self.stats.members > limits.max_members):
                raise exc
            self.stats.refused += 1
            self._say(f"{exc}; skipped")
            return
        if isinstance(exc, OSError):
            if exc.errno in _FATAL_ERRNOS or self.strict:
                # named after the member, not the file (a temporary name, or the last part)
                raise OSError(exc.errno, exc.strerror or str(exc), name) from None
            self.stats.failed += 1
            reason = exc.strerror or str(exc)
            self._say(f"{name}: {reason[:1].lower()}{reason[1:]}; skipped")
            return
        raise exc

    def _place(self, d: int, dpath: str, name: str, m: Member, make: Any) -> None:
        """Make a link or special file with ``make(tmp)`` under a temporary name, then
        rename it to ``name``. The name is registered for removal before it exists, and
        stays registered until the rename is done (see :meth:`_remove_live`)."""
        _, tmp, live = self._make_tmp(self._live(dpath, ""), self._names, make=make)
        try:
            os.rename(tmp, name, src_dir_fd=d, dst_dir_fd=d)
        except OSError as exc:
            _unlink(tmp, d)
            _LIVE.discard(live)
            if isinstance(exc, (IsADirectoryError, NotADirectoryError, FileExistsError)) or (
                exc.errno == errno.ENOTEMPTY
            ):
                raise UnsafeArchiveError(f"{m.name}: a folder of that name exists in the target") from None
            raise
        _LIVE.discard(live)

    def _write_file(self, d: int, dpath: str, name: str, m: Member, data: Any) -> None:
        mode = m.mode & 0o7777
        # Created with its final mode when the umask and the folder leave it as is (no
        # default ACL), else private and fchmod-ed at the end. Either way no group/other
        # write bit before the end: those always take the fchmod path.
        exact = not mode & ~0o755 and self._umask is not None and not mode & self._umask and d in self._exact_mode_dirs
        fd, tmp, live = self._open_file(d, dpath, name, mode if exact else 0o600)
        try:
            kind = type(data)
            if kind is _DataStream or kind is _SparseStream:
                data.copy_to(fd, self._buf)  # a sparse member: holes left as holes
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
            _LIVE.discard(live)
            raise
        os.close(fd)
        if tmp == name:
            _LIVE.discard(live)
            return
        try:
            os.rename(tmp, name, src_dir_fd=d, dst_dir_fd=d)
        except OSError as exc:
            _LIVE.discard(live)
            _rename_failed(exc, tmp, d, m.name)
        _LIVE.discard(live)

    def _hardlink(self, d: int, dpath: str, name: str, m: Member) -> None:
        src = self._parts(m.linkname, m)
        if src is None:
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} refused")
        try:
            sd = self._dir("/".join(src[:-1]), m.name, create=False)
            st = os.stat(src[-1], dir_fd=sd, follow_symlinks=False)
        except FileNotFoundError:
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} is not in the target") from None
        # A hard link to a symlink is the same symlink (data, as any symlink), except under
        # the data policy, where only symlinks it checked itself may be made.
        allowed = stat.S_ISREG(st.st_mode) or (stat.S_ISLNK(st.st_mode) and self.policy != "data")
        if not self.trust and not allowed:
            raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} is not a regular file")
        if src == self._parts(m.name, m):
            return
        self._place(
            d, dpath, name, m, lambda tmp: os.link(src[-1], tmp, src_dir_fd=sd, dst_dir_fd=d, follow_symlinks=False)
        )

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
                fd = self._dir("/".join(stack), m.name, create=False)
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
            self._stop_writer(abandon=True)  # ended already, unless extract_all was cut short
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
    policy: str = "default",
    strict: bool = False,
    warn: Callable[[str], None] | None = None,
    trust: bool = False,
    limits: Limits | None = None,
    strip_components: int = 0,
    owner: bool = False,
) -> ExtractStats:
    """Extract the (uncompressed) tar stream ``fp`` into ``target`` under ``policy`` (see
    :class:`Extractor` for the arguments). Refused members are skipped with a warning
    unless ``strict``: check ``refused`` and ``failed`` in the result."""
    with Extractor(
        target,
        policy=policy,
        strict=strict,
        warn=warn,
        trust=trust,
        limits=limits,
        strip_components=strip_components,
        owner=owner,
    ) as ex:
        ex.extract_all(fp)
    return ex.stats


def _rename_failed(exc: OSError, tmp: str, d: int, name: str) -> None:
    """After a failed rename of the temporary file ``tmp`` to member ``name``: remove it, raise."""
    _unlink(tmp, d)
    if isinstance(exc, IsADirectoryError) or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
        raise UnsafeArchiveError(f"{name}: a folder of that name exists in the target") from None
    raise exc


# numeric fields mode, uid, gid, size and mtime as 7, 7, 7, 11 and 11 octal digits, each
# NUL-terminated: their bytes with every octal digit made "0"
_OCTAL_TO_ZERO = bytes.maketrans(b"1234567", b"0000000")
_USUAL_NUMBERS = b"0000000\0" * 3 + b"00000000000\0" * 2


def _usual_header(block: bytes) -> tuple[bool, str, str, int, int, int] | None:
    """``(folder, name, path, mode, size, mtime_ns)`` for a header that
    :meth:`Extractor.extract_all` takes on its short path, else None.

    That is: a whole block; a regular file or folder (type ``0``, NUL or ``5``); ustar or
    GNU magic; the numeric fields in their usual shape (only octal digits, so that
    :func:`~chute.tar.header.decode` reads the same numbers); the checksum right as
    :func:`~chute.tar.header.checksum_ok` computes it (unsigned); and a name that every
    default filter passes unchanged and that needs no normalizing: not empty, not
    absolute (``/``, ``C:``), no ``//``, no part that starts with a dot (so no ``.`` or
    ``..``), no ``..`` anywhere. ``path`` is the name without a folder's trailing ``/``;
    ``size`` is 0 for a folder (no data follows it, whatever its field says).

    A name that starts with ``./`` (as ``tar -cf A -C DIR .`` writes every name) is taken
    too when the rest of it is such a name and no ustar prefix field comes before it:
    ``name`` is then the name as stored, ``path`` the rest (what normalizing makes of it).
    """
    if len(block) != BLOCK:
        return None
    t = block[156]
    if t != 48 and t != 0 and t != 53:
        return None
    magic = block[257:265]
    if magic != b"ustar\x0000" and magic != b"ustar  \0":
        return None
    if block[100:148].translate(_OCTAL_TO_ZERO) != _USUAL_NUMBERS:
        return None
    try:
        stored = int(block[148:156].partition(b"\0")[0], 8)
    except ValueError:
        return None
    if stored != (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) + 254 - sum(block[148:156]):
        return None
    j = block.find(0, 0, 100)
    raw = block[: j if j >= 0 else 100]
    prefixed = block[345] and magic[5] == 0  # ustar: the prefix field
    if prefixed:
        raw = block[345:500].partition(b"\0")[0] + b"/" + raw
    name = raw.decode("utf-8", "surrogateescape")
    folder = t == 53
    path = name[:-1] if folder and name[-1:] == "/" else name
    if path[:2] == "./" and not prefixed:
        path = path[2:]
    if (
        not path
        or path[0] in "/."
        or path[-1] == "/"
        or "//" in path
        or "/." in path
        or ".." in path
        or path[1:2] == ":"
    ):
        return None
    size = 0 if folder else int(block[124:135], 8)
    return folder, name, path, int(block[100:107], 8), size, int(block[136:147], 8) * 1_000_000_000


def _in_place(fp: ReadAhead) -> tuple[Callable[[int], bytes], Callable[[], None]]:
    """``read(n)`` and ``sync()`` for :meth:`Extractor.extract_all` over ``fp``: ``read``
    takes its bytes from a copy of ``fp``'s current chunk (``peek_chunk``) without telling
    ``fp``; ``sync`` consumes from ``fp`` what was taken, so that it can be read on from
    there. Bytes that run into the next chunk, and the end, come from ``fp.read``."""
    buf = b""
    pos = 0

    def read(n: int) -> bytes:
        nonlocal buf, pos
        end = pos + n
        if end <= len(buf):
            pos = end
            return buf[end - n : end]
        fp.consume(pos)
        buf, pos = b"", 0  # in step with fp, even if the next chunk raises
        view = fp.peek_chunk()  # the rest of the chunk, else the next one (empty at the end)
        if len(view) >= n:
            buf, pos = view.tobytes(), n
            return buf[:n]
        return fp.read(n)

    def sync() -> None:
        nonlocal buf, pos
        fp.consume(pos)
        buf, pos = b"", 0

    return read, sync


def _no_sync() -> None:
    pass


def _is_empty(fd: int) -> bool:
    """Whether the folder ``fd`` has no entries (False when that cannot be told)."""
    try:
        with os.scandir(fd) as entries:
            return next(entries, None) is None
    except (OSError, TypeError, NotImplementedError):  # no scandir by descriptor on this system
        return False


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
