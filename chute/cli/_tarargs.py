"""Options that ``chute unpack``, ``chute ls`` and ``chute pack`` share with GNU tar:
member names and globs, ``--exclude``, ``--files-from`` lists, ``-v`` names.

See :mod:`chute.tar.select` for how names and patterns match.
"""

from __future__ import annotations

import sys

from ._common import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

    from ..tar.select import Selection
    from ._args import Namespace, Spec


def add_selection_args(p: Spec, *, files_from: bool = True) -> None:
    """Member names after ARCHIVE, ``--wildcards``, ``--exclude`` (and ``-T``/``--null``).
    Options may then come between the names, as in ``tar -xf A NAME -C DIR``."""
    p.intermixed = True
    p.add_argument(
        "members",
        nargs="*",
        default=[],
        metavar="MEMBER",
        help="only these members (a folder: with what it holds); names are literal unless --wildcards",
    )
    p.add_argument("--wildcards", action="store_true", help="MEMBERs are globs ('*' also matches '/')")
    p.add_argument("--no-wildcards", dest="wildcards", action="store_false", help="MEMBERs are literal (default)")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out members a glob matches, at any depth, with what they hold",
    )
    if files_from:
        add_files_from_args(p, "MEMBERs")


def add_files_from_args(p: Spec, what: str, *, short: bool = True) -> None:
    """``--files-from`` (``-T`` too with ``short``: ``chute pack`` has ``-T`` for threads)."""
    names = ("-T", "--files-from") if short else ("--files-from",)
    p.add_argument(*names, metavar="FILE", help=f"read {what} from FILE, one a line ('-': standard input)")
    p.add_argument(
        "--null", action="store_true", help="--files-from names end with a NUL, not a newline (find -print0)"
    )


def read_names(args: Namespace) -> list[str]:
    """The names of ``--files-from`` (none without it): one a line, or ended by NULs with
    ``--null``; empty entries and a ``\\r`` before a newline are dropped."""
    import os

    if "files_from" not in args:  # chute ls: its --null is about its output
        return []
    path = args.files_from
    if path is None:
        if getattr(args, "null", False):
            raise CliError("--null", "needs --files-from")
        return []
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise CliError(path, (exc.strerror or str(exc)).lower()) from None
    if args.null:
        items = data.split(b"\0")
    else:
        items = [x[:-1] if x.endswith(b"\r") else x for x in data.split(b"\n")]
    return [os.fsdecode(x) for x in items if x]


def selection_from(args: Namespace) -> Selection | None:
    """The :class:`~chute.tar.select.Selection` the options describe, or None for every member."""
    names = list(args.members) + read_names(args)
    if not names and not args.exclude:
        return None
    from ..tar.select import Selection

    return Selection(names, wildcards=args.wildcards, exclude=args.exclude)


def check_all_found(selection: Selection | None, archive: str) -> int:
    """Report each name that matched no member (``chute: ARCHIVE: NAME: not found in
    archive``) and return 1 if there was one, else 0."""
    if selection is None:
        return 0
    missing = selection.unmatched()
    for name in missing:
        sys.stderr.write(f"chute: {archive}: {name}: not found in archive\n")
    sys.stderr.flush()
    return 1 if missing else 0


def name_printer(stream: TextIO) -> Callable[[str], None]:
    """``-v``: each name, quoted as GNU tar quotes it, on its own line of ``stream``."""
    from ..quoting import quote

    def say(name: str) -> None:
        stream.write(quote(name) + "\n")

    return say


def show_progress(args: Namespace, names_on_stdout: bool = False) -> bool:
    """Whether to draw a progress line: asked for, or stderr is a terminal (and ``-v``
    names are not going to the same terminal on standard output)."""
    from .progress import wanted

    if args.progress is not None:
        return bool(args.progress)
    if not wanted(sys.stderr):
        return False
    return not (names_on_stdout and wanted(sys.stdout))


def remote_archive(
    archive: str, format: str | None, options: dict[str, Any] | None
) -> tuple[Any, str | None, list[object]]:
    """The URL ``archive`` opened to read: (a buffered file object, the format to pass on:
    ``format``, else the URL's suffix, else None for the first bytes to tell, what to close)."""
    import io

    from ..streams.remote import open_input

    raw: Any = open_input(archive, options)  # reads like a raw file
    reader = io.BufferedReader(raw, 1 << 16)
    return reader, format or _suffix_format(archive), [reader, raw]


def _suffix_format(name: str) -> str | None:
    from ..codecs import from_suffix

    c = from_suffix(name)
    return c.name if c is not None else None


def metered_archive(
    archive: str, format: str | None, label: str, options: dict[str, Any] | None = None
) -> tuple[object, str | None, list[object]]:
    """``archive`` (a path, a URL or ``-``) opened to read with a progress line on stderr:
    (the file object, the format to pass on, what to close and in which order). The format
    comes from ``format``, else the path's suffix (as when the path itself is given), else
    the first bytes. ``options``: fsspec's for a URL."""
    import io
    import os

    from ..streams.remote import is_url
    from .progress import MeteredReader, ProgressLine

    raw: Any
    size: int | None
    if is_url(archive):
        from ..streams.remote import open_input

        raw = open_input(archive, options)
        owned: list[object] = [raw]
        size = raw.size
        format = format or _suffix_format(archive)
    elif archive == "-":
        raw = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
        owned = []
        try:
            st = os.fstat(sys.stdin.fileno())
            import stat

            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        except (OSError, ValueError):
            size = None
    else:
        raw = open(archive, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
        owned = [raw]
        size = os.fstat(raw.fileno()).st_size
        if format is None:
            from ..codecs import from_suffix

            c = from_suffix(archive)
            format = c.name if c is not None else None
    line = ProgressLine(label, size)
    reader = io.BufferedReader(MeteredReader(raw, line), 1 << 16)
    return reader, format, [line, reader, *owned]
