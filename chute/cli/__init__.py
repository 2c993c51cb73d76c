"""The ``chute`` command: argument parsing, exit codes, error lines.

``chute [OPTIONS] [FILE...]`` compresses or decompresses (see :mod:`chute.cli.compress`);
a first argument naming a subcommand (``cat``, ``pack``, ``unpack``, ``ls``, ``precompress``,
``bench``, ``batch``, ``train``, ``index``, ``completion``, ``manpage``) runs that instead.
Each subcommand is a module exposing ``build_parser(prog)`` (a :class:`chute.cli._args.Spec`:
options are parsed without argparse, which would cost more start-up than the rest of
``chute --version``) and ``run(args) -> int``, imported only when used.

Errors print one line, ``chute: NAME: reason``, and exit 1; warnings exit 2; a reader
that closes the pipe ends chute quietly; Ctrl-C exits 130 with no partial output left.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs start-up
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["main", "run", "SUBCOMMANDS"]

SUBCOMMANDS = {
    "cat": "chute.cli.cat",
    "pack": "chute.cli.pack",
    "unpack": "chute.cli.unpack",
    "ls": "chute.cli.ls",
    "precompress": "chute.cli.precompress",
    "bench": "chute.cli.bench",
    "batch": "chute.cli.batch",
    "train": "chute.cli.train",
    "index": "chute.cli.index",
    "completion": "chute.cli.completion",
    "manpage": "chute.cli.manpage",
}


def _say(name: str, message: str) -> None:
    try:
        sys.stderr.write(f"chute: {name}: {message}\n" if name else f"chute: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _describe_oserror(exc: OSError) -> tuple[str, str]:
    name = exc.filename if isinstance(exc.filename, str) else ""
    reason = exc.strerror or str(exc)
    if exc.filename2:
        name = f"{name} -> {exc.filename2}"
    return name, reason[0].lower() + reason[1:] if reason else "error"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    from ..errors import ChuteError
    from ..streams.atomic import Terminated
    from ._common import CliError, error_text

    try:
        from ..streams import _malloc
        from ..streams.atomic import cleanup_on_signals

        _malloc.wanted = True  # this process is chute's own: it may tune the allocator
        cleanup_on_signals()
        if args and args[0] in SUBCOMMANDS:
            try:
                __import__(SUBCOMMANDS[args[0]])  # not importlib: importing it costs start-up
                mod = sys.modules[SUBCOMMANDS[args[0]]]
            except ModuleNotFoundError as exc:
                if exc.name != SUBCOMMANDS[args[0]]:
                    raise
                _say(args[0], "this subcommand is not available in this build")
                return 1
            from ._common import split_level_flags

            ns = mod.build_parser(f"chute {args[0]}").parse_args(split_level_flags(args[1:]))
            return int(mod.run(ns))
        from . import compress

        return compress.run_main(args, offers_long=True)
    except CliError as exc:
        _say(exc.name, exc.message)
        return 1
    except ChuteError as exc:
        # not the per-file path of the main command: whatever ran has no --memory to offer
        _say("", error_text(exc, {}))
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        _say("", "interrupted")
        return 130
    except Terminated as exc:
        from ..streams.atomic import die_by_signal

        die_by_signal(exc.signum)
        return 128 + exc.signum
    except OSError as exc:
        if exc.errno == 32:  # EPIPE surfaced as plain OSError
            _silence_stdout()
            return 141
        _say(*_describe_oserror(exc))
        return 1
    except MemoryError:
        _say("", "out of memory")
        return 1


def run() -> NoReturn:
    """Run the command line and end the process: what ``chute`` and ``python -m chute`` do.

    Once :func:`main` returns, every file chute opened is closed (outputs committed or
    removed, worker threads done), so the process ends with ``os._exit`` after flushing
    standard output and error: the interpreter's teardown, which finalizes every module and
    object, would add ~7 ms, a sixth of compressing a small file. The final flush is checked
    here too: a full disk behind standard output is an error line and exit 1, a closed pipe
    exits 141 quietly. An exception escaping :func:`main` (a bug) takes the normal way out.
    """
    _complete_std_streams()
    try:
        status = main()
    except SystemExit as exc:  # --help, --version, a usage error: their message is written
        status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if isinstance(exc.code, str):
            _say("", exc.code)
    from ..streams._writeall import flush_all

    try:
        flush_all(sys.stdout)
    except BrokenPipeError:
        status = status or 141
    except OSError as exc:
        if status != 1:  # a failed run said why already (often this very error, met earlier)
            _say("stdout", _describe_oserror(exc)[1])
        status = 1
    except (AttributeError, ValueError):  # no standard output, or closed
        pass
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    os._exit(status)


def _complete_std_streams() -> None:
    """Make every write to standard output and error complete, or an error naming it.

    A raw file's ``write`` may take part of what it is given (a nearly full disk, a
    non-blocking pipe), and the layers Python puts above it do not all look at the count:
    under ``PYTHONUNBUFFERED=1`` (``python -u``) ``sys.stdout.buffer`` is the raw file itself
    and the text layer drops what it did not take; over a non-blocking pipe, text writes
    fail with ``BlockingIOError``. Both streams get a text layer over a ``BufferedWriter``
    over :class:`~chute.streams._writeall.CompleteRaw`: every byte written or an ``OSError`` named
    ``stdout``/``stderr``. Nothing is held longer than in a normal run: chute flushes its
    output where a live stream needs it, and at exit. The original objects stay alive in
    ``sys.__stdout__``/``sys.__stderr__``, so their file descriptors stay open.
    """
    import io

    from ..streams._writeall import CompleteRaw

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        buffer = getattr(stream, "buffer", None)
        raw = getattr(buffer, "raw", buffer)
        if not isinstance(raw, io.FileIO):  # not the interpreter's own (embedded, redirected)
            continue
        try:
            stream.flush()  # type: ignore[union-attr]
            wrapped = io.TextIOWrapper(
                io.BufferedWriter(CompleteRaw(raw)),
                encoding=stream.encoding,  # type: ignore[union-attr]
                errors=stream.errors,  # type: ignore[union-attr]
                line_buffering=name == "stderr" or stream.line_buffering or raw.isatty(),  # type: ignore[union-attr]
            )
        except (OSError, ValueError):
            continue
        setattr(sys, name, wrapped)


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
