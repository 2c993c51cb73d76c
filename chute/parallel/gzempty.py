"""Finds the gzip members the engine may pass unchecked: those that decode to nothing.

The engine (:mod:`chute.parallel.gzengine`) checks the CRC32 and ISIZE of the members
it returns output of, but a member that decodes to nothing (an *empty* member: a header,
a deflate stream without data, an 8-byte trailer) can pass it with a wrong trailer (a
file of nothing but such members always does), where one thread raises
:class:`~chute.errors.ChecksumError`, as ``gzip -d`` reports a CRC error.
:func:`first_suspect` finds any such member without knowing where members are: every
member starts with the bytes ``1f 8b 08``, so it looks at every place those bytes occur
in the compressed file and decodes a member from there with chute's own one-thread
member decoder (:class:`~chute.codecs.gzip.MemberDecompressor`), on a bounded slice:

* output appears: not an empty member (the engine checks the others), or not a member;
* the header or the deflate data are invalid: bytes inside compressed data that happen
  to read ``1f 8b 08``, not a member;
* a whole member, no output, its trailer right: an empty member, nothing to check;
* a whole member, no output, its trailer wrong; or no output and still undecided
  :data:`PROBE` bytes past the longest header or at the end of the file: a *suspect*;
* a header with reserved flag bits set, which one thread refuses (as ``gzip -d`` does)
  and the engine reads on: a suspect when, those bits cleared, it decodes as a member
  (:func:`_member`).

A suspect sends the file to the one-thread path, which gives exactly one thread's bytes
and error; a coincidence that looks like a suspect costs a one-thread decode, never a
false error.
"""

from __future__ import annotations

import os

from ..codecs.gzip import MAX_HEADER, MemberDecompressor
from ..errors import ChecksumError, CorruptStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["MAGIC", "PROBE", "STEP", "Scan", "first_suspect", "suspect_at"]

#: The first bytes of every gzip member (ID1, ID2, CM = deflate).
MAGIC = b"\x1f\x8b\x08"
#: Bytes decoded from a place that reads :data:`MAGIC`, beyond the longest header
#: (:data:`~chute.codecs.gzip.MAX_HEADER`), before it is called a suspect for want of
#: output: an empty deflate stream is a few bytes (``03 00``), and bytes that are not a
#: member fail or give output within a few hundred.
PROBE = 64 << 10
#: Bytes of the file searched per read.
STEP = 4 << 20
#: Header flag bits RFC 1952 reserves (FLG bits 5 to 7).
_RESERVED = 0xE0
#: Most output decoded by :func:`_member`.
_OUTPUT = 1 << 20


def suspect_at(fd: int, offset: int) -> bool:
    """Whether the bytes of the file ``fd`` from ``offset`` start a gzip member that
    decodes to nothing and whose trailer is wrong, or that decodes to nothing as far as
    ``MAX_HEADER + PROBE`` bytes (or the end of the file) let it be decoded; or a header
    with reserved flag bits that, those bits cleared, decodes as a member (:func:`_member`)."""
    data = os.pread(fd, MAX_HEADER + PROBE, offset)
    if len(data) > 3 and data[3] & _RESERVED:
        # reserved flag bits: one thread refuses the header (gzip -d too), the engine reads on
        return _member(data[:3] + bytes([data[3] & ~_RESERVED]) + data[4:])
    member = MemberDecompressor()
    try:
        out = member.decompress(data, 1)
    except ChecksumError:
        return True  # a whole member without output, its trailer wrong
    except CorruptStreamError:
        return False  # not a gzip header, or not deflate data: not a member
    # output: the engine checks that member (or it is none); eof: an empty member, trailer right
    return not out and not member.eof


