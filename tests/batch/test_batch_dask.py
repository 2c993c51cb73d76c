"""chute batch on a real Dask cluster (worker processes), and Dask bags over one big
seekable file cut into many partitions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import chute
import chute.batch as batch

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
pytest.importorskip("dask.bag", reason="dask.bag is not installed")

from test_batch_local import entries, make_tree  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::UserWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


async def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.slow
def test_a_worker_killed_in_the_middle(client: distributed.Client, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 100, 40_000)
    manifest = batch.Manifest(str(tmp_path / "m.jsonl"))
    victim = sorted(client.scheduler_info()["workers"])[0]
    pids = client.run(os.getpid)
    killed = threading.Event()

    def on_entry(entry: dict[str, object], summary: batch.Summary) -> None:
        if summary.files == 20 and not killed.is_set():
            killed.set()
            client.run(_kill_self, workers=[victim], wait=False)

    jobs = batch.plan("compress", batch.expand([str(src)]), str(tmp_path / "out"), level=12)
    summary = batch.run(jobs, executor=client.get_executor(pure=False), manifest=manifest, on_entry=on_entry)
    manifest.close()
    assert killed.is_set()
    assert client.run(os.getpid).get(victim) != pids[victim], "the worker was killed (and the nanny made a new one)"
    assert summary.files == 100 and summary.failed == 0
    lines = entries(tmp_path / "m.jsonl")
    assert sorted(e["source"] for e in lines) == sorted(str(src / r) for r in files)  # each once
    for e in lines:
        assert e["status"] == "done"
        data = files[os.path.relpath(str(e["source"]), src)]
        assert chute.decompress(Path(str(e["output"])).read_bytes()) == data
    batch.remove_stale_temp_files(o for j in jobs for o in j.outputs)
    assert list(tmp_path.rglob("*.chute-tmp")) == []


@pytest.mark.slow
def test_the_command_on_a_scheduler(client: distributed.Client, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = make_tree(src, 50, 2000)
    address = client.scheduler.address.removeprefix("tcp://")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "chute",
            "batch",
            "compress",
            str(src),
            "--dest",
            str(tmp_path / "out"),
            "--executor",
            f"dask://{address}",
            "--manifest",
            str(tmp_path / "m.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "50 files" in r.stderr
    for rel, data in files.items():
        assert chute.decompress((tmp_path / "out" / (rel + ".zst")).read_bytes()) == data
    # what dask-scheduler --scheduler-file writes, of which a client reads the address
    # (client.write_scheduler_file dumps every worker's metrics, some keyed by tuples, which
    # json refuses once the cluster has run tasks)
    (tmp_path / "scheduler.json").write_text(json.dumps({"type": "Scheduler", "address": client.scheduler.address}))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "chute",
            "batch",
            "verify",
            str(tmp_path / "out"),
            "--scheduler-file",
            str(tmp_path / "scheduler.json"),
            "--manifest",
            str(tmp_path / "v.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "50 files verified" in r.stderr
    by_source = {os.path.relpath(str(e["source"]), tmp_path / "out"): e for e in entries(tmp_path / "v.jsonl")}
    for rel, data in files.items():
        assert by_source[rel + ".zst"]["data_size"] == len(data)


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "chute",
            "batch",
            "compress",
            str(tmp_path / "a"),
            "--dest",
            str(tmp_path / "out"),
            "--executor",
            "dask://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert r.stderr.startswith("chute: dask://127.0.0.1:9: cannot reach the Dask scheduler")
    assert len(r.stderr.splitlines()) == 1


def _big(tmp_path: Path) -> tuple[bytes, list[Path]]:
    data = b"".join(b'{"n": %d, "msg": "%s"}\n' % (i, b"y" * (i % 113)) for i in range(60000))
    zst = tmp_path / "big.zst"
    zst.write_bytes(chute.compress(data, "zstd", seekable=True, block_size=50_000))
    gz = tmp_path / "big.gz"
    bgzip = subprocess.run(["bgzip", "-c"], input=data, capture_output=True).stdout if _have("bgzip") else b""
    gz.write_bytes(bgzip or chute.compress(data, "gzip", seekable=True))
    return data, [zst, gz]


def _joined(lines: list[str]) -> list[str]:
    return ["".join(lines)]


def _have(tool: str) -> bool:
    import shutil

    return shutil.which(tool) is not None


def test_read_text_gives_the_records_of_a_plain_read(tmp_path: Path) -> None:
    import dask

    from chute.batch.dask import read_text

    data, paths = _big(tmp_path)
    lines = data.decode().splitlines(keepends=True)
    for path in paths:
        bag = read_text(str(path), blocksize=256 << 10)
        assert bag.npartitions > 3
        with dask.config.set(scheduler="sync"):
            assert bag.compute() == lines
    both = read_text(str(tmp_path / "big.*"), blocksize=1 << 20)
    with dask.config.set(scheduler="sync"):
        assert both.count().compute() == 2 * len(lines)


@pytest.mark.slow
def test_read_text_and_read_bytes_on_worker_processes(client: distributed.Client, tmp_path: Path) -> None:
    from chute.batch.dask import read_bytes, read_text

    data, paths = _big(tmp_path)
    bag = read_text([str(p) for p in paths], blocksize=300 << 10)
    assert bag.npartitions > 6
    # each partition's lines joined on its worker: one string back per partition (a list
    # of 120,000 strings takes dask seconds to gather)
    texts = bag.map_partitions(_joined).compute()
    assert len(texts) == bag.npartitions
    assert "".join(texts) == data.decode() * 2
    assert bag.count().compute() == 2 * data.count(b"\n")
    (blocks,) = read_bytes(str(paths[0]), blocksize=300 << 10)
    assert len(blocks) > 3
    assert b"".join(client.compute(blocks, sync=True)) == data
    assert bag.map(json.loads).pluck("n").max().compute() == 59999
