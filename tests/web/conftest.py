"""Real servers for the web tests: uvicorn (ASGI) and waitress (WSGI) on 127.0.0.1, each on a
port the kernel picks as the server's own socket binds (never a port found free and then
bound: test processes running side by side could take the same one in between)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chute.web import CompressionMiddleware, WSGICompressionMiddleware

from . import apps


def _wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server on port {port} did not start")


def serve_asgi(app: Any, **config_options: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread (``config_options``: more ``uvicorn.Config`` arguments)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **config_options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve_wsgi(app: Any, **adjustments: Any) -> Iterator[str]:
    """Run ``app`` under waitress in a thread (``adjustments``: more waitress settings).

    The server's own thread closes its sockets when asked to stop: closing them from another
    thread while its select() runs on them fails there with EBADF.
    """
    from waitress import wasyncore
    from waitress.server import create_server

    server: Any = create_server(app, host="127.0.0.1", port=0, threads=8, **adjustments)
    port = int(server.effective_port)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture(scope="session")
def asgi_url() -> Iterator[str]:
    app = apps.recording_asgi(CompressionMiddleware(apps.asgi_app, decompress_requests=True, max_request_size=1 << 20))
    yield from serve_asgi(app)


@pytest.fixture(scope="session")
def wsgi_url() -> Iterator[str]:
    app = WSGICompressionMiddleware(apps.wsgi_app, decompress_requests=True, max_request_size=1 << 20)
    yield from serve_wsgi(app)


@pytest.fixture(params=["asgi", "wsgi"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))
