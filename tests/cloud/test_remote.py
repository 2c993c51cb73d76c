"""chute.streams.remote and chute.open on URLs: what is a URL, all-or-nothing uploads (one
request when small, an aborted multipart upload on failure), and what start-up imports."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.streams import remote

from .conftest import Bucket


@pytest.mark.parametrize(
    "name", ["s3://b/k", "gs://b/k.zst", "memory://x", "file:///tmp/x", "simplecache::s3://b/k", "chute::s3://b/k"]
)
def test_urls(name: str) -> None:
    assert remote.is_url(name)


@pytest.mark.parametrize("name", ["-", "x.zst", "/tmp/a", "./s3://b", "C://x", "c:\\x", "1s://x", "::x", "a b://c"])
def test_not_urls(name: str) -> None:
    assert not remote.is_url(name)


def test_an_existing_local_path_is_never_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.makedirs("s3:/b")  # "s3://b/k" names this folder's k, relative to here
    Path("s3:/b/k").write_bytes(b"local")
    assert not remote.is_url("s3://b/k")
    assert remote.is_url("s3://b/other")


@given(st.text(st.characters(blacklist_characters=":"), max_size=40))
def test_names_without_a_colon_are_paths(name: str) -> None:
    assert not remote.is_url(name)


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("anon=true", ("anon", True)),
        ("endpoint_url=http://127.0.0.1:9000", ("endpoint_url", "http://127.0.0.1:9000")),
        ("n=3", ("n", 3)),
        ('client_kwargs={"region_name": "eu-west-1"}', ("client_kwargs", {"region_name": "eu-west-1"})),
        ("key=a=b", ("key", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_storage_option_values(text: str, pair: tuple[str, object]) -> None:
    assert remote.parse_storage_option(text) == pair


@pytest.mark.parametrize("text", ["novalue", "=x", ""])
def test_storage_option_needs_key_and_value(text: str) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        remote.parse_storage_option(text)


def _requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The requests moto's server logged: ``METHOD /path?query``."""
    out = []
    for record in caplog.records:
        msg = record.getMessage()
        if '"' in msg:
            out.append(msg.split('"')[1].rsplit(" ", 1)[0].lstrip("\x1b[0123456789;m"))
    return out


def test_small_output_is_one_put(bucket: Bucket, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    with remote.AtomicUpload(bucket.url("small"), storage_options=bucket.options) as f:
        for _ in range(100):
            f.write(b"x" * 1000)
    writes = [r for r in _requests(caplog) if r.split()[0] in ("PUT", "POST")]
    assert writes == [f"PUT /{bucket.name}/small"]
    assert bucket.get("small") == b"x" * 100_000


def test_large_output_is_a_multipart_upload_completed_at_the_end(
    bucket: Bucket, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    data = os.urandom(remote.PART_SIZE * 2 + 12345)
    with remote.AtomicUpload(bucket.url("large"), storage_options=bucket.options) as f:
        for i in range(0, len(data), 1 << 20):
            f.write(data[i : i + (1 << 20)])
        assert bucket.keys() == []  # nothing visible before the end
        assert len(bucket.uploads()) == 1
    assert bucket.get("large") == data
    assert bucket.uploads() == []
    parts = [r for r in _requests(caplog) if "partNumber=" in r]
    assert len(parts) == 3


def test_error_aborts_the_multipart_upload(bucket: Bucket) -> None:
    with pytest.raises(KeyError), remote.AtomicUpload(bucket.url("x"), storage_options=bucket.options) as f:
        f.write(os.urandom(remote.PART_SIZE + 1))
        assert len(bucket.uploads()) == 1
        raise KeyError
    assert bucket.keys() == []
    assert bucket.uploads() == []


def test_chute_open_writes_and_reads_a_url(bucket: Bucket) -> None:
    url = bucket.url("t.log.gz")
    with chute.open(url, "wt", storage_options=bucket.options) as f:
        f.write("line\n" * 1000)
    assert bucket.get("t.log.gz")[:2] == b"\x1f\x8b"
    with chute.open(url, "rt", storage_options=bucket.options) as r:
        assert r.read() == "line\n" * 1000
    with pytest.raises(FileExistsError), chute.open(url, "xb", storage_options=bucket.options):
        pass


@pytest.mark.parametrize("mode", ["wb", "wt"])
def test_chute_open_drops_a_url_whose_block_raised(bucket: Bucket, mode: str) -> None:
    url = bucket.url("dropped.zst")
    payload: bytes | str = os.urandom(remote.PART_SIZE + 100) if mode == "wb" else "x" * 100
    with pytest.raises(RuntimeError), chute.open(url, mode, storage_options=bucket.options) as f:
        f.write(payload)  # type: ignore[arg-type]
        raise RuntimeError("stop")
    assert bucket.keys() == []
    assert bucket.uploads() == []


def test_chute_open_seeks_a_seekable_url_by_ranges(bucket: Bucket) -> None:
    data = os.urandom(1 << 16) * 64  # 4 MiB in frames of 1 MiB
    url = bucket.url("s.zst")
    with chute.open(url, "wb", storage_options=bucket.options, seekable=True, block_size=1 << 20) as f:
        f.write(data)
    with chute.open(url, storage_options=bucket.options) as r:
        r.seek(3_000_000)
        assert r.read(100) == data[3_000_000:3_000_100]


def test_storage_options_need_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="storage_options are for URLs"):
        chute.open(tmp_path / "x.zst", "wb", storage_options={"anon": True})


# -- start-up: no URL, no fsspec ----------------------------------------------------------


def _imported(*argv: str) -> set[str]:
    """What ``python -X importtime -m chute ARGV`` imports."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "chute", *argv], capture_output=True, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    return {line.rsplit("|", 1)[1].strip() for line in err.splitlines() if line.startswith("import time:")}


def test_local_runs_do_not_import_fsspec(tmp_path: Path) -> None:
    (tmp_path / "local").write_bytes(b"local data\n" * 100)
    for argv in (["--version"], ["-c", str(tmp_path / "local")]):
        assert not {m for m in _imported(*argv) if m.split(".")[0] in ("fsspec", "s3fs", "botocore")}, argv
    # the same run on a file:// URL goes through fsspec: the check above would see it
    assert "fsspec" in _imported("-c", (tmp_path / "local").as_uri())


def test_missing_fsspec_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['fsspec'] = None; sys.modules['fsspec.core'] = None\n"
        "from chute.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "-dc", "s3://bucket/x.zst"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert (
        proc.stderr == "chute: s3://bucket/x.zst: reading and writing URLs needs fsspec: pip install 'chute[cloud]'\n"
    )


# -- any chunking, any failure point, on a filesystem with transactions (file://) ---------


@settings(max_examples=examples(40), deadline=None)
@given(
    data=st.binary(max_size=5000),
    cuts=st.lists(st.integers(0, 5000), max_size=8),
    fail=st.booleans(),
)
def test_upload_is_whole_or_absent_for_any_chunking(data: bytes, cuts: list[int], fail: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(remote, "PART_SIZE", 1000)  # several parts in a few KiB
        url = Path(tmp, "out").as_uri()
        bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
        try:
            with remote.AtomicUpload(url) as f:
                for a, b in itertools.pairwise(bounds):
                    assert f.write(data[a:b]) == b - a
                if fail:
                    raise RuntimeError("stop")
        except RuntimeError:
            pass
        assert os.listdir(tmp) == ([] if fail else ["out"])
        if not fail:
            assert Path(tmp, "out").read_bytes() == data
