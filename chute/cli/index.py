"""``chute index FILE.gz...``: write a sidecar index for random reads in any gzip file.

The index (``FILE.gz.idx`` unless ``-o`` names another) holds a checkpoint every
``--spacing`` bytes of output; ``chute.open``, ``chute cat --range`` and ``chute -d`` then
start decoding at the checkpoint before the bytes they want. Run again on a file that
grew (more members appended), it extends the index from its last checkpoint; on a file
that did not change, it leaves the index alone. docs/gzip-index.md describes the format.
"""

from __future__ import annotations

import os
import sys

from ._args import ArgumentTypeError, Spec
from ._common import CliError, display_name, open_output, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..codecs.gzindex import GzipIndex
    from ._args import Namespace


def _spacing(text: str) -> int:
    from ..codecs.gzindex import MAX_SPACING, MIN_SPACING

    value = parse_size(text)
    if not MIN_SPACING <= value <= MAX_SPACING:
        raise ArgumentTypeError(f"spacing must be {MIN_SPACING >> 10}K to {MAX_SPACING >> 30}G, not {text!r}")
    return value


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Write a sidecar index (FILE.gz.idx) for random reads in gzip FILEs.")
    p.add_argument("files", nargs="+", metavar="FILE", help="gzip files to index")
    p.add_argument("-o", "--output", metavar="INDEX", help="index file to write (one FILE only; '-': standard output)")
    p.add_argument(
        "--spacing", type=_spacing, metavar="SIZE", help="decoded bytes between checkpoints (default 4M, 64K to 1G)"
    )
    p.add_argument("-f", "--force", action="store_true", help="rebuild an index made for another file or damaged")
    p.add_argument("-q", "--quiet", action="store_true", help="no report")
    return p


def run(args: Namespace) -> int:
    if args.output is not None and len(args.files) != 1:
        raise CliError("-o", "takes exactly one FILE")
    for path in args.files:
        _index_one(path, args)
    return 0


def _existing(path: str, index_path: str, fp: object, force: bool) -> GzipIndex | None:
    """The index already at ``index_path`` if it belongs to ``path`` (perhaps before it
    grew); ``None`` if there is none (or it is refused and ``force`` rebuilds it)."""
    from ..errors import ChuteError
    from ..parallel.gzindex import load_index

    try:
        with open(index_path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(display_name(index_path), exc.strerror or str(exc)) from None
    try:
        return load_index(data, fp)  # type: ignore[arg-type]
    except ChuteError as exc:
        if force:
            return None
        raise CliError(display_name(index_path), f"{exc} (use -f to rebuild it)") from None


def _index_one(path: str, args: Namespace) -> None:
    from ..codecs.gzindex import DEFAULT_SPACING, serialize
    from ..errors import ChuteError
    from ..parallel.gzindex import build_index, extend_index, index_path_for

    index_path = args.output if args.output is not None else index_path_for(path)
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CliError(display_name(path), exc.strerror or str(exc)) from None
    with fp:
        old = None
        if index_path != "-" and os.path.exists(index_path):
            old = _existing(path, index_path, fp, args.force)
            fp.seek(0)
        if old is not None and args.spacing not in (None, old.spacing):
            old = None  # another spacing asked for: build anew
        try:
            if old is not None:
                index = extend_index(fp, old)
                if index is None:
                    if not args.quiet:
                        sys.stderr.write(f"chute: {display_name(index_path)}: up to date\n")
                    return
                what = "extended"
            else:
                index = build_index(fp, spacing=args.spacing or DEFAULT_SPACING)
                what = "written"
        except ChuteError as exc:
            raise CliError(display_name(path), str(exc)) from None
    data = serialize(index)
    with open_output(index_path, force=True) as out:  # an index there was checked above
        out.write(data)
    if not args.quiet:
        ratio = 100 * len(data) / max(index.size, 1)
        sys.stderr.write(
            f"chute: {display_name(index_path)}: {what}, {len(index.checkpoints)} checkpoints, "
            f"{len(data)} bytes ({ratio:.2f}% of {index.size} compressed bytes)\n"
        )
