"""Helpers shared by the ``chute`` command and its subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ..codecs import Codec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, NoReturn

__all__ = [
    "ChuteArgumentParser",
    "usage_errors_exit_1",
    "CliError",
    "CliWarning",
    "add_format_args",
    "resolve_level",
    "resolve_threads",
    "parse_size",
    "open_output",
    "stdout_binary",
    "stdin_binary",
    "refuse_terminal",
]


class CliError(Exception):
    """An error to print as ``chute: NAME: message`` (exit 1)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class CliWarning(CliError):
    """Like :class:`CliError`, but the run goes on and ends with exit status 2."""


def _columns() -> int:
    """Terminal width as shutil.get_terminal_size computes it: $COLUMNS, else stdout's."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class LightFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse builds a formatter on every ``add_argument`` (to check the metavar); the stock
    one imports shutil, and bz2, lzma and fnmatch with it, only to ask for the terminal
    width. This one asks ``os`` directly: a few ms of start-up for every command."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class ChuteArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one ``chute: ...`` line and exit status 1.

    (argparse's own status 2 would read as "warning" under gzip's conventions.)
    """

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: {message} (see {self.prog} --help)\n")


def usage_errors_exit_1(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give any parser (a subcommand's too) the one-line, exit-1 usage errors."""
    parser.error = ChuteArgumentParser.error.__get__(parser)  # type: ignore[method-assign]
    return parser


_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``"128M"``, ``"1GiB"``, ``"4096"`` -> bytes (binary units, like zstd's --memory)."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in _SIZE_UNITS else (t, "")
    try:
        value = int(num) * _SIZE_UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (examples: 4096, 64K, 512M, 2G)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def add_format_args(parser: argparse.ArgumentParser) -> None:
    """-F/--format, --level N (and -1..-19 via :func:`split_level_flags`), --fast, --best, -T."""
    g = parser.add_argument_group("format and level")
    g.add_argument("-F", "--format", metavar="NAME", help="gzip, zlib, deflate, zstd, lz4, bz2, xz or brotli")
    g.add_argument("--level", type=int, metavar="N", help="compression level within the format's range (-1 .. -19 too)")
    g.add_argument("--fast", action="store_true", help="the format's fastest level")
    g.add_argument("--best", action="store_true", help="the format's best level")
    g.add_argument(
        "-T",
        "--threads",
        type=_nonneg_int,
        metavar="N",
        help="worker threads (0 = all usable cores; default $CHUTE_THREADS or 1)",
    )


def split_level_flags(argv: list[str]) -> list[str]:
    """Turn gzip-style ``-9`` / ``-19c`` into ``--level=9`` / ``--level=19 -c`` (before ``--``)."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[i:])
            break
        if len(arg) > 1 and arg[0] == "-" and arg[1].isdigit():
            digits = arg[1:].rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            rest = arg[1 + len(digits) :]
            if digits.isdigit():
                out.append(f"--level={digits}")
                if rest:
                    out.append("-" + rest)
                continue
        out.append(arg)
    return out


def resolve_level(args: argparse.Namespace, codec: Codec) -> int:
    """The level asked for (flags, then $CHUTE_LEVEL), checked against ``codec``'s range."""
    if args.fast and args.best:
        raise CliError("--fast", "--fast and --best exclude each other")
    if args.fast:
        return codec.fast
    if args.best:
        return codec.best
    level = args.level
    if level is None and os.environ.get("CHUTE_LEVEL"):
        try:
            level = int(os.environ["CHUTE_LEVEL"])
        except ValueError:
            raise CliError("CHUTE_LEVEL", f"not a number: {os.environ['CHUTE_LEVEL']!r}") from None
    try:
        return codec.check_level(level)
    except ValueError as exc:
        raise CliError("--level", str(exc)) from None


def resolve_threads(args: argparse.Namespace) -> int | None:
    """Threads from -T, else $CHUTE_THREADS, else ``None`` (one thread)."""
    if args.threads is not None:
        return int(args.threads)
    env = os.environ.get("CHUTE_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise CliError("CHUTE_THREADS", f"not a number: {env!r}") from None
        if value < 0:
            raise CliError("CHUTE_THREADS", "must be >= 0")
        return value
    return None


def stdout_binary() -> BinaryIO:
    return sys.stdout.buffer


def stdin_binary() -> BinaryIO:
    return sys.stdin.buffer


def refuse_terminal(stream: Any, force: bool, what: str = "compressed data") -> None:
    """Refuse to write binary ``what`` to a terminal unless forced (like gzip and zstd)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty and not force:
        raise CliError("stdout", f"refusing to write {what} to a terminal (use -f to force)")


@contextmanager
def open_output(path: str | None, *, force: bool = False, like: str | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file for ``path`` (``None`` or ``-``: standard output).

    A real path is written atomically: a temp file beside it, renamed on success, removed
    on any error or signal. Without ``force`` an existing ``path`` is an error. ``like``
    names a file whose mode and times the output takes.
    """
    if path is None or path == "-":
        out = stdout_binary()
        yield out
        out.flush()
        return
    from ..atomic import AtomicFile, copy_metadata

    if not force and os.path.lexists(path):
        raise CliError(path, "already exists (use -f to overwrite)")
    atomic = AtomicFile(path, overwrite=force)
    try:
        with atomic as f:
            yield f
            if like is not None:
                f.flush()
                assert atomic.tmp is not None
                copy_metadata(like, atomic.tmp)
    except FileExistsError as exc:
        if exc.filename != path:
            raise
        raise CliError(path, f"{exc.strerror}; left untouched (use -f to overwrite)") from None
