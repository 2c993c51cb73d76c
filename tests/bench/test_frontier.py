"""The frontier against a brute-force search, and the goals against their definitions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chute.bench.frontier import Goal, choose, end_to_end, mark, pareto, parse_goal, parse_rate
from chute.bench.measure import Candidate, Result

coords = st.lists(
    st.tuples(st.integers(1, 8).map(float), st.integers(1, 8).map(float)), max_size=30
)  # small integers: many ties


def dominated(p: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    return any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in others)


@given(coords)
def test_pareto_equals_brute_force(points: list[tuple[float, float]]) -> None:
    expected = {i for i, p in enumerate(points) if not dominated(p, points)}
    got = pareto(points)
    assert set(got) == expected
    assert len(got) == len(set(got))


def result(fmt: str, level: int, ratio: float, c: float, d: float, mem: int = 0, cpu: float = 1e-8) -> Result:
    return Result(Candidate(fmt, level), ratio=ratio, c_speed=c, d_speed=d, c_mem=mem, d_mem=mem, c_cpu=cpu, d_cpu=cpu)


@given(st.lists(st.tuples(st.floats(1, 10), st.floats(1e6, 1e9), st.floats(1e6, 1e9)), min_size=1, max_size=20))
def test_mark_flags_exactly_the_frontier_on_each_axis(rows: list[tuple[float, float, float]]) -> None:
    results = [result("zstd", i, *row) for i, row in enumerate(rows)]
    mark(results)
    for r in results:
        for axis, speed in (("compress", lambda x: x.c_speed), ("decompress", lambda x: x.d_speed)):
            pts = [(x.ratio, speed(x)) for x in results]
            assert (axis in r.frontier) == (not dominated((r.ratio, speed(r)), pts))


@given(
    st.lists(st.tuples(st.floats(1, 10), st.floats(1e6, 1e9), st.floats(1e6, 1e9)), min_size=1, max_size=20),
    st.floats(1e5, 1e9),
)
def test_link_goal_is_the_best_pipeline(rows: list[tuple[float, float, float]], link: float) -> None:
    results = [result("zstd", i, *row) for i, row in enumerate(rows)]
    best, why = choose(results, Goal("link", rate=link), 10**9)
    rates = [min(r.c_speed, link * r.ratio, r.d_speed) for r in results]
    if max(rates) <= link:
        assert best is None and "uncompressed" in why
    else:
        assert best is not None and end_to_end(best, link) == max(rates)


def test_link_goal_names_its_bottleneck() -> None:
    slow_fast = [result("xz", 9, 5.0, 2e6, 5e7), result("zstd", 1, 3.0, 3e8, 1e9)]
    best, why = choose(slow_fast, parse_goal("link=100Mbit"), 10**9)
    assert best is not None and best.candidate.format == "zstd" and "the link" in why
    best, why = choose(slow_fast, parse_goal("link=1Mbit"), 10**9)  # a slow link: the best ratio wins
    assert best is not None and best.candidate.format == "xz" and "the link" in why
    best, why = choose(slow_fast[:1], parse_goal("link=10Gbit"), 10**9)  # a fast link: xz cannot keep up
    assert best is None and "uncompressed" in why
    best, why = choose(slow_fast[:1], parse_goal("link=10Mbit"), 10**9)
    assert best is not None and "compressing" in why


def test_storage_goal_budget_by_time_and_by_speed() -> None:
    rs = [result("xz", 9, 5.0, 2e6, 5e7), result("zstd", 19, 4.5, 5e6, 8e8), result("zstd", 1, 3.0, 3e8, 1e9)]
    assert choose(rs, parse_goal("storage"), 10**9)[0] is rs[0]
    # 1 GB in 10 minutes needs 1.67 MB/s: xz -9 fits; in 5 minutes (3.3 MB/s) it does not
    assert choose(rs, parse_goal("storage=10min"), 10**9)[0] is rs[0]
    assert choose(rs, parse_goal("storage=5min"), 10**9)[0] is rs[1]
    assert choose(rs, parse_goal("storage=100MB/s"), 10**9)[0] is rs[2]
    assert choose(rs, parse_goal("storage=1s"), 10**9)[0] is None


def test_cpu_goal_and_memory_limit() -> None:
    rs = [
        result("xz", 9, 5.0, 2e6, 5e7, mem=700 << 20, cpu=5e-7),
        result("zstd", 3, 4.0, 2e8, 8e8, mem=10 << 20, cpu=5e-9),
        result("lz4", 1, 2.0, 5e8, 2e9, mem=2 << 20, cpu=2e-9),
    ]
    # CPU per byte saved: xz 1e-6/0.8, zstd 1e-8/0.75, lz4 4e-9/0.5 = 8e-9: lz4
    assert choose(rs, Goal("cpu"), 10**9)[0] is rs[2]
    assert choose(rs, Goal("storage"), 10**9, max_memory=64 << 20)[0] is rs[1]
    assert choose(rs, Goal("storage"), 10**9, max_memory=1 << 20)[0] is None


@pytest.mark.parametrize(
    "text, rate", [("100Mbit", 12.5e6), ("1Gbit/s", 125e6), ("20MB/s", 20e6), ("50MiB/s", 50 * 2**20), ("8kbps", 1e3)]
)
def test_parse_rate(text: str, rate: float) -> None:
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["fast", "link", "link=fast", "storage=soon", "cpu=3"])
def test_parse_goal_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_goal(text)
