"""``chute bench FILE|DIR|- ...``: which format and level for this data, measured and advised.

Every candidate (format, level, threads) is measured through chute's own streaming path
(:mod:`chute.bench`): ratio, compress and decompress speed, CPU, peak memory both ways, the
decoder window; each result is checked to round-trip. Prints a table with the Pareto
frontier marked and its commands, a chart, and the answer to ``--goal``; writes ``--json``,
``--csv`` and ``--plot FILE.svg`` on request. Progress with an ETA goes to standard error
when it is a terminal.
"""

from __future__ import annotations

import os
import shlex
import sys
import time

from ._args import ArgumentTypeError, Spec
from ._common import CliError, display_name, open_output, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..bench.frontier import Goal
    from ..bench.inputs import Plan
    from ..bench.measure import Candidate, Result
    from ._args import Namespace


def _list(text: str) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        raise ArgumentTypeError("empty list")
    return items


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in _list(text)]
    except ValueError:
        raise ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None


def _threads(text: str) -> list[int]:
    values = _ints(text)
    if any(v < 0 for v in values):
        raise ArgumentTypeError("threads must be >= 0")
    return values


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise ArgumentTypeError("must be more than 0")
    return value


def _delimiter(text: str) -> bytes:
    from .train import _delimiter as parse

    return parse(text)


def _goal(text: str) -> Goal:
    from ..bench.frontier import parse_goal

    try:
        return parse_goal(text)
    except ValueError as exc:
        raise ArgumentTypeError(str(exc)) from None


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Measure which format and level suit FILEs (or folders, or '-'), and advise.")
    p.add_argument("paths", nargs="+", metavar="FILE", help="files, folders (walked) or '-' (standard input)")
    g = p.add_argument_group("candidates")
    g.add_argument("--formats", type=_list, metavar="LIST", help="formats to measure, comma-separated (default: all)")
    g.add_argument(
        "--levels", type=_ints, metavar="LIST", help="levels, e.g. --levels=-3,1,9 (default: a few per format)"
    )
    g.add_argument(
        "-T", "--threads", type=_threads, metavar="LIST", help="threads to try, e.g. 1,2 (default: chute's own)"
    )
    g.add_argument("--time-limit", type=_seconds, default=20.0, metavar="SEC", help="time per candidate (default 20)")
    s = p.add_argument_group("sampling")
    s.add_argument(
        "--sample", type=parse_size, default=None, metavar="SIZE", help="bytes sampled from bigger inputs (default 32M)"
    )
    s.add_argument(
        "--slice", type=parse_size, default=None, metavar="SIZE", help="bytes per slice, 1M or more (default 1M)"
    )
    s.add_argument("--full", action="store_true", help="measure every byte, one stream per file")
    r = p.add_argument_group("records")
    r.add_argument(
        "--records", action="store_true", help="each line is a record: zstd per record, without and with a dictionary"
    )
    r.add_argument(
        "--delimiter", type=_delimiter, metavar="SEP", help="records end at SEP ('\\0', '\\x1e'); implies --records"
    )
    r.add_argument("--dict-size", type=parse_size, default=None, metavar="SIZE", help="dictionary size (default 110K)")
    a = p.add_argument_group("advice")
    a.add_argument("--goal", type=_goal, metavar="GOAL", help="storage[=TIME|=SPEED], link=RATE (e.g. 100Mbit) or cpu")
    a.add_argument("--max-memory", type=parse_size, metavar="SIZE", help="leave out candidates needing more memory")
    o = p.add_argument_group("output")
    o.add_argument("--json", metavar="FILE", help="write every figure, the machine and settings as JSON ('-': stdout)")
    o.add_argument("--csv", metavar="FILE", help="the same as CSV ('-': stdout)")
    o.add_argument("--plot", metavar="FILE.svg", help="draw ratio against speed into an SVG file")
    o.add_argument("--no-chart", action="store_true", help="leave out the chart drawn in text")
    o.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    o.add_argument("-f", "--force", action="store_true", help="overwrite the output files")
    return p


