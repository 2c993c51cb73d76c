"""``CompressionMiddleware``: compressed HTTP responses for any ASGI application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ._policy import DEFAULT_SKIP_TYPES, Options, new_compressor, padding_value, weaken_etag
from .negotiate import choose_encoding

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["CompressionMiddleware"]


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


class CompressionMiddleware:
    """Compress responses of ``app`` with zstd, br or gzip, as the client's Accept-Encoding allows.

    ``minimum_size``: bodies known to be smaller go out as they are (known when the first body
    message is the whole body, or from Content-Length; a streamed body of unknown length is always
    compressed). ``encodings``: codings offered, best first (ties in the client's q-values go to
    the first). ``levels``: level per coding (default zstd 3, br 4, gzip 6). ``skip_types``: media
    types never compressed (``"image/"`` matches a whole top-level type). ``breach_padding``: when
    > 0, every compressed response carries a ``Chute-Padding`` header of 0..N random characters,
    so its length no longer tracks the body's compressibility exactly (see docs/web.md).
    ``decompress_requests``: decode request bodies sent with Content-Encoding zstd/br/gzip/deflate,
    refusing with 413 those that decode to more than ``max_request_size`` bytes.
    ``cache_size``: bytes of compressed whole bodies kept, keyed by content, so a body sent
    again is not compressed again (``None``: 16 MiB; 0: off; see :mod:`chute.web.cache`).

    ``dictionaries``: a :class:`chute.web.dictionary.DictionaryStore`; responses that carry
    ``Use-As-Dictionary`` are recorded in it, and requests naming one of its dictionaries in
    ``Available-Dictionary`` get ``Content-Encoding: dcz`` (RFC 9842, see docs/dictionaries.md).

    Each body message is compressed and flushed on its own, so a streamed response (server-sent
    events) reaches the client message by message.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        minimum_size: int = 500,
        encodings: Iterable[str] = ("zstd", "br", "gzip"),
        levels: dict[str, int] | None = None,
        skip_types: Iterable[str] = DEFAULT_SKIP_TYPES,
        breach_padding: int = 0,
        decompress_requests: bool = False,
        max_request_size: int = 10 << 20,
        cache_size: int | None = None,
        dictionaries: Any = None,
    ) -> None:
        self.app = app
        self.options = Options(
            minimum_size=minimum_size,
            encodings=encodings,
            levels=levels,
            skip_types=skip_types,
            breach_padding=breach_padding,
            decompress_requests=decompress_requests,
            max_request_size=max_request_size,
            cache_size=cache_size,
            dictionaries=dictionaries,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.options.decompress_requests:
            from .request import asgi_request_decoder

            scope, receive, refusal = asgi_request_decoder(scope, receive, self.options.max_request_size)
            if refusal is not None:
                await refusal(send)
                return
        responder = _Responder(self.options, scope, send)

        async def watch_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                responder.close()  # the client is gone: free the compressor now, not when the app ends
            return message

        try:
            await self.app(scope, watch_receive, responder.send)
        except Exception as exc:
            from .request import RequestBodyError

            if isinstance(exc, RequestBodyError) and not responder.started:
                await exc.respond(send)
                return
            raise
        finally:
            # A disconnect cancels the app mid-stream, and the exception's traceback often sits in
            # a reference cycle with the frames holding this responder: drop the compressor here,
            # so it is freed now and not at the next run of the cyclic garbage collector.
            responder.close()


class _Responder:
    """One response: holds http.response.start until the first body message decides."""

    def __init__(self, options: Options, scope: Scope, send: Send) -> None:
        self.options = options
        self.scope = scope
        self._send = send
        headers = scope.get("headers", [])
        self.encoding = choose_encoding(_header(headers, b"accept-encoding"), options.encodings)
        self.dictionary: Any = None  # with dcz: the chute.web.dictionary.Dictionary to use
        self.recorder: Any = None  # a Use-As-Dictionary response being recorded
        if options.dictionaries is not None:
            from .dictionary import choose

            self.encoding, self.dictionary = choose(
                _header(headers, b"accept-encoding"),
                options.encodings,
                options.dictionaries,
                _header(headers, b"available-dictionary"),
            )
        self.range_requested = _header(headers, b"range") is not None
        self.start: Message | None = None
        self.started = False
        self.compressor: Any = None
        self.passthrough = False
        self.closed = False

    def close(self) -> None:
        """Drop the compressor and the held start message; later messages are discarded (the
        client is gone, or the application has returned)."""
        self.closed = True
        self.compressor = None
        self.start = None

    async def send(self, message: Message) -> None:
        if self.closed:
            return
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            if self.options.dictionaries is not None:
                self._watch_dictionary(message)
            return
        if self.recorder is not None and kind == "http.response.body":
            self.recorder.feed(message.get("body", b""))
            if not message.get("more_body", False):
                self.recorder.done()
                self.recorder = None
        if kind != "http.response.body" and not self.started and self.start is not None:
            # e.g. http.response.pathsend / zerocopysend: the body is not ours to compress
            self.passthrough = self.started = True
            await self._send(self.start)
            self.start = None
        if kind != "http.response.body" or self.passthrough:
            await self._send(message)
            return
        if self.compressor is not None:
            await self._body(message)
            return
        await self._first_body(message)

    async def _first_body(self, message: Message) -> None:
        assert self.start is not None, "http.response.body before http.response.start"
        start = self.start
        raw = list(start.get("headers", []))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        size: int | None = len(body) if not more else None
        length = headers.get("content-length")
        if size is None and length is not None and length.strip().isdigit() and int(length) >= len(body):
            size = int(length)  # a Content-Length shorter than the first piece is wrong: ignored
        reason = self.options.skip_reason(
            method=self.scope.get("method", "GET"),
            range_requested=self.range_requested,
            status=int(start["status"]),
            headers=headers,
            size=size,
        )
        varies = reason in (None, "small") and self.scope.get("method") != "HEAD"
        if reason is not None or self.encoding is None:
            self.passthrough = True
            if varies:
                start = self._with_headers(start, raw, vary=True)
            self.started = True
            await self._send(start)
            await self._send(message)
            return
        out = [(k, v) for k, v in raw if k.lower() not in (b"content-length", b"vary", b"etag", b"accept-ranges")]
        out.append((b"content-encoding", self.encoding.encode()))
        out.append((b"vary", self.options.vary(headers.get("vary")).encode("latin-1")))
        if "etag" in headers:
            out.append((b"etag", weaken_etag(headers["etag"]).encode("latin-1")))
        if self.options.breach_padding:
            out.append((b"chute-padding", padding_value(self.options.breach_padding).encode()))
        if not more:
            if self.dictionary is not None:
                data = self.dictionary.compress_whole(body, self.options.levels["zstd"])
            else:
                data = self.options.whole.compress(self.encoding, body)
            out.append((b"content-length", str(len(data)).encode()))
            self.started = True
            await self._send({**start, "headers": out})
            await self._send({"type": "http.response.body", "body": data, "more_body": False})
            return
        if self.dictionary is not None:
            self.compressor = self.dictionary.stream(self.options.levels["zstd"])
        else:
            self.compressor = new_compressor(self.encoding, self.options.levels[self.encoding])
        self.started = True
        await self._send({**start, "headers": out})
        await self._body(message)

    async def _body(self, message: Message) -> None:
        # No local variable holds the compressor across the await: a failed or cancelled send
        # puts this frame in a traceback, which may live on in a reference cycle.
        if self.compressor is None:  # closed while the previous message was being sent
            return
        more = message.get("more_body", False)
        data = self._compress(message.get("body", b""), more)
        if data or not more:
            await self._send({"type": "http.response.body", "body": data, "more_body": more})

    def _compress(self, body: bytes, more: bool) -> bytes:
        c = self.compressor
        if more:
            return bytes(c.compress(body) + c.flush()) if body else b""
        return bytes(c.compress(body) + c.finish())

    def _watch_dictionary(self, start: Message) -> None:
        """Record the body of a response that names itself as a dictionary."""
        from .dictionary import records

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
        if self.scope.get("method", "GET") == "GET" and records(int(start["status"]), headers):
            self.recorder = self.options.dictionaries.recorder()

    def _with_headers(self, start: Message, raw: list[tuple[bytes, bytes]], *, vary: bool) -> Message:
        existing = _header(raw, b"vary")
        out = [(k, v) for k, v in raw if k.lower() != b"vary"]
        out.append((b"vary", self.options.vary(existing).encode("latin-1")))
        return {**start, "headers": out}
