"""The options of gzip, zstd and xz that the main command accepts, checked against the
chosen format and turned into compressor and decoder keywords.

An option that does not apply to the format in use is one ``chute: --OPTION: ...`` line
and exit status 1, never a usage dump.
"""

from __future__ import annotations

import os

from ._args import SUPPRESS
from ._common import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..codecs import Codec
    from ._args import Namespace, Spec

__all__ = [
    "add_format_option_args",
    "attach_values",
    "compress_options",
    "adapt_range",
    "fast_level",
    "decode_memory",
    "expand_recursive",
]

#: zstd's levels above this need --ultra (as with ``zstd``).
ZSTD_ULTRA_FROM = 20
#: ``--long`` without a value: a window of 2**27 bytes (zstd's default).
DEFAULT_LONG = 27
XZ_CHECKS = ("crc32", "crc64", "sha256", "none")
#: ``--adapt``'s default range of levels.
ADAPT_MIN, ADAPT_MAX = 1, 19


def _window_log(text: str) -> int:
    from ._args import ArgumentTypeError

    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"not a number: {text!r}") from None
    if not 10 <= value <= 31:
        raise ArgumentTypeError(f"window log must be between 10 and 31: {text!r}")
    return value


def _adapt_range(text: str) -> tuple[int | None, int | None]:
    """``--adapt``'s value: ``on`` (bare ``--adapt``), or ``min=N``, ``max=M`` or both,
    comma-separated, as zstd spells them."""
    from ._args import ArgumentTypeError

    bounds: dict[str, int] = {}
    if text != "on":
        for part in text.split(","):
            key, eq, value = part.partition("=")
            if key not in ("min", "max") or not eq or key in bounds:
                raise ArgumentTypeError(f"expected min=N,max=M, not {text!r}")
            try:
                bounds[key] = int(value)
            except ValueError:
                raise ArgumentTypeError(f"not a level: {value!r}") from None
    return bounds.get("min"), bounds.get("max")


def add_format_option_args(parser: Spec) -> None:
    """The options of one format each (gzip, zstd, xz), in a group of their own."""
    g = parser.add_argument_group("options of one format (gzip, zstd, xz, lz4)")
    g.add_argument(
        "-n",
        "--no-name",
        dest="name",
        action="store_false",
        default=None,
        help="gzip: store no name and no time; with -d, name the output after the file (default)",
    )
    g.add_argument(
        "-N",
        "--name",
        dest="name",
        action="store_const",
        const=True,
        help="gzip: store the file's name and time; with -d, restore them",
    )
    g.add_argument("-r", "--recursive", action="store_true", help="compress or decompress the files under directories")
    g.add_argument("--ultra", action="store_true", help="zstd: allow levels 20 to 22")
    g.add_argument(
        "--long",
        type=_window_log,
        metavar="WLOG",
        help=f"--long[=WLOG]: zstd long-distance matching, window 2**WLOG (default {DEFAULT_LONG}); "
        "with -d: accept such a window",
    )
    g.add_argument(
        "-C",
        "--check",
        metavar="CHECK",
        help="--check[=CHECK]: xz: crc32, crc64 (default), sha256 or none; zstd, lz4: a checksum (default)",
    )
    g.add_argument("--zstd-fast", type=int, help=SUPPRESS)  # what --fast=N becomes (see attach_values)
    g.add_argument("--no-check", dest="check", action="store_const", const="none", help="zstd, lz4, xz: no checksum")
    g.add_argument(
        "--content-size",
        dest="content_size",
        action="store_true",
        default=None,
        help="zstd: record the decoded size in each frame header (default)",
    )
    g.add_argument("--no-content-size", dest="content_size", action="store_false", help="zstd: do not record it")
    g.add_argument(
        "--exclude-compressed", action="store_true", help="skip inputs that are already compressed (by suffix)"
    )
    g.add_argument("-e", "--extreme", action="store_true", help="xz: slower, a little smaller (-9e)")
    g.add_argument(
        "--adapt",
        type=_adapt_range,
        metavar="min=N,max=M",
        help=f"--adapt[=min=N,max=M]: zstd: the level follows the speed of the output, between N "
        f"(default {ADAPT_MIN}) and M (default {ADAPT_MAX}); the output then depends on timing",
    )
    g.add_argument(
        "--rsyncable",
        action="store_true",
        help="gzip, zstd: output rsync can send as a small delta after a small change",
    )
    g.add_argument(
        "--indexable",
        action="store_true",
        help="gzip: a point where decoding can start with no window at least every MiB of input "
        "(chute's gzip always has them: independent members; the flag checks the format)",
    )


