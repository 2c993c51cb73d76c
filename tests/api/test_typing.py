"""What a type checker sees: ``chute.open`` returns a reader, a writer or a text file by
mode (overloads, not ``Any``), checked by running mypy --strict on a caller."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="mypy is not installed")

CALLER = """
import io
from typing import assert_type

import chute
from chute.parallel.gzindex import IndexedGzipReader
from chute.parallel.seekable import SeekableReader

assert_type(chute.open("a.zst"), chute.ChuteReader | SeekableReader | IndexedGzipReader)
assert_type(chute.open("a.zst", "rb"), chute.ChuteReader | SeekableReader | IndexedGzipReader)
assert_type(chute.open("a.zst", "wb", level=3), chute.ChuteWriter)
assert_type(chute.open("a.zst", "ab"), chute.ChuteWriter)
assert_type(chute.open("a.zst", "rt", encoding="utf-8"), io.TextIOWrapper)
assert_type(chute.open("a.zst", "wt"), io.TextIOWrapper)
mode = "r" + "b"
assert_type(
    chute.open("a.zst", mode),
    chute.ChuteReader | SeekableReader | IndexedGzipReader | chute.ChuteWriter | io.TextIOWrapper,
)

with chute.open("a.zst", "wb") as out:
    out.write(b"data")
with chute.open("a.zst") as src:
    data: bytes = src.read()
decoder = chute.StreamDecoder()
text: bytes = decoder.decompress(b"")
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: the second run does not check chute again."""
    return tmp_path_factory.mktemp("mypy-cache")


def check(tmp_path: Path, cache: Path, source: str) -> tuple[str, int]:
    caller = tmp_path / "caller.py"
    caller.write_text(textwrap.dedent(source))
    out, err, status = mypy_api.run(["--strict", "--no-error-summary", "--cache-dir", str(cache), str(caller)])
    return out + err, status


def test_open_is_typed_by_mode(tmp_path: Path, cache: Path) -> None:
    out, status = check(tmp_path, cache, CALLER)
    assert status == 0, out


def test_a_wrong_expectation_is_caught(tmp_path: Path, cache: Path) -> None:
    # the check above is only worth something if mypy does see these types
    wrong = "import chute\nfrom typing import assert_type\nassert_type(chute.open('a', 'wb'), int)\n"
    out, status = check(tmp_path, cache, wrong)
    assert status == 1 and 'Expression is of type "ChuteWriter", not "int"' in out, out
