"""End markers: how a reader tells a gzip log its writer closed from one cut by a crash.

A gzip log written by :class:`~chute.logging.CompressedFileHandler` is a series of whole
members (one per sync point), so a file cut by a crash between two members decodes
without an error and looks complete. The handler therefore brackets each session (from
opening the file to ``close()``) with two empty gzip members, which every gzip reader
decodes as nothing: a start marker when it opens the file and an end marker when it
closes it. Each is a member with FLG.FEXTRA, mtime 0, OS 255, and two extra subfields:
``MZ`` (the size of its deflate data, 2, as every member chute writes carries) and
``CL`` whose data is ``log-start`` or ``log-end``; the deflate data is the empty final
block ``03 00``, CRC-32 and size 0.

:func:`check_end_marker` reads such a file: if it begins with a start marker, each start
marker must be followed by an end marker before the next start marker and at the end of
the file. zstd and lz4 logs need no marker (a cut stream is reported by every reader);
bz2 and xz logs end a stream at every sync point and have no room for a marker, so a cut
there stays invisible.
"""

from __future__ import annotations

import os
import zlib

from ..errors import CorruptStreamError, TruncatedStreamError

TYPE_CHECKING = False  # not typing's: ``chute -t`` loads this module and must start fast
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["START", "END", "check_end_marker"]

_FIELD = b"CL"


def _marker(word: bytes) -> bytes:
    extra = b"MZ\x04\x00" + (2).to_bytes(4, "little") + _FIELD + len(word).to_bytes(2, "little") + word
    header = b"\x1f\x8b\x08\x04" + b"\x00\x00\x00\x00" + b"\x00\xff" + len(extra).to_bytes(2, "little")
    return header + extra + b"\x03\x00" + b"\x00" * 8


START = _marker(b"log-start")
END = _marker(b"log-end")
#: Read and inflate size when a member must be inflated to find its end.
_CHUNK = 1 << 16


def check_end_marker(file: str | os.PathLike[str] | BinaryIO) -> None:
    """Raise :class:`~chute.errors.TruncatedStreamError` if ``file`` is a gzip log of
    :class:`~chute.logging.CompressedFileHandler` (it begins with a start marker) and a
    session in it has no end marker: its writer was killed, or the file was cut, and
    records after the last complete member may be missing. Return quietly otherwise,
    and for any file that does not begin with a start marker (checked from its first
    bytes: other files cost nothing). ``file`` is a path or a seekable binary file.

    Members of the file are stepped over with their ``MZ`` size when they have one, and
    inflated (output discarded) when not. A file that is not valid gzip raises
    :class:`~chute.errors.CorruptStreamError`.
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            _check(f)
    else:
        _check(file)


def _check(f: BinaryIO) -> None:
    f.seek(0)
    if f.read(len(START)) != START:
        return
    pos = 0
    session: int | None = None
    last_end = 0
    while True:
        f.seek(pos)
        head = f.read(len(START))
        if not head:
            break
        if head == START:
            if session is not None:
                raise TruncatedStreamError(
                    f"the log session from byte {session} has no end marker: its writer did not close it "
                    f"(killed, or the file was cut); records after byte {last_end} may be missing"
                )
            session, pos = pos, pos + len(START)
        elif head[: len(END)] == END:
            session, pos = None, pos + len(END)
        else:
            pos = _member_end(f, pos)
        last_end = pos
    if session is not None:
        raise TruncatedStreamError(
            f"ends without the end marker of a closed log: its writer did not close it (killed, or the "
            f"file was cut after byte {last_end}); records written after that may be missing"
        )


def _member_end(f: BinaryIO, pos: int) -> int:
    f.seek(pos)
    head = f.read(10)
    if len(head) < 10 or head[:3] != b"\x1f\x8b\x08":
        raise CorruptStreamError(f"no gzip member at byte {pos}")
    flags = head[3]
    p = pos + 10
    size = -1
    if flags & 4:
        xlen = int.from_bytes(f.read(2), "little")
        extra = f.read(xlen)
        p += 2 + xlen
        q = 0
        while q + 4 <= len(extra):
            n = int.from_bytes(extra[q + 2 : q + 4], "little")
            if extra[q : q + 2] == b"MZ" and n == 4:
                size = int.from_bytes(extra[q + 4 : q + 8], "little")
            q += 4 + n
    if size >= 0 and not flags & 0x1A:  # no name, comment or header CRC: the data follows
        return p + size + 8
    for flag in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            f.seek(p)
            while True:
                chunk = f.read(256)
                if not chunk:
                    raise CorruptStreamError(f"gzip header at byte {pos} is cut")
                z = chunk.find(b"\0")
                if z >= 0:
                    p += z + 1
                    break
                p += len(chunk)
    if flags & 2:
        p += 2
    d = zlib.decompressobj(-15)
    f.seek(p)
    while not d.eof:
        data = f.read(_CHUNK)
        if not data:
            raise CorruptStreamError(f"gzip member at byte {pos} is cut")
        try:
            while data and not d.eof:  # output discarded, at most _CHUNK bytes at a time
                d.decompress(data, _CHUNK)
                data = d.unconsumed_tail
        except zlib.error as exc:
            raise CorruptStreamError(f"gzip member at byte {pos}: {exc}") from None
    return f.tell() - len(d.unused_data) + 8
