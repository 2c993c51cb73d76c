"""The SVG chart, rendered by headless Chromium: every point is drawn, in its format's
colour, where :func:`chute.bench.svg.layout` places it, and the frontier is ringed."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from chute.bench.frontier import mark
from chute.bench.measure import Candidate, Result
from chute.bench.svg import COLOURS, HEIGHT, WIDTH, layout, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def read_png(data: bytes) -> tuple[int, int, list[bytearray], int]:
    """Width, height, rows and bytes per pixel of an 8-bit RGB(A), non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def result(fmt: str, level: int, ratio: float, c: float, d: float) -> Result:
    return Result(Candidate(fmt, level), ratio=ratio, c_speed=c * 1e6, d_speed=d * 1e6)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package: chromium)")
def test_chromium_draws_every_point_where_layout_puts_it(tmp_path: Path) -> None:
    results = [
        result("xz", 9, 4.6, 1.5, 90),
        result("zstd", 19, 4.4, 3.0, 900),
        result("zstd", 3, 3.6, 250, 1100),
        result("gzip", 6, 3.3, 40, 300),
        result("lz4", 1, 2.2, 600, 2500),
        result("bz2", 9, 4.1, 12, 30),
        result("brotli", 5, 3.7, 60, 400),
    ]
    mark(results)
    svg = tmp_path / "chart.svg"
    svg.write_text(render(results, "test chart"))
    png = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", svg.as_uri()],
        check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    width, height, rows, bpp = read_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)

    def pixel(x: float, y: float) -> tuple[int, ...]:
        i = round(x) * bpp
        return tuple(rows[round(y)][i : i + 3])

    def near(got: tuple[int, ...], hex_colour: str) -> bool:
        want = bytes.fromhex(hex_colour[1:])
        return all(abs(g - w) <= 12 for g, w in zip(got, want, strict=True))

    where = layout(results)
    for axis, points in where.items():
        for r, (x, y) in zip(results, points, strict=True):
            assert near(pixel(x, y), COLOURS[r.candidate.format]), (axis, r.candidate, pixel(x, y))
            ring = [max(pixel(x + dx, y)) for dx in (-7.5, -7, -6.5, -6, -5.5, 5.5, 6, 6.5, 7, 7.5)]
            if axis in r.frontier:  # ringed in black: dark 5.75 to 7.25 px from the centre
                assert min(ring) < 100, (axis, r.candidate, ring)
            else:  # a small disc on white: no ring
                assert min(ring) > 200, (axis, r.candidate, ring)
    # background where no point is: white
    assert pixel(WIDTH / 4, HEIGHT - 5) == (255, 255, 255)
    frontier_c = {r.candidate for r in results if "compress" in r.frontier}
    assert Candidate("gzip", 6) not in frontier_c and len(frontier_c) == 6
