"""chute.cli._args against argparse: the same description, the same results.

Every command's options are described once (a ``Spec``); the command line is parsed by
chute's own parser, and ``--help`` by argparse built from the same calls. These tests feed
both the same command lines, generated from each command's own option strings, and
require the same namespace, or the same error message, or the same exit and output.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chute import __version__
from chute.cli import cat, compress, ls, pack, precompress, unpack
from chute.cli._args import ArgumentTypeError, Spec, UsageError
from chute.cli._common import split_level_flags
from chute.cli.engines import engine_versions

COMMANDS: dict[str, Callable[[], Spec]] = {
    "chute": compress.build_parser,
    "cat": lambda: cat.build_parser("chute cat"),
    "pack": lambda: pack.build_parser("chute pack"),
    "unpack": lambda: unpack.build_parser("chute unpack"),
    "ls": lambda: ls.build_parser("chute ls"),
    "precompress": lambda: precompress.build_parser("chute precompress"),
}


class _Refused(Exception):
    pass


def _raise(message: str) -> Any:
    raise _Refused(message)


def by_argparse(spec: Spec, argv: list[str]) -> tuple[Any, ...]:
    parser = spec.argparse_parser()
    parser.error = _raise  # type: ignore[method-assign]
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            ns = parser.parse_intermixed_args(argv) if spec.intermixed else parser.parse_args(argv)
    except _Refused as exc:
        return ("error", str(exc))
    except SystemExit as exc:
        return ("exit", exc.code, out.getvalue())
    return ("ok", vars(ns))


def by_chute(spec: Spec, argv: list[str]) -> tuple[Any, ...]:
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            ns = spec.parse(argv)
    except UsageError as exc:
        return ("error", str(exc))
    except SystemExit as exc:
        return ("exit", exc.code, out.getvalue())
    return ("ok", vars(ns))


def same(spec: Spec, argv: list[str]) -> tuple[Any, ...]:
    """Both parsers' result for ``argv``, after asserting they agree."""
    ours = by_chute(spec, argv)
    theirs = by_argparse(spec, argv)
    assert ours == theirs, argv
    return ours


def tokens(spec: Spec) -> list[str]:
    """Command-line words that exercise ``spec``: its options whole, abbreviated, clustered,
    with ``=value`` and glued values, and values good and bad for its types."""
    options = list(spec._options)
    shorts = [o for o in options if len(o) == 2 and o[1] != "-"]
    longs = [o for o in options if o.startswith("--")]
    words = [*options]
    for o in longs:
        words += [o[:3], o[:4], o[: len(o) - 1], o + "=x", o + "=", o + "=3", o[:5] + "=64K"]
    for a in shorts:
        words += [a + "3", a + "x", a + "=1", a + "-"]
        for b in shorts[:8]:
            words += [a + b[1], a + b[1] + "c"]
    values = ["x", "f", "0", "1", "3", "19", "-1", "-1.5", "2.5", "64K", "0K", "1GiB", "", "-", "--", " ", "a b"]
    values += ["-x", "--bogus", "-Z", "5:10", ":7", "9:2", "zstd,br", "gzip", "nope", "-9", "-19c", "-3k", "-٣"]
    values += ["file.zst", "dir/", "-- ", "-h", "--he", "-V", "--vers"]
    return words + values


def argv_lists(spec: Spec) -> st.SearchStrategy[list[str]]:
    word = st.one_of(st.sampled_from(tokens(spec)), st.text(alphabet="-=abcdefxz019 ", max_size=5))
    return st.lists(word, max_size=7)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_command_lines_parse_like_argparse(command: str, data: st.DataObject) -> None:
    spec = COMMANDS[command]()
    argv = data.draw(argv_lists(spec))
    # argparse's intermixed mode drops '--' in its first pass, so in the second '-- -h'
    # asks for help: chute keeps what follows '--' a name, as tar does
    assume(not (spec.intermixed and "--" in argv))
    same(spec, split_level_flags(argv))


