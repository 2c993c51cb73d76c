"""``chute index FILE.gz...``: write a sidecar index for random reads in any gzip file.

The index (``FILE.gz.idx`` unless ``-o`` names another) holds a checkpoint every
``--spacing`` bytes of output; ``chute.open`` and ``chute cat --range`` then start
decoding at the checkpoint before the bytes they want. Run again on a file that
grew (more members appended), it extends the index from its last checkpoint; on a file
that did not change, it leaves the index alone. ``--import`` makes the index from one of
indexed_gzip, gztool or bgzip (``.gzi``) and ``--export`` writes it for the first two.
docs/gzip-index.md describes the format.
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
    other = p.add_mutually_exclusive_group()
    other.add_argument("--import", dest="import_", metavar="INDEX", help="make the index from another tool's INDEX")
    other.add_argument("--export", metavar="INDEX", help="write the index in another tool's format to INDEX")
    p.add_argument(
        "--format",
        dest="index_format",
        choices=["indexed_gzip", "gztool", "gzi"],
        help="format of --import (detected when not given) or --export (indexed_gzip or gztool)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no report")
    return p


def run(args: Namespace) -> int:
    if args.output is not None and len(args.files) != 1:
        raise CliError("-o", "takes exactly one FILE")
    if (args.import_ is not None or args.export is not None) and len(args.files) != 1:
        raise CliError("--import" if args.import_ is not None else "--export", "takes exactly one FILE")
    if args.index_format is not None and args.import_ is None and args.export is None:
        raise CliError("--format", "is the format of --import or --export")
    if args.export is not None:
        if args.index_format not in ("indexed_gzip", "gztool"):
            raise CliError("--export", "needs --format indexed_gzip or --format gztool")
        if args.output is not None or args.spacing is not None:
            raise CliError("--export", "writes to its own INDEX (no -o, no --spacing)")
        _export(args.files[0], args)
        return 0
    for path in args.files:
        _index_one(path, args)
    return 0


def _export(path: str, args: Namespace) -> None:
    """The file's chute index (the one beside it, else built now) in another format."""
    from ..codecs.gzindex import DEFAULT_SPACING
    from ..errors import ChuteError
    from ..parallel.gzindex import build_index, export_index, index_path_for

    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CliError(display_name(path), exc.strerror or str(exc)) from None
    with fp:
        sidecar = index_path_for(path)
        index = _existing(path, sidecar, fp, True) if os.path.exists(sidecar) else None
        fp.seek(0)
        try:
            if index is None or index.size != os.fstat(fp.fileno()).st_size:
                index = build_index(fp, spacing=DEFAULT_SPACING)
                fp.seek(0)
            data = export_index(fp, index, args.index_format)
        except ChuteError as exc:
            raise CliError(display_name(path), str(exc)) from None
    with open_output(args.export, force=args.force) as out:
        out.write(data)
    if not args.quiet:
        sys.stderr.write(
            f"chute: {display_name(args.export)}: {args.index_format} index, {len(index.checkpoints)} points, "
            f"{len(data)} bytes\n"
        )


def _imported(path: str, fp: object, args: Namespace) -> GzipIndex:
    from ..codecs import gzindex_foreign as foreign
    from ..errors import ChuteError
    from ..parallel.gzindex import import_index

    try:
        with open(args.import_, "rb") as f:
            data = f.read(_MAX_FOREIGN + 1)
    except OSError as exc:
        raise CliError(display_name(args.import_), exc.strerror or str(exc)) from None
    if len(data) > _MAX_FOREIGN:
        raise CliError(display_name(args.import_), f"larger than {_MAX_FOREIGN >> 30} GiB")
    kind = args.index_format or foreign.detect(data)
    if kind is None:
        raise CliError(display_name(args.import_), "not an index of indexed_gzip, gztool or bgzip (use --format)")
    try:
        parsed = foreign.parse(data, kind)
    except ChuteError as exc:
        raise CliError(display_name(args.import_), str(exc)) from None
    try:
        return import_index(fp, parsed)  # type: ignore[arg-type]
    except ChuteError as exc:
        from ..errors import IndexFileError

        name = args.import_ if isinstance(exc, IndexFileError) else path
        raise CliError(display_name(name), str(exc)) from None


#: The largest index of another tool that --import reads (windows are stored raw there:
#: 32 KiB a point, so 4 GiB is about 130,000 points).
_MAX_FOREIGN = 4 << 30


def _existing(path: str, index_path: str, fp: object, force: bool) -> GzipIndex | None:
    """The index already at ``index_path`` if it belongs to ``path`` (perhaps before it
    grew); ``None`` if there is none (or it is refused and ``force`` rebuilds it)."""
    from ..codecs.gzindex import MAX_INDEX_BYTES
    from ..errors import ChuteError, IndexFileError
    from ..parallel.gzindex import load_index

    try:
        with open(index_path, "rb") as f:
            data = f.read(MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(display_name(index_path), exc.strerror or str(exc)) from None
    try:
        if len(data) > MAX_INDEX_BYTES:
            raise IndexFileError(f"larger than {MAX_INDEX_BYTES >> 20} MiB")
        return load_index(data, fp)  # type: ignore[arg-type]
    except ChuteError as exc:
        if force:
            return None
        raise CliError(display_name(index_path), f"{exc} (use -f to rebuild it)") from None


def _index_one(path: str, args: Namespace) -> None:
    from ..codecs.gzindex import DEFAULT_SPACING
    from ..errors import ChuteError
    from ..parallel.gzindex import build_index, extend_index, index_path_for

    index_path = args.output if args.output is not None else index_path_for(path)
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CliError(display_name(path), exc.strerror or str(exc)) from None
    with fp:
        old = None
        if args.import_ is not None:
            if args.spacing is not None:
                raise CliError("--import", "keeps the points of the INDEX (no --spacing)")
            if index_path != "-" and os.path.exists(index_path) and not args.force:
                raise CliError(display_name(index_path), "already exists (use -f to overwrite)")
            _write(_imported(path, fp, args), index_path, "imported", args)
            return
        if index_path != "-" and os.path.exists(index_path):
            old = _existing(path, index_path, fp, args.force)
            fp.seek(0)
        if old is not None and args.spacing not in (None, old.spacing):
            old = None  # another spacing asked for: build anew
        try:
            if old is not None:
                grown = extend_index(fp, old)
                if grown is None:
                    if not args.quiet:
                        sys.stderr.write(f"chute: {display_name(index_path)}: up to date\n")
                    return
                index, what = grown, "extended"
            else:
                index = build_index(fp, spacing=args.spacing or DEFAULT_SPACING)
                what = "written"
        except ChuteError as exc:
            raise CliError(display_name(path), str(exc)) from None
    _write(index, index_path, what, args)


def _write(index: GzipIndex, index_path: str, what: str, args: Namespace) -> None:
    from ..codecs.gzindex import serialize

    data = serialize(index)
    with open_output(index_path, force=True) as out:  # an index there was checked before
        out.write(data)
    if not args.quiet:
        ratio = 100 * len(data) / max(index.size, 1)
        sys.stderr.write(
            f"chute: {display_name(index_path)}: {what}, {len(index.checkpoints)} checkpoints, "
            f"{len(data)} bytes ({ratio:.2f}% of {index.size} compressed bytes)\n"
        )
