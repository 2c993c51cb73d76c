"""Abandoned responses free their compressors at once, without the cyclic garbage collector.

A streamed response holds a compressor (up to a few MiB for brotli and zstd). When the client goes
away mid-stream, the server closes the response (WSGI ``close()``) or the application ends or is
cancelled (ASGI); the compressor must be freed then, by reference counting alone. Every test here
runs with the collector disabled and counts the compressor objects still alive.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chute.web import CompressionMiddleware, WSGICompressionMiddleware
from chute.web._policy import CODEC_NAMES, DEFAULT_LEVELS, new_compressor

from . import apps
from .conftest import serve_asgi, serve_wsgi

ENCODINGS = list(CODEC_NAMES)
COMPRESSOR_TYPES = tuple({type(new_compressor(e, DEFAULT_LEVELS[e])) for e in ENCODINGS})
PIECE = apps.TEXT  # 64 KiB
PIECES = 400  # 25 MiB: a stream no client here reads to the end


def live_compressors() -> int:
    """Streaming compressors alive in this process, reachable or not (the collector is off)."""
    return sum(isinstance(o, COMPRESSOR_TYPES) for o in gc.get_objects())


@contextmanager
def collector_off() -> Iterator[int]:
    """Disable the cyclic collector; yields the number of compressors alive before."""
    gc.collect()
    gc.disable()
    try:
        yield live_compressors()
    finally:
        gc.enable()
        gc.collect()


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.n += 1


class Body:
    """A streamed WSGI body of PIECES pieces that counts its close() calls (PEP 3333)."""

    def __init__(self, closed: Counter) -> None:
        self.closed = closed
        self.sent = 0

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        if self.sent == PIECES:
            raise StopIteration
        self.sent += 1
        return b"%d " % self.sent + PIECE

    def close(self) -> None:
        self.closed.add()


def streaming_wsgi(closed: Counter) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body(closed)

    return app


def request_and_abandon(port: int, path: str, encoding: str, keep: int = 4096) -> None:
    """A client that reads ``keep`` bytes of the response, then closes its socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {encoding}\r\n\r\n".encode())
        got = 0
        while got < keep:
            data = s.recv(65536)
            assert data, "the server closed the connection first"
            got += len(data)


# WSGI


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wsgi_close_frees_compressor_and_closes_app_iterable(encoding: str) -> None:
    closed = Counter()
    mw = WSGICompressionMiddleware(streaming_wsgi(closed))
    with collector_off() as before:
        for _ in range(20):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ACCEPT_ENCODING": encoding}
            response = mw(environ, lambda status, headers, exc_info=None: None)
            pieces = iter(response)
            next(pieces), next(pieces)  # the client got two pieces, then went away
            assert live_compressors() == before + 1
            response.close()  # type: ignore[attr-defined]
            assert live_compressors() == before
            del pieces, response
        assert live_compressors() == before
    assert closed.n == 20


def test_wsgi_close_before_iteration_and_twice() -> None:
    closed = Counter()
    mw = WSGICompressionMiddleware(streaming_wsgi(closed))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ACCEPT_ENCODING": "br"}
    response = mw(environ, lambda status, headers, exc_info=None: None)
    response.close()  # type: ignore[attr-defined]
    response.close()  # type: ignore[attr-defined]
    assert closed.n == 1  # the application's iterable is closed once
    assert list(response) == []


