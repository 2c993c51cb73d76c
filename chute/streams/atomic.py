"""Output files that appear whole or not at all.

:class:`AtomicFile` writes to a hidden temporary file in the target's folder and renames
it over the target only on success, so readers never see a torn file and a failed or
interrupted run leaves nothing behind. Without ``overwrite`` an existing target is never
touched (checked before writing and again at the rename, which uses a hard link so a
file that appeared meanwhile is not clobbered).

A target that exists and is not a regular file or a folder (a device such as
``/dev/null``, a FIFO, a socket), directly or through symbolic links, is written in place
instead, like ``zstd -o`` and ``tar -f`` do: no temporary file, no rename, no change of
mode or times, nothing removed on an error, with or without ``overwrite``. A symbolic link
to a regular file is replaced by the new file, as gzip, xz and ``zstd -f`` do.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from types import TracebackType
    from typing import BinaryIO
else:
    # The C module under ``signal``, with the same functions: signal.py wraps every number
    # in an enum, and importing enum costs every chute command several ms of start-up.
    import _signal as signal

__all__ = ["AtomicFile", "copy_metadata", "cleanup_on_signals", "Terminated", "writes_in_place", "temp_prefix"]

# Temporary files not yet committed or aborted. No lock: a signal handler reads it, and
# set.add/discard/copy are atomic under the GIL.
_LIVE: set[str] = set()
_WAKEUP_FD: int | None = None


class Terminated(BaseException):
    """Raised by the handler of :func:`cleanup_on_signals` when SIGTERM/SIGHUP arrives.

    A BaseException, like KeyboardInterrupt, so ``except Exception`` does not swallow
    it and every ``with AtomicFile`` on the way up removes its temporary file.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class AtomicFile:
    """Context manager: ``with AtomicFile(path) as f: f.write(...)``.

    On a clean exit the data is flushed, optionally fsynced, and renamed to ``path``;
    on an exception the temporary file is removed and ``path`` is left as it was.
    ``FileExistsError`` is raised if ``path`` exists and ``overwrite`` is false.

    Where ``path`` is a device, FIFO or socket (see :func:`writes_in_place`) it is opened
    and written directly, ``overwrite`` or not: ``in_place`` is then true, ``tmp`` is
    ``None`` and ``mode`` is not applied. Opening a FIFO waits for its reader.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        fsync: bool = False,
        mode: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.overwrite = overwrite
        self.fsync = fsync
        self.mode = mode
        self.tmp: str | None = None
        self.file: BinaryIO | None = None
        self.in_place = False

    def __enter__(self) -> BinaryIO:
        if writes_in_place(self.path):
            file = _open_in_place(self.path)
            if file is not None:
                self.file = file
                self.in_place = True
                return file
        if not self.overwrite and os.path.lexists(self.path):
            raise FileExistsError(errno.EEXIST, "already exists", self.path)
        if os.path.isdir(self.path):  # before any work; the rename would say so at the end
            raise IsADirectoryError(errno.EISDIR, "is a directory", self.path)
        folder = os.path.dirname(os.path.abspath(self.path))
        # Signals wait while the temporary file exists but is not yet registered, so the
        # handler of cleanup_on_signals always knows every file it must remove.
        blocked = _block_signals()
        try:
            fd, tmp = _mkstemp(folder, temp_prefix(self.path), _TEMP_SUFFIX)
            _LIVE.add(tmp)
        finally:
            _restore_signals(blocked)
        try:
            self.tmp = tmp
            if self.mode is not None:
                os.fchmod(fd, self.mode)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, 0o666 & ~umask)
            file = open(fd, "wb")
            # errors name the output the user asked for, not its hidden temporary name
            file.raw.name = self.path  # type: ignore[attr-defined]
            self.file = file
        except BaseException:  # a signal may land here too: leave nothing behind
            _LIVE.discard(tmp)
            self.tmp = None
            if self.file is None:
                os.close(fd)
            _unlink(tmp)
            raise
        return self.file

    def commit(self) -> None:
        assert self.file is not None
        from ._writeall import flush_all

        if self.in_place:
            try:
                flush_all(self.file)
                if self.fsync and stat.S_ISBLK(os.fstat(self.file.fileno()).st_mode):
                    os.fsync(self.file.fileno())
            finally:
                self.file.close()
            return
        assert self.tmp is not None
        flush_all(self.file)
        if self.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        if self.overwrite:
            os.replace(self.tmp, self.path)
        else:
            # link() fails if the target appeared since __enter__: never clobber it.
            try:
                os.link(self.tmp, self.path)
            except OSError as exc:
                if isinstance(exc, FileExistsError):
                    raise FileExistsError(errno.EEXIST, "appeared while writing", self.path) from None
                os.rename(self.tmp, self.path)  # filesystems without hard links
            else:
                os.unlink(self.tmp)
        self._forget()

    def abort(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self._forget()

    def _forget(self) -> None:
        if self.tmp is not None:
            _LIVE.discard(self.tmp)
        self.tmp = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


def writes_in_place(path: str | os.PathLike[str]) -> bool:
    """Whether :class:`AtomicFile` writes ``path`` in place: it exists (after following
    symbolic links) and is neither a regular file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _open_in_place(path: str) -> BinaryIO | None:
    """``path`` opened for writing without creating or truncating it; ``None`` if it went
    away or turned into a regular file or folder since :func:`writes_in_place` looked
    (then the temporary file and rename apply after all)."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            os.close(fd)
            return None
        file = open(fd, "wb")  # noqa: SIM115  # the caller closes it
        file.raw.name = path  # type: ignore[attr-defined]  # errors name the path, not the fd
        return file
    except BaseException:
        os.close(fd)
        raise


def copy_metadata(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Give ``dst`` the permission bits and access/modification times of ``src``."""
    st = os.stat(src)
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