def run(args: Namespace) -> int:
    from ..bench import frontier, inputs, measure, report, svg
    from ..errors import ChuteError

    if args.formats:
        try:
            measure.check_formats(args.formats)
        except ChuteError as exc:
            raise CliError("--formats", str(exc)) from None
    if args.slice is not None and args.slice < inputs.SLICE:
        raise CliError("--slice", "slices are 1M or more")
    if args.records or args.delimiter is not None:
        return _run_records(args)
    candidates = measure.grid(args.formats, args.levels, args.threads)
    if not candidates:
        raise CliError("--levels", "no level given is within the range of any format asked for")
    for path in (args.json, args.csv, args.plot):
        if path and path != "-" and not args.force and os.path.lexists(path):
            raise CliError(path, "already exists (use -f to overwrite)")  # before minutes of measuring
    to_stdout = "-" in (args.json, args.csv)
    plan = inputs.plan(
        args.paths,
        sample=args.sample or inputs.SAMPLE,
        slice_size=args.slice or inputs.SLICE,
        full=args.full,
    )
    try:
        out = sys.stderr if to_stdout else sys.stdout
        out.write(_describe(plan) + "\n")
        out.flush()
        results = _measure_all(candidates, plan, args, measure.measure)
    finally:
        plan.cleanup()
    frontier.mark(results)
    target = _target(args.paths)
    out.write("\n" + report.table(results, target))
    if not args.no_chart:
        out.write("\n" + report.chart(results))
    advice = None
    if args.goal is not None or args.max_memory is not None:
        goal = args.goal or frontier.Goal("storage")
        best, why = frontier.choose(results, goal, plan.total, args.max_memory)
        advice = {
            "goal": _goal_text(goal),
            "max_memory": args.max_memory,
            "reason": why,
            "choice": best.as_dict() if best else None,
        }
        line = f"{best.candidate.command(target)}   # {why}" if best else why
        out.write(f"\ngoal {_goal_text(goal)}: {line}\n")
    out.flush()
    settings: dict[str, Any] = {
        "paths": args.paths,
        "formats": args.formats,
        "levels": args.levels,
        "threads": args.threads,
        "time_limit": args.time_limit,
        "sample": args.sample or inputs.SAMPLE,
        "slice": args.slice or inputs.SLICE,
        "full": args.full,
        "goal": _goal_text(args.goal) if args.goal else None,
        "max_memory": args.max_memory,
    }
    if args.json:
        _write(args.json, report.to_json(results, plan, settings, advice), args.force)
    if args.csv:
        _write(args.csv, report.to_csv(results, plan, settings), args.force)
    if args.plot:
        _write(args.plot, svg.render(results, _title(plan)), args.force)
    failed = [r for r in results if r.error is not None]
    for r in failed:
        sys.stderr.write(f"chute: {r.candidate.label}: {r.error}\n")
    if len(failed) == len(results):
        raise CliError(_names(args.paths), "every candidate failed")
    return 1 if failed else 0


