"""``chute unpack ARCHIVE -C DIR``: safe, streaming extraction (ARCHIVE may be ``-``).

The default policy restores symlinks as they are and never writes through one; it refuses
``..`` in names, hard links leaving DIR, devices and FIFOs, drops setuid/setgid/sticky and
group/other write bits, and caps the member count, total size and name length. A refused
member is skipped with one warning line and the exit status is 2 (1 if a member failed);
``--strict`` stops at the first. ``--policy data`` also refuses links that are absolute or
leave DIR; ``--trust`` (``--policy trust``) lifts every check.
"""

from __future__ import annotations

import sys

from ._args import Spec
from ._common import add_progress_args, add_storage_args, is_url, parse_size, storage_options
from ._tarargs import (
    add_selection_args,
    check_all_found,
    metered_archive,
    name_printer,
    selection_from,
    show_progress,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..tar.select import Selection
    from ._args import Namespace


def build_parser(prog: str) -> Spec:
    from ..tar.safety import Limits

    d = Limits()
    p = Spec(prog, "Extract a (compressed) tar archive safely.")
    p.add_argument("archive", metavar="ARCHIVE", help="archive to read ('-': standard input)")
    p.add_argument("-C", "--directory", default=".", metavar="DIR", help="extract into DIR (created if missing)")
    p.add_argument("--strip-components", type=int, default=0, metavar="N", help="drop N leading path parts")
    p.add_argument(
        "--policy",
        default="default",
        choices=("default", "data", "trust"),
        help="what to refuse: default (symlinks kept as they are), data (links must stay inside DIR), trust (nothing)",
    )
    p.add_argument("--trust", action="store_true", help="trusted archive: lift every safety check (--policy trust)")
    p.add_argument("--strict", action="store_true", help="stop at the first refused member instead of skipping it")
    p.add_argument("--owner", action="store_true", help="restore owners (needs privileges)")
    p.add_argument("-F", "--format", metavar="NAME", help="compression format when it cannot be detected (brotli)")
    p.add_argument("--max-members", type=int, default=d.max_members, metavar="N", help="default %(default)s")
    p.add_argument(
        "--max-total-size", type=parse_size, default=d.max_total_size, metavar="SIZE", help="data written; default 64G"
    )
    p.add_argument("--max-name-length", type=int, default=d.max_name_length, metavar="N", help="default %(default)s")
    # as GNU tar: which members, where their data goes, what becomes of files already there
    add_selection_args(p)
    p.add_argument("-O", "--to-stdout", action="store_true", help="write the members' data to standard output")
    p.add_argument("-v", "--verbose", action="store_true", help="print each member's name as it is extracted")
    p.add_argument(
        "--overwrite",
        dest="old_files",
        action="store_const",
        const="replace",
        default="replace",
        help="replace existing files, each renamed over the old one once complete (default)",
    )
    p.add_argument(
        "-k",
        "--keep-old-files",
        dest="old_files",
        action="store_const",
        const="keep",
        help="keep existing files: each is reported, the rest extracted, exit status 1",
    )
    p.add_argument(
        "--skip-old-files", dest="old_files", action="store_const", const="skip", help="leave existing files alone"
    )
    p.add_argument("--numeric-owner", action="store_true", help="owners by number, not name (what --owner always does)")
    add_progress_args(p)
    add_storage_args(p)
    return p


def run(args: Namespace) -> int:
    src = sys.stdin.buffer if args.archive == "-" else args.archive
    selection = selection_from(args)
    fmt = args.format
    closers: list[Any] = []
    if show_progress(args, names_on_stdout=args.verbose and not args.to_stdout):
        label = "stdin" if args.archive == "-" else args.archive
        src, fmt, closers = metered_archive(args.archive, fmt, label, storage_options(args))
    elif is_url(args.archive):
        from ._tarargs import remote_archive

        src, fmt, closers = remote_archive(args.archive, fmt, storage_options(args))
    try:
        return _unpack(src, fmt, args, selection)
    finally:
        for c in closers:
            c.close()


def _unpack(src: Any, fmt: str | None, args: Namespace, selection: Selection | None) -> int:
    from ..errors import ChuteError
    from ..quoting import quote
    from ..tar import extract_archive
    from ..tar.safety import Limits
    from ._common import CliError

    if args.to_stdout:
        return _to_stdout(src, fmt, args, selection)
    name = "-" if args.archive == "-" else quote(args.archive)
    limits = Limits(args.max_members, args.max_total_size, args.max_name_length)
    kept: list[int] = [0]

    def warn(line: str) -> None:
        sys.stderr.write(f"chute: {name}: {quote(line)}\n")
        sys.stderr.flush()

    def existing(member: str) -> None:
        kept[0] += 1
        sys.stderr.write(f"chute: {name}: {quote(member)}: file exists, kept (--keep-old-files)\n")

    try:
        stats = extract_archive(
            src,
            args.directory,
            format=fmt,
            policy="trust" if args.trust else args.policy,
            strict=args.strict,
            warn=warn,
            limits=limits,
            strip_components=args.strip_components,
            owner=args.owner,
            selection=selection,
            old_files=args.old_files,
            verbose=name_printer(sys.stdout) if args.verbose else None,
            existing=existing,
        )
    except ChuteError as exc:
        raise CliError(name, quote(str(exc))) from None
    except OSError as exc:
        member = exc.filename if isinstance(exc.filename, str) else None
        if member is None or member == args.archive:
            raise
        reason = exc.strerror or str(exc)
        raise CliError(name, quote(f"{member}: {reason[:1].lower()}{reason[1:]}")) from None
    if stats.failed or kept[0] or check_all_found(selection, args.archive):
        return 1
    return 2 if stats.refused or stats.warnings else 0


def _to_stdout(src: object, fmt: str | None, args: Namespace, selection: Selection | None) -> int:
    """``-O``: the selected members' data, one after the other, on standard output."""
    from ..quoting import quote
    from ..tar import open_compressed_input
    from ..tar.select import copy_selected

    warned: list[str] = []

    def warn(line: str) -> None:
        warned.append(line)
        sys.stderr.write(f"chute: {'-' if args.archive == '-' else quote(args.archive)}: {quote(line)}\n")

    fp, closers = open_compressed_input(src, fmt)
    try:
        copy_selected(fp, sys.stdout.buffer, selection, name_printer(sys.stderr) if args.verbose else None, warn)
    finally:
        for c in closers:
            c.close()
    sys.stdout.buffer.flush()
    return check_all_found(selection, args.archive) or (2 if warned else 0)
