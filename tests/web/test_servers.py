"""The middlewares under real servers (uvicorn, waitress), fetched by curl, httpx and Chromium."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from typing import Any

import httpx
import pytest

from chute.codecs._stream import StreamDecoder

from . import apps, inproc

pytestmark = pytest.mark.interop

CURL_FEATURES = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout if shutil.which("curl") else ""
needs_curl = pytest.mark.skipif(not CURL_FEATURES, reason="curl not installed")
DECODERS = {"zstd": ["zstd", "-dc"], "br": ["brotli", "-dc"], "gzip": ["gzip", "-dc"]}


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, check=True, timeout=30)


def _headers(text: bytes) -> dict[str, str]:
    out = {}
    for line in text.decode("latin-1").splitlines()[1:]:
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip().lower()] = v.strip()
    return out


@needs_curl
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_curl_raw_decoded_by_reference_tool(url: str, encoding: str, tmp_path: os.PathLike[str]) -> None:
    hdr = os.path.join(tmp_path, "h")
    raw = curl("-H", f"Accept-Encoding: {encoding}", "-D", hdr, url + "/page").stdout
    with open(hdr, "rb") as f:
        h = _headers(f.read())
    assert h["content-encoding"] == encoding and "accept-encoding" in h["vary"].lower()
    assert int(h["content-length"]) == len(raw)
    plain = subprocess.run(DECODERS[encoding], input=raw, capture_output=True, check=True).stdout
    assert plain == apps.PAGE


@needs_curl
@pytest.mark.parametrize("path", ["/page", "/stream"])
def test_curl_compressed(url: str, path: str) -> None:
    out = curl("--compressed", url + path).stdout
    assert out == (apps.PAGE if path == "/page" else b"".join(apps.CHUNKS))
    if "zstd" in CURL_FEATURES.split("Features:")[-1]:
        h = _headers(curl("--compressed", "-D", "-", "-o", "/dev/null", url + path).stdout)
        assert h["content-encoding"] == "zstd"


@needs_curl
def test_curl_head_and_range(url: str) -> None:
    h = _headers(curl("-I", "-H", "Accept-Encoding: zstd", url + "/page").stdout)
    assert "content-encoding" not in h
    out = curl("-H", "Accept-Encoding: zstd", "-H", "Range: bytes=0-99", "-D", "-", url + "/page").stdout
    assert b"content-encoding" not in out.lower()


@needs_curl
@pytest.mark.parametrize("coding", ["gzip", "zstd", "br"])
def test_curl_posts_compressed_body(url: str, coding: str, tmp_path: os.PathLike[str]) -> None:
    body = apps.PAGE * 4
    tool = {"gzip": ["gzip", "-c"], "zstd": ["zstd", "-c", "-q"], "br": ["brotli", "-c"]}[coding]
    enc = subprocess.run(tool, input=body, capture_output=True, check=True).stdout
    src = os.path.join(tmp_path, "body")
    with open(src, "wb") as f:
        f.write(enc)
    out = curl("-H", f"Content-Encoding: {coding}", "--data-binary", f"@{src}", url + "/echo").stdout
    assert out == b"%d %s" % (len(body), hashlib.sha256(body).hexdigest().encode())


@needs_curl
def test_curl_bomb_413(url: str, tmp_path: os.PathLike[str]) -> None:
    enc = subprocess.run(["zstd", "-19", "-c", "-q"], input=bytes(64 << 20), capture_output=True, check=True).stdout
    src = os.path.join(tmp_path, "bomb")
    with open(src, "wb") as f:
        f.write(enc)
    out = curl("-H", "Content-Encoding: zstd", "--data-binary", f"@{src}", "-w", "%{http_code}", url + "/echo").stdout
    assert out.endswith(b"413")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_httpx_decodes(url: str, encoding: str) -> None:
    r = httpx.get(url + "/page", headers={"Accept-Encoding": encoding})
    assert r.headers["content-encoding"] == encoding
    assert r.content == apps.PAGE
    assert r.headers["etag"] == 'W/"v1"'


def test_httpx_zstd_raw(url: str) -> None:
    with httpx.stream("GET", url + "/stream", headers={"Accept-Encoding": "zstd"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "zstd"
    assert inproc.decode("zstd", raw) == b"".join(apps.CHUNKS)


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_sse_each_event_arrives_before_next_is_sent(url: str, encoding: str) -> None:
    apps.GATE.acked = -1
    apps.GATE.late.clear()
    dec = StreamDecoder(inproc.NAMES[encoding])
    text = b""
    got = 0
    with httpx.stream("GET", url + "/sse", headers={"Accept-Encoding": encoding}, timeout=10) as r:
        assert r.headers["content-encoding"] == encoding
        for raw in r.iter_raw():
            text += dec.decompress(raw)
            while got < apps.SSE_COUNT and apps.sse_event(got) in text:
                apps.GATE.ack(got)  # the server sends event got+1 only now
                got += 1
    assert got == apps.SSE_COUNT
    assert text == b"".join(apps.sse_event(i) for i in range(apps.SSE_COUNT))
    assert apps.GATE.late == []  # no event had to be sent without the previous one received


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package: chromium)")
@pytest.mark.slow
def test_chromium_page_equals_original(url: str) -> None:
    assert CHROMIUM is not None
    apps.RESPONSES.clear()
    with tempfile.TemporaryDirectory() as profile:
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url + "/page",
        ]
        dom = subprocess.run(args, capture_output=True, timeout=60, check=True).stdout
    start = dom.index(b'<pre id="x">') + len(b'<pre id="x">')
    assert dom[start : dom.index(b"</pre>", start)] == apps.TEXT
    if apps.RESPONSES:  # recorded by the ASGI server only
        sent = [h for h in apps.RESPONSES if h[":path"] == "/page"]
        assert sent and sent[-1]["content-encoding"] in ("zstd", "br")  # Chromium 123+ offers zstd


@pytest.fixture(scope="module")
def starlette_url() -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    from chute.web import CompressionMiddleware

    from .conftest import serve_asgi

    async def page(request: Any) -> Response:
        return Response(apps.PAGE, media_type="text/html")

    async def stream(request: Any) -> StreamingResponse:
        async def gen() -> Any:
            for chunk in apps.CHUNKS:
                yield chunk

        return StreamingResponse(gen(), media_type="text/plain")

    app = Starlette(
        routes=[Route("/page", page), Route("/stream", stream)], middleware=[Middleware(CompressionMiddleware)]
    )
    yield from serve_asgi(app)


@needs_curl
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_starlette_app(starlette_url: str, encoding: str) -> None:
    for path, expected in (("/page", apps.PAGE), ("/stream", b"".join(apps.CHUNKS))):
        out = curl("-D", "-", "-H", f"Accept-Encoding: {encoding}", starlette_url + path).stdout
        head, _, raw = out.partition(b"\r\n\r\n")
        assert _headers(head)["content-encoding"] == encoding
        assert subprocess.run(DECODERS[encoding], input=raw, capture_output=True, check=True).stdout == expected
