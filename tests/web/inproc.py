"""Run one request through a middleware in-process (no server): for the rule tests."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from chute.codecs._stream import StreamDecoder

NAMES = {"zstd": "zstd", "br": "brotli", "gzip": "gzip"}


def decode(encoding: str | None, data: bytes) -> bytes:
    if not encoding:
        return data
    d = StreamDecoder(NAMES[encoding])
    out = d.decompress(data)
    d.end()
    return out


def asgi(
    mw: Any, path: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes, list[bytes]]:
    """(status, lower-case headers, raw body, raw body pieces)."""
    sent: list[dict[str, Any]] = []
    req = [{"type": "http.request", "body": body, "more_body": False}]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }

    async def receive() -> dict[str, Any]:
        assert req, "receive() called after the last request body message"
        return req.pop(0)

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    asyncio.run(mw(scope, receive, send))
    start = sent[0]
    hdrs: dict[str, str] = {}
    for k, v in start["headers"]:
        assert k.decode().lower() not in hdrs, f"duplicate header {k!r}"
        hdrs[k.decode().lower()] = v.decode()
    pieces = [m.get("body", b"") for m in sent[1:]]
    return start["status"], hdrs, b"".join(pieces), pieces


def wsgi(
    mw: Any, path: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes, list[bytes]]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for k, v in (headers or {}).items():
        environ["HTTP_" + k.upper().replace("-", "_")] = v
    got: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, hdrs
        return written.append

    result = mw(environ, start_response)
    pieces = list(result)
    pieces = written + pieces  # write() output comes first (a legacy app has written it already)
    if hasattr(result, "close"):
        result.close()
    hd: dict[str, str] = {}
    for k, v in got["headers"]:
        assert k.lower() not in hd, f"duplicate header {k!r}"
        hd[k.lower()] = v
    return int(got["status"].split()[0]), hd, b"".join(pieces), pieces
