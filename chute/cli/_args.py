"""The command line's option parser: argparse's rules, without importing argparse.

argparse imports ``re``, ``gettext`` and through them ``enum``, ``functools`` and
``collections`` (and ``locale`` when it parses): more than the rest of ``chute --version``
together. Every command therefore describes its options once, on a :class:`Spec`, with the
calls argparse knows (``add_argument``, ``add_argument_group``,
``add_mutually_exclusive_group``, same arguments). :meth:`Spec.parse_args` reads a command
line exactly as ``argparse.ArgumentParser.parse_args`` of Python 3.11 would with that
description: clustered short flags (``-dc``), ``-ovalue``, ``--opt=value``, unique prefixes
of long options, ``--``, negative numbers, defaults, ``type`` conversion, ``choices``,
required arguments, mutually exclusive groups, and the same error messages (printed as one
``PROG: ... (see PROG --help)`` line, exit status 1). ``--help`` replays the description
onto a real argparse parser (:func:`chute.cli._argparse.build`), so help is argparse's own.
``tests/cli/test_args.py`` checks both parsers against each other.

Supported: ``action`` = ``store``, ``store_const``, ``store_true``, ``store_false``,
``append``, ``append_const``, ``count``, ``help``, ``version``; ``nargs`` = ``None``,
``"?"``, ``"*"``, ``"+"`` or a number. A ``type`` function reports a bad value by raising
:class:`ArgumentTypeError` (this module's, which the argparse replay translates),
``ValueError`` or ``TypeError``.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs start-up
if TYPE_CHECKING:
    import argparse
    from typing import Any, NoReturn

__all__ = ["Spec", "Namespace", "ArgumentTypeError", "UsageError", "SUPPRESS"]

SUPPRESS = "==SUPPRESS=="  # argparse.SUPPRESS

_KINDS = {
    "store": None,
    "store_const": 0,
    "store_true": 0,
    "store_false": 0,
    "append": None,
    "append_const": 0,
    "count": 0,
    "help": 0,
    "version": 0,
}
_KEYWORDS = frozenset(
    {"action", "dest", "nargs", "const", "default", "type", "choices", "required", "help", "metavar", "version"}
)


class ArgumentTypeError(Exception):
    """Raised by a ``type`` function for a bad value: the message becomes the error."""


class UsageError(Exception):
    """A command line the description does not accept; ``str()`` is argparse's message."""


