"""Decoding of request bodies sent with ``Content-Encoding`` (ASGI and WSGI), bounded in size.

Bodies are decoded piece by piece as the application reads them, with ``max_length`` bounds, so a
small compressed "bomb" never expands in memory: once the decoded size passes the limit the request
is refused with 413. A body that does not decode is refused with 400, an unknown coding with 415.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["RequestBodyError", "REQUEST_CODECS", "asgi_request_decoder", "WSGIDecodingInput"]

#: Content-Encoding name -> chute codec name ("deflate" is the zlib format, RFC 9110 8.4.1.2).
REQUEST_CODECS: dict[str, str] = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "zlib", "br": "brotli", "zstd": "zstd"}
CHUNK = 64 * 1024

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


class RequestBodyError(Exception):
    """A request body that must be refused: carries the HTTP status and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    async def respond(self, send: Send) -> None:
        body = f"{self.reason}\n".encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def wsgi_status(self) -> str:
        return {400: "400 Bad Request", 413: "413 Content Too Large", 415: "415 Unsupported Media Type"}[self.status]


def _codings(value: str) -> list[str]:
    return [c.strip().lower() for c in value.split(",") if c.strip() and c.strip().lower() != "identity"]


class _BodyDecoder:
    """Feeds compressed pieces, returns decoded pieces of at most CHUNK bytes; maps errors to HTTP."""

    def __init__(self, coding: str, limit: int) -> None:
        from ..codecs._stream import StreamDecoder

        self.decoder = StreamDecoder(REQUEST_CODECS[coding], max_output=limit)
        self.limit = limit

    def _guard(self, fn: Callable[[], bytes]) -> bytes:
        from ..errors import ChuteError, LimitExceededError

        try:
            return fn()
        except LimitExceededError:
            raise RequestBodyError(413, f"request body decodes to more than {self.limit} bytes") from None
        except ChuteError as exc:
            raise RequestBodyError(400, f"request body does not decode: {exc}") from None

    def feed(self, data: bytes) -> bytes:
        return self._guard(lambda: self.decoder.decompress(data, CHUNK))

    @property
    def holding(self) -> bool:
        """True while decoded output is held back (call :meth:`feed` with b"")."""
        return not self.decoder.needs_input and not self.decoder.eof

    def end(self) -> None:
        def _end() -> bytes:
            self.decoder.end()
            return b""

        self._guard(_end)


def _plan(content_encoding: str | None) -> str | RequestBodyError | None:
    """The single coding to undo, None when there is none, or the refusal."""
    if content_encoding is None:
        return None
    codings = _codings(content_encoding)
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in REQUEST_CODECS:
        return RequestBodyError(415, f"unsupported request Content-Encoding {content_encoding!r}")
    return codings[0]


def asgi_request_decoder(
    scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Message]], limit: int
) -> tuple[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Send], Awaitable[None]] | None]:
    """Return (scope, receive, refusal): a scope without Content-Encoding/Content-Length and a
    receive that yields decoded body pieces, or a refusal to send instead of calling the app."""
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
    value = None
    for k, v in headers:
        if k.lower() == b"content-encoding":
            value = v.decode("latin-1")
    plan = _plan(value)
    if plan is None:
        return scope, receive, None
    if isinstance(plan, RequestBodyError):
        return scope, receive, plan.respond
    dropped = (b"content-encoding", b"content-length")
    new_scope = {**scope, "headers": [(k, v) for k, v in headers if k.lower() not in dropped]}
    dec = _BodyDecoder(plan, limit)
    done = False
    upstream_done = False

    async def decoded_receive() -> Message:
        nonlocal done, upstream_done
        if done:
            return await receive()
        while True:
            if dec.holding:
                out = dec.feed(b"")
            elif upstream_done:
                out = b""
            else:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                out = dec.feed(message.get("body", b""))
                upstream_done = not message.get("more_body", False)
            if upstream_done and not dec.holding:
                dec.end()
                done = True
                return {"type": "http.request", "body": out, "more_body": False}
            if out:
                return {"type": "http.request", "body": out, "more_body": True}

    return new_scope, decoded_receive, None


class WSGIDecodingInput:
    """A ``wsgi.input`` replacement that decodes the body as it is read (raises RequestBodyError)."""

    def __init__(self, raw: Any, length: int | None, coding: str, limit: int) -> None:
        self._raw = raw
        self._left = length
        self._dec = _BodyDecoder(coding, limit)
        self._buf = bytearray()
        self._eof = False

    def _fill(self) -> None:
        while not self._buf and not self._eof:
            if self._dec.holding:
                self._buf += self._dec.feed(b"")
                continue
            want = CHUNK if self._left is None else min(CHUNK, self._left)
            data = self._raw.read(want) if want else b""
            if self._left is not None:
                self._left -= len(data)
            if not data:
                self._dec.end()
                self._eof = True
                return
            self._buf += self._dec.feed(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts: list[bytes] = []
            while True:
                self._fill()
                if not self._buf:
                    return b"".join(parts)
                parts.append(bytes(self._buf))
                self._buf.clear()
        self._fill()
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def readline(self, size: int = -1) -> bytes:
        line = bytearray()
        while size < 0 or len(line) < size:
            self._fill()
            if not self._buf:
                break
            i = self._buf.find(b"\n")
            take = len(self._buf) if i < 0 else i + 1
            if size >= 0:
                take = min(take, size - len(line))
            line += self._buf[:take]
            del self._buf[:take]
            if line.endswith(b"\n"):
                break
        return bytes(line)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


def wsgi_request_decoder(environ: dict[str, Any], limit: int) -> RequestBodyError | None:
    """Swap ``wsgi.input`` for a decoding one in place; return a refusal instead when needed."""
    plan = _plan(environ.get("HTTP_CONTENT_ENCODING"))
    if plan is None:
        return None
    if isinstance(plan, RequestBodyError):
        return plan
    length_text = environ.get("CONTENT_LENGTH") or ""
    length = int(length_text) if length_text.strip().isdigit() else None
    environ["wsgi.input"] = WSGIDecodingInput(environ["wsgi.input"], length, plan, limit)
    environ.pop("CONTENT_LENGTH", None)
    environ.pop("HTTP_CONTENT_ENCODING", None)
    environ["wsgi.input_terminated"] = True
    return None
