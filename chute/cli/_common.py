"""Helpers shared by the ``chute`` command and its subcommands.

Nothing here (nor in anything it imports) may load argparse, re, contextlib, typing or
collections: every command pays for what this module imports (see chute/cli/_args.py).
"""

from __future__ import annotations

import os
import sys

from ._args import ArgumentTypeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, BinaryIO

    from ..codecs import Codec
    from ..streams.atomic import AtomicFile
    from ..streams.remote import AtomicUpload
    from ._args import Namespace, Spec, _Group

__all__ = [
    "display_name",
    "CliError",
    "CliWarning",
    "add_format_args",
    "split_level_flags",
    "resolve_level",
    "resolve_threads",
    "parse_size",
    "open_output",
    "stdout_binary",
    "stdin_binary",
    "refuse_terminal",
    "error_text",
    "add_storage_args",
    "storage_options",
    "is_url",
]


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def display_name(name: str | bytes) -> str:
    """A file name as messages print it: GNU tar's escape style (:func:`chute.quoting.quote`),
    the same as ``chute ls``; ``str`` names are taken back to their file-system bytes, so a
    name that arrived with surrogate escapes prints its real bytes, not ``\\udc83``."""
    from ..quoting import quote

    return quote(name)


class CliError(Exception):
    """An error to print as ``chute: NAME: message`` (exit 1)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class CliWarning(CliError):
    """Like :class:`CliError`, but the run goes on and ends with exit status 2."""


#: The option of the main command (and ``chute cat``) that sets each limit of the API.
LIMIT_OPTIONS = {"memory_limit": "--memory"}


def error_text(exc: BaseException, options: dict[str, str] = LIMIT_OPTIONS) -> str:
    """``exc`` as the command line words it: a limit names the option that raises it (from
    ``options``; none where the command has no such option), not the API's keyword."""
    from ..errors import LimitExceededError

    if isinstance(exc, LimitExceededError):
        return exc.advice(options.get(exc.setting or ""))
    return str(exc)


_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``"128M"``, ``"1GiB"``, ``"4096"`` -> bytes (binary units, like zstd's --memory)."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in _SIZE_UNITS else (t, "")
    try:
        value = int(num) * _SIZE_UNITS[unit]
    except ValueError:
        raise ArgumentTypeError(f"invalid size {text!r} (examples: 4096, 64K, 512M, 2G)") from None
    if value <= 0:
        raise ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def add_format_args(parser: Spec) -> None:
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
        help="worker threads (0 = all usable cores; default $CHUTE_THREADS, else 1; "
        "compressing or -d: every core for files of 16 MiB and more)",
    )


def split_level_flags(argv: list[str]) -> list[str]:
    """Turn gzip-style ``-9`` / ``-19c`` into ``--level=9`` / ``--level=19 -c`` (before ``--``)."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[i:])
            break
        if i and argv[i - 1] == "--level":  # `--level -5`: the value of --level
            out.append(arg)
            continue
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


def resolve_level(args: Namespace, codec: Codec) -> int:
    """The level asked for (flags, then $CHUTE_LEVEL), checked against ``codec``'s range."""
    if args.fast and args.best:
        raise CliError("--fast", "--fast and --best exclude each other")
    if args.fast:
        return codec.fast
    if args.best:
        return codec.best
    level, source = args.level, "--level"
    if level is None and os.environ.get("CHUTE_LEVEL"):
        source = "CHUTE_LEVEL"  # the error names what the user has to change
        try:
            level = int(os.environ["CHUTE_LEVEL"])
        except ValueError:
            raise CliError(source, f"not a number: {os.environ['CHUTE_LEVEL']!r}") from None
    try:
        return codec.check_level(level)
    except ValueError as exc:
        raise CliError(source, str(exc)) from None


def resolve_threads(args: Namespace) -> int | None:
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


def is_url(name: object) -> bool:
    """Whether ``name`` is a URL to reach through fsspec (see :func:`chute.streams.remote.is_url`)."""
    from ..streams.remote import is_url as remote_is_url

    return remote_is_url(name)


def _storage_option(text: str) -> tuple[str, Any]:
    from ..streams.remote import parse_storage_option

    try:
        return parse_storage_option(text)
    except ValueError as exc:
        raise ArgumentTypeError(str(exc)) from None


