"""``chute unpack ARCHIVE -C DIR``: safe, streaming extraction (ARCHIVE may be ``-``).

Refused by default: absolute paths, ``..``, links leaving DIR, writing through symlinks,
devices and FIFOs; setuid/setgid/sticky and group/other write bits are dropped; member
count, total size and name length are capped. ``--trust`` lifts every check.
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
    p.add_argument("--trust", action="store_true", help="trusted archive: lift every safety check")
    p.add_argument("--owner", action="store_true", help="restore owners (needs privileges)")
    p.add_argument("-F", "--format", metavar="NAME", help="compression format when it cannot be detected (brotli)")
    p.add_argument("--max-members", type=int, default=d.max_members, metavar="N", help="default %(default)s")
    p.add_argument("--max-total-size", type=parse_size, default=d.max_total_size, metavar="SIZE", help="default 64G")
    p.add_argument("--max-name-length", type=int, default=d.max_name_length, metavar="N", help="default %(default)s")
    return p


def run(args: Namespace) -> int:
    from ..tar import extract_archive
    from ..tar.safety import Limits

    limits = Limits(args.max_members, args.max_total_size, args.max_name_length)
    src = sys.stdin.buffer if args.archive == "-" else args.archive
    extract_archive(
        src,
        args.directory,
        format=args.format,
        trust=args.trust,
        limits=limits,
        strip_components=args.strip_components,
        owner=args.owner,
    )
    return 0
