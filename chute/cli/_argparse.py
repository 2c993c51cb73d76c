"""A command's recorded description (:class:`chute.cli._args.Spec`) as a real ``argparse`` parser.

Only ``--help`` (and the tests, which compare both parsers) come here: importing argparse
costs ``chute`` more start-up than everything else it loads, so command lines are parsed
by :mod:`chute.cli._args`, from the same description. This module takes the recorded calls,
not the ``Spec``: it sits below :mod:`chute.cli._args`, which imports it.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    #: ``(kind, parent, kwargs)`` per container: 0 is the parser, the others argument
    #: groups (``"group"``) or mutually exclusive groups
    Containers = list[tuple[str, int, dict[str, Any]]]
    #: ``(container, names, kwargs)`` per ``add_argument`` call, in order
    Calls = list[tuple[int, tuple[str, ...], dict[str, Any]]]

__all__ = ["build", "ChuteArgumentParser", "LightFormatter"]


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
    """The main command's help formatter: the description and epilog as written, and the
    terminal width asked of ``os`` (the stock formatter imports shutil, and bz2, lzma and
    fnmatch with it, only for that)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class ChuteArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one ``chute: ...`` line and exit status 1.

    (argparse's own status 2 would read as "warning" under gzip's conventions.)
    """

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: the version line as is (argparse's would refill it to the terminal width)."""

    def __init__(self, option_strings: list[str], dest: str, version: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        sys.stdout.write(f"{self.version}\n")
        parser.exit()


def _argparse_errors(convert: Any, error: type[Exception]) -> Any:
    """``convert`` raising argparse's ArgumentTypeError where it raises chute's ``error``."""

    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except error as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = getattr(convert, "__name__", repr(convert))
    return wrapped


def build(
    prog: str,
    description: str | None,
    epilog: str | None,
    *,
    raw_description: bool,
    add_help: bool,
    containers: Containers,
    calls: Calls,
    type_error: type[Exception],
) -> argparse.ArgumentParser:
    """An ``argparse.ArgumentParser`` made by the very calls recorded: ``containers`` and
    ``calls``, with ``prog``, ``description``, ``epilog`` and ``add_help`` as argparse's
    own; ``raw_description``: the description and epilog printed as written; a ``type=``
    function raising ``type_error`` raises argparse's ``ArgumentTypeError`` instead."""
    parser = ChuteArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=LightFormatter if raw_description else argparse.HelpFormatter,
        add_help=add_help,
    )
    made: list[Any] = [parser]
    for kind, parent, kwargs in containers[1:]:
        into = made[parent]
        if kind == "group":
            made.append(into.add_argument_group(**kwargs))
        else:
            made.append(into.add_mutually_exclusive_group(**kwargs))
    for index, names, kwargs in calls:
        kw = dict(kwargs)
        if kw.get("type") is not None:
            kw["type"] = _argparse_errors(kw["type"], type_error)
        if kw.get("action") == "version":
            kw["action"] = _Version
        if kw.get("help") == argparse.SUPPRESS:  # argparse tests it by identity
            kw["help"] = argparse.SUPPRESS
        made[index].add_argument(*names, **kw)
    return parser
