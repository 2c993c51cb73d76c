"""The two test runs (tests/conftest.py): the quick default leaves out tests marked slow
and tries a quarter of each property test's examples; CI runs everything and fails on a
skip that only means a tool is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent

SAMPLE = """
import pytest
from conftest import examples
from hypothesis import given, settings, strategies as st

@pytest.mark.slow
def test_slow():
    pass

def test_tool_missing():
    pytest.skip("frobnicate is not installed")

def test_platform():
    pytest.skip("root reads everything")

def test_plain():
    pass

@settings(max_examples=examples(48), database=None)
@given(st.binary(min_size=8))
def test_property(data):
    with open("examples.txt", "a") as f:
        f.write("x")

@settings(database=None)
@given(st.binary(min_size=8))
def test_property_of_default_size(data):
    with open("default.txt", "a") as f:
        f.write("x")
"""


def run(tmp_path: Path, **env: str) -> str:
    """pytest's summary of SAMPLE's run with ``env``."""
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    ini = "[pytest]\naddopts = --strict-markers -rA -p no:cacheprovider\nmarkers =\n    slow: slow\n"
    (tmp_path / "pytest.ini").write_text(ini)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "CHUTE_TEST_ALL", "PYTEST_ADDOPTS")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest"], cwd=tmp_path, capture_output=True, text=True, env={**clean, **env}
    )
    return done.stdout


def test_the_quick_run_leaves_out_slow_tests(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert "3 passed, 2 skipped, 1 deselected" in out, out
    assert "SKIPPED [1] test_sample.py:11: frobnicate is not installed" in out, out
    assert examples(tmp_path) == 12  # a quarter of each property test's examples
    assert examples(tmp_path, "default.txt") == 25  # and of hypothesis's default (100)


def test_all_runs_slow_tests_and_keeps_skips(tmp_path: Path) -> None:
    out = run(tmp_path, CHUTE_TEST_ALL="1")
    assert "4 passed, 2 skipped" in out and "deselected" not in out, out
    assert examples(tmp_path) == 48
    assert examples(tmp_path, "default.txt") == 100


def test_ci_fails_on_a_missing_tool_but_not_on_a_platform_skip(tmp_path: Path) -> None:
    out = run(tmp_path, CI="true")
    assert "1 failed, 4 passed, 1 skipped" in out, out
    assert examples(tmp_path) == 48
    assert "FAILED test_sample.py::test_tool_missing" in out, out
    assert "skipped in CI, where every reference tool is installed: frobnicate is not installed" in out, out


def examples(tmp_path: Path, name: str = "examples.txt") -> int:
    """How many examples one of SAMPLE's property tests tried (each writes its own file)."""
    return len((tmp_path / name).read_text())


def test_every_property_test_states_its_examples_through_conftest() -> None:
    """A count written as a bare number would not be lowered in the quick run."""
    bare = [
        f"{path.relative_to(TESTS)}:{n}"
        for path in sorted(TESTS.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"max_examples=\d", line) and path.name != "test_test_runs.py"
    ]
    assert bare == []
