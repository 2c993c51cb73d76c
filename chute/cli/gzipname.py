"""gzip's ``-N``: the source's name and time in the gzip header, and back.

Compressing with ``-N`` stores the base name of the source (FNAME) and its modification
time (MTIME) in the first member's header, as ``gzip -N`` (gzip's default) does.
Decompressing with ``-d -N`` names the output after the stored name and gives it the
stored time.

FNAME holds the name's bytes as the file system gives them, as gzip writes them (RFC 1952
asks for ISO 8859-1, which gzip does not enforce either), so a UTF-8 name comes back the
same through ``gzip -dN`` and ``chute -dN``. When restoring, only the last ``/``
component of the stored name is used, and the output goes beside the compressed file,
never elsewhere; a stored name with no usable last component (empty, ``.``, ``..``) is
ignored and the output named as without ``-N``. MTIME is 32-bit: a time outside 1970 to
2106 is not stored (0, "no time"), and 0 is not restored.
"""

from __future__ import annotations

import os
import stat
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    from ..codecs.gzip import Header

__all__ = ["source_header", "stored_header", "restored_path", "restore_time"]


def _gzip_time(seconds: float) -> int:
    value = int(seconds)
    return value if 0 <= value < 1 << 32 else 0


def source_header(name: str, src: BinaryIO) -> tuple[bytes | None, int]:
    """FNAME and MTIME for compressing ``name`` (``-`` for standard input, ``src``):
    a file's base name and modification time; standard input has no name, and the time
    of the file it comes from or, from a pipe, the current time (as gzip does)."""
    if name != "-":
        return os.fsencode(os.path.basename(name)), _gzip_time(os.stat(name).st_mtime)
    try:
        st = os.fstat(src.fileno())
    except (AttributeError, OSError, ValueError):
        return None, _gzip_time(time.time())
    return None, _gzip_time(st.st_mtime if stat.S_ISREG(st.st_mode) else time.time())


def stored_header(path: str) -> Header | None:
    """The header of the gzip file ``path``; None if it is not gzip or its header is
    cut short (decoding then reports what is wrong)."""
    from ..codecs.gzip import MAX_HEADER, parse_header
    from ..errors import CorruptStreamError

    with open(path, "rb") as f:
        head = f.read(MAX_HEADER)
    try:
        return parse_header(head)
    except CorruptStreamError:
        return None


def restored_path(path: str, header: Header | None) -> str | None:
    """Where ``-d -N`` writes ``path``'s data: the stored name's last component, in the
    folder of ``path``; None when the header stores no usable name."""
    if header is None or header.name is None:
        return None
    base = header.name.rsplit(b"/", 1)[-1]
    if base in (b"", b".", b".."):
        return None
    return os.path.join(os.path.dirname(path), os.fsdecode(base))


def restore_time(path: str, header: Header | None) -> None:
    """Give ``path`` the stored modification time (none stored: left as it is)."""
    if header is None or header.mtime == 0:
        return
    atime = os.stat(path).st_atime_ns
    os.utime(path, ns=(atime, header.mtime * 1_000_000_000))
