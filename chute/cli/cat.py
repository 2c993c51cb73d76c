"""``chute cat FILE...``: decompress to standard output, like zstdcat / zcat.

``--follow`` keeps reading a growing compressed file (like ``tail -f``); ``--range
START:END`` prints only that byte range of the decompressed data, without decoding the
rest when the file is seekable (chute ``--seekable`` output, or a gzip file with an index
beside it: see ``chute index``).
"""

from __future__ import annotations

import sys

from ..errors import ChuteError, IndexFileWarning
from ._args import ArgumentTypeError, Spec
from ._common import CliError, add_storage_args, display_name, is_url, parse_size, storage_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._args import Namespace


def _range(text: str) -> tuple[int, int | None]:
    start_s, sep, end_s = text.partition(":")
    if not sep:
        raise ArgumentTypeError("range must be START:END (END may be empty)")
    try:
        start = parse_size(start_s) if start_s not in ("", "0") else 0
        end = parse_size(end_s) if end_s else None
    except ArgumentTypeError as exc:
        raise ArgumentTypeError(f"invalid range {text!r}: {exc}") from None
    if end is not None and end < start:
        raise ArgumentTypeError(f"invalid range {text!r}: END before START")
    return start, end


def _json(value: object) -> str:
    import json

    return json.dumps(value)


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Decompress FILEs (or standard input) to standard output.")
    p.add_argument("files", nargs="*", metavar="FILE", help="compressed files ('-' or none: standard input)")
    p.add_argument("-F", "--format", metavar="NAME", help="format, when it cannot be detected (brotli, deflate)")
    p.add_argument("-f", "--force", action="store_true", help="pass data in no known format through unchanged")
    p.add_argument("--memory", type=parse_size, metavar="SIZE", help="largest zstd/xz window accepted (default 128M)")
    p.add_argument("-T", "--threads", type=int, metavar="N", help="decompression threads where the format allows")
    p.add_argument("--follow", action="store_true", help="keep reading as the file grows (like tail -f)")
    p.add_argument("--range", type=_range, metavar="START:END", help="print only bytes [START, END) of the output")
    p.add_argument("-q", "--quiet", action="store_true", help="no warnings")
    p.add_argument("-D", "--dict", dest="dictionary", metavar="DICT", help="zstd dictionary the files were made with")
    add_storage_args(p)
    return p


def run(args: Namespace) -> int:
    files = args.files or ["-"]
    if args.dictionary is not None and (args.follow or args.range is not None):
        raise CliError("-D", "--follow and --range read files without a dictionary; use chute -dc -D")
    if args.follow:
        if len(files) != 1 or files[0] == "-":
            raise CliError("--follow", "follows exactly one FILE (not standard input)")
        if is_url(files[0]):
            raise CliError(files[0], "--follow follows local files only")
        from ..streams.follow import follow

        try:
            follow(files[0], sys.stdout.buffer, format=args.format)
        except KeyboardInterrupt:
            # Ctrl-C is how a follow ends: quietly, with the status of a SIGINT, as tail -f
            return 130
        except ChuteError as exc:
            raise CliError(display_name(files[0]), str(exc)) from None
        return 0
    if args.range is not None:
        if len(files) != 1:
            raise CliError("--range", "takes exactly one FILE")
        from ..api.functions import read_range

        start, end = args.range
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            # a sidecar gzip index that is refused: the range is read from the start
            warnings.simplefilter("always", IndexFileWarning)
            try:
                read_range(files[0], start, end, sys.stdout.buffer, storage_options=storage_options(args))
            except ChuteError as exc:
                raise CliError(display_name(files[0]), str(exc)) from None
        sys.stdout.buffer.flush()
        notes = [str(w.message) for w in caught if issubclass(w.category, IndexFileWarning)]
        if notes:  # the bytes are right, only slower to come: a warning, exit status 2
            if not args.quiet:
                sys.stderr.write(f"chute: {notes[0]}\n")
            return 2
        return 0
    from .compress import run_main

    argv = ["-d", "-c"]
    if sys.stdout.isatty():  # the data goes to the terminal: no progress line over it
        argv.append("--no-progress")
    if args.format:
        argv += ["-F", args.format]
    if args.force:
        argv.append("-f")
    if args.memory:
        argv += ["--memory", str(args.memory)]
    if args.threads is not None:
        argv += ["-T", str(args.threads)]
    if args.quiet:
        argv.append("-q")
    if args.dictionary is not None:
        argv += ["-D", args.dictionary]
    for key, value in args.storage_option:
        argv.append("--storage-option=" + key + "=" + (value if isinstance(value, str) else _json(value)))
    return run_main([*argv, "--", *files])
