"""Complete writes: every byte reaches the destination, or an exception says why.

``file.write(data)`` may take less than ``data``. A raw file (``io.FileIO``, which is what
``sys.stdout.buffer`` is under ``PYTHONUNBUFFERED=1``, or a socket's ``SocketIO``) returns
the count one ``write`` system call took: on a nearly full disk that is the part that
fitted, the rest then fails with ``ENOSPC`` only if it is written again. A non-blocking
descriptor takes what fits in the pipe and returns ``None`` (raw) or raises
:class:`BlockingIOError` (buffered) when nothing fits. Every write chute makes goes through
:func:`write_all`, which writes the rest until nothing is left, waits until a non-blocking
descriptor can take more, and raises where the destination refuses data.

A ``write`` returning ``None`` means "would block" only for raw files (subclasses of
:class:`io.RawIOBase`), as the io module defines it; any other object returning ``None``
is taken to have written everything (file-likes that do not report a count). An object that
takes no byte of a non-empty write raises :class:`OSError` instead of looping forever.

An :class:`OSError` that names no file gets the destination's name (``stdout`` for
standard output), so an error line can say which output failed.
"""

from __future__ import annotations

import io

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["write_all", "flush_all", "CompleteRaw"]


def write_all(dst: Any, data: Any) -> None:
    """Write all of ``data`` (bytes-like) to ``dst``, or raise."""
    try:
        n = dst.write(data)
        if n is None:
            if not isinstance(dst, io.RawIOBase):
                return
            n = 0
        elif n == len(data) and type(data) is bytes:
            return
        _write_rest(dst, data, n)
    except BlockingIOError as exc:
        # a buffered file over a non-blocking descriptor: it took characters_written bytes
        try:
            _wait_writable(dst, exc)
            _write_rest(dst, data, getattr(exc, "characters_written", 0) or 0)
        except OSError as again:
            _name(again, dst)
            raise
    except OSError as exc:
        _name(exc, dst)
        raise


def flush_all(dst: Any) -> None:
    """``dst.flush()``, waiting while a non-blocking descriptor is full; errors are named."""
    try:
        while True:
            try:
                dst.flush()
                return
            except BlockingIOError as exc:
                _wait_writable(dst, exc)
    except OSError as exc:
        _name(exc, dst)
        raise


def _write_rest(dst: Any, data: Any, done: int) -> None:
    """Write ``data`` from offset ``done`` on (``done`` bytes were taken already)."""
    view = memoryview(data).cast("B")
    size = len(view)
    if done < 0 or done > size:
        import errno

        raise OSError(errno.EIO, f"write() returned {done} for {size} bytes")
    while done < size:
        try:
            n = dst.write(view[done:])
        except BlockingIOError as exc:
            done += getattr(exc, "characters_written", 0) or 0
            _wait_writable(dst, exc)
            continue
        if n is None:
            if not isinstance(dst, io.RawIOBase):
                return
            _wait_writable(dst, None)
            continue
        if n <= 0 or n > size - done:
            # a destination that takes nothing would have us loop forever
            import errno

            raise OSError(errno.EIO, f"write() took {n} of {size - done} bytes")
        done += n


def _wait_writable(dst: Any, exc: BaseException | None) -> None:
    """Wait until ``dst``'s descriptor can take data; without one, re-raise ``exc``."""
    import errno
    import select  # here: only a non-blocking descriptor needs it (start-up)

    try:
        fd = dst.fileno()
    except (AttributeError, OSError, ValueError):
        raise exc if exc is not None else BlockingIOError(errno.EAGAIN, "write would block") from None
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        poller.poll()  # POLLERR/POLLHUP end it too: the next write reports them
    else:  # pragma: no cover - Windows
        select.select([], [fd], [fd])


def _name(exc: OSError, dst: Any) -> None:
    """Give ``exc`` the destination's name if it has none (not for a closed pipe: quiet)."""
    if exc.filename is not None or isinstance(exc, BrokenPipeError):
        return
    name = getattr(dst, "name", None)
    if isinstance(name, str) and name:
        exc.filename = name[1:-1] if name.startswith("<") and name.endswith(">") else name


class CompleteRaw(io.RawIOBase):
    """A raw file over ``raw`` whose every ``write`` is complete (see :func:`write_all`).

    For a buffered or text layer on top (``io.BufferedWriter``, ``io.TextIOWrapper``),
    which trust a raw file's count as final only when the descriptor is blocking: under it,
    a non-blocking descriptor is waited on instead of failing with ``BlockingIOError``, and
    errors name the file. Closing it leaves ``raw`` open.
    """

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw

    @property
    def name(self) -> Any:
        return self._raw.name

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        write_all(self._raw, b)
        return memoryview(b).nbytes

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def isatty(self) -> bool:
        return bool(self._raw.isatty())

    def seekable(self) -> bool:
        return bool(self._raw.seekable())

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())