def add_storage_args(parser: Spec | _Group) -> None:
    """``--storage-option KEY=VALUE`` (repeatable), for the commands that take URLs."""
    parser.add_argument(
        "--storage-option",
        dest="storage_option",
        action="append",
        default=[],
        type=_storage_option,
        metavar="KEY=VALUE",
        help="fsspec option for URLs (s3://...): endpoint_url=..., anon=true...; VALUE is JSON where it parses",
    )


def storage_options(args: Namespace) -> dict[str, Any]:
    """The ``--storage-option`` pairs as fsspec's ``storage_options``."""
    return dict(getattr(args, "storage_option", None) or ())


def open_output(
    path: str | None, *, force: bool = False, like: str | None = None, options: dict[str, Any] | None = None
) -> Output:
    """A context manager giving a binary file for ``path`` (``None`` or ``-``: standard output).

    A real path is written atomically: a temp file beside it, renamed on success, removed
    on any error or signal. Without ``force`` an existing ``path`` is an error. ``like``
    names a file whose mode and times the output takes. A ``path`` that is a device, FIFO
    or socket is written in place, ``force`` or not, and keeps its mode and times. A URL
    (:func:`is_url`) is uploaded all or nothing (:class:`chute.streams.remote.AtomicUpload`,
    with the fsspec ``options``); ``like`` does not apply to it.
    """
    return Output(path, force, like, options)


class Output:
    """:func:`open_output`'s context manager (a class: contextlib costs start-up)."""

    def __init__(self, path: str | None, force: bool, like: str | None, options: dict[str, Any] | None = None) -> None:
        self.path = None if path == "-" else path
        self.force = force
        self.like = like
        self.options = options
        self.atomic: AtomicFile | None = None
        self.upload: AtomicUpload | None = None
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        path = self.path
        if path is None:
            self.file = stdout_binary()
            return self.file
        if is_url(path):
            from ..streams.remote import AtomicUpload

            upload = AtomicUpload(path, overwrite=self.force, storage_options=self.options)
            try:
                upload.__enter__()
            except FileExistsError:
                raise CliError(path, "already exists (use -f to overwrite)") from None
            self.upload = upload
            file: Any = upload  # writes like a binary file
            self.file = file
            return self.file
        from ..streams.atomic import AtomicFile, writes_in_place

        # A device or FIFO is written into, -f or not, like zstd -o (see docs/output.md).
        if not self.force and os.path.lexists(path) and not writes_in_place(path):
            raise CliError(path, "already exists (use -f to overwrite)")
        atomic = AtomicFile(path, overwrite=self.force)
        try:
            self.file = atomic.__enter__()
        except FileExistsError as exc:
            if exc.filename != path:
                raise
            raise self._refused(exc) from None
        self.atomic = atomic
        return self.file

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.file is not None
        if self.upload is not None:
            self.upload.__exit__(exc_type, exc, tb)  # completes the upload, or aborts it
            return
        atomic = self.atomic
        if atomic is None:  # standard output: flushed after success only
            if exc_type is None:
                from ..streams._writeall import flush_all

                flush_all(self.file)
            return
        try:
            if exc_type is None and self.like is not None and not atomic.in_place:
                try:
                    self.file.flush()
                    assert atomic.tmp is not None
                    from ..streams.atomic import copy_metadata

                    copy_metadata(self.like, atomic.tmp)
                except BaseException as inner:
                    atomic.__exit__(type(inner), inner, inner.__traceback__)
                    raise
            atomic.__exit__(exc_type, exc, tb)  # commits, or removes the temp file
        except FileExistsError as err:
            if err.filename != self.path:
                raise
            raise self._refused(err) from None
        if isinstance(exc, FileExistsError) and exc.filename == self.path:
            raise self._refused(exc) from None

    def _refused(self, exc: FileExistsError) -> CliError:
        return CliError(str(self.path), f"{exc.strerror}; left untouched (use -f to overwrite)")


def add_progress_args(p: Spec | _Group) -> None:
    """``--progress``/``--no-progress``, for every command that draws a progress line."""
    p.add_argument(
        "--progress",
        dest="progress",
        action="store_const",
        const=True,
        default=None,
        help="show progress even when stderr is not a terminal",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