def attach_values(argv: list[str]) -> list[str]:
    """Options whose value is optional, as zstd spells them: a bare ``--long`` or
    ``--check`` takes its default (so the next word stays a file name), and ``--fast=N``
    (zstd's level -N) becomes the hidden ``--zstd-fast=N`` beside gzip's ``--fast``."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg == "--long":
            arg = f"--long={DEFAULT_LONG}"
        elif arg == "--adapt":
            arg = "--adapt=on"
        elif arg == "--check":
            arg = "--check=on"
        elif arg.startswith("--fast="):
            arg = "--zstd-fast=" + arg[len("--fast=") :]
        out.append(arg)
    return out


def fast_level(args: Namespace, codec: Codec) -> int | None:
    """The level ``--fast=N`` asks for (zstd's negative levels), or None."""
    fast = args.zstd_fast
    if fast is None:
        return None
    if codec.name != "zstd":
        raise CliError("--fast", f"--fast=N applies to zstd only (format is {codec.name}); --fast alone works for all")
    if fast < 1:
        raise CliError("--fast", f"--fast=N needs N >= 1, not {fast}")
    return codec.check_level(-fast) if -fast >= codec.levels[0] else codec.levels[0]


def _only(option: str, codec: Codec, *formats: str) -> None:
    if codec.name not in formats:
        raise CliError(option, f"applies to {' and '.join(formats)} only, not to {codec.name}")


def compress_options(args: Namespace, codec: Codec, level: int) -> dict[str, Any]:
    """Compressor keywords for the format options given; :class:`CliError` for one that
    does not apply to ``codec``."""
    opts: dict[str, Any] = {}
    if codec.name == "zstd" and level >= ZSTD_ULTRA_FROM and not args.ultra:
        raise CliError("--level", f"zstd levels {ZSTD_ULTRA_FROM} to 22 need --ultra")
    if args.ultra:
        _only("--ultra", codec, "zstd")
    if args.long is not None:
        _only("--long", codec, "zstd")
        opts["long_distance"] = True
        opts["window_log"] = args.long
    if args.check is not None:
        if codec.name == "xz":
            check = "crc64" if args.check == "on" else args.check
            if check not in XZ_CHECKS:
                raise CliError("--check", f"xz checks are {', '.join(XZ_CHECKS)}, not {args.check!r}")
            if check != "crc64":
                opts["check"] = check
        elif codec.name in ("zstd", "lz4"):
            if args.check not in ("on", "none"):
                raise CliError("--check", f"{codec.name} has one checksum: --check or --no-check, not {args.check!r}")
            if args.check == "none":
                opts["checksum"] = False
        else:
            raise CliError("--check", f"applies to xz, zstd and lz4, not to {codec.name}")
    if args.content_size is not None:
        _only("--content-size" if args.content_size else "--no-content-size", codec, "zstd")
        if not args.content_size:
            if args.long is not None:
                raise CliError("--no-content-size", "with --long the size is never recorded (one streamed frame)")
            opts["content_size"] = False
    if args.rsyncable:
        _only("--rsyncable", codec, "gzip", "zstd")
        if args.seekable:
            raise CliError("--rsyncable", "not with --seekable, whose blocks have a fixed size")
        if codec.name == "gzip" and args.flush_interval is not None:
            raise CliError("--rsyncable", "gzip's members end where the content says, not with --flush-interval")
        opts["rsyncable"] = True
    if args.indexable:
        # every gzip layout chute writes (members of 1 MiB of input, rsyncable members of at
        # most MAX_CHUNK, BGZF blocks) already starts a member at least every MiB
        _only("--indexable", codec, "gzip")
    if args.adapt is not None:
        opts["adapt"] = adapt_range(args, codec)
    if args.extreme:
        _only("--extreme", codec, "xz")
        opts["extreme"] = True
    if args.name is not None and codec.name != "gzip":
        raise CliError("--name" if args.name else "--no-name", f"applies to gzip only, not to {codec.name}")
    if args.name and args.seekable:
        raise CliError("--name", "--seekable gzip (BGZF) members carry no name")
    return opts


def adapt_range(args: Namespace, codec: Codec) -> tuple[int, int]:
    """``--adapt``'s (min, max) levels, checked against zstd's levels and the other options."""
    _only("--adapt", codec, "zstd")
    for option, given in (
        ("--long", args.long is not None),
        ("--rsyncable", args.rsyncable),
        ("--seekable", args.seekable),
        ("--flush-interval", args.flush_interval is not None),
        ("-D", args.dictionary is not None),
    ):
        if given:
            raise CliError("--adapt", f"not with {option}")
    low, high = args.adapt
    low = ADAPT_MIN if low is None else low
    high = ADAPT_MAX if high is None else high
    for value in (low, high):
        try:
            codec.check_level(value)
        except ValueError as exc:
            raise CliError("--adapt", str(exc)) from None
    if high >= ZSTD_ULTRA_FROM and not args.ultra:
        raise CliError("--adapt", f"zstd levels {ZSTD_ULTRA_FROM} to 22 need --ultra")
    if low > high:
        raise CliError("--adapt", f"min={low} is above max={high}")
    return low, high


def decode_memory(args: Namespace) -> int | None:
    """The window limit for decoding: ``--memory``, raised to ``2**N`` by ``--long=N``."""
    limit = args.memory
    if args.long is not None:
        limit = max(limit or 0, 1 << args.long)
    return limit  # type: ignore[no-any-return]


def expand_recursive(files: list[str], skip_suffix: str | None = None) -> list[str]:
    """``-r``: each directory among ``files`` replaced by the regular files under it, in
    sorted order (symbolic links are not followed, as with gzip -r). Files found there
    whose name ends with ``skip_suffix`` are passed over silently, as gzip -r does."""
    out: list[str] = []
    for name in files:
        if name == "-" or not os.path.isdir(name) or os.path.islink(name):
            out.append(name)
            continue
        for root, dirs, names in os.walk(name):
            dirs.sort()
            for leaf in sorted(names):
                path = os.path.join(root, leaf)
                if skip_suffix and leaf.endswith(skip_suffix):
                    continue
                if os.path.isfile(path) and not os.path.islink(path):
                    out.append(path)
    return out
