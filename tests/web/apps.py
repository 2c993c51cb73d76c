"""Test applications (ASGI and WSGI with the same routes) and shared test data."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from typing import Any

WORDS = b"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "


def page_text(size: int = 64 * 1024) -> bytes:
    lines = []
    n = 0
    while sum(len(x) for x in lines) < size:
        lines.append(b"line %d: " % n + WORDS[(n * 7) % 50 :] + WORDS[: (n * 3) % 60] + b"\n")
        n += 1
    return b"".join(lines)[:size]


TEXT = page_text()
PAGE = b"<!DOCTYPE html><html><head><title>t</title></head><body><pre id=x>" + TEXT + b"</pre></body></html>"
SMALL = b"<p>tiny</p>"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
CHUNKS = [b"chunk %d " % i + WORDS * 20 for i in range(50)]
SSE_COUNT = 5


class SSEGate:
    """The SSE route sends event i, then waits until the test acknowledges having received it."""

    def __init__(self) -> None:
        self.acked = -1
        self.lock = threading.Lock()
        self.late: list[int] = []  # events sent without the previous one acknowledged

    def ack(self, i: int) -> None:
        with self.lock:
            self.acked = i

    def wait_sync(self, i: int, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while self.acked < i and time.monotonic() < end:
            time.sleep(0.005)
        if self.acked < i:
            self.late.append(i + 1)

    async def wait(self, i: int, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while self.acked < i and time.monotonic() < end:
            await asyncio.sleep(0.005)
        if self.acked < i:
            self.late.append(i + 1)


GATE = SSEGate()
RESPONSES: list[dict[str, str]] = []  # headers of each response, as the server sent them


def sse_event(i: int) -> bytes:
    return b"id: %d\ndata: event %d " % (i, i) + WORDS + b"\n\n"


def route(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], Any]:
    """(status, headers, body) where body is bytes or an iterator of bytes (sync)."""
    html = ("Content-Type", "text/html; charset=utf-8")
    if path == "/page":
        return 200, [html, ("ETag", '"v1"'), ("Vary", "Cookie"), ("Content-Length", str(len(PAGE)))], PAGE
    if path == "/small":
        return 200, [html], SMALL
    if path == "/image":
        return 200, [("Content-Type", "image/png")], PNG
    if path == "/encoded":
        import gzip

        return 200, [html, ("Content-Encoding", "gzip")], gzip.compress(PAGE)
    if path == "/notransform":
        return 200, [html, ("Cache-Control", "no-transform")], PAGE
    if path == "/partial":
        return 206, [html, ("Content-Range", f"bytes 0-999/{len(PAGE)}")], PAGE[:1000]
    if path == "/nocontent":
        return 204, [], b""
    if path == "/notmodified":
        return 304, [("ETag", '"v1"')], b""
    if path == "/stream":
        return 200, [("Content-Type", "text/plain")], iter(CHUNKS)
    if path == "/streamsmall":
        return 200, [("Content-Type", "text/plain"), ("Content-Length", "6")], iter([b"ab", b"cd", b"ef"])
    if path == "/wronglength":
        return 200, [html, ("Content-Length", "12")], iter([PAGE[:10000], PAGE[10000:]])
    if path == "/echo":
        digest = hashlib.sha256(body).hexdigest().encode()
        return 200, [("Content-Type", "text/plain")], b"%d %s" % (len(body), digest)
    return 404, [("Content-Type", "text/plain")], b"not found"


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    path = scope["path"]
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    body = b""
    if scope["method"] == "POST":
        parts = []
        while True:
            msg = await receive()
            parts.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        body = b"".join(parts)
    if path == "/sse":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(SSE_COUNT):
            await send({"type": "http.response.body", "body": sse_event(i), "more_body": True})
            await GATE.wait(i)
        await send({"type": "http.response.body", "body": b""})
        return
    status, hdrs, payload = route(scope["method"], path, body, headers)
    raw = [(k.lower().encode(), v.encode()) for k, v in hdrs]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if isinstance(payload, bytes):
        await send({"type": "http.response.body", "body": payload})
        return
    for piece in payload:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def recording_asgi(app: Any) -> Any:
    """Wrap an ASGI app, recording the headers of every response start it sends."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def rec(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                RESPONSES.append(
                    {k.decode().lower(): v.decode() for k, v in msg.get("headers", [])}
                    | {":path": scope.get("path", "")}
                )
            await send(msg)

        await app(scope, receive, rec)

    return wrapped


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    body = b""
    if environ["REQUEST_METHOD"] == "POST":
        if environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read()
        else:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if path == "/sse":
        start_response("200 OK", [("Content-Type", "text/event-stream")])

        def events() -> Any:
            for i in range(SSE_COUNT):
                yield sse_event(i)
                GATE.wait_sync(i)

        return events()
    status, hdrs, payload = route(environ["REQUEST_METHOD"], path, body, {})
    reasons = {200: "OK", 204: "No Content", 206: "Partial Content", 304: "Not Modified", 404: "Not Found"}
    start_response(f"{status} {reasons[status]}", hdrs)
    if isinstance(payload, bytes):
        return [payload]
    return payload
