"""Extracting chosen members (names, --exclude, -v) on the extractor's short path: the
same files and the same -v lines as GNU tar with the same arguments, and no member of the
usual kind handed to the general path (member by member)."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from conftest import tool_path

from chute.errors import TruncatedStreamError
from chute.tar.select import SelectingExtractor, Selection


def tree(root: Path) -> None:
    for d in range(4):
        for s in range(2):
            folder = root / f"d{d}" / f"s{s}"
            folder.mkdir(parents=True)
            for f in range(5):
                (folder / f"f{f}.txt").write_bytes(f"{d}{s}{f}\n".encode() * (f * 300 + 1))
    (root / "top.txt").write_bytes(b"top\n")


def files_under(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tar = tool_path("tar")
    base = tmp_path_factory.mktemp("select")
    tree(base / "src")
    plain, dotted = base / "plain.tar", base / "dotted.tar"
    subprocess.run([tar, "--format=gnu", "-cf", str(plain), "-C", str(base), "src"], check=True)
    subprocess.run([tar, "--format=gnu", "-cf", str(dotted), "-C", str(base / "src"), "."], check=True)
    return {"plain": plain, "dotted": dotted}


CASES = [
    ("plain", ["src/d1"], []),
    ("plain", ["src/d2/s0/f3.txt", "src/top.txt"], []),
    ("plain", [], ["s1"]),
    ("plain", ["src/d0", "src/d3"], ["*.txt"]),
    ("plain", ["src"], ["d2/s0/f[12].txt"]),
    ("dotted", ["./d2"], []),
    ("dotted", [], ["f0.txt"]),
]


@pytest.mark.parametrize(("which", "names", "exclude"), CASES)
def test_selection_on_the_short_path_gives_what_gnu_tar_gives(
    archives: dict[str, Path], tmp_path: Path, which: str, names: list[str], exclude: list[str]
) -> None:
    tar = tool_path("tar")
    archive = archives[which]
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    theirs.mkdir()
    excl = [f"--exclude={p}" for p in exclude]
    listed = subprocess.run(
        [tar, "-xvf", str(archive), "-C", str(theirs), *excl, *names], capture_output=True, text=True, check=True
    ).stdout.splitlines()

    said: list[str] = []
    general: list[str] = []
    with SelectingExtractor(mine, Selection(names, exclude=exclude), verbose=said.append) as ex:
        plain_extract_or_skip = ex.extract_or_skip

        def recorded(m: object, data: object) -> bool:
            general.append(m.name)  # type: ignore[attr-defined]
            return plain_extract_or_skip(m, data)  # type: ignore[arg-type]

        ex.extract_or_skip = recorded  # type: ignore[method-assign]
        with archive.open("rb") as f:
            ex.extract_all(f)
    assert files_under(mine) == files_under(theirs)
    assert said == listed
    assert general == [] or set(general) <= {"./"}  # only the "./" folder itself, if any
    assert ex.selection is not None and ex.selection.unmatched() == []


def test_unmatched_names_are_reported_after_the_short_path(archives: dict[str, Path], tmp_path: Path) -> None:
    sel = Selection(["src/d1", "src/nothere"])
    with SelectingExtractor(tmp_path, sel) as ex, archives["plain"].open("rb") as f:
        ex.extract_all(f)
    assert sel.unmatched() == ["src/nothere"]
    assert sorted(os.listdir(tmp_path / "src")) == ["d1"]


def test_archive_cut_inside_a_member_left_out_is_an_error(archives: dict[str, Path], tmp_path: Path) -> None:
    import tarfile

    data = archives["plain"].read_bytes()
    with tarfile.open(archives["plain"]) as tf:
        files = [m for m in tf.getmembers() if m.isfile()]
    first, last = files[0], files[-1]
    cut = last.offset_data + min(100, last.size - 1)  # inside the last member's data
    with (
        pytest.raises(TruncatedStreamError, match="archive ends inside"),
        SelectingExtractor(tmp_path, Selection([first.name])) as ex,
    ):
        ex.extract_all(io.BytesIO(data[:cut]))
    assert (tmp_path / first.name).read_bytes() == (archives["plain"].parent / first.name).read_bytes()
    assert files_under(tmp_path) == {
        **{str(Path(first.name).parents[i]): None for i in range(len(Path(first.name).parents) - 1)},
        first.name: (archives["plain"].parent / first.name).read_bytes(),
    }
