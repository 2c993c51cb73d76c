"""Shared test helpers: reference-tool skips and hypothesis data strategies.

Test modules import these by name (``from conftest import payloads``): pytest puts this
folder on ``sys.path`` before it imports the test modules.
"""

from __future__ import annotations

import random
import shutil

import pytest
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
