"""Listing and unpacking stay flat in memory whatever the number of members."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GEN = textwrap.dedent(
    """
    import io, sys
    import chute.tar
    from chute.tar.header import Member
    n, archive = int(sys.argv[1]), sys.argv[2]
    with chute.tar.open(archive, "w", format="zstd", level=1) as tw:
        for i in range(n):
            if i % 1000 == 0:
                tw.add(Member(name=f"d{i // 1000}/", type=b"5", mode=0o755))
            tw.add(Member(name=f"d{i // 1000}/f{i}", size=1), io.BytesIO(b"x"))
    """
)
# Each step in its own process: ru_maxrss is the peak of that step alone.
LIST = textwrap.dedent(
    """
    import resource, sys
    import chute.tar
    with chute.tar.open(sys.argv[1]) as tr:
        count = sum(1 for _ in tr)
    assert count == int(sys.argv[2]), count
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)
UNPACK = textwrap.dedent(
    """
    import resource, sys
    import chute.tar
    with open(sys.argv[1], "rb") as f:
        stats = chute.tar.extract_archive(f, sys.argv[3])
    assert stats.members == int(sys.argv[2]), stats
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def _peaks_kib(n: int, tmp: Path) -> tuple[int, int]:
    archive = str(tmp / f"{n}.tar.zst")
    subprocess.run([sys.executable, "-c", GEN, str(n), archive], check=True)
    count = str(n + (n + 999) // 1000)
    peaks = []
    for script in (LIST, UNPACK):
        r = subprocess.run(
            [sys.executable, "-c", script, archive, count, str(tmp / f"out{n}")],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(int(r.stdout))
    return peaks[0], peaks[1]


@pytest.mark.slow
def test_rss_flat_from_30k_to_300k_members(tmp_path: Path) -> None:
    small = _peaks_kib(30_000, tmp_path)
    big = _peaks_kib(300_000, tmp_path)
    # nothing grows with the member count (allow 2 MiB of noise)
    assert big[0] - small[0] < 2048, (small, big)
    assert big[1] - small[1] < 2048, (small, big)
