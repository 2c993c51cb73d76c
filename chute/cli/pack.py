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
from ._common import (
    CliError,
    add_format_args,
    add_progress_args,
    add_storage_args,
    is_url,
    open_output,
    parse_size,
    refuse_terminal,
    resolve_level,
    resolve_threads,
    storage_options,
)
from ._tarargs import add_files_from_args, name_printer, read_names, show_progress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ._args import Namespace


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Archive PATHs into a (compressed) tar file.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files and folders to add; '-' adds standard input")
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
    # as GNU tar: PATHs from a list (not -T: threads), names as they are archived
    add_files_from_args(p, "PATHs", short=False)
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each name as it is archived (on standard error when ARCHIVE is '-')",
    )
    add_progress_args(p)
    add_storage_args(p)
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
    if out == "-":
        return "zstd"
    from ..streams.atomic import writes_in_place

    if not is_url(out) and writes_in_place(out):  # a device or FIFO has no suffix to read: as standard output
        return "zstd"
    lower = out.lower()
    if lower.endswith(".tar"):
        return None
    c = codecs.from_suffix(lower)
    # .tar.SUFFIX, or a one-part name for a compressed tar (.tgz .tzst .txz .tbz2)
    if c is not None and any(lower.endswith(".tar" + x) or x.startswith(".t") for x in _endings(lower, c)):
        return c.name
    known = ".tar.zst .tzst .tar.gz .tgz .tar.xz .txz .tar.bz2 .tbz2 .tar.lz4 .tar"
    raise CliError(out, f"not a tar archive name ({known}); give -F FORMAT")


def _endings(name: str, codec: Any) -> list[str]:
    return [s for s in codec.suffixes if name.endswith(s)]


def run(args: Namespace) -> int:
    from .. import codecs
    from ..api.fileobj import open as chute_open
    from ..tar.writer import DEFAULT_SPOOL_LIMIT, TarWriter, exclude_patterns

    paths = list(args.paths) + read_names(args)
    if not paths:
        raise CliError("", "nothing to archive: give PATHs or --files-from")
    fmt = _codec_name(args)
    level = resolve_level(args, codecs.get(fmt)) if fmt else None
    threads = resolve_threads(args)
    if args.output == "-":
        refuse_terminal(sys.stdout, args.force, "archive data")
    base = args.directory
    if base is not None and not os.path.isdir(base):
        raise CliError(base, "no such folder (-C)")
    exclude = exclude_patterns(args.exclude) if args.exclude else None
    say = name_printer(sys.stderr if args.output == "-" else sys.stdout) if args.verbose else None
    for path in paths:
        full = path if base is None or path == "-" else os.path.join(base, path)
        if path != "-" and not os.path.lexists(full):
            raise CliError(full, "no such file or directory")
    line: Any = None
    if show_progress(args, names_on_stdout=say is not None and args.output != "-"):
        from .progress import ProgressLine

        line = ProgressLine(args.output if args.output != "-" else "stdout")
    warned: list[str] = []

    def left_out(message: str) -> None:  # a socket: left out, as tar does; exit status 2
        warned.append(message)
        sys.stderr.write(f"chute: {message}\n")

    with open_output(args.output, force=args.force, options=storage_options(args)) as opened, _Erasing(line):
        # Standard output unbuffered: the archive goes out in large writes anyway, and a
        # failed write then leaves nothing in a buffer to fail again (a second line) at exit.
        raw = getattr(opened, "raw", opened) if args.output == "-" else opened
        out: Any = _NamedOutput(raw, args.output)
        if line is not None:
            out = _Metered(out, line)
        sink = chute_open(out, "wb", format=fmt, level=level, threads=threads) if fmt else out
        tw = TarWriter(
            sink,  # type: ignore[arg-type]  # a ChuteWriter is a binary file, not typing's BinaryIO class
            owner=args.owner,
            spool_limit=args.spool_limit or DEFAULT_SPOOL_LIMIT,
            follow_symlinks=args.dereference,
            on_warning=left_out,
        )
        for path in paths:
            if path == "-":
                if say is not None:
                    say(args.stdin_name)
                tw.add_stream(args.stdin_name, sys.stdin.buffer)
                continue
            full = path if base is None else os.path.join(base, path)
            arcname = _arcname(path)
            hook = exclude if say is None else _printing(say, exclude, full, arcname, args.dereference)
            tw.add_path(full, arcname, exclude=hook)
        tw.close()
        if sink is not out:
            sink.close()
        out.flush()  # here, not on the way out of open_output: an error then names the archive
    return 2 if warned else 0


class _Erasing:
    """Erase the progress ``line`` (if any) on the way out, before any error is printed."""

    def __init__(self, line: Any) -> None:
        self._line = line

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        if self._line is not None:
            self._line.close()


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


class _Metered:
    """The archive's output, counting what is written for the progress line (the total
    is unknown until the end: the line shows the bytes written, rate and elapsed time)."""

    def __init__(self, out: _NamedOutput, line: Any) -> None:
        self._out = out
        self._line = line
        self._done = 0

    def write(self, data: Any) -> int:
        n = self._out.write(data)
        self._done += n
        self._line.update(self._done)
        return n

    def flush(self) -> None:
        self._out.flush()


def _named(exc: OSError, name: str) -> OSError:
    if exc.filename is None:
        exc.filename = name
    return exc


def _arcname(path: str) -> str:
    parts = [x for x in path.replace(os.sep, "/").split("/") if x not in ("", "..")]
    name = "/".join(x for x in parts if x != ".")
    return name or "."


def _printing(say: Any, exclude: Any, root: str, arcname: str, follow: bool) -> Any:
    """An ``exclude`` for :meth:`TarWriter.add_path` under ``root`` (archived as ``arcname``)
    that prints each name it lets through, a folder's with a final ``/`` as ``tar -v`` does."""
    prefix = "" if arcname == "." else arcname + "/"

    def hook(name: str) -> bool:
        if exclude is not None and exclude(name):
            return True
        if name == arcname:
            path = root
        else:
            path = os.path.join(root, name[len(prefix) :] if name.startswith(prefix) else name)
        isdir = os.path.isdir(path) if follow else os.path.isdir(path) and not os.path.islink(path)
        say(name + "/" if isdir and not name.endswith("/") else name)
        return False

    return hook