# The contract scripts rely on, pinned (and checked against argparse too).
MAIN_CASES: list[tuple[list[str], dict[str, Any] | str]] = [
    ([], {"files": [], "op": None, "stdout": False, "level": None, "chunk_size": None, "progress": None}),
    (["-dc", "f.zst"], {"op": "decompress", "stdout": True, "files": ["f.zst"]}),
    (["-dcf"], {"op": "decompress", "stdout": True, "force": True}),
    (["-kv", "a", "b"], {"keep": True, "verbose": True, "files": ["a", "b"]}),
    (["-19c"], {"level": 19, "stdout": True}),
    (["-1", "--fast", "-c"], {"level": 1, "fast": True}),
    (["-T4", "-Fgzip", "-oout"], {"threads": 4, "format": "gzip", "output": "out"}),
    (["-T", "0", "--format=xz", "--output", "-"], {"threads": 0, "format": "xz", "output": "-"}),
    (["--decomp", "--std", "x"], {"op": "decompress", "stdout": True, "files": ["x"]}),
    (["--uncompress"], {"op": "decompress"}),
    (["-t", "--", "-d", "--"], {"op": "test", "files": ["-d", "--"]}),
    (["-", "-c"], {"files": ["-"], "stdout": True}),
    (["-c", "-1.5"], {"files": ["-1.5"]}),
    (["--memory", "64K", "--chunk-size=1M"], {"memory": 64 << 10, "chunk_size": 1 << 20}),
    (["--flush-interval", "2.5"], {"flush_interval": 2.5}),
    (["--no-progress", "--progress"], {"progress": True}),
    (["--no-p"], {"progress": False}),
    (["-z", "-d"], "argument -d/--decompress/--uncompress: not allowed with argument -z/--compress"),
    (["-lt"], "argument -t/--test: not allowed with argument -l/--list"),
    (["--f"], "ambiguous option: --f could match --force, --format, --fast, --flush-interval"),
    (["-T", "x"], "argument -T/--threads: not a number: 'x'"),
    (["-T-1"], "argument -T/--threads: must be >= 0: '-1'"),
    (["--level", "x"], "argument --level: invalid int value: 'x'"),
    (["--flush-interval", "soon"], "argument --flush-interval: invalid float value: 'soon'"),
    (["--memory", "0"], "argument -M/--memory: size must be positive: '0'"),
    (["--memory", "lots"], "argument -M/--memory: invalid size 'lots' (examples: 4096, 64K, 512M, 2G)"),
    (["-o"], "argument -o/--output: expected one argument"),
    (["-o", "--", "x"], "argument -o/--output: expected one argument"),
    (["-cx"], "argument -c/--stdout: ignored explicit argument 'x'"),
    (["--stdout=yes"], "argument -c/--stdout: ignored explicit argument 'yes'"),
    (["--bogus", "f"], "unrecognized arguments: --bogus"),
    (["a", "-c", "b"], "unrecognized arguments: b"),
]


@pytest.mark.parametrize(("argv", "expected"), MAIN_CASES, ids=[" ".join(c[0]) or "(none)" for c in MAIN_CASES])
def test_main_command_contract(argv: list[str], expected: dict[str, Any] | str) -> None:
    result = same(compress.build_parser(), split_level_flags(argv))
    if isinstance(expected, str):
        assert result == ("error", expected)
    else:
        assert result[0] == "ok"
        assert {k: result[1][k] for k in expected} == expected


def test_version_and_help_exit_0() -> None:
    spec = compress.build_parser()
    text = f"chute {__version__}\n" + "".join(f"  {line}\n" for line in engine_versions())
    assert same(spec, ["--version", "--bogus"]) == ("exit", 0, text)
    assert same(spec, ["-V"]) == ("exit", 0, text)
    assert same(spec, ["-T", "x", "--version"])[0] == "error"  # in order, like argparse
    code, out = same(spec, ["-c", "--help", "--bogus"])[1:]
    assert code == 0 and out.startswith("usage: chute [-h]") and "subcommands" in out
    for command in COMMANDS.values():
        spec = command()
        result = same(spec, ["-h"])
        assert result[:2] == ("exit", 0) and result[2].startswith(f"usage: {spec.prog} [-h]")


def test_subcommand_contract() -> None:
    assert same(pack.build_parser("chute pack"), ["a"]) == (
        "error",
        "the following arguments are required: -o/--output",
    )
    ok = same(pack.build_parser("chute pack"), ["a", "-", "--exclude", "*.log", "--excl=x", "-o-"])
    assert ok[1]["paths"] == ["a", "-"] and ok[1]["exclude"] == ["*.log", "x"] and ok[1]["output"] == "-"
    ok = same(pack.build_parser("chute pack"), split_level_flags(["x", "-o", "y", "-19", "-T0"]))
    assert ok[1]["level"] == 19 and ok[1]["threads"] == 0
    assert same(unpack.build_parser("chute unpack"), [])[1] == "the following arguments are required: ARCHIVE"
    ok = same(unpack.build_parser("chute unpack"), ["a.tar", "--strip", "2", "-Cout"])
    assert ok[1]["strip_components"] == 2 and ok[1]["directory"] == "out" and ok[1]["max_members"] > 0
    assert same(cat.build_parser("chute cat"), ["--range", "1K:"])[1]["range"] == (1024, None)
    assert same(cat.build_parser("chute cat"), ["--range", "9:2"])[1] == (
        "argument --range: invalid range '9:2': END before START"
    )
    ok = same(precompress.build_parser("chute precompress"), ["d", "--formats", "br,zstd"])
    assert ok[1]["formats"] == ["br", "zstd"] and ok[1]["min_size"] == 256
    assert same(precompress.build_parser("chute precompress"), ["d", "--formats", "zip"])[1] == (
        "argument --formats: unknown format 'zip' (use zstd, br, gzip)"
    )
    assert same(ls.build_parser("chute ls"), ["-l", "a", "b"])[1]["members"] == ["b"]  # tar -tvf a b