_CLEANUP_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s
)


#: Random hex digits in a temporary name: with O_EXCL, unique among the attempts below.
_RANDOM_HEX = 12


def temp_prefix(path: str | os.PathLike[str]) -> str:
    """The start of the name of every temporary file :class:`AtomicFile` makes for
    ``path``; the whole name is this, 12 random hex digits and ``.chute-tmp``.

    It is ``.NAME.``, or where that would not fit in one file name (a ``NAME`` of more than
    about 230 bytes), the start of ``NAME``, ``~`` and 16 hex digits of a hash of the whole
    ``NAME``: the prefix still tells one target's temporary files from another's.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    return _fit_name(folder, os.path.basename(path), len(_TEMP_SUFFIX) + _RANDOM_HEX)


#: The end of every temporary file's name.
_TEMP_SUFFIX = ".chute-tmp"
#: Hex digits of the hash of a name that is cut (see temp_prefix).
_HASH_HEX = 16


def _mkstemp(folder: str, prefix: str, suffix: str) -> tuple[int, str]:
    """``tempfile.mkstemp(prefix=, suffix=, dir=)`` without importing tempfile (which loads
    re, shutil and random): a new file only this user may open, and its path."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(10000):
        path = os.path.join(folder, prefix + os.urandom(_RANDOM_HEX // 2).hex() + suffix)
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no usable temporary name found", os.path.join(folder, prefix + "*" + suffix))


def _fit_name(folder: str, name: str, room: int) -> str:
    """``.NAME.``, or if ``room`` more bytes would not fit after it in one file name of
    ``folder`` (255 bytes on most file systems), ``.`` + the start of ``name`` cut by
    whole characters + ``~`` + a hash of ``name`` + ``.``."""
    prefix = "." + name + "."
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        limit = 255
    if len(os.fsencode(prefix)) + room <= limit:
        return prefix
    import hashlib  # only here: it costs start-up

    tail = "~" + hashlib.blake2b(os.fsencode(name), digest_size=_HASH_HEX // 2).hexdigest() + "."
    if limit <= room + len(tail) + 1:  # a file system that cannot hold even that: let open() say so
        return prefix
    head = "." + name
    while len(os.fsencode(head)) + len(tail) + room > limit:
        head = head[:-1]
    return head + tail


def _block_signals() -> set[int] | None:
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, _CLEANUP_SIGNALS)}


def _restore_signals(old: set[int] | None) -> None:
    if old is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_live_temp_files() -> None:
    """Remove every temporary file of an AtomicFile still open (used on signals)."""
    for p in _LIVE.copy():
        _unlink(p)


def cleanup_on_signals() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` (SIGINT already raises
    KeyboardInterrupt), after removing live temporary files, so a killed run leaves no
    partial output. The caller should end with :func:`die_by_signal`. Signals ignored
    when the process started (``nohup``, a background job) stay ignored.

    The handler takes no lock and does no I/O but unlink: it may run between any two
    bytecodes of the main thread.
    """

    def handler(signum: int, frame: object) -> None:
        remove_live_temp_files()
        raise Terminated(signum)

    global _WAKEUP_FD
    if _WAKEUP_FD is None:
        # A signal that lands just before a blocking read() is only handled when the
        # read returns, which on a quiet pipe may be never. The C-level handler writes
        # to this pipe, so readers that select() on it too wake up (see chute.streams.pump).
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        try:
            signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        except ValueError:  # not the main thread
            os.close(r)
            os.close(w)
        else:
            _WAKEUP_FD = r

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        # A signal ignored when chute started stays ignored, as gzip does: nohup ignores
        # SIGHUP so that the job outlives its terminal. (SIGINT alike: Python leaves an
        # ignored SIGINT ignored, and a background job is immune to Ctrl-C.)
        if sig is not None and signal.getsignal(sig) != signal.SIG_IGN:
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread
                pass


def wakeup_fd() -> int | None:
    """The read end of the signal wakeup pipe, once :func:`cleanup_on_signals` ran."""
    return _WAKEUP_FD


def die_by_signal(signum: int) -> None:
    """End the process by ``signum`` with its default action, so the parent sees it."""
    remove_live_temp_files()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