def _run_records(args: Namespace) -> int:
    import json

    from ..bench import inputs, records, report
    from ..errors import ChuteError

    if args.formats and [f.lower() for f in args.formats] not in (["zstd"], ["zst"]):
        raise CliError("--records", "records are measured with zstd only (dictionaries are zstd's)")
    for option in ("csv", "plot", "goal", "max_memory", "threads"):
        if getattr(args, option) is not None:
            raise CliError("--records", f"--{option.replace('_', '-')} applies to streams, not to records")
    if args.json and args.json != "-" and not args.force and os.path.lexists(args.json):
        raise CliError(args.json, "already exists (use -f to overwrite)")
    plan = inputs.plan(
        args.paths, sample=args.sample or inputs.SAMPLE, slice_size=args.slice or inputs.SLICE, full=args.full
    )
    out = sys.stderr if args.json == "-" else sys.stdout
    try:
        out.write(_describe(plan) + "\n")
        out.flush()
        delimiter = args.delimiter if args.delimiter is not None else b"\n"
        levels = args.levels or list(records.DEFAULT_RECORD_LEVELS)
        try:
            rep = records.measure_records(plan, levels, delimiter=delimiter, dict_size=args.dict_size or 110 << 10)
        except ChuteError as exc:  # too few records to train: the inputs' fault
            raise CliError(_names(args.paths), str(exc).removeprefix("--records: ")) from None
    finally:
        plan.cleanup()
    target = _target(args.paths)
    cut = "--lines"
    if args.delimiter not in (None, b"\n"):
        cut = "--delimiter " + shlex.quote(args.delimiter.decode("latin-1").encode("unicode_escape").decode())
    out.write("\n" + records.records_table(rep, target, cut))
    out.flush()
    if args.json:
        settings = {
            "paths": args.paths,
            "levels": levels,
            "delimiter": delimiter.decode("latin-1"),
            "sample": args.sample or inputs.SAMPLE,
            "full": args.full,
            "dict_size": rep.dict_size,
        }
        doc = {**report.environment(), "settings": settings, "records": rep.as_dict()}
        _write(args.json, json.dumps(doc, indent=1) + "\n", args.force)
    return 0


def _names(paths: list[str]) -> str:
    """The inputs, as an error line names them."""
    return ", ".join(display_name(p) for p in paths)


def _target(paths: list[str]) -> str:
    """What the printed commands compress: the one file measured, else ``FILE`` (a folder
    or several inputs: the command is the same for each file)."""
    if len(paths) == 1 and paths[0] != "-" and os.path.isfile(paths[0]):
        return shlex.quote(paths[0])
    return "FILE"


def _write(path: str, text: str, force: bool) -> None:
    with open_output(path, force=force) as f:
        f.write(text.encode())


def _measure_all(candidates: list[Candidate], plan: Plan, args: Namespace, measure: Any) -> list[Result]:
    show = args.progress or sys.stderr.isatty()
    results: list[Result] = []
    begin = time.monotonic()
    for i, c in enumerate(candidates):
        if show:
            elapsed = time.monotonic() - begin
            eta = f", ETA {_clock(elapsed / i * (len(candidates) - i))}" if i else ""
            sys.stderr.write(f"\r[{i + 1}/{len(candidates)}] {c.label}{eta}\033[K")
            sys.stderr.flush()
        results.append(measure(c, plan, args.time_limit))
    if show:
        sys.stderr.write(f"\r{len(candidates)} candidates measured in {_clock(time.monotonic() - begin)}\033[K\n")
    return results


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _describe(plan: Plan) -> str:
    from ..bench.report import human

    what = f"input: {plan.files} file{'s' if plan.files != 1 else ''}, {human(plan.total)}"
    if not plan.sampled:
        return what + "; measured whole"
    n = sum(s.size for s in plan.streams)
    return (
        what
        + f"; sampled {len(plan.streams)} slices ({human(n)}, {100 * n / plan.total:.1f}%), ratios with 95% intervals"
    )


def _title(plan: Plan) -> str:
    from ..bench.report import human

    names = ", ".join(plan.names[:3]) + (", ..." if len(plan.names) > 3 else "")
    return f"chute bench: {names} ({human(plan.total)}{', sampled' if plan.sampled else ''})"


def _goal_text(goal: Goal) -> str:
    if goal.kind == "link":
        return f"link={(goal.rate or 0) * 8 / 1e6:g}Mbit"
    if goal.kind == "storage" and goal.seconds is not None:
        return f"storage={goal.seconds:g}s"
    if goal.kind == "storage" and goal.rate is not None:
        return f"storage={goal.rate / 1e6:g}MB/s"
    return goal.kind
