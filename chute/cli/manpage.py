"""``chute manpage``: the manual page, chute(1), in man(7) format on standard output.

Generated from the same :class:`~chute.cli._args.Spec` descriptions that parse the command
lines, so every option of every subcommand is there with its help text:

    chute manpage > ~/.local/share/man/man1/chute.1
    chute manpage | man -l -
"""

from __future__ import annotations

import sys

from ._args import Spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._args import Namespace
    from .completion import Command, Option


def build_parser(prog: str) -> Spec:
    return Spec(prog, "Print chute's manual page (man format), generated from its options.")


def run(args: Namespace) -> int:
    sys.stdout.write(page())
    sys.stdout.flush()
    return 0


def _esc(text: str) -> str:
    """``text`` as roff: backslashes and hyphens escaped, no line starting a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in text.split("\n"))


def _usage(c: Command) -> str:
    prog = "chute" + (f" {c.name}" if c.name else "")
    parts = [f".B {prog}"]
    words = []
    for p in c.positionals:
        name = f"\\fI{_esc(p.metavar)}\\fR"
        words.append(f"[{name}...]" if p.many else name)
    return "\n".join(parts) + "\n[\\fIOPTIONS\\fR] " + " ".join(words)


def _option(o: Option) -> str:
    names = ", ".join(f"\\fB{_esc(n)}\\fR" for n in o.names)
    if o.takes_value:
        names += f" \\fI{_esc(o.metavar)}\\fR"
    body = _esc(o.help) if o.help else ""
    if o.choices:
        body += (" " if body else "") + "(" + _esc(", ".join(o.choices)) + ")"
    return f".TP\n{names}\n{body}"


def _text(c: Command, text: str) -> str:
    if c.raw:
        return ".nf\n" + _esc(text.rstrip("\n")) + "\n.fi"
    return _esc(text.strip())


def page() -> str:
    """The whole manual page."""
    from .._version import __version__
    from .completion import commands

    cmds = commands()
    main = cmds[0]
    out = [
        f'.TH CHUTE 1 "" "chute {_esc(__version__)}" "User Commands"',
        ".SH NAME",
        "chute \\- streaming compression and tar archives in constant memory",
        ".SH SYNOPSIS",
        "\n.br\n".join(_usage(c) for c in cmds),
        ".SH DESCRIPTION",
        _text(main, main.description),
        ".SH OPTIONS",
        *(_option(o) for o in main.options),
        ".SH COMMANDS",
    ]
    for c in cmds[1:]:
        out.append(f".SS chute {_esc(c.name)}")
        out.append(_usage(c))
        out.append(".PP")
        out.append(_text(c, c.description))
        out.extend(_option(o) for o in c.options)
    out += [
        ".SH EXIT STATUS",
        "0: success; 1: an error (one line on standard error, naming the file);",
        "2: a warning (something was skipped); 130: interrupted; 141: the reader closed the pipe.",
        ".SH ENVIRONMENT",
        ".TP\n.B CHUTE_THREADS\ndefault for \\fB\\-T\\fR",
        ".TP\n.B CHUTE_LEVEL\ndefault compression level",
        ".TP\n.B NO_COLOR\nhonoured (chute prints no colours)",
        ".SH SEE ALSO",
        ".BR gzip (1),",
        ".BR zstd (1),",
        ".BR xz (1),",
        ".BR tar (1)",
        "",
    ]
    return "\n".join(out)
