"""Shared test helpers: reference-tool skips, hypothesis data strategies, and the two runs.

Test modules import these by name (``from conftest import payloads``): pytest puts this
folder on ``sys.path`` before it imports the test modules.

The default run is the quick one: tests marked ``slow`` (large files, real browsers, long
property runs, the heavy cases of sweeps over formats and levels) are deselected, and each
property test tries a quarter of its examples (:data:`QUICK_EXAMPLES`: a property test
states its count as ``max_examples=examples(N)``, and the ``quick`` settings profile lowers
hypothesis's default for those that state none). ``CHUTE_TEST_ALL=1``
(``scripts/test --all``) or ``CI=true`` runs everything, every example. Outside CI a
missing reference tool skips its tests with a one-line reason; in CI every tool is
installed, so a skip is a failure, except the few skips listed in :data:`PLATFORM_SKIPS`,
which depend on the machine rather than on what is installed.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st

_WORDS = (
    b"the",
    b"quick",
    b"brown",
    b"fox",
    b"GET /index.html HTTP/1.1",
    b"200",
    b"\n",
    b"error",
    b"2026-11-24T09:47:24Z",
    b"\x00\x00\x00\x00",
    b'{"level": "info"}',
)


#: Skip reasons that stay skips in CI: they depend on the machine (user, file system, Python)
PLATFORM_SKIPS = (
    "restoring owners needs root",  # not root
    "root reads everything",  # root
    "no POSIX ACLs here",
    "this folder has a default ACL, or /proc is missing",
    "the default ACL is not applied here",
    "3.14 has the C module as _zstd",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_all() -> bool:
    return in_ci() or os.environ.get("CHUTE_TEST_ALL", "") not in ("", "0")


#: The quick run tries 1/QUICK_EXAMPLES of each property test's examples (at least MIN_EXAMPLES).
QUICK_EXAMPLES = 4
MIN_EXAMPLES = 10


def examples(n: int) -> int:
    """A property test's ``max_examples``: ``n`` in the full run, a quarter of it (at least
    :data:`MIN_EXAMPLES`) in the quick one."""
    return n if run_all() else min(n, max(MIN_EXAMPLES, n // QUICK_EXAMPLES))


# tests that state no max_examples: a quarter of hypothesis's default in the quick run
if not run_all():
    settings.register_profile("quick", max_examples=examples(settings.default.max_examples))
    settings.load_profile("quick")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if run_all():
        return
    if config.getoption("markexpr"):
        return  # the caller chose with -m
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_report_header(config: pytest.Config) -> str:
    if in_ci():
        return "chute: CI run: every test; a skip not in conftest.PLATFORM_SKIPS fails"
    if run_all():
        return "chute: full run (CHUTE_TEST_ALL)"
    return (
        "chute: quick run: tests marked slow are deselected, property tests try a quarter of "
        "their examples (scripts/test --all runs everything)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason not in PLATFORM_SKIPS:
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, where every reference tool is installed: {reason}"
    return None


def slow_case(*values: object) -> object:
    """One parameter set of a parametrized test, left out of the quick run: the heavy cases
    of a sweep whose other cases stay in it (``@pytest.mark.parametrize("fmt", ["gzip",
    slow_case("xz")])``)."""
    return pytest.param(*values, marks=pytest.mark.slow)


def have_tool(name: str) -> bool:
    """True if the command ``name`` is on ``PATH``."""
    return shutil.which(name) is not None


def requires_tools(*names: str) -> pytest.MarkDecorator:
    """Skip a test unless every command in ``names`` is installed."""
    missing = [n for n in names if not have_tool(n)]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def need_tool(name: str) -> None:
    """Skip the running test unless the command ``name`` is installed."""
    if not have_tool(name):
        pytest.skip(f"{name} is not installed")


def tool_path(name: str) -> str:
    """The path of the command ``name``; the running test is skipped without it (a skip
    that fails in CI, where every reference tool is installed)."""
    need_tool(name)
    return shutil.which(name) or name


def compressible(max_size: int = 20_000) -> st.SearchStrategy[bytes]:
    """Text-like data that compresses well: runs and words, with some random bytes."""
    piece = st.one_of(
        st.sampled_from(_WORDS),
        st.binary(min_size=1, max_size=8),
        st.tuples(st.binary(min_size=1, max_size=3), st.integers(1, 2_000)).map(lambda t: t[0] * t[1]),
    )
    return st.lists(piece, max_size=200).map(lambda parts: b"".join(parts)[:max_size])


def payloads(max_size: int = 20_000) -> st.SearchStrategy[bytes]:
    """Random (incompressible) or compressible bytes, empty included."""
    return st.one_of(st.binary(max_size=min(max_size, 4_000)), compressible(max_size))


def cut_points(total: int, draw_sizes: list[int]) -> list[int]:
    """Split ``total`` bytes by cycling through ``draw_sizes``: the offsets where pieces end."""
    points, pos, i = [], 0, 0
    sizes = [max(1, s) for s in draw_sizes] or [total or 1]
    while pos < total:
        pos = min(total, pos + sizes[i % len(sizes)])
        points.append(pos)
        i += 1
    return points


def pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into consecutive pieces whose sizes cycle through ``sizes``."""
    out, start = [], 0
    for end in cut_points(len(data), sizes):
        out.append(data[start:end])
        start = end
    return out


def text_like(size: int, seed: int = 0) -> bytes:
    """``size`` bytes of deterministic log-like text (compresses about 4-8x)."""
    rnd = random.Random(seed)
    words = [bytes(rnd.choices(b"abcdefghijklmnopqrstuvwxyz", k=rnd.randint(2, 10))) for _ in range(2000)]
    parts: list[bytes] = []
    n = 0
    while n < size:
        line = b" ".join(rnd.choices(words, k=12)) + b" %d\n" % rnd.getrandbits(32)
        parts.append(line)
        n += len(line)
    return b"".join(parts)[:size]


#: Runs ``chute ARGV`` in-process (``python -c MODULES_RUN REPORT ARGV...``), then writes the
#: names of every module loaded to REPORT and exits with chute's status.
MODULES_RUN = """
import sys
out, sys.argv = sys.argv[1], ["chute", *sys.argv[2:]]
from chute.cli import main
try:
    status = main()
except SystemExit as exc:
    status = exc.code
with open(out, "w") as f:
    f.write("\\n".join(sorted(sys.modules)))
sys.exit(status)
"""


def interpreter_modules() -> set[str]:
    """The modules the interpreter loads by itself (``python -c pass``)."""
    code = "import sys; print('\\n'.join(sys.modules))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def loaded_by(tmp_path: Path, *argv: str, stdin: bytes = b"", stdout: Path | None = None) -> set[str]:
    """Modules a successful ``chute ARGV`` run loaded beyond the interpreter's own start-up;
    its standard output goes to ``stdout`` when given, else is dropped."""
    report = tmp_path / "modules.txt"
    with open(stdout or os.devnull, "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-c", MODULES_RUN, str(report), *argv],
            input=stdin,
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    return set(report.read_text().split()) - interpreter_modules()