def _member(data: bytes) -> bool:
    """Whether ``data`` decodes as a gzip member as far as it goes (up to :data:`_OUTPUT`
    of output): a whole member whose trailer is right, or a header and deflate data without
    an error to the end of ``data``. Bytes that are not a member fail within a few hundred
    (a wrong trailer counts as a failure: a member that ended by chance)."""
    member = MemberDecompressor()
    try:
        out = len(member.decompress(data, _OUTPUT))
        while out < _OUTPUT and not member.eof and not member.needs_input:
            out += len(member.decompress(b"", _OUTPUT - out))
    except CorruptStreamError:
        return False
    return True


def _memmem() -> Any:
    """The C library's ``memmem`` (through :mod:`ctypes`), or ``None`` where there is none:
    it searches about twice as fast as :meth:`bytes.find` for three bytes, and without the
    GIL."""
    try:
        import ctypes

        memmem = ctypes.CDLL(None).memmem
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    return memmem


def first_suspect(fd: int, size: int, progress: Callable[[int], bool] | None = None) -> int | None:
    """The offset of the first place in the file ``fd`` (its first ``size`` bytes) that
    :func:`suspect_at` calls a suspect, or ``None``. Reads the file once, :data:`STEP`
    bytes at a time (the file position is left as it is). After each read it calls
    ``progress(offset)``: every place before ``offset`` has been looked at and none is a
    suspect; when that returns false, the search stops and returns ``None``."""
    buf = bytearray(STEP)
    view = memoryview(buf)
    preadv = getattr(os, "preadv", None)
    memmem = _memmem() if preadv is not None else None
    if memmem is not None:
        import ctypes

        shared = (ctypes.c_char * STEP).from_buffer(buf)  # held: buf stays where it is
        base = ctypes.addressof(shared)
    keep = len(MAGIC) - 1  # a magic cut by the end of one read is found whole in the next
    at = 0
    while at < size:
        want = min(STEP, size - at)
        data: Any = buf
        if preadv is not None:
            got = preadv(fd, [view[:want]], at)
        else:
            data = os.pread(fd, want, at)
            got = len(data)
        if got <= 0:
            break
        pos = 0
        while True:
            if memmem is not None:
                found = memmem(base + pos, got - pos, MAGIC, len(MAGIC))
                hit = found - base if found else -1
            else:
                hit = data.find(MAGIC, pos, got)
            if hit < 0:
                break
            if suspect_at(fd, at + hit):
                return at + hit
            pos = hit + 1
        if at + got >= size or got <= keep:
            break
        at += got - keep
        if progress is not None and not progress(at):
            break
    return None


class Scan:
    """:func:`first_suspect` of the file ``fd`` on a thread of its own, started at once.
    :meth:`passed` says (waiting for it) whether every place before an offset has been
    looked at and none is a suspect; :meth:`stop` ends the search early."""

    def __init__(self, fd: int, size: int) -> None:
        import threading

        self._size = size
        self._frontier = 0  # every place before it looked at, none a suspect
        self._done = False
        self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(fd,), name="chute-gzempty", daemon=True)
        self._thread.start()

    def _progress(self, offset: int) -> bool:
        with self._cond:
            self._frontier = offset
            self._cond.notify_all()
        return not self._stop

    def _run(self, fd: int) -> None:
        clean = False
        try:
            clean = first_suspect(fd, self._size, self._progress) is None and not self._stop
        except Exception:  # a read that fails: one thread meets it and says what it is
            pass
        finally:  # whatever happens, passed() stops waiting
            with self._cond:
                if clean:
                    self._frontier = self._size
                self._done = True
                self._cond.notify_all()

    def passed(self, offset: int, timeout: float | None = None) -> bool:
        """Whether every place before ``offset`` has been looked at and none is a suspect:
        waits until it is so, the search has ended (a suspect, a failed read) or, with a
        ``timeout``, that many seconds have gone."""
        with self._cond:
            self._cond.wait_for(lambda: self._frontier >= offset or self._done, timeout)
            return self._frontier >= offset

    @property
    def done(self) -> bool:
        """Whether the search has ended."""
        return self._done

    def stop(self) -> None:
        """Ends the search (after its current read) and waits for its thread."""
        self._stop = True
        self._thread.join()
