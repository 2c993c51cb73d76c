"""``chute batch`` and :func:`chute.batch.run` on local processes: thousands of small files,
the manifest and resuming, failures that do not stop the run, tar shards read by GNU tar
and bsdtar, and a ``chute batch`` process killed with SIGKILL and run again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xxhash
from conftest import examples, tool_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
import chute.batch as batch

CHUTE = [sys.executable, "-m", "chute"]


def chute_batch(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHUTE, "batch", *args], capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload,no-any-return]


def make_tree(root: Path, count: int, size: int, seed: int = 1) -> dict[str, bytes]:
    """``count`` files of about ``size`` bytes under ``root`` (in a few folders)."""
    rng = random.Random(seed)
    words = [b"GET", b"/index.html", b"200", b"error", b"user=%d", b"\n", b"2026-12-03T12:00:00Z"]
    files = {}
    for i in range(count):
        rel = f"d{i % 7}/f{i:05d}.log"
        data = b" ".join(rng.choice(words) for _ in range(size // 6))[: size + rng.randrange(size // 4 + 1)]
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files[rel] = data
    return files


def digest(data: bytes) -> str:
    return "xxh3_128:" + xxhash.xxh3_128(data).hexdigest()


def entries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def temp_files(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*.chute-tmp")]


@pytest.mark.slow  # 2,000 files through worker processes: slow, for the quick run's time (small batches run quick)
def test_two_thousand_small_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 2000, 1024)
    r = chute_batch(
        "compress",
        str(src),
        "--dest",
        str(tmp_path / "out"),
        "--manifest",
        str(tmp_path / "m.jsonl"),
        "--workers",
        "2",
        "--level",
        "5",
    )
    assert r.returncode == 0, r.stderr
    assert "2000 files" in r.stderr and "0 failed" in r.stderr
    # the outputs, decoded by zstd itself, in one call
    names = sorted(files)
    outs = [str(tmp_path / "out" / (n + ".zst")) for n in names]
    got = subprocess.run([tool_path("zstd"), "-dcq", *outs], capture_output=True, check=True).stdout
    assert got == b"".join(files[n] for n in names)
    lines = entries(tmp_path / "m.jsonl")
    assert sorted(e["source"] for e in lines) == sorted(str(src / n) for n in names)
    for e in lines:
        data = files[os.path.relpath(str(e["source"]), src)]
        assert e["status"] == "done" and e["attempts"] == 1
        assert e["checksum"] == digest(data) and e["size"] == len(data)
        assert e["output_size"] == os.path.getsize(str(e["output"]))
    assert temp_files(tmp_path) == []


def test_largest_first(tmp_path: Path) -> None:
    for i, size in enumerate([10, 5000, 300, 80000, 7]):
        (tmp_path / f"f{i}").write_bytes(b"x" * size)
    jobs = batch.plan("compress", batch.expand([str(tmp_path)]), str(tmp_path / "out"))
    assert [j.size for j in jobs] == [80000, 5000, 300, 10, 7]


def test_resume_skips_what_is_done_and_redoes_what_changed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 30, 2000)
    args = ("compress", str(src), "--dest", str(tmp_path / "out"), "--manifest", str(tmp_path / "m.jsonl"))
    assert chute_batch(*args, "--workers", "1").returncode == 0
    changed = src / "d1/f00001.log"
    changed.write_bytes(b"new content\n")
    gone = tmp_path / "out/d2/f00002.log.zst"
    gone.unlink()
    r = chute_batch(*args, "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "2 files" in r.stderr and "28 already done" in r.stderr
    lines = entries(tmp_path / "m.jsonl")
    assert len(lines) == 32
    assert chute.decompress((tmp_path / "out/d1/f00001.log.zst").read_bytes()) == b"new content\n"
    assert chute.decompress(gone.read_bytes()) == files["d2/f00002.log"]
    assert {e["attempts"] for e in lines[30:]} == {2}


def test_a_torn_last_line_is_cut(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src, 5, 100)
    m = tmp_path / "m.jsonl"
    args = ("compress", str(src), "--dest", str(tmp_path / "out"), "--manifest", str(m), "--workers", "1")
    assert chute_batch(*args).returncode == 0
    text = m.read_text().splitlines(keepends=True)
    m.write_text("".join(text[:3]) + text[3][:20])  # killed while writing line 4
    r = chute_batch(*args)
    assert r.returncode == 0, r.stderr
    assert "2 files" in r.stderr
    assert all(json.loads(line) for line in m.read_text().splitlines())


def test_a_rerun_in_place_does_not_take_its_outputs_as_sources(tmp_path: Path) -> None:
    files = make_tree(tmp_path, 10, 300)
    args = ("compress", ".", "--dest", "out", "--manifest", "m.jsonl", "--workers", "1")
    assert chute_batch(*args, cwd=tmp_path).returncode == 0
    r = chute_batch(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 files" in r.stderr and "10 already done" in r.stderr
    assert len(list((tmp_path / "out").rglob("*.zst"))) == len(files)


def test_a_rerun_beside_the_sources_does_not_compress_the_outputs(tmp_path: Path) -> None:
    files = make_tree(tmp_path, 10, 300)
    for _ in range(2):
        r = chute_batch("compress", ".", "--dest", ".", "--workers", "1", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "10 files" in r.stderr
    assert len(list(tmp_path.rglob("*.zst"))) == len(files)
    assert list(tmp_path.rglob("*.zst.zst")) == []
    # in place, from zstd to gzip
    r = chute_batch("recompress", "**/*.zst", "--to", "gzip", "--dest", ".", "--workers", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "10 files" in r.stderr
    for rel, data in files.items():
        got = subprocess.run([tool_path("gzip"), "-dc", str(tmp_path / (rel + ".gz"))], capture_output=True, check=True)
        assert got.stdout == data
    assert list(tmp_path.rglob("*.gz.*")) == []


def test_a_damaged_manifest_is_one_line(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src, 3, 100)
    m = tmp_path / "m.jsonl"
    args = ("compress", str(src), "--dest", str(tmp_path / "out"), "--manifest", str(m), "--workers", "1")
    assert chute_batch(*args).returncode == 0
    lines = m.read_text().splitlines(keepends=True)
    m.write_text(lines[0] + "{oops\n" + lines[1])
    r = chute_batch(*args)
    assert r.returncode == 1
    assert r.stderr == f"chute: {m}: line 2 is not a manifest entry\n"


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), junk=st.binary(max_size=20))
def test_a_manifest_cut_anywhere_keeps_its_whole_lines(tmp_path: Path, cut: int, junk: bytes) -> None:
    m = tmp_path / "cut.jsonl"
    lines = [json.dumps({"source": f"/s/{i}", "status": "done", "n": "x" * i}) + "\n" for i in range(60)]
    whole = "".join(lines).encode()
    cut = min(cut, len(whole))
    m.write_bytes(whole[:cut] + (junk.replace(b"\n", b"") if cut < len(whole) else b""))
    kept = whole[:cut].count(b"\n")
    with batch.Manifest(str(m)) as manifest:
        assert len(manifest) == kept
        manifest.append({"source": "/s/new", "status": "done"})
    assert [e["source"] for e in batch.read_entries(str(m))] == [f"/s/{i}" for i in range(kept)] + ["/s/new"]


def test_failures_do_not_stop_the_run(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    good = {f"g{i}.txt": b"good %d\n" % i * 100 for i in range(5)}
    for name, data in good.items():
        gz = subprocess.run([tool_path("gzip"), "-c"], input=data, capture_output=True, check=True).stdout
        (src / (name + ".gz")).write_bytes(gz)
    whole = subprocess.run([tool_path("gzip"), "-c"], input=b"x" * 100000, capture_output=True, check=True).stdout
    (src / "cut.txt.gz").write_bytes(whole[: len(whole) // 2])
    (src / "junk.txt.gz").write_bytes(b"not compressed at all")
    (src / "noext").write_bytes(whole)
    m = tmp_path / "m.jsonl"
    r = chute_batch("decompress", str(src), "--dest", str(tmp_path / "out"), "--manifest", str(m), "--workers", "2")
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("chute: ")]
    assert len(errors) == 3
    assert any(str(src / "cut.txt.gz") in e for e in errors)
    assert any(str(src / "junk.txt.gz") in e for e in errors)
    assert any(str(src / "noext") in e and "suffix" in e for e in errors)
    assert "5 files" in r.stderr and "3 failed" in r.stderr
    for name, data in good.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    # nothing of the files that failed: no partial output, no temporary file
    assert sorted(os.listdir(tmp_path / "out")) == sorted(good)
    failed = [e for e in entries(m) if e["status"] == "failed"]
    assert len(failed) == 3 and all(e["attempts"] == 1 for e in failed)  # bad data: not retried


def test_an_io_error_is_retried_then_recorded(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes(b"data")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt.zst").mkdir()  # the output cannot be written: a folder is in the way
    m = batch.Manifest(str(tmp_path / "m.jsonl"))
    summary = batch.run(
        batch.plan("compress", batch.expand([str(src)]), str(tmp_path / "out")), manifest=m, workers=1, retries=3
    )
    m.close()
    assert summary.failed == 1 and "a.txt.zst" in summary.errors[0]
    (e,) = entries(tmp_path / "m.jsonl")
    assert e["status"] == "failed" and e["attempts"] == 4


def test_recompress_gzip_to_zstd_and_back(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 40, 3000)
    for rel in files:
        subprocess.run([tool_path("gzip"), str(src / rel)], check=True)
    r = chute_batch("recompress", str(src), "--dest", str(tmp_path / "zst"), "--to", "zstd", "--workers", "2")
    assert r.returncode == 0, r.stderr
    for rel, data in files.items():
        out = tmp_path / "zst" / (rel + ".zst")
        assert subprocess.run([tool_path("zstd"), "-dc", str(out)], capture_output=True, check=True).stdout == data
    r = chute_batch("recompress", str(tmp_path / "zst"), "--dest", str(tmp_path / "xz"), "--to", "xz")
    assert r.returncode == 0, r.stderr
    rel = sorted(files)[0]
    assert (
        subprocess.run(
            [tool_path("xz"), "-dc", str(tmp_path / "xz" / (rel + ".xz"))], capture_output=True, check=True
        ).stdout
        == files[rel]
    )


def test_verify_records_checksums(tmp_path: Path) -> None:
    data = b"hello\n" * 1000
    f = tmp_path / "a.zst"
    subprocess.run([tool_path("zstd"), "-q", "-o", str(f)], input=data, check=True)
    m = tmp_path / "m.jsonl"
    r = chute_batch("verify", str(f), "--manifest", str(m))
    assert r.returncode == 0, r.stderr
    (e,) = entries(m)
    assert e["data_checksum"] == digest(data) and e["checksum"] == digest(f.read_bytes())
    assert e["output"] is None


def test_sources_from_globs_and_lists(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src, 20, 100)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{src}/d1/f00001.log\n{src}/d2\n")
    got = {s.name for s in batch.expand([f"@{listing}", f"{src}/d3/*.log"])}
    assert got == {"f00001.log", "f00002.log", "f00009.log", "f00016.log", "f00003.log", "f00010.log", "f00017.log"}
    got = {s.name for s in batch.expand([f"{src}/**/f0001*.log"])}
    assert got == {f"d{i % 7}/f{i:05d}.log" for i in range(10, 20)}


def test_two_sources_for_one_output_fail_not_clobber(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.txt").write_bytes(d.encode())
    summary = batch.run(
        batch.plan(
            "compress",
            batch.expand([str(tmp_path / "a/same.txt"), str(tmp_path / "b/same.txt")]),
            str(tmp_path / "out"),
        ),
        workers=1,
    )
    assert summary.files == 1 and summary.failed == 1 and "same output" in summary.errors[0]


def test_urls_through_fsspec(tmp_path: Path) -> None:
    pytest.importorskip("fsspec", reason="fsspec is not installed")
    src = tmp_path / "src"
    files = make_tree(src, 6, 500)
    summary = batch.run(
        batch.plan("compress", batch.expand([f"file://{src}"]), f"file://{tmp_path}/out", format="gzip"), workers=1
    )
    assert summary.files == 6 and summary.failed == 0
    for rel, data in files.items():
        out = tmp_path / "out" / (rel + ".gz")
        assert subprocess.run([tool_path("gzip"), "-dc", str(out)], capture_output=True, check=True).stdout == data


def test_shards_are_listed_by_gnu_tar_and_bsdtar(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 300, 1000)
    m = tmp_path / "m.jsonl"
    r = chute_batch(
        "compress",
        str(src),
        "--dest",
        str(tmp_path / "out"),
        "--shard-size",
        "64K",
        "--manifest",
        str(m),
        "--workers",
        "2",
    )
    assert r.returncode == 0, r.stderr
    shards = sorted(os.listdir(tmp_path / "out"))
    assert len(shards) > 3 and all(s.startswith("shard-") and s.endswith(".tar.zst") for s in shards)
    held: dict[str, list[str]] = {}
    for e in entries(m):
        held.setdefault(os.path.basename(str(e["output"])), []).append(str(e["member"]))
    listed: list[str] = []
    for s in shards:
        out = subprocess.run(
            [tool_path("tar"), "--zstd", "-tf", str(tmp_path / "out" / s)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert sorted(out) == sorted(held[s])
        assert os.path.getsize(tmp_path / "out" / s) < 64 << 10
        listed += out
    assert sorted(listed) == sorted(files)
    x = tmp_path / "x"
    x.mkdir()
    for s in shards:
        subprocess.run([tool_path("bsdtar"), "-xf", str(tmp_path / "out" / s), "-C", str(x)], check=True)
    for rel, data in files.items():
        assert (x / rel).read_bytes() == data
        assert (x / rel).stat().st_mtime_ns // 10**9 == (src / rel).stat().st_mtime_ns // 10**9


def test_shards_resume_without_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src, 60, 1000)
    m = tmp_path / "m.jsonl"
    args = ("compress", str(src), "--dest", str(tmp_path / "out"), "--shard-size", "16K", "--manifest", str(m))
    assert chute_batch(*args, "--workers", "1").returncode == 0
    first = entries(m)
    # a killed run: the last shard was written but never recorded, and two files are new
    (m).write_text("".join(json.dumps(e) + "\n" for e in first if e["output"] != first[-1]["output"]))
    make_tree(src / "new", 2, 1000, seed=2)
    r = chute_batch(*args, "--workers", "2")
    assert r.returncode == 0, r.stderr
    members: list[str] = []
    for s in os.listdir(tmp_path / "out"):
        members += subprocess.run(
            [tool_path("tar"), "--zstd", "-tf", str(tmp_path / "out" / s)], capture_output=True, text=True, check=True
        ).stdout.split()
    assert len(members) == len(set(members)) == 62


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_resume_after_sigkill_of_the_command(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 120, 40_000)
    m = tmp_path / "m.jsonl"
    args = [
        "compress",
        str(src),
        "--dest",
        str(tmp_path / "out"),
        "--manifest",
        str(m),
        "--workers",
        "2",
        "--level",
        "12",
    ]
    proc = subprocess.Popen([*CHUTE, "batch", *args], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not m.exists() or len(m.read_bytes().splitlines()) < 15):
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert workers, "the pool's processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.stderr is not None
    proc.stderr.close()
    done_before = len(entries(m))
    assert 15 <= done_before < 120
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # not to leave them behind when the test fails
        os.kill(w, signal.SIGKILL)
    assert not left, "the workers end with the command"
    r = chute_batch(*args)
    assert r.returncode == 0, r.stderr
    lines = entries(m)
    sources = [e["source"] for e in lines]
    assert len(sources) == len(set(sources)) == 120  # each file done once, over both runs
    assert f"{done_before} already done" in r.stderr
    for e in lines:
        rel = os.path.relpath(str(e["source"]), src)
        assert chute.decompress(Path(str(e["output"])).read_bytes()) == files[rel]
    assert temp_files(tmp_path) == []


def test_output_that_does_not_decode_to_the_input_is_refused() -> None:
    from chute.batch.work import HashingSink, VerifyingSink

    data = HashingSink()
    data.write(b"the data read" * 100)
    written = HashingSink()
    sink = VerifyingSink(written, "zstd")
    sink.write(chute.compress(b"the data read" * 99 + b"the data reaD", "zstd"))
    with pytest.raises(chute.ChuteError, match="verification failed"):
        sink.check(data, "src")
    good = VerifyingSink(HashingSink(), "gzip")
    good.write(chute.compress(b"the data read" * 100, "gzip"))
    good.check(data, "src")


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_the_pool_under_every_start_method(tmp_path: Path, method: str) -> None:
    # Python 3.14 starts pool workers from a forkserver by default: their parent is not the
    # process that made the pool, which the workers' watch for their maker must allow.
    make_tree(tmp_path / "src", 40, 500)
    script = (
        "import multiprocessing, sys\n"
        "import chute.batch as b\n"
        "if __name__ == '__main__':\n"
        f"    multiprocessing.set_start_method({method!r})\n"
        f"    jobs = b.plan('compress', b.expand([{str(tmp_path / 'src')!r}]), {str(tmp_path / 'out')!r})\n"
        "    s = b.run(jobs, workers=2, retries=0)\n"
        "    print(s.files, s.failed)\n"
    )
    (tmp_path / "run.py").write_text(script)
    r = subprocess.run([sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["40", "0"]
