"""The two test runs (tests/conftest.py): the quick default leaves out tests marked slow
and tries a quarter of each property test's examples; CI runs everything and fails on a
skip that only means a tool is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE = """
import pytest
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

@settings(max_examples=48, database=None)
@given(st.binary(min_size=8))
def test_property(data):
    with open("examples.txt", "a") as f:
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
    assert "2 passed, 2 skipped, 1 deselected" in out, out
    assert "SKIPPED [1] test_sample.py:10: frobnicate is not installed" in out, out
    assert examples(tmp_path) == 12  # a quarter of each property test's examples


def test_all_runs_slow_tests_and_keeps_skips(tmp_path: Path) -> None:
    out = run(tmp_path, CHUTE_TEST_ALL="1")
    assert "3 passed, 2 skipped" in out and "deselected" not in out, out
    assert examples(tmp_path) == 48


def test_ci_fails_on_a_missing_tool_but_not_on_a_platform_skip(tmp_path: Path) -> None:
    out = run(tmp_path, CI="true")
    assert "1 failed, 3 passed, 1 skipped" in out, out
    assert examples(tmp_path) == 48
    assert "FAILED test_sample.py::test_tool_missing" in out, out
    assert "skipped in CI, where every reference tool is installed: frobnicate is not installed" in out, out


def examples(tmp_path: Path) -> int:
    """How many examples SAMPLE's property test tried."""
    return len((tmp_path / "examples.txt").read_text())
