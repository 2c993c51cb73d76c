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
from ._common import parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
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
    return p


def run(args: Namespace) -> int:
    from ..errors import ChuteError
    from ..quoting import quote
    from ..tar import extract_archive
    from ..tar.safety import Limits
    from ._common import CliError

    name = "-" if args.archive == "-" else quote(args.archive)
    limits = Limits(args.max_members, args.max_total_size, args.max_name_length)
    src = sys.stdin.buffer if args.archive == "-" else args.archive

    def warn(line: str) -> None:
        sys.stderr.write(f"chute: {name}: {quote(line)}\n")
        sys.stderr.flush()

    try:
        stats = extract_archive(
            src,
            args.directory,
            format=args.format,
            policy="trust" if args.trust else args.policy,
            strict=args.strict,
            warn=warn,
            limits=limits,
            strip_components=args.strip_components,
            owner=args.owner,
        )
    except ChuteError as exc:
        raise CliError(name, quote(str(exc))) from None
    except OSError as exc:
        member = exc.filename if isinstance(exc.filename, str) else None
        if member is None or member == args.archive:
            raise
        reason = exc.strerror or str(exc)
        raise CliError(name, quote(f"{member}: {reason[:1].lower()}{reason[1:]}")) from None
    if stats.failed:
        return 1
    return 2 if stats.refused or stats.warnings else 0
