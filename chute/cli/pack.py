"""``chute pack PATH... -o ARCHIVE``: tar and compress on the fly (PAX format).

The compression format comes from ``-F``, else the archive's suffix (``.tar.zst``, ``.tgz``,
``.tar.xz``...; plain ``.tar`` means none), else zstd. ``-`` as a PATH adds standard input
as one member (``--stdin-name``), spooled since its size is unknown until its end.
"""

from __future__ import annotations

import errno
import os
import sys

from ._args import Spec
from ._common import CliError, add_format_args, open_output, parse_size, refuse_terminal, resolve_level, resolve_threads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ._args import Namespace


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Archive PATHs into a (compressed) tar file.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files and folders to add; '-' adds standard input")
    p.add_argument("-o", "--output", required=True, metavar="ARCHIVE", help="archive to write ('-': standard output)")
    p.add_argument("-C", "--directory", metavar="DIR", help="take PATHs relative to DIR")
    p.add_argument("--exclude", action="append", default=[], metavar="PATTERN", help="skip names matching a glob")
    p.add_argument("--stdin-name", default="stdin", metavar="NAME", help="member name for '-' (default: stdin)")
    p.add_argument("--owner", action="store_true", help="record owners (uid/gid and names); default 0/0")
    p.add_argument("--dereference", action="store_true", help="archive what symlinks point to")
    p.add_argument(
        "--spool-limit",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help="memory for an entry of unknown size before it spills to a temp file (default 16M)",
    )
    p.add_argument("-f", "--force", action="store_true", help="overwrite ARCHIVE; write to a terminal")
    add_format_args(p)
    return p


def _codec_name(args: Namespace) -> str | None:
    from .. import codecs

    if args.format:
        if args.format in ("none", "tar"):
            return None
        try:
            return codecs.get(args.format).name
        except (KeyError, ValueError, LookupError):
            raise CliError("-F", f"unknown format {args.format!r}") from None
    out = args.output
    if out != "-":
        if out.endswith(".tar"):
            return None
        c = codecs.from_suffix(out)
        if c is not None:
            return c.name
    return "zstd"


def run(args: Namespace) -> int:
    from .. import codecs
    from ..api.fileobj import open as chute_open
    from ..tar.writer import DEFAULT_SPOOL_LIMIT, TarWriter, exclude_patterns

    fmt = _codec_name(args)
    level = resolve_level(args, codecs.get(fmt)) if fmt else None
    threads = resolve_threads(args)
    if args.output == "-":
        refuse_terminal(sys.stdout, args.force, "archive data")
    base = args.directory
    if base is not None and not os.path.isdir(base):
        raise CliError(base, "no such folder (-C)")
    exclude = exclude_patterns(args.exclude) if args.exclude else None
    for path in args.paths:
        full = path if base is None or path == "-" else os.path.join(base, path)
        if path != "-" and not os.path.lexists(full):
            raise CliError(full, "no such file or directory")
    with open_output(args.output, force=args.force) as opened:
        # Standard output unbuffered: the archive goes out in large writes anyway, and a
        # failed write then leaves nothing in a buffer to fail again (a second line) at exit.
        raw = getattr(opened, "raw", opened) if args.output == "-" else opened
        out: Any = _NamedOutput(raw, args.output)
        sink = chute_open(out, "wb", format=fmt, level=level, threads=threads) if fmt else out
        tw = TarWriter(
            sink,  # type: ignore[arg-type]  # a ChuteWriter is a binary file, not typing's BinaryIO class
            owner=args.owner,
            spool_limit=args.spool_limit or DEFAULT_SPOOL_LIMIT,
            follow_symlinks=args.dereference,
        )
        for path in args.paths:
            if path == "-":
                tw.add_stream(args.stdin_name, sys.stdin.buffer)
                continue
            full = path if base is None else os.path.join(base, path)
            tw.add_path(full, _arcname(path), exclude=exclude)
        tw.close()
        if sink is not out:
            sink.close()
        out.flush()  # here, not on the way out of open_output: an error then names the archive
    return 0


class _NamedOutput:
    """The archive's file, written whole: an error writing it (a full disk) names it, as
    ``chute: ARCHIVE: reason`` (the write's own error carries no file name), and a short
    write is followed by the rest. A write larger than its buffer may come back short from
    ``sys.stdout.buffer`` on a full disk, the rest dropped, with no error at all."""

    def __init__(self, fp: BinaryIO, name: str) -> None:
        self._fp = fp
        self._name = name

    def write(self, data: Any) -> int:
        try:
            with memoryview(data) as whole, whole.cast("B") as view:
                done = self._fp.write(view) or 0  # None: a non-blocking file took nothing
                while done < len(view):
                    more = self._fp.write(view[done:])
                    if not more:
                        raise OSError(errno.EIO, f"the output took no more bytes after {done}")
                    done += more
                return done
        except OSError as exc:
            raise _named(exc, self._name) from None

    def flush(self) -> None:
        try:
            self._fp.flush()
        except OSError as exc:
            raise _named(exc, self._name) from None


def _named(exc: OSError, name: str) -> OSError:
    if exc.filename is None:
        exc.filename = name
    return exc


def _arcname(path: str) -> str:
    parts = [x for x in path.replace(os.sep, "/").split("/") if x not in ("", "..")]
    name = "/".join(x for x in parts if x != ".")
    return name or "."
