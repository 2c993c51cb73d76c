"""Serving precompressed siblings (``x.css.zst``, ``x.css.br``, ``x.css.gz``), like nginx's gzip_static.

``chute precompress DIR`` writes the siblings; :class:`PrecompressedFiles` (ASGI) and
:class:`WSGIPrecompressedFiles` (WSGI) serve a file from a folder, choosing the sibling the client
accepts (Accept-Encoding, q-values) that is at least as new as the original, else the original.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from .negotiate import choose_encoding

__all__ = ["SUFFIXES", "PrecompressedFiles", "WSGIPrecompressedFiles", "Selection", "select"]

#: Content-coding -> sibling suffix.
SUFFIXES: dict[str, str] = {"zstd": ".zst", "br": ".br", "gzip": ".gz"}
CHUNK = 64 * 1024


class Selection:
    """The file to send for one request and its headers (status 200 or 304)."""

    def __init__(self, path: str, status: int, headers: list[tuple[str, str]]) -> None:
        self.path = path
        self.status = status
        self.headers = headers


def _resolve(root: str, url_path: str) -> str | None:
    """The file under ``root`` for ``url_path``, or None (outside root, missing, not a file).

    ``url_path`` is already percent-decoded, as ASGI's ``path`` and WSGI's ``PATH_INFO`` are:
    decoding it again would serve ``a b.txt`` for a request of ``/a%2520b.txt``.
    """
    parts = [p for p in url_path.split("/") if p not in ("", ".")]
    if any(p == ".." or "\\" in p or "\0" in p for p in parts):
        return None
    path = os.path.join(root, *parts)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return path


def select(
    root: str, url_path: str, accept_encoding: str | None, if_none_match: str | None, encodings: Iterable[str]
) -> Selection | None:
    """Choose the representation of ``url_path`` to send; None when there is no such file."""
    path = _resolve(root, url_path)
    if path is None:
        return None
    st = os.stat(path)
    fresh: list[str] = []
    for name in encodings:
        try:
            sib = os.stat(path + SUFFIXES[name])
        except OSError:
            continue
        if sib.st_mtime_ns >= st.st_mtime_ns:
            fresh.append(name)
    enc: str | None = choose_encoding(accept_encoding, fresh) if fresh else None
    send_path = path + SUFFIXES[enc] if enc else path
    size = os.stat(send_path).st_size
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}{"-" + enc if enc else ""}"'
    ctype, _ = mimetypes.guess_type(path)
    if ctype is None:
        ctype = "application/octet-stream"
    elif ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
        ctype += "; charset=utf-8"
    headers = [("Content-Type", ctype), ("ETag", etag), ("Vary", "Accept-Encoding")]
    from email.utils import formatdate

    headers.append(("Last-Modified", formatdate(st.st_mtime, usegmt=True)))
    if if_none_match is not None and (
        if_none_match.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    ):
        return Selection(send_path, 304, headers)
    if enc:
        headers.append(("Content-Encoding", enc))
    headers.append(("Content-Length", str(size)))
    return Selection(send_path, 200, headers)


def _asgi_route_path(scope: MutableMapping[str, Any]) -> str:
    """The request path below the mount point: ``path`` without its ``root_path`` prefix.

    ASGI servers and frameworks put the full path in ``path`` and the mount point in
    ``root_path`` (Starlette's ``Mount``, ``uvicorn --root-path``); older ones removed the prefix
    from ``path`` themselves, which is why a ``path`` that does not start with ``root_path`` is
    taken as it is (Starlette's ``StaticFiles`` decides the same way).
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "").rstrip("/")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def _wsgi_route_path(environ: dict[str, Any]) -> str:
    """``PATH_INFO`` (the path below ``SCRIPT_NAME``, the mount point) as text.

    A WSGI server hands the path's bytes over as a latin-1 string (PEP 3333); they are decoded
    again as UTF-8, the encoding of URLs and file names (bytes that are not UTF-8 become
    surrogate escapes, which the file system functions turn back into the same bytes).
    """
    path: str = environ.get("PATH_INFO", "") or "/"
    try:
        return path.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # not a PEP 3333 string: some dispatcher already decoded it
        return path


def _read_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class PrecompressedFiles:
    """ASGI app serving files under ``directory`` with their precompressed siblings (GET/HEAD).

    ``encodings``: codings whose siblings may be sent, best first (ties in q-values go to the
    first). A sibling older than its original is ignored. 404 for anything else, 405 for other
    methods. The ETag is strong and differs per coding; If-None-Match gives 304.
    """

    def __init__(self, directory: str | os.PathLike[str], *, encodings: Iterable[str] = ("zstd", "br", "gzip")):
        self.directory = os.fspath(directory)
        self.encodings = tuple(encodings)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        import asyncio

        assert scope["type"] == "http"
        method = scope["method"]
        hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if method not in ("GET", "HEAD"):
            await _asgi_plain(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
            return
        sel = select(
            self.directory,
            _asgi_route_path(scope),
            hdrs.get("accept-encoding"),
            hdrs.get("if-none-match"),
            self.encodings,
        )
        if sel is None:
            await _asgi_plain(send, 404, b"not found\n", [])
            return
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in sel.headers]
        await send({"type": "http.response.start", "status": sel.status, "headers": headers})
        if method == "HEAD" or sel.status == 304:
            await send({"type": "http.response.body", "body": b""})
            return
        loop = asyncio.get_running_loop()
        with open(sel.path, "rb") as f:
            while True:
                chunk = await loop.run_in_executor(None, f.read, CHUNK)
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def _asgi_plain(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class WSGIPrecompressedFiles:
    """The WSGI twin of :class:`PrecompressedFiles` (uses ``wsgi.file_wrapper`` when the server has one)."""

    def __init__(self, directory: str | os.PathLike[str], *, encodings: Iterable[str] = ("zstd", "br", "gzip")):
        self.directory = os.fspath(directory)
        self.encodings = tuple(encodings)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")])
            return [b"method not allowed\n"]
        sel = select(
            self.directory,
            _wsgi_route_path(environ),
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_IF_NONE_MATCH"),
            self.encodings,
        )
        if sel is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        start_response("304 Not Modified" if sel.status == 304 else "200 OK", sel.headers)
        if method == "HEAD" or sel.status == 304:
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(open(sel.path, "rb"), CHUNK)  # type: ignore[no-any-return]
        return _read_chunks(sel.path)
