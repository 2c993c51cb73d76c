"""chute inside fsspec: the ``chute::`` protocol (found through the package's entry point, in
any process) and chute's codecs behind fsspec's ``compression=`` names, Dask workers too."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import pytest
from conftest import need_tool

import chute.fsspec
from chute.api.fileobj import ChuteReader, ChuteWriter

from .conftest import Bucket

MAKE_LINES = 'LINES = "".join(f"record {i} of the test\\n" for i in range(20000))'
LINES = "".join(f"record {i} of the test\n" for i in range(20000))


def _tool(*argv: str, stdin: bytes) -> bytes:
    need_tool(argv[0])
    return subprocess.run(list(argv), input=stdin, capture_output=True, check=True).stdout


def test_a_fresh_process_resolves_chute_urls_without_importing_chute(tmp_path: Path) -> None:
    """The code run names no chute module: fsspec finds the protocol through the entry point."""
    made_by_zstd = tmp_path / "z.log.zst"
    made_by_zstd.write_bytes(_tool("zstd", "-c", stdin=LINES.encode()))
    code = textwrap.dedent(
        f"""
        import sys, fsspec
        {MAKE_LINES}
        assert "chute" not in sys.modules
        with fsspec.open("chute::{made_by_zstd.as_uri()}", "rt") as f:
            assert f.read() == LINES
        with fsspec.open("chute::memory://out/x.log.gz", "wt") as f:
            f.write(LINES)
        raw = fsspec.filesystem("memory").cat_file("/out/x.log.gz")
        sys.stdout.buffer.write(raw)
        sys.stderr.write(" ".join(m for m in sys.modules if m.startswith("chute")))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "chute.fsspec.filesystem" in proc.stderr.decode().split()
    assert _tool("gzip", "-dc", stdin=proc.stdout) == LINES.encode()  # gzip reads what chute:: wrote


def test_chute_protocol_over_s3(bucket: Bucket) -> None:
    url = "chute::" + bucket.url("logs/a.log.zst")
    opts = {"s3": bucket.options}
    with fsspec.open(url, "wt", **opts) as f:
        f.write(LINES)
    assert _tool("zstd", "-dc", stdin=bucket.get("logs/a.log.zst")) == LINES.encode()
    bucket.put("logs/b.log.xz", _tool("xz", "-c", stdin=b"from xz\n"))
    files = fsspec.open_files("chute::" + bucket.url("logs/*.log.*"), "rb", **opts)
    assert [f.path.rsplit("/", 1)[1] for f in files] == ["a.log.zst", "b.log.xz"]
    with files[0] as a, files[1] as b:
        assert a.read() == LINES.encode()
        assert b.read() == b"from xz\n"


def test_chute_protocol_picks_brotli_by_suffix_and_zstd_without_one(tmp_path: Path) -> None:
    base = "chute::" + tmp_path.as_uri()
    with fsspec.open(base + "/x.br", "wb") as f:
        f.write(b"brotli has no magic number")
    with fsspec.open(base + "/plain", "wb") as f:
        f.write(b"no suffix")
    assert (tmp_path / "plain").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    with fsspec.open(base + "/x.br", "rb") as f:
        assert f.read() == b"brotli has no magic number"


def test_register_puts_chute_behind_compression_infer(bucket: Bucket) -> None:
    chute.fsspec.register()
    data = LINES.encode()
    bucket.put("in.gz", _tool("gzip", "-c", stdin=data))
    with fsspec.open(bucket.url("in.gz"), "rb", compression="infer", **bucket.options) as f:
        assert isinstance(f, ChuteReader)
        assert f.read() == data
    with fsspec.open(bucket.url("out.zst"), "wb", compression="infer", **bucket.options) as w:
        assert isinstance(w, ChuteWriter)
        w.write(data)
    assert _tool("zstd", "-dc", stdin=bucket.get("out.zst")) == data
    with fsspec.open(bucket.url("out.br"), "wb", compression="infer", **bucket.options) as w:
        w.write(data)  # brotli: a name fsspec has no codec of its own for
    with fsspec.open(bucket.url("out.br"), "rb", compression="brotli", **bucket.options) as f:
        assert f.read() == data
    assert set(chute.fsspec.compressions()) <= set(fsspec.available_compressions())


@pytest.mark.slow
def test_dask_workers_read_chute_urls_and_registered_compressions(tmp_path: Path) -> None:
    """A LocalCluster with two worker processes: ``chute::`` URLs need nothing, and the
    worker plugin registers chute's compressions in each worker (brotli: fsspec's own
    workers would fail with "Compression type brotli not supported")."""
    dask_bag = pytest.importorskip("dask.bag", reason="dask is not installed (the test extra)")
    distributed = pytest.importorskip("distributed", reason="distributed is not installed (the test extra)")
    from chute.fsspec.dask import RegisterCompressions

    expected = []
    for i in range(6):
        lines = [f"file {i} line {j}\n" for j in range(2000)]
        expected += lines
        (tmp_path / f"part{i}.log.zst").write_bytes(_tool("zstd", "-c", stdin="".join(lines).encode()))
        with chute.open(tmp_path / f"part{i}.log.br", "wt") as f:
            f.write("".join(lines))
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = client.run(lambda: __import__("os").getpid())
        assert len(set(pids.values())) == 2
        # first, before any chute:: URL reached the workers (which would register them too)
        client.register_plugin(RegisterCompressions())
        chute.fsspec.register()  # the client builds the graph: it must know the name too
        bag = dask_bag.read_text(str(tmp_path / "part*.log.br"), compression="infer")
        # without the plugin the workers fail to load the task and the job hangs: a timeout
        assert sorted(client.compute(bag).result(timeout=120)) == sorted(expected)

        # Dask's default compression="infer" on .zst names: a chute:: file is decoded once
        bag = dask_bag.read_text(f"chute::file://{tmp_path}/part*.log.zst")
        assert bag.npartitions == 6
        assert sorted(client.compute(bag).result(timeout=120)) == sorted(expected)
