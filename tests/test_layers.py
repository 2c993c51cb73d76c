"""The package's layers: every import goes down a layer (or stays in its own), and no two
modules import each other, directly or in a circle. Every import counts: one inside a
function still ties the modules, and one for type checkers only (under ``if
TYPE_CHECKING:``) ties them for the reader and the type checker, so it must go down the
layers and make no cycle too.

docs/architecture.md draws the layers this test enforces.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chute"

#: Bottom to top. A module's layer is that of its first name under ``chute``; the package's
#: own ``__init__`` (the public names, loaded lazily) and ``__main__`` are the top.
LAYERS: list[set[str]] = [
    {"errors", "_version", "quoting"},
    {"codecs"},
    {"streams"},
    {"parallel"},
    {"api"},
    {"aio", "batch", "bench", "cli", "dictionaries", "fsspec", "logging", "records", "tar", "web"},
    {"", "__main__"},
]


def layer_of(module: str) -> int:
    """The layer of ``module`` (a dotted name starting with ``chute``)."""
    first = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if first in names:
            return i
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS in {__file__}")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (PACKAGE.parent / rel / "__init__.py").is_file()


def imports_of(path: Path) -> set[str]:
    """The chute modules that ``path`` imports, anywhere in its body."""
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> set[str]:
    """The chute modules that the module ``name`` of text ``source`` imports."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from .pkg import mod` imports the module chute.pkg.mod; `from .mod import f` only chute.mod
            targets = [f"{source}.{a.name}" if is_module(f"{source}.{a.name}") else source for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "chute" or t.startswith("chute."))
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_goes_down_a_layer() -> None:
    upward = [
        f"{src} (layer {layer_of(src)}) imports {dst} (layer {layer_of(dst)})"
        for src, targets in graph().items()
        for dst in sorted(targets)
        if layer_of(dst) > layer_of(src)
    ]
    assert upward == []


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``edges`` as a list of modules (first == last), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_no_import_cycles() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ..streams import pump\n", {"chute.streams.pump"}),
        ("def f():\n    from ..api.fileobj import open\n", {"chute.api.fileobj"}),
        ("if False:\n    from .. import codecs\n", {"chute.codecs"}),
        ("if TYPE_CHECKING:\n    from ..codecs import Codec\n", {"chute.codecs"}),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    from ..errors import ChuteError\n", {"chute.errors"}),
        ("import chute\n", {"chute"}),
    ],
)
def test_the_walk_sees_every_kind_of_import(source: str, expected: set[str]) -> None:
    assert imports_in(source, "chute.parallel.probe") == expected


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
