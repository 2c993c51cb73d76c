"""chute precompress and the precompressed-file servers (ASGI and WSGI, under real servers)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chute.web import PrecompressedFiles, WSGIPrecompressedFiles

from . import apps, inproc
from .conftest import serve_asgi, serve_wsgi


def precompress(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chute", "precompress", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_bytes(apps.PAGE)
    (root / "css").mkdir()
    (root / "css" / "app.css").write_bytes(b"body { color: red; }\n" * 200)
    (root / "logo.png").write_bytes(apps.PNG)
    (root / "tiny.txt").write_bytes(b"hi\n")
    (root / "random.js").write_bytes(os.urandom(4000))  # incompressible: no sibling is smaller
    r = precompress(str(root))
    assert r.returncode == 0, r.stderr
    return root


def test_siblings_written_only_where_useful(site: Path) -> None:
    for name in ("index.html", "css/app.css"):
        for suffix, tool in ((".zst", ["zstd", "-dc"]), (".br", ["brotli", "-dc"]), (".gz", ["gzip", "-dc"])):
            sib = site / (name + suffix)
            assert sib.stat().st_size < (site / name).stat().st_size
            assert (
                subprocess.run([*tool, str(sib)], capture_output=True, check=True).stdout == (site / name).read_bytes()
            )
            assert sib.stat().st_mtime_ns == (site / name).stat().st_mtime_ns
    for name in ("logo.png", "tiny.txt", "random.js"):
        assert not any((site / (name + s)).exists() for s in (".zst", ".br", ".gz"))
    assert not list(site.rglob("*.chute-tmp")) and not list(site.rglob(".*"))


def test_up_to_date_skipped_then_refreshed(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(apps.TEXT)
    assert precompress(str(tmp_path)).returncode == 0
    first = (tmp_path / "a.txt.zst").stat().st_ino
    r = precompress("-v", str(tmp_path))
    assert "3 up to date" in r.stderr and (tmp_path / "a.txt.zst").stat().st_ino == first
    f.write_bytes(apps.TEXT[::-1])
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert precompress("--formats", "gzip", str(tmp_path)).returncode == 0
    assert gzip.decompress((tmp_path / "a.txt.gz").read_bytes()) == apps.TEXT[::-1]


def test_precompress_errors(tmp_path: Path) -> None:
    r = precompress(str(tmp_path / "missing"))
    assert r.returncode == 1 and r.stderr.startswith("chute: ") and "Traceback" not in r.stderr
    r = precompress("--formats", "lz4", str(tmp_path))
    assert r.returncode != 0 and "Traceback" not in r.stderr


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def static_url(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    if request.param == "asgi":
        yield from serve_asgi(PrecompressedFiles(site))
    else:
        yield from serve_wsgi(WSGIPrecompressedFiles(site))


@pytest.mark.parametrize(
    ("accept", "expected"), [("zstd, br, gzip", "zstd"), ("br;q=1, zstd;q=0.5", "br"), ("gzip", "gzip"), ("", None)]
)
def test_serves_sibling(static_url: str, site: Path, accept: str, expected: str | None) -> None:
    with httpx.stream("GET", static_url + "/index.html", headers={"Accept-Encoding": accept}) as r:
        raw = b"".join(r.iter_raw())
        h = r.headers
    assert r.status_code == 200
    assert h.get("content-encoding") == expected
    assert h["vary"] == "Accept-Encoding" and h["content-type"].startswith("text/html")
    assert int(h["content-length"]) == len(raw)
    assert inproc.decode(expected, raw) == apps.PAGE
    etags = {h["etag"]}
    r2 = httpx.get(static_url + "/index.html", headers={"Accept-Encoding": accept, "If-None-Match": h["etag"]})
    assert r2.status_code == 304 and not r2.content
    etags.add(httpx.get(static_url + "/index.html", headers={"Accept-Encoding": "identity"}).headers["etag"])
    assert len(etags) == (2 if expected else 1)  # each representation has its own tag


def test_static_head_404_traversal(static_url: str) -> None:
    r = httpx.head(static_url + "/css/app.css", headers={"Accept-Encoding": "br"})
    assert r.headers["content-encoding"] == "br" and not r.content
    assert httpx.get(static_url + "/nothere").status_code == 404
    assert httpx.get(static_url + "/..%2f..%2fetc/passwd").status_code == 404
    assert httpx.get(static_url + "/logo.png", headers={"Accept-Encoding": "zstd"}).content == apps.PNG


def test_stale_sibling_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(apps.TEXT)
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"old"))
    os.utime(tmp_path / "a.txt.gz", ns=(0, 0))
    status, h, body, _ = inproc.wsgi(WSGIPrecompressedFiles(tmp_path), "/a.txt", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in h and body == apps.TEXT
