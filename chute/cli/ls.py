"""``chute ls ARCHIVE [MEMBER...]``: list members as they stream by (``-l``: as ``tar -tv``).

Names are quoted as GNU tar quotes them (:mod:`chute.quoting`); ``--null`` writes them
as they are stored instead, each line ended by a NUL, for scripts. A warning about a member
(an unknown type, read as a regular file) is one line on standard error and makes the exit
status 2; an error names the archive and ends the listing (exit 1) after every name read
before it was written out.
"""

from __future__ import annotations

import sys

from ._args import Spec
from ._tarargs import add_selection_args, check_all_found, selection_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._args import Namespace

_BATCH = 512  # names per write


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "List the members of a (compressed) tar archive.")
    p.add_argument("archive", metavar="ARCHIVE", help="archive to read ('-': standard input)")
    p.add_argument("-l", "--long", action="store_true", help="show mode, size, mtime and link targets")
    p.add_argument(
        "-z",
        "--null",
        action="store_true",
        help="names as stored, unquoted, each line ended by a NUL instead of a newline (for scripts)",
    )
    p.add_argument("-F", "--format", metavar="NAME", help="compression format when it cannot be detected (brotli)")
    # as GNU tar: which members, and -l's owner column
    add_selection_args(p, files_from=False)
    p.add_argument("--numeric-owner", action="store_true", help="-l shows owners as uid/gid numbers")
    from ._common import add_storage_args

    add_storage_args(p)
    return p


def run(args: Namespace) -> int:
    from ..errors import ChuteError
    from ..quoting import quote
    from ..tar import open_compressed_input
    from ..tar.reader import TarReader
    from ._common import CliError, is_url, storage_options

    stdin = args.archive == "-"
    shown = "stdin" if stdin else quote(args.archive)
    out = sys.stdout.buffer
    pending: list[bytes] = []
    end = b"\0" if args.null else b"\n"
    status = 0

    def flush() -> None:
        if pending:
            pending.append(b"")
            out.write(end.join(pending))
            pending.clear()

    def warn(message: str) -> None:
        nonlocal status
        flush()
        out.flush()
        sys.stderr.write(f"chute: {shown}: {message}\n")
        sys.stderr.flush()
        status = 2

    closers: list[Any] = []
    selection = None
    try:
        source: Any = sys.stdin.buffer if stdin else args.archive
        fmt = args.format
        if is_url(args.archive):
            from ._tarargs import remote_archive

            source, fmt, remote = remote_archive(args.archive, fmt, storage_options(args))
            closers = remote  # closed even if what follows fails
        fp, more = open_compressed_input(source, fmt)
        closers = more + closers
        reader = TarReader(fp, on_warning=warn)
        selection = selection_from(args)
        if args.long or selection is not None:
            _long(reader, pending, flush, args.null, selection, args.long, args.numeric_owner)
        else:
            _names(reader, pending, flush, args.null)
    except ChuteError as exc:
        flush()
        raise CliError(shown, str(exc)) from None
    finally:
        for c in closers:
            c.close()
    flush()
    out.flush()
    return check_all_found(selection, shown) or status


def _names(reader: Any, pending: list[bytes], flush: Any, literal: bool) -> None:
    from ..quoting import quote_bytes

    append = pending.append
    extend = pending.extend
    for batch in reader.name_batches():
        # The usual batch needs no quotes at all: one check for all its names (quote_bytes
        # gives back what needs none; a name that needs some makes the whole need some).
        joined = b"".join(batch)
        if literal or quote_bytes(joined) is joined:
            extend(batch)
        else:
            for raw in batch:
                append(quote_bytes(raw))
        if len(pending) >= _BATCH:
            flush()


def _long(
    reader: Any, pending: list[bytes], flush: Any, literal: bool, selection: Any, long: bool, numeric: bool
) -> None:
    """The members ``selection`` wants (all without one): names, or with ``long`` the
    lines of ``tar -tv``: mode, owner/group, size (``major,minor`` for a device), date and
    time to the minute, name, and ``-> target`` or ``link to target``."""
    import time

    from ..quoting import quote_bytes
    from ..tar.header import BLOCKDEV, CHARDEV, HARDLINK, SYMLINK

    def shown(text: str) -> bytes:
        raw = text.encode("utf-8", "surrogateescape")
        return raw if literal else quote_bytes(raw)

    # members share modes and mtimes: each column is made once per distinct value
    modes: dict[tuple[bytes, int], str] = {}
    times: dict[int, str] = {}
    width = 19  # GNU tar's: owner/group and size share a column that only grows
    for m, _ in reader:
        if selection is not None and not selection.wants(m.name):
            continue
        if not long:
            pending.append(shown(m.name))
            if len(pending) >= _BATCH:
                flush()
            continue
        key = (m.type, m.mode)
        mode = modes.get(key)
        if mode is None:
            mode = modes[key] = m.filemode()
        secs = m.mtime_ns // 1_000_000_000
        when = times.get(secs)
        if when is None:
            if len(times) > 4096:
                times.clear()
            when = times[secs] = time.strftime("%Y-%m-%d %H:%M", time.localtime(secs))
        user = str(m.uid) if numeric or not m.uname else m.uname
        group = str(m.gid) if numeric or not m.gname else m.gname
        size = f"{m.devmajor},{m.devminor}" if m.type in (CHARDEV, BLOCKDEV) else str(m.data_size)
        pad = len(user) + len(group) + 2 + len(size)
        width = max(width, pad)
        line = f"{mode} {user}/{group} {size:>{width - pad + len(size)}} {when} ".encode() + shown(m.name)
        if m.type == SYMLINK:
            line += b" -> " + shown(m.linkname)
        elif m.type == HARDLINK:
            line += b" link to " + shown(m.linkname)
        pending.append(line)
        if len(pending) >= _BATCH:
            flush()
