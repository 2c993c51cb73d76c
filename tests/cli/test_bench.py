"""``chute bench`` in a real process: the table, the frontier's commands (which, run, write
what was measured), JSON, CSV and SVG outputs, goals, and one-line errors."""

from __future__ import annotations

import csv
import json
import os
import resource
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

CHUTE = [sys.executable, "-m", "chute"]


def bench(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHUTE, "bench", *args], input=stdin, capture_output=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "data.txt"
    path.write_bytes(b"".join(b"%d,item %d,%s\n" % (i, i % 97, b"x" * (i % 13)) for i in range(60000)))
    return path


def test_json_csv_svg_and_the_frontier_commands(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = bench(str(data), "--formats", "zstd,gzip,lz4", "--levels=1,9", "--json", str(out), "--csv",
              str(tmp_path / "r.csv"), "--plot", str(tmp_path / "r.svg"), "--goal", "storage")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["machine"]["cores"] == os.cpu_count() and "zstd" in doc["versions"] and "python" in doc["versions"]
    assert doc["settings"]["formats"] == ["zstd", "gzip", "lz4"] and doc["input"]["bytes"] == data.stat().st_size
    results = doc["results"]
    assert {(x["format"], x["level"]) for x in results} == {(f, lv) for f in ("zstd", "gzip", "lz4") for lv in (1, 9)}
    for x in results:
        assert x["error"] is None and x["bytes_in"] == data.stat().st_size and x["c_mem"] is not None
    rows = list(
        csv.DictReader(line for line in (tmp_path / "r.csv").read_text().splitlines() if not line.startswith("#"))
    )
    assert [(row["format"], float(row["ratio"])) for row in rows] == [(x["format"], x["ratio"]) for x in results]
    assert (tmp_path / "r.svg").read_text().startswith("<svg")
    # each frontier command, run, writes a file of the ratio measured (the CLI's own path)
    text = r.stdout.decode()
    commands = [
        line.split("#")[0].strip()
        for line in text.split("frontier commands:\n")[1].splitlines()
        if line.startswith("  chute")
    ]
    front = [x for x in results if x["frontier"]]
    assert len(commands) == len(front) >= 2
    for cmd, x in zip(commands, sorted(front, key=lambda x: -x["ratio"]), strict=True):
        argv = shlex.split(cmd)[1:]
        got = subprocess.run([*CHUTE, *argv[:-1], "-c", argv[-1]], capture_output=True, check=True).stdout
        assert data.stat().st_size / len(got) == pytest.approx(x["ratio"], rel=1e-6)
    best = max(results, key=lambda x: x["ratio"])
    assert doc["advice"]["choice"]["ratio"] == best["ratio"]
    assert f"goal storage: chute -F {best['format']} --level={best['level']}" in text


def test_standard_input_sampled_and_json_on_stdout(tmp_path: Path) -> None:
    data = os.urandom(1 << 20) + b"a" * (3 << 20)
    r = bench("-", "--formats", "lz4", "--levels=1", "--sample", "2M", "--json", "-", stdin=data)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["input"] == {"files": 1, "bytes": 4 << 20, "sampled": True, "streams": 2, "sample_bytes": 2 << 20}
    (res,) = doc["results"]
    assert res["ratio_low"] <= res["ratio"] <= res["ratio_high"]
    assert b"sampled 2 slices" in r.stderr and b"frontier commands" in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], b"chute: nope: no such file or folder\n"),
        (["no\npe"], b"chute: no\\npe: no such file or folder\n"),  # quoted as everywhere: one line
        (["{f}", "--formats", "zip"], b"chute: --formats: unknown format 'zip'"),
        (["{f}", "--levels=30"], b"chute: --levels: no level given"),
        (["{f}", "--goal", "fast"], b"unknown goal 'fast'"),
        (["{f}", "--slice", "64K"], b"chute: --slice: slices are 1M or more\n"),
    ],
)
def test_errors_are_one_line(data: Path, args: list[str], message: bytes) -> None:
    r = bench(*(a.format(f=data) for a in args))
    assert r.returncode == 1 and message in r.stderr and r.stderr.count(b"\n") == 1 and b"Traceback" not in r.stderr


def test_every_candidate_failing_names_the_input(data: Path) -> None:
    """Compressing at xz -9 needs 674 MiB: under a 300 MB address-space limit every
    measuring process runs out of memory, while chute bench itself has enough."""
    limit = 300_000_000

    def low_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    r = subprocess.run(
        [*CHUTE, "bench", str(data), "--formats", "xz", "--levels=9", "--no-chart"],
        capture_output=True,
        timeout=300,
        preexec_fn=low_memory,
    )
    assert r.returncode == 1 and b"Traceback" not in r.stderr
    assert r.stderr.splitlines() == [b"chute: xz -9: out of memory", f"chute: {data}: every candidate failed".encode()]


def test_too_few_records_names_the_input(tmp_path: Path) -> None:
    (tmp_path / "few").write_bytes(b"one\ntwo\nthree\n")
    r = bench(str(tmp_path / "few"), "--records")
    assert r.returncode == 1 and r.stderr.startswith(f"chute: {tmp_path / 'few'}: too few samples (3)".encode())
    assert r.stderr.count(b"\n") == 1


def test_existing_output_is_refused_without_force(data: Path, tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("keep")
    r = bench(str(data), "--formats", "lz4", "--levels=1", "--json", str(tmp_path / "r.json"))
    assert b"input:" not in r.stdout  # refused before measuring
    assert r.returncode == 1 and b"already exists" in r.stderr
    assert (tmp_path / "r.json").read_text() == "keep"


def test_records_in_a_real_process(tmp_path: Path) -> None:
    lines = b"".join(b'{"n": %d, "kind": "event-%d", "ok": true}\x1e' % (i, i % 7) for i in range(3000))
    (tmp_path / "recs").write_bytes(lines)
    r = bench(str(tmp_path / "recs"), "--delimiter", "\\x1e", "--levels=3", "--dict-size", "8K", "--json", "-")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (level,) = doc["records"]["levels"]
    assert doc["records"]["held_out"] == 300 and level["ratio_dict"] > level["ratio_plain"]
    assert doc["settings"]["delimiter"] == "\x1e" and "python" in doc["versions"]
    assert b"chute train --delimiter '\\x1e'" in r.stderr
    bad = bench(str(tmp_path / "recs"), "--records", "--formats", "gzip")
    assert (
        bad.returncode == 1
        and bad.stderr == b"chute: --records: records are measured with zstd only (dictionaries are zstd's)\n"
    )


def test_progress_with_eta_on_request_and_max_memory(data: Path) -> None:
    r = bench(str(data), "--formats", "lz4,zstd", "--levels=1", "--progress", "--max-memory", "1G", "--no-chart")
    assert r.returncode == 0, r.stderr
    assert b"[1/2] lz4 -1" in r.stderr and b"[2/2] zstd -1, ETA 0:" in r.stderr
    assert b"2 candidates measured in" in r.stderr
    assert b"goal storage: chute -F zstd --level=1" in r.stdout  # the better ratio of the two
    quiet = bench(str(data), "--formats", "lz4", "--levels=1", "--no-chart")
    assert quiet.stderr == b""  # standard error is not a terminal here