def test_wsgi_app_generator_finally_runs_on_close() -> None:
    """The application's own generator gets GeneratorExit (its cleanup runs) when the response is closed."""
    cleaned: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            while True:
                yield PIECE
        finally:
            cleaned.append("done")

    mw = WSGICompressionMiddleware(app)
    response = mw({"REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "zstd"}, lambda *a: None)
    next(iter(response))
    response.close()  # type: ignore[attr-defined]
    assert cleaned == ["done"]


def test_wsgi_complete_response_unchanged_by_close() -> None:
    """A response read to the end decodes to the whole body, closed or not."""
    closed = Counter()
    mw = WSGICompressionMiddleware(streaming_wsgi(closed))
    from . import inproc

    _status, headers, raw, _pieces = inproc.wsgi(mw, "/", headers={"Accept-Encoding": "gzip"})
    expected = b"".join(b"%d " % (i + 1) + PIECE for i in range(PIECES))
    assert headers["content-encoding"] == "gzip" and inproc.decode("gzip", raw) == expected
    assert closed.n == 1


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_waitress_clients_that_disconnect(encoding: str) -> None:
    """Real waitress, real sockets closed after 4 KiB of a 25 MiB stream: no compressor survives."""
    clients = 24
    closed = Counter()
    server = serve_wsgi(WSGICompressionMiddleware(streaming_wsgi(closed)))
    url = next(server)
    port = int(url.rsplit(":", 1)[1])
    try:
        with collector_off() as before:
            threads = [
                threading.Thread(target=request_and_abandon, args=(port, "/stream", encoding)) for _ in range(clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert wait_for(lambda: closed.n == clients), f"{closed.n} of {clients} responses closed"
            assert live_compressors() == before
    finally:
        server.close()


# ASGI


def starlette_stream_app(finished: Counter) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def stream(request: Any) -> StreamingResponse:
        async def gen() -> Any:
            try:
                for i in range(PIECES):
                    yield b"%d " % i + PIECE
                    await asyncio.sleep(0)  # a real producer awaits something between pieces
            finally:
                finished.add()

        return StreamingResponse(gen(), media_type="text/plain")

    return Starlette(routes=[Route("/stream", stream)], middleware=[Middleware(CompressionMiddleware)])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_uvicorn_starlette_clients_that_disconnect(encoding: str) -> None:
    """uvicorn + Starlette's StreamingResponse, which cancels the stream on http.disconnect."""
    clients = 24
    finished = Counter()
    server = serve_asgi(starlette_stream_app(finished))
    url = next(server)
    port = int(url.rsplit(":", 1)[1])
    try:
        with collector_off() as before:
            threads = [
                threading.Thread(target=request_and_abandon, args=(port, "/stream", encoding)) for _ in range(clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert wait_for(lambda: finished.n == clients), f"{finished.n} of {clients} streams ended"
            # the middleware's own frame ends just after the body generator's
            assert wait_for(lambda: live_compressors() == before, timeout=3), live_compressors() - before
    finally:
        server.close()


def _scope(encoding: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", encoding.encode())]}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_asgi_compressor_freed_on_http_disconnect(encoding: str) -> None:
    """Once the application has seen http.disconnect the compressor is gone, even if the app goes on."""
    seen: dict[str, int] = {}
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": PIECE, "more_body": True})
        seen["streaming"] = live_compressors()
        assert (await receive())["type"] == "http.disconnect"
        seen["after disconnect"] = live_compressors()
        await send({"type": "http.response.body", "body": PIECE, "more_body": True})  # into the void
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with collector_off() as before:
        asyncio.run(CompressionMiddleware(app)(_scope(encoding), receive, send))
        assert seen == {"streaming": before + 1, "after disconnect": before}
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


class Gone(OSError):
    """What an ASGI 2.4 server raises from send() once the client has disconnected."""


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_asgi_compressor_freed_when_send_fails_or_is_cancelled(encoding: str) -> None:
    """send() raising (ASGI 2.4 servers) or the app's task cancelled mid-send: nothing survives."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for _ in range(PIECES):
            await send({"type": "http.response.body", "body": PIECE, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError

    async def failing(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and failing.calls >= 3:  # type: ignore[attr-defined]
            raise Gone("client disconnected")
        failing.calls += 1  # type: ignore[attr-defined]

    async def hanging(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and hanging.calls >= 3:  # type: ignore[attr-defined]
            await asyncio.Event().wait()  # a send blocked on a slow client, then cancelled
        hanging.calls += 1  # type: ignore[attr-defined]

    async def cancel_mid_send() -> None:
        task = asyncio.create_task(CompressionMiddleware(app)(_scope(encoding), receive, hanging))
        while hanging.calls < 3:  # type: ignore[attr-defined]
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with collector_off() as before:
        failing.calls = 0  # type: ignore[attr-defined]
        with pytest.raises(Gone):
            asyncio.run(CompressionMiddleware(app)(_scope(encoding), receive, failing))
        assert live_compressors() == before
        hanging.calls = 0  # type: ignore[attr-defined]
        asyncio.run(cancel_mid_send())
        assert live_compressors() == before


class AppFailed(Exception):
    pass


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_exception_kept_by_server_does_not_keep_compressor(encoding: str) -> None:
    """The application fails mid-stream; the server keeps the exception (a log record, a cycle)."""

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield PIECE
        raise AppFailed

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": PIECE, "more_body": True})
        raise AppFailed

    async def send(message: dict[str, Any]) -> None:
        pass

    kept: list[BaseException] = []
    with collector_off() as before:
        response = WSGICompressionMiddleware(wsgi_app)({"HTTP_ACCEPT_ENCODING": encoding}, lambda *a: None)
        try:
            list(response)
        except AppFailed as exc:
            kept.append(exc)
        response.close()  # type: ignore[attr-defined]
        del response
        try:
            asyncio.run(CompressionMiddleware(asgi_app)(_scope(encoding), send, send))  # type: ignore[arg-type]
        except AppFailed as exc:
            kept.append(exc)
        assert len(kept) == 2 and live_compressors() == before
