"""``chute ls ARCHIVE``: list members as they stream by (``-l``: mode, size, mtime, link)."""

from __future__ import annotations

import sys
import time

from ._args import Spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._args import Namespace


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "List the members of a (compressed) tar archive.")
    p.add_argument("archive", metavar="ARCHIVE", help="archive to read ('-': standard input)")
    p.add_argument("-l", "--long", action="store_true", help="show mode, size, mtime and link targets")
    p.add_argument("-F", "--format", metavar="NAME", help="compression format when it cannot be detected (brotli)")
    return p


def run(args: Namespace) -> int:
    from ..errors import ChuteError
    from ._common import CliError

    src = sys.stdin.buffer if args.archive == "-" else args.archive
    try:
        return _list(src, args)
    except ChuteError as exc:  # the archive's errors name the archive
        raise CliError(args.archive, str(exc)) from None


def _list(src: Any, args: Namespace) -> int:
    from ..tar import open_compressed_input
    from ..tar.header import HARDLINK, SYMLINK
    from ..tar.reader import TarReader

    fp, closers = open_compressed_input(src, args.format)
    out = sys.stdout
    try:
        for m, _ in TarReader(fp):
            name = m.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if not args.long:
                out.write(name + "\n")
                continue
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m.mtime_ns // 1_000_000_000))
            line = f"{m.filemode()} {m.size:>12} {when} {name}"
            if m.type == SYMLINK:
                line += f" -> {m.linkname}"
            elif m.type == HARDLINK:
                line += f" link to {m.linkname}"
            out.write(line + "\n")
    finally:
        for c in closers:
            c.close()
    out.flush()
    return 0