# -- the parser on its own: features no command uses yet ------------------------------


def _even(text: str) -> int:
    value = int(text)
    if value % 2:
        raise ArgumentTypeError(f"odd: {value}")
    return value


def _synthetic(variant: int) -> Spec:
    """Descriptions mixing what the commands do not use: several positionals, every
    nargs, counts, appends, choices, required options and groups, negative-number options."""
    p = Spec("prog", "a test parser")
    if variant == 0:
        p.add_argument("first")
        p.add_argument("rest", nargs="*")
        p.add_argument("-n", "--num", type=int, choices=[1, 2, 3])
        p.add_argument("-v", "--verbose", action="count")
        p.add_argument("-a", dest="items", action="append_const", const="A")
        p.add_argument("-b", dest="items", action="append_const", const="B")
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("-x", action="store_true")
        g.add_argument("-y", "--why", nargs="?", const="C", default="D")
    elif variant == 1:
        p.add_argument("pair", nargs=2)
        p.add_argument("maybe", nargs="?", default="5", type=_even)
        p.add_argument("more", nargs="+")
        p.add_argument("-1", dest="one", action="store_true")
        p.add_argument("--two", nargs=2, metavar=("A", "B"))
        p.add_argument("--many", nargs="*", default=[])
        p.add_argument("--req", required=True, type=_even)
        p.add_argument("--pick", choices=["red", "green"])
    else:
        p.add_argument("--opt", nargs="+", type=float)
        p.add_argument("-e", "--even", type=_even, default="4")
        p.add_argument("--when", nargs="?", const="now")
        p.add_argument("--flag", action="store_false")
        p.add_argument("--flat", action="append")
        p.add_argument("things", nargs="*", default=["x"], choices=["x", "y", "z", "-1"])
    return p


SYNTHETIC_WORDS = ["-n", "--num", "-n2", "-n5", "--num=3", "-v", "-vv", "-vx", "-a", "-ab", "-ba", "-x", "-y", "-yz"]
SYNTHETIC_WORDS += ["--why", "--wh=q", "-xy", "-1", "-12", "--two", "--tw", "--many", "--man=", "--req", "--req=4"]
SYNTHETIC_WORDS += ["--re", "--pick", "--pi=red", "red", "blue", "--opt", "--op", "-e", "-e3", "--even=8", "--when"]
SYNTHETIC_WORDS += ["--wh", "--flag", "--fla", "--flat", "--f", "x", "y", "z", "q", "2", "3", "4", "-1", "-2", "-.5"]
SYNTHETIC_WORDS += ["1.5", "--", "-", "", "a b", "-h"]


@pytest.mark.parametrize("variant", [0, 1, 2])
@settings(max_examples=examples(400), deadline=None)
@given(data=st.data())
def test_general_parser_matches_argparse(variant: int, data: st.DataObject) -> None:
    argv = data.draw(st.lists(st.sampled_from(SYNTHETIC_WORDS), max_size=8))
    same(_synthetic(variant), argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["a", "b", "c", "-x"],
        ["-x", "a", "--", "-b", "c"],
        ["a", "-n", "2", "b"],
        ["-vv", "-v", "a", "-y"],
        ["-ab", "-x", "a"],
        ["-1", "p", "q", "4", "r", "--req", "2"],
        ["p", "q", "r", "--req=2", "s"],
        ["p", "--", "q", "r", "s", "--req", "6"],
        ["--two", "a", "--req", "2", "p", "q", "r"],
    ],
)
def test_positionals_split_like_argparse(argv: list[str]) -> None:
    for variant in (0, 1, 2):
        same(_synthetic(variant), argv)


def test_unsupported_descriptions_are_refused() -> None:
    p = Spec("prog")
    with pytest.raises(ValueError, match="unsupported action"):
        p.add_argument("--x", action="extend")
    with pytest.raises(TypeError, match="unsupported add_argument keywords"):
        p.add_argument("--y", deprecated=True)
    p.add_argument("--z")
    with pytest.raises(ValueError, match="conflicting option string"):
        p.add_argument("--z")


def test_usage_error_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cat.build_parser("chute cat").parse_args(["--memory", "x"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        "chute cat: argument --memory: invalid size 'x' (examples: 4096, 64K, 512M, 2G) (see chute cat --help)\n"
    )


def test_help_text_unchanged_by_the_replay() -> None:
    """``--help`` goes through argparse; the main command keeps its raw description."""
    env_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        text = compress.build_parser().argparse_parser().format_help()
    finally:
        if env_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = env_columns
    assert "subcommands (chute SUBCOMMAND --help for details):\n  cat FILE..." in text
    assert "operation:\n  -z, --compress" in text and "-V, --version" in text
