"""``chute train SAMPLES... -o NAME.dict``: a zstd dictionary for small records.

Samples are files, folders (every file below, in name order), or files cut into records
with ``--lines`` or ``--delimiter``. One sample in ten is held out of training; the report
gives the ratio each of them reaches compressed alone, without and with the dictionary.
The dictionary is then used with ``chute -D NAME.dict`` (or ``zstd -D NAME.dict``).
"""

from __future__ import annotations

import sys

from ._args import ArgumentTypeError, Spec
from ._common import CliError, open_output, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._args import Namespace


def _delimiter(text: str) -> bytes:
    """``'\\n'``, ``'\\x1e'``, ``'\\0'``, ``'|'``: backslash escapes as in Python strings."""
    try:
        value = text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")
    except (UnicodeError, ValueError):
        raise ArgumentTypeError(f"invalid delimiter {text!r} (examples: '\\n', '\\0', '\\x1e', '|')") from None
    if not value:
        raise ArgumentTypeError("the delimiter must not be empty")
    return value


def build_parser(prog: str) -> Spec:
    p = Spec(
        prog,
        "Train a zstd dictionary on SAMPLES (files, folders, or files cut into records), and "
        "report what it gains on a held-out tenth of them.",
    )
    p.add_argument("samples", nargs="+", metavar="SAMPLES", help="sample files or folders ('-': standard input)")
    p.add_argument("-o", "--output", required=True, metavar="NAME.dict", help="dictionary file to write")
    cut = p.add_mutually_exclusive_group()
    cut.add_argument("--lines", action="store_true", help="each line of each file is one sample")
    cut.add_argument("--delimiter", type=_delimiter, metavar="SEP", help="samples separated by SEP ('\\0', '\\x1e')")
    p.add_argument(
        "--size", type=parse_size, default=None, metavar="SIZE", help="largest dictionary size (default 110K, as zstd)"
    )
    p.add_argument("--level", type=int, default=3, metavar="N", help="the zstd level it will be used at (default 3)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite the output")
    p.add_argument("-q", "--quiet", action="store_true", help="no report")
    return p


def run(args: Namespace) -> int:
    from .. import codecs, dictionaries
    from ..errors import ChuteError

    try:
        level = codecs.get("zstd").check_level(args.level)
    except ValueError as exc:
        raise CliError("--level", str(exc)) from None
    size = args.size or dictionaries.DEFAULT_SIZE
    if size < 256:
        raise CliError("--size", "a dictionary needs at least 256 bytes")
    paths = ["/dev/stdin" if s == "-" else s for s in args.samples]
    try:
        samples = list(dictionaries.samples_from(paths, lines=args.lines, delimiter=args.delimiter))
    except ChuteError as exc:
        raise CliError(", ".join(args.samples), str(exc)) from None
    try:
        result = dictionaries.train(samples, size, level=level)
    except ChuteError as exc:
        raise CliError(", ".join(args.samples), str(exc)) from None
    content = result.dictionary.dict_content
    with open_output(args.output, force=args.force) as out:
        out.write(content)
    if not args.quiet:
        sys.stderr.write(
            f"chute: {args.output}: {len(content)} bytes, ID 0x{result.dict_id:08x}, trained on "
            f"{result.trained_on} samples in {result.seconds:.2f} s; on {result.held_out} held-out samples "
            f"at level {level}: ratio {result.ratio_without:.2f} without, {result.ratio_with:.2f} with it\n"
        )
    return 0
