"""The precompressed-file servers mounted below a prefix, under real frameworks, dispatchers and servers.

ASGI: Starlette's ``Mount`` (``root_path`` set, full path kept in ``path``) and uvicorn's
``root_path`` (a proxy strips the prefix, uvicorn puts it back). WSGI under waitress: werkzeug's
``DispatcherMiddleware``, a dispatcher built on the standard library's ``shift_path_info``, and
waitress's own ``url_prefix`` (all three move the prefix from ``PATH_INFO`` to ``SCRIPT_NAME``).
Every sibling is fetched with its Accept-Encoding and decoded by the reference tool; traversal
attempts, plain and percent-encoded, get 404 and never the file outside the folder.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from chute.web import PrecompressedFiles, WSGIPrecompressedFiles

from . import apps
from .conftest import serve_asgi, serve_wsgi

pytestmark = pytest.mark.interop

FILES = {
    "index.html": apps.PAGE,
    "css/app.css": b"body { color: red; }\n" * 200,
    "caf\u00e9.css": "p.caf\u00e9 { margin: 0 }\n".encode() * 300,  # a UTF-8 name
    "100%.txt": apps.TEXT,  # a name with a percent sign: decoded once, not twice
    "a b.txt": apps.TEXT[::-1],
}
DECODERS = {"zstd": ["zstd", "-dc"], "br": ["brotli", "-dc"], "gzip": ["gzip", "-dc"]}
SECRET = b"SECRET " + os.urandom(8).hex().encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("mount")
    (top / "secret.txt").write_bytes(SECRET)
    root = top / "site"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "link.txt").symlink_to(top / "secret.txt")
    r = subprocess.run(
        [sys.executable, "-m", "chute", "precompress", str(root)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    for name in FILES:
        assert all((root / (name + s)).exists() for s in (".zst", ".br", ".gz")), name
    return root


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no such route\n"]


def _shift_dispatcher(mounts: dict[str, Any]) -> Any:
    """A WSGI path dispatcher on the standard library's ``wsgiref.util.shift_path_info``."""
    from wsgiref.util import shift_path_info

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        segment = shift_path_info(environ)
        app = mounts.get(segment or "", _not_found)
        return app(environ, start_response)

    return dispatch


MOUNTS = ["starlette-mount", "uvicorn-root-path", "werkzeug-dispatcher", "wsgiref-dispatcher", "waitress-url-prefix"]


@pytest.fixture(scope="module", params=MOUNTS)
def mounted(request: pytest.FixtureRequest, site: Path) -> Iterator[tuple[str, str]]:
    """(server URL, prefix of the static files in request paths)."""
    kind = request.param
    if kind == "starlette-mount":
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Mount, Route

        async def home(request: Any) -> PlainTextResponse:
            return PlainTextResponse("home")

        app = Starlette(routes=[Route("/", home), Mount("/static", app=PrecompressedFiles(site))])
        for url in serve_asgi(app):
            yield url, "/static"
    elif kind == "uvicorn-root-path":
        # behind a proxy that strips /static: uvicorn puts it back in path and sets root_path
        for url in serve_asgi(PrecompressedFiles(site), root_path="/static"):
            yield url, ""
    elif kind == "werkzeug-dispatcher":
        if os.environ.get("CI") == "true":  # there it must be installed
            import werkzeug.middleware.dispatcher as werkzeug
        else:
            werkzeug = pytest.importorskip("werkzeug.middleware.dispatcher", reason="werkzeug not installed")
        app = werkzeug.DispatcherMiddleware(_not_found, {"/static": WSGIPrecompressedFiles(site)})
        for url in serve_wsgi(app):
            yield url, "/static"
    elif kind == "wsgiref-dispatcher":
        for url in serve_wsgi(_shift_dispatcher({"static": WSGIPrecompressedFiles(site)})):
            yield url, "/static"
    else:
        for url in serve_wsgi(WSGIPrecompressedFiles(site), url_prefix="/static"):
            yield url, "/static"


def get(url: str, target: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request with ``target`` sent exactly as given (http.client does not normalise dots)."""
    conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=20)
    try:
        conn.request("GET", target, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize("accept", ["zstd", "br", "gzip", "identity"])
def test_every_sibling_served_when_mounted(mounted: tuple[str, str], accept: str) -> None:
    url, prefix = mounted
    for name, original in FILES.items():
        status, headers, raw = get(url, prefix + "/" + quote(name), {"Accept-Encoding": accept})
        assert status == 200, (name, status, raw[:100])
        assert int(headers["content-length"]) == len(raw)
        if accept == "identity":
            assert "content-encoding" not in headers and raw == original
            continue
        assert headers["content-encoding"] == accept, name
        plain = subprocess.run(DECODERS[accept], input=raw, capture_output=True, check=True).stdout
        assert plain == original, name


TRAVERSALS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/css/../../secret.txt",
    "/css/%2e%2e/%2e%2e/secret.txt",
    "/css/..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/%252e%252e/secret.txt",
    "/link.txt",
    "/.%2e/secret.txt",
    "/%00/../secret.txt",
]


def test_traversal_refused_when_mounted(mounted: tuple[str, str], site: Path) -> None:
    url, prefix = mounted
    absolute = "/" + quote(str(site.parent / "secret.txt"))
    for target in [*TRAVERSALS, absolute, "/" + absolute]:
        status, _, body = get(url, prefix + target, {"Accept-Encoding": "identity"})
        assert status in (400, 404), (target, status)
        assert SECRET not in body, target