class Namespace:
    """The parsed values, as attributes (like ``argparse.Namespace``)."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Namespace):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items())) + ")"

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


class _Action:
    __slots__ = (
        "choices",
        "const",
        "default",
        "dest",
        "help",
        "kind",
        "metavar",
        "nargs",
        "option_strings",
        "required",
        "type",
        "version",
    )

    def __init__(self, names: tuple[str, ...], kwargs: dict[str, Any]) -> None:
        unknown = set(kwargs) - _KEYWORDS
        if unknown:
            raise TypeError(f"unsupported add_argument keywords: {', '.join(sorted(unknown))}")
        kind = kwargs.get("action", "store")
        if kind not in _KINDS:
            raise ValueError(f"unsupported action {kind!r} (chute.cli._args handles {', '.join(_KINDS)})")
        self.kind: str = kind
        if not names or not names[0] or names[0][0] != "-":  # a positional
            if len(names) != 1:
                raise ValueError("a positional argument has exactly one name")
            if kind not in ("store", "append"):
                raise ValueError(f"action {kind!r} needs an option string")
            if "required" in kwargs:
                raise TypeError("'required' is an invalid argument for positionals")
            if "dest" in kwargs:
                raise ValueError("dest supplied twice for positional argument")
            self.option_strings: tuple[str, ...] = ()
            dest = names[0]
            nargs = kwargs.get("nargs")
            required = nargs not in ("?", "*") or (nargs == "*" and "default" not in kwargs)
        else:
            for name in names:
                if name[0] != "-":
                    raise ValueError(f"invalid option string {name!r}: must start with '-'")
            self.option_strings = names
            dest = str(kwargs["dest"]) if kwargs.get("dest") is not None else ""
            if not dest:
                longs = [n for n in names if len(n) > 1 and n[1] == "-"]
                dest = (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
                if not dest:
                    raise ValueError(f"dest= is required for options like {names[0]!r}")
            required = bool(kwargs.get("required", False))
        self.dest: str = dest
        self.required: bool = required
        fixed = _KINDS[kind]
        self.nargs: Any = kwargs.get("nargs") if fixed is None else fixed
        if fixed is None and self.nargs == 0:
            raise ValueError("nargs for store actions must be != 0")
        if fixed == 0 and "nargs" in kwargs:
            raise TypeError(f"action {kind!r} takes no nargs")
        fixed_min = 0 if fixed == 0 else 1
        if self.nargs not in (None, "?", "*", "+") and not (isinstance(self.nargs, int) and self.nargs >= fixed_min):
            raise ValueError(f"unsupported nargs {self.nargs!r}")
        self.const: Any = {"store_true": True, "store_false": False}.get(kind, kwargs.get("const"))
        if "default" in kwargs:
            default = kwargs["default"]
        elif kind == "store_true":
            default = False
        elif kind == "store_false":
            default = True
        elif kind in ("help", "version"):
            default = SUPPRESS
        else:
            default = None
        self.default: Any = default
        self.type: Any = kwargs.get("type")
        self.choices: Any = kwargs.get("choices")
        self.metavar: Any = kwargs.get("metavar")
        self.help: Any = kwargs.get("help")
        self.version: str | None = kwargs.get("version")

    def name(self) -> str | None:
        """How errors name the argument (argparse's ``_get_action_name``)."""
        if self.option_strings:
            return "/".join(self.option_strings)
        if self.metavar not in (None, SUPPRESS):
            return str(self.metavar)
        if self.dest not in (None, SUPPRESS):
            return self.dest
        if self.choices:
            return "{" + ",".join(self.choices) + "}"
        return None


class _ArgError(Exception):
    """argparse's ArgumentError: a message about one argument."""

    def __init__(self, action: _Action | None, message: str) -> None:
        super().__init__(message)
        name = action.name() if action is not None else None
        self.text = message if name is None else f"argument {name}: {message}"


class _Container:
    """What argument groups and the Spec itself share: adding arguments and groups."""

    _spec: Spec
    _index: int
    _mutex: int | None = None

    def add_argument(self, *names: str, **kwargs: Any) -> None:
        spec = self._spec
        action = _Action(names, kwargs)
        for option in action.option_strings:
            if option in spec._options:
                raise ValueError(f"argument {action.name()}: conflicting option string: {option}")
        if self._mutex is not None and action.required:
            raise ValueError("mutually exclusive arguments must be optional")
        spec._calls.append((self._index, names, kwargs))
        spec._actions.append(action)
        for option in action.option_strings:
            spec._options[option] = action
            if _looks_negative(option):
                spec._negative_options = True
        if self._mutex is not None:
            spec._mutex_groups[self._mutex][1].append(action)

    def add_argument_group(self, title: str | None = None, description: str | None = None) -> _Group:
        return _Group(self._spec, "group", self._index, {"title": title, "description": description})

    def add_mutually_exclusive_group(self, *, required: bool = False) -> _Group:
        return _Group(self._spec, "mutex", self._index, {"required": required})


class _Group(_Container):
    def __init__(self, spec: Spec, kind: str, parent: int, kwargs: dict[str, Any]) -> None:
        self._spec = spec
        self._index = len(spec._containers)
        spec._containers.append((kind, parent, kwargs))
        if kind == "mutex":
            self._mutex = len(spec._mutex_groups)
            spec._mutex_groups.append((bool(kwargs["required"]), []))


class Spec(_Container):
    """One command's options: argparse's description calls, recorded, and a parser for them.

    ``raw_description``: print the description and epilog as written (argparse's
    ``RawDescriptionHelpFormatter``) rather than refilled.
    """

    #: What a ``type=`` function raises for a bad value (the argparse replay translates it)
    type_error = ArgumentTypeError

    def __init__(
        self,
        prog: str,
        description: str | None = None,
        epilog: str | None = None,
        *,
        raw_description: bool = False,
        add_help: bool = True,
    ) -> None:
        self.prog = prog
        self.description = description
        self.epilog = epilog
        self.raw_description = raw_description
        self.add_help = add_help
        #: Options may come between positionals (:meth:`_parse_intermixed`), as tar allows
        self.intermixed = False
        self._spec = self
        self._index = 0
        self._containers: list[tuple[str, int, dict[str, Any]]] = [("parser", -1, {})]
        self._calls: list[tuple[int, tuple[str, ...], dict[str, Any]]] = []
        self._actions: list[_Action] = []
        self._options: dict[str, _Action] = {}
        self._mutex_groups: list[tuple[bool, list[_Action]]] = []
        self._negative_options = False
        if add_help:
            self.add_argument("-h", "--help", action="help", help="show this help message and exit")

    # -- the argparse view ----------------------------------------------------------
    def argparse_parser(self) -> argparse.ArgumentParser:
        """The same description as an ``argparse.ArgumentParser`` (for help; imports argparse)."""
        from ._argparse import build

        containers, calls = self.calls()
        return build(
            self.prog,
            self.description,
            self.epilog,
            raw_description=self.raw_description,
            add_help=self.add_help,
            containers=containers,
            calls=calls,
            type_error=self.type_error,
        )

    def calls(self) -> tuple[list[tuple[str, int, dict[str, Any]]], list[tuple[int, tuple[str, ...], dict[str, Any]]]]:
        """(containers, add_argument calls) as recorded, for :func:`chute.cli._argparse.build`.
        Container 0 is the parser; the others are ``(kind, parent, kwargs)``. The help
        option is not among the calls (argparse adds its own)."""
        calls = self._calls[1:] if self.add_help else self._calls
        return self._containers, calls

    # -- parsing --------------------------------------------------------------------
    def error(self, message: str) -> NoReturn:
        """Print ``PROG: message (see PROG --help)`` and exit with status 1."""
        try:
            sys.stderr.write(f"{self.prog}: {message} (see {self.prog} --help)\n")
        except (AttributeError, OSError):
            pass
        sys.exit(1)

    def parse_args(self, args: list[str]) -> Namespace:
        """Parse ``args`` (without the program name) or exit: status 1 after a usage
        error, 0 after ``--help`` or ``--version``."""
        try:
            return self.parse(args)
        except UsageError as exc:
            self.error(str(exc))

    def parse(self, args: list[str]) -> Namespace:
        """Like :meth:`parse_args`, but a usage error raises :class:`UsageError`."""
        if self.intermixed:
            return self._parse_intermixed(args)
        return self._parse_plain(args)

    def _parse_intermixed(self, args: list[str]) -> Namespace:
        """argparse's ``parse_intermixed_args``: the options first, wherever they are, then
        what is left as the positionals, so ``ARCHIVE -C DIR NAME`` gives NAME to the
        positional after ARCHIVE (plain parsing would have given it nothing already)."""
        actions = self._actions
        positionals = [a for a in actions if not a.option_strings]
        self._actions = [a for a in actions if a.option_strings]
        try:
            namespace = self._parse_plain(args, allow_extras=True)
        finally:
            self._actions = actions
        rest: list[str] = namespace.__dict__.pop("_extras")
        self._actions = positionals  # the options stay known: an unknown one is an extra
        try:
            extra = self._parse_plain(rest, allow_extras=True)
        finally:
            self._actions = actions
        leftover = extra.__dict__.pop("_extras")
        if leftover:
            raise UsageError("unrecognized arguments: " + " ".join(leftover))
        namespace.__dict__.update(extra.__dict__)
        return namespace

    def _parse_plain(self, args: list[str], allow_extras: bool = False) -> Namespace:
        namespace = Namespace()
        for action in self._actions:
            if action.dest != SUPPRESS and not hasattr(namespace, action.dest) and action.default != SUPPRESS:
                setattr(namespace, action.dest, action.default)
        try:
            extras = self._parse(list(args), namespace)
        except _ArgError as exc:
            raise UsageError(exc.text) from None
        if allow_extras:
            setattr(namespace, "_extras", extras)  # noqa: B010 - a name the description cannot take
        elif extras:
            raise UsageError("unrecognized arguments: " + " ".join(extras))
        return namespace

    def _parse_optional(self, arg: str) -> tuple[_Action | None, str, str | None] | None:
        """argparse's ``_parse_optional``: None for a positional, else (action or None,
        option string, explicit argument)."""
        if not arg or arg[0] != "-":
            return None
        options = self._options
        if arg in options:
            return options[arg], arg, None
        if len(arg) == 1:
            return None
        if "=" in arg:
            option, explicit = arg.split("=", 1)
            if option in options:
                return options[option], option, explicit
        matches = self._option_tuples(arg)
        if len(matches) > 1:
            names = ", ".join(option for _, option, _ in matches)
            raise UsageError(f"ambiguous option: {arg} could match {names}")
        if len(matches) == 1:
            return matches[0]
        if _looks_negative(arg) and not self._negative_options:
            return None
        if " " in arg:
            return None
        return None, arg, None

    def _option_tuples(self, arg: str) -> list[tuple[_Action | None, str, str | None]]:
        """argparse's ``_get_option_tuples``: the options ``arg`` may abbreviate."""
        result: list[tuple[_Action | None, str, str | None]] = []
        if arg[1] == "-":
            prefix, sep, value = arg.partition("=")
            explicit = value if sep else None
            for option, action in self._options.items():
                if option.startswith(prefix):
                    result.append((action, option, explicit))
        else:
            short, short_explicit = arg[:2], arg[2:]
            for option, action in self._options.items():
                if option == short:
                    result.append((action, option, short_explicit))
                elif option.startswith(arg):
                    result.append((action, option, None))
        return result

    def _parse(self, strings: list[str], namespace: Namespace) -> list[str]:
        """argparse's ``_parse_known_args``, step for step; returns the extra strings."""
        conflicts: dict[_Action, list[_Action]] = {}
        for _, members in self._mutex_groups:
            for i, action in enumerate(members):
                others = conflicts.setdefault(action, [])
                others.extend(members[:i])
                others.extend(members[i + 1 :])

        # 'O' for an option, 'A' for an argument, '-' for the first '--' (all after are 'A')
        option_at: dict[int, tuple[_Action | None, str, str | None]] = {}
        kinds: list[str] = []
        for i, arg in enumerate(strings):
            if arg == "--":
                kinds.append("-")
                kinds.extend("A" * (len(strings) - i - 1))
                break
            parsed = self._parse_optional(arg)
            if parsed is None:
                kinds.append("A")
            else:
                option_at[i] = parsed
                kinds.append("O")
        pattern = "".join(kinds)

        seen: set[_Action] = set()
        seen_non_default: set[_Action] = set()
        extras: list[str] = []

        def take_action(action: _Action, args: list[str], option: str | None = None) -> None:
            seen.add(action)
            values = self._values(action, args)
            if values is not action.default:
                seen_non_default.add(action)
                for other in conflicts.get(action, ()):
                    if other in seen_non_default:
                        raise _ArgError(action, f"not allowed with argument {other.name()}")
            self._apply(action, namespace, values)

        def consume_optional(start: int) -> int:
            action, option, explicit = option_at[start]
            taken: list[tuple[_Action, list[str], str]] = []
            while True:
                if action is None:
                    extras.append(strings[start])
                    return start + 1
                if explicit is not None:
                    count = _match_optional(action, "A")
                    if count == 0 and option[1] != "-" and explicit != "":
                        taken.append((action, [], option))
                        option = "-" + explicit[0]
                        if option in self._options:
                            action = self._options[option]
                            explicit = explicit[1:] or None
                        else:
                            raise _ArgError(action, f"ignored explicit argument {explicit!r}")
                    elif count == 1:
                        stop = start + 1
                        taken.append((action, [explicit], option))
                        break
                    else:
                        raise _ArgError(action, f"ignored explicit argument {explicit!r}")
                else:
                    first = start + 1
                    stop = first + _match_optional(action, pattern[first:])
                    taken.append((action, strings[first:stop], option))
                    break
            for action, args, option in taken:
                take_action(action, args, option)
            return stop

        positionals = [a for a in self._actions if not a.option_strings]

        def consume_positionals(start: int) -> int:
            counts = _match_positionals(positionals, pattern[start:])
            for action, count in zip(positionals, counts, strict=False):
                args = strings[start : start + count]
                start += count
                take_action(action, args)
            del positionals[: len(counts)]
            return start

        start = 0
        last_option = max(option_at) if option_at else -1
        while start <= last_option:
            next_option = min(i for i in option_at if i >= start)
            if start != next_option:
                end = consume_positionals(start)
                if end > start:
                    start = end
                    continue
                start = end
            if start not in option_at:
                extras.extend(strings[start:next_option])
                start = next_option
            start = consume_optional(start)
        stop = consume_positionals(start)
        extras.extend(strings[stop:])

        missing: list[str] = []
        for action in self._actions:
            if action in seen:
                continue
            if action.required:
                missing.append(str(action.name()))
            elif (
                action.default is not None
                and isinstance(action.default, str)
                and hasattr(namespace, action.dest)
                and action.default is getattr(namespace, action.dest)
            ):
                setattr(namespace, action.dest, self._value(action, action.default))
        if missing:
            raise UsageError("the following arguments are required: " + ", ".join(missing))
        for required, members in self._mutex_groups:
            if required and not any(a in seen_non_default for a in members):
                names = " ".join(str(a.name()) for a in members if a.help != SUPPRESS)
                raise UsageError(f"one of the arguments {names} is required")
        return extras

    def _values(self, action: _Action, args: list[str]) -> Any:
        """argparse's ``_get_values``: the strings of one argument, converted."""
        if "--" in args:
            args.remove("--")
        if not args and action.nargs == "?":
            value = action.const if action.option_strings else action.default
            if isinstance(value, str):
                value = self._value(action, value)
                self._check(action, value)
        elif not args and action.nargs == "*" and not action.option_strings:
            value = action.default if action.default is not None else args
            self._check(action, value)
        elif len(args) == 1 and action.nargs in (None, "?"):
            value = self._value(action, args[0])
            self._check(action, value)
        else:
            value = [self._value(action, v) for v in args]
            for v in value:
                self._check(action, v)
        return value

    @staticmethod
    def _value(action: _Action, text: str) -> Any:
        convert = action.type
        if convert is None:
            return text
        if not callable(convert):
            raise _ArgError(action, f"{convert!r} is not callable")
        try:
            return convert(text)
        except ArgumentTypeError as exc:
            raise _ArgError(action, str(exc)) from None
        except (TypeError, ValueError):
            name = getattr(convert, "__name__", repr(convert))
            raise _ArgError(action, f"invalid {name} value: {text!r}") from None

    @staticmethod
    def _check(action: _Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(repr, action.choices))
            raise _ArgError(action, f"invalid choice: {value!r} (choose from {choices})")

    def _apply(self, action: _Action, namespace: Namespace, values: Any) -> None:
        kind = action.kind
        if kind == "store":
            setattr(namespace, action.dest, values)
        elif kind in ("store_const", "store_true", "store_false"):
            setattr(namespace, action.dest, action.const)
        elif kind in ("append", "append_const"):
            items = _copy_items(getattr(namespace, action.dest, None))
            items.append(values if kind == "append" else action.const)
            setattr(namespace, action.dest, items)
        elif kind == "count":
            count = getattr(namespace, action.dest, None)
            setattr(namespace, action.dest, 1 if count is None else count + 1)
        elif kind == "version":
            try:
                sys.stdout.write(f"{action.version}\n")
            except (AttributeError, OSError):
                pass
            sys.exit(0)
        else:  # help: everything before it parsed cleanly, as argparse requires
            parser = self.argparse_parser()
            parser.print_help()
            parser.exit()


def _copy_items(items: Any) -> Any:
    if items is None:
        return []
    if type(items) is list:
        return items[:]
    import copy

    return copy.copy(items)


def _looks_negative(text: str) -> bool:
    """argparse's ``^-\\d+$|^-\\d*\\.\\d+$`` (``$`` also matches before a final newline)."""
    if text[:1] != "-":
        return False
    body = text[1:]
    if body.endswith("\n"):
        body = body[:-1]
    if body.isdecimal():
        return True
    whole, dot, fraction = body.partition(".")
    return bool(dot) and (not whole or whole.isdecimal()) and fraction.isdecimal()


def _leading(pattern: str, start: int, chars: str) -> int:
    """How many characters of ``pattern`` from ``start`` are in ``chars``."""
    n = start
    while n < len(pattern) and pattern[n] in chars:
        n += 1
    return n - start


def _match_optional(action: _Action, pattern: str) -> int:
    """argparse's ``_match_argument`` for an option: how many arguments it takes."""
    nargs = action.nargs
    args = _leading(pattern, 0, "A")
    if nargs is None:
        if args:
            return 1
        raise _ArgError(action, "expected one argument")
    if nargs == "?":
        return min(args, 1)
    if nargs == "*":
        return args
    if nargs == "+":
        if args:
            return args
        raise _ArgError(action, "expected at least one argument")
    if args >= nargs:
        return int(nargs)
    raise _ArgError(action, f"expected {nargs} argument" + ("s" if nargs != 1 else ""))


def _core_ends(nargs: Any, pattern: str, pos: int) -> Any:
    """Where the middle of a positional's pattern (argparse's ``A``, ``A?``, ``[A-]*``,
    ``A[A-]*``, ``A-*A...``) can end when it starts at ``pos``, in the order ``re`` tries."""
    if nargs is None:
        if pattern[pos : pos + 1] == "A":
            yield pos + 1
    elif nargs == "?":
        if pattern[pos : pos + 1] == "A":
            yield pos + 1
        yield pos
    elif nargs == "*":
        n = _leading(pattern, pos, "A-")
        yield from range(pos + n, pos - 1, -1)
    elif nargs == "+":
        if pattern[pos : pos + 1] == "A":
            n = _leading(pattern, pos + 1, "A-")
            yield from range(pos + 1 + n, pos, -1)
    else:
        yield from _repeat_ends(pattern, pos, int(nargs), first=True)


def _repeat_ends(pattern: str, pos: int, count: int, first: bool) -> Any:
    if count == 0:
        yield pos
        return
    dashes = 0 if first else _leading(pattern, pos, "-")
    for skip in range(dashes, -1, -1):
        if pattern[pos + skip : pos + skip + 1] == "A":
            yield from _repeat_ends(pattern, pos + skip + 1, count - 1, first=False)


def _group_ends(nargs: Any, pattern: str, pos: int) -> Any:
    """Ends of one positional's whole pattern ``(-*CORE-*)`` from ``pos``, in ``re``'s order."""
    for lead in range(_leading(pattern, pos, "-"), -1, -1):
        for end in _core_ends(nargs, pattern, pos + lead):
            for trail in range(_leading(pattern, end, "-"), -1, -1):
                yield end + trail


def _match_sequence(actions: list[_Action], pattern: str, pos: int) -> list[int] | None:
    if not actions:
        return []
    for end in _group_ends(actions[0].nargs, pattern, pos):
        rest = _match_sequence(actions[1:], pattern, end)
        if rest is not None:
            return [end - pos, *rest]
    return None


def _match_positionals(actions: list[_Action], pattern: str) -> list[int]:
    """argparse's ``_match_arguments_partial``: argument counts for as many of ``actions``
    as can match the start of ``pattern`` (the first match ``re.match`` would find)."""
    for i in range(len(actions), 0, -1):
        counts = _match_sequence(actions[:i], pattern, 0)
        if counts is not None:
            return counts
    return []
